"""The middleware base class: one hook per direction, composed into a chain once per handler."""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..events.context import InboundContext, OutboundContext
from ..events.drive import drive

if TYPE_CHECKING:
    from ..asyncapi.spec import OperationSpec
    from ..events.route import Route

__all__ = ["InboundNext", "InboundNextSync", "Middleware", "OutboundNext", "OutboundNextSync", "hook_of"]

InboundNext = Callable[[InboundContext], Awaitable[Any]]
OutboundNext = Callable[[OutboundContext], Awaitable[Any]]
InboundNextSync = Callable[[InboundContext], Any]
OutboundNextSync = Callable[[OutboundContext], Any]


class Middleware:
    """Base class for a stage of the event chain.

    Override ``inbound`` to see events on their way to a handler and ``outbound`` to see ``emit``
    and ``call`` on their way out; both pass the event on unchanged by default. Call
    ``await call_next(ctx)`` to continue, or return without calling it: the value you return is
    the reply (the acknowledgement sent back to the caller).

    On the synchronous faces (``socketio.Server``, ``Client``, ``SimpleClient``) override
    ``inbound_sync``/``outbound_sync`` instead, with a synchronous ``call_next``; a middleware that
    only has async hooks is refused there when it is added.

    A stage that overrides neither hook costs nothing: ``wrap_inbound``/``wrap_outbound``, which
    compose the chain once per handler, leave it out. Built-in stages override those two directly
    to precompute what they need for each handler.
    """

    async def inbound(self, ctx: InboundContext, call_next: InboundNext) -> Any:
        """Handle an inbound event; the default passes it on."""
        return await call_next(ctx)

    async def outbound(self, ctx: OutboundContext, call_next: OutboundNext) -> Any:
        """Handle an outbound emit or call; the default passes it on."""
        return await call_next(ctx)

    def inbound_sync(self, ctx: InboundContext, call_next: InboundNextSync) -> Any:
        """``inbound`` for synchronous faces; the default passes the event on."""
        return call_next(ctx)

    def outbound_sync(self, ctx: OutboundContext, call_next: OutboundNextSync) -> Any:
        """``outbound`` for synchronous faces; the default passes the event on."""
        return call_next(ctx)

    def check_async(self) -> None:
        """Raise ``TypeError`` if this middleware has sync hooks but no async ones.

        Called when the middleware is added to an asynchronous face.
        """
        self._check_face(sync=False)

    def check_sync(self) -> None:
        """Raise ``TypeError`` if this middleware has async hooks but no sync ones.

        Called when the middleware is added to a synchronous face.
        """
        self._check_face(sync=True)

    def _check_face(self, *, sync: bool) -> None:
        cls = type(self)
        for name in ("inbound", "outbound"):
            want, other = (f"{name}_sync", name) if sync else (name, f"{name}_sync")
            if _overrides(cls, other) and not _overrides(cls, want):
                only, face = ("async", "a synchronous") if sync else ("sync", "an asynchronous")
                raise TypeError(
                    f"{cls.__name__} overrides {other}() but not {want}(): it is {only}-only and "
                    f"cannot run on {face} socketio face"
                )

    def wrap_inbound(self, route: Route, call_next: InboundNext) -> InboundNext:
        """Return the step that runs this stage in front of ``call_next`` for ``route``.

        Called once per handler when the chain is composed, never per event. Returning
        ``call_next`` itself leaves the stage out of that handler's chain.
        """
        return self._step("inbound", call_next, route.sync)

    def wrap_outbound(self, call_next: OutboundNext, *, sync: bool = False) -> OutboundNext:
        """Return the step that runs this stage in front of ``call_next`` for outbound events;
        ``sync`` is True on synchronous faces."""
        return self._step("outbound", call_next, sync)

    def _step(self, name: str, call_next: Callable[[Any], Awaitable[Any]], sync: bool) -> Any:
        """The step running hook ``name`` (or ``name_sync`` on a synchronous face), or ``call_next``
        itself when this middleware does not override it."""
        hook_name = f"{name}_sync" if sync else name
        if not _overrides(type(self), hook_name):
            return call_next
        hook = getattr(self, hook_name)
        if not sync:

            def step(ctx: Any) -> Awaitable[Any]:
                return hook(ctx, call_next)  # the hook's own coroutine: no frame of ours

            _HOOKS[step] = (hook, call_next)
            return step

        def sync_next(ctx: Any) -> Any:
            return drive(call_next(ctx))

        async def sync_step(ctx: Any) -> Any:
            return hook(ctx, sync_next)

        return sync_step

    def contribute(self, route: Route, operation: OperationSpec) -> None:
        """Describe what this stage does for ``route`` in the AsyncAPI document.

        Called by ``tsio.asyncapi_schema()`` once per handler, for every stage in the order it
        runs for that handler (outer to inner), with the handler's ``operation`` draft
        (``zndraw_socketio.asyncapi.OperationSpec``). Write into the draft what the stage adds:
        ``x-`` keys with ``operation.add_extension(...)``, ``operation.tags``, or messages in
        ``operation.messages``/``replies``/``errors``. Read ``route``, never change it or the stage.
        The default contributes nothing.
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


_HOOKS: weakref.WeakKeyDictionary[Callable[..., Any], tuple[Callable[..., Any], Callable[..., Any]]] = (
    weakref.WeakKeyDictionary()
)


def hook_of(step: Callable[..., Any] | None) -> tuple[Callable[..., Any], Callable[..., Any]] | None:
    """``(hook, call_next)`` of a step made by ``wrap_inbound``/``wrap_outbound``'s default on an
    async face, so that a compiled entry may call ``hook(ctx, call_next)`` itself, one frame less
    per event; ``None`` for any other callable."""
    return _HOOKS.get(step) if step is not None else None


def _overrides(cls: type, hook: str) -> bool:
    """True when ``cls`` overrides ``Middleware``'s pass-through ``hook``."""
    return getattr(cls, hook) is not getattr(Middleware, hook)
