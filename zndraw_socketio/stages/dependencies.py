"""Dependencies: the innermost stage; solves a handler's ``Depends`` parameters from its plan."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..di.request import SioRequest
from ..di.solver import Injection, OverridePlans, Overrides
from ..events.context import InboundContext
from .stage import Stage

if TYPE_CHECKING:
    from ..events.route import Route

__all__ = ["DependenciesStage"]


class DependenciesStage(Stage):
    """Injects dependencies into handlers that declare them, and leaves itself out of the rest.

    The plan (which parameters are injected, the dependency tree) is built when the handler is
    registered and compiled into one resolver per parameter (``injection``); per event the
    compiled entry only calls them. Generator dependencies are closed after the handler returns
    or raises, before the reply leaves. ``overrides`` (the wrapper's ``dependency_overrides``)
    are read per event, so a change applies to the next one.
    """

    def __init__(self, overrides: Overrides, make_request: Callable[[InboundContext], SioRequest]) -> None:
        self.overrides = overrides
        self.make_request = make_request
        self.plans = OverridePlans(overrides)

    def injection(self, route: Route) -> Injection | None:
        """The compiled resolvers of ``route``'s injected parameters; ``None`` when it has none."""
        if not route.injected:
            return None
        return Injection(route.injected, self.plans)
