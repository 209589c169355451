"""The stack: the built-in stages of one wrapper and the one order every chain runs them in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..di.request import SioRequest
from ..di.solver import Overrides
from ..events.context import InboundContext
from ..middleware.base import Middleware
from .dependencies import DependenciesStage
from .exceptions import ExceptionHandlers, ExceptionStage
from .logging import LoggingStage
from .naming import NamingStage
from .stage import Stage
from .validation import ValidationStage

if TYPE_CHECKING:
    from ..events.route import Route

__all__ = ["Stages", "checked_user_middleware"]


@dataclass(frozen=True, slots=True, eq=False)
class Stages:
    """The built-in stages of one wrapper.

    ``order`` is the one stage order, outer to inner: naming, logging, exceptions, the user
    middleware (global, then the handler's own), validation, dependencies. The chain compiler,
    ``tsio.middleware`` and the AsyncAPI pass all read it from here.
    """

    naming: NamingStage
    logging: LoggingStage
    exceptions: ExceptionStage
    validation: ValidationStage
    dependencies: DependenciesStage

    @classmethod
    def new(
        cls,
        handlers: ExceptionHandlers,
        overrides: Overrides,
        make_request: Callable[[InboundContext], SioRequest],
    ) -> Stages:
        """The default stages, reading the wrapper's exception handlers and overrides."""
        return cls(
            NamingStage(),
            LoggingStage(),
            ExceptionStage(handlers),
            ValidationStage(),
            DependenciesStage(overrides, make_request),
        )

    def order(self, user: tuple[Middleware, ...], route: Route | None = None) -> tuple[Middleware, ...]:
        """Every layer, outer to inner, for ``route`` (its own middleware innermost of the user
        layers) or for the wrapper as a whole."""
        own: tuple[Any, ...] = route.middleware if route is not None else ()
        return (
            self.naming,
            self.logging,
            self.exceptions,
            *user,
            *own,
            self.validation,
            self.dependencies,
        )

    def user_layers(self, user: tuple[Middleware, ...], route: Route | None = None) -> tuple[Middleware, ...]:
        """The user layers of ``order``, outer to inner: what the compiler composes between the
        exception stage and validation (the built-in stages it compiles from their pieces)."""
        return tuple(mw for mw in self.order(user, route) if not isinstance(mw, Stage))


def checked_user_middleware(middleware: Any, *, is_async: bool) -> Middleware:
    """``middleware`` if it can run as user middleware on this kind of face, else ``TypeError``
    saying why: not a ``Middleware`` instance, a built-in stage, or hooks for the other kind."""
    if not isinstance(middleware, Middleware):
        what = middleware.__name__ if isinstance(middleware, type) else type(middleware).__name__
        hint = " (pass an instance, not the class)" if isinstance(middleware, type) else ""
        raise TypeError(f"Expected a zndraw_socketio.Middleware instance, got {what}{hint}")
    if isinstance(middleware, Stage):
        raise TypeError(
            f"{type(middleware).__name__} is a built-in stage and already runs in every stack; "
            "configure it through the wrapper (exception_handler, dependency_overrides, structlog) "
            "or subclass Middleware for your own"
        )
    if is_async:
        middleware.check_async()
    else:
        middleware.check_sync()
    return middleware
