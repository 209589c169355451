"""What an event is and carries: the route record of a handler, the contexts that travel the chains,
event names, and the two primitives every layer runs events with (driving a coroutine synchronously,
logging that cannot fail). The leaf layer: it imports nothing else of the package.
"""
