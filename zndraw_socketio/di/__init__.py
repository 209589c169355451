"""Dependency injection: ``Depends`` markers, the plan read once from a handler's signature, the solver
that executes it per event, and ``SioRequest``.
"""
