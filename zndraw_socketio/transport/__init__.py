"""Everything that touches python-socketio's or python-engineio's internals: the wire codec and its
installation, the websocket loops, the in-memory transport, the reserved-event guards, awaiting
acks, publish logging and the graceful shutdown.
"""
