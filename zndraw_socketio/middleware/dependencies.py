"""Dependencies: the innermost stage; solves a handler's ``Depends`` parameters from its plan."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from ..context import InboundContext
from ..dependencies import Solver
from ..request import SioRequest
from .base import InboundNext, Middleware

if TYPE_CHECKING:
    from ..routing import Route

__all__ = ["DependenciesMiddleware"]


class DependenciesMiddleware(Middleware):
    """Injects dependencies into handlers that declare them, and leaves itself out of the rest.

    The plan (which parameters are injected, the dependency tree) is built when the handler is
    registered; per event this stage only calls the dependencies. Generator dependencies are
    closed after the handler returns or raises, before the reply leaves.
    """

    def __init__(
        self,
        overrides: dict[Callable[..., Any], Callable[..., Any]],
        make_request: Callable[[InboundContext], SioRequest],
    ) -> None:
        self.overrides = overrides
        self.make_request = make_request

    def wrap_inbound(self, route: Route, call_next: InboundNext) -> InboundNext:
        injected = route.injected
        if not injected:
            return call_next
        overrides = self.overrides
        make_request = self.make_request

        async def solve_with_cleanup(ctx: InboundContext) -> Any:
            async with AsyncExitStack() as stack:
                solver = Solver(ctx, overrides, make_request, stack)
                ctx.kwargs = {name: await solver.value(src) for name, src in injected}
                return await call_next(ctx)

        if route.has_yield:
            return solve_with_cleanup

        async def solve(ctx: InboundContext) -> Any:
            if overrides:  # a replacement may be a generator: give it an exit stack
                return await solve_with_cleanup(ctx)
            solver = Solver(ctx, overrides, make_request, None)
            ctx.kwargs = {name: await solver.value(src) for name, src in injected}
            return await call_next(ctx)

        return solve
