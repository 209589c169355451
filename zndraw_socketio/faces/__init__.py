"""The faces users hold: ``wrap()`` and the typed wrappers over python-socketio's servers, clients,
simple clients and client managers.
"""
