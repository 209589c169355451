"""The shared parts of every face: passthrough, the stack, handler registration, emit and call."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any, TypeVar, overload

from pydantic import BaseModel
from typing_extensions import TypeForm

from ..chain.core import Core
from ..di.signature import build_route
from ..events.drive import drive
from ..events.route import Role, Route
from ..middleware.base import Middleware
from ..stages.exceptions import ExceptionHandler
from ..transport.patches import Options, PatchState, install_patches
from ..transport.registry import PATCHES

__all__ = ["AsyncSender", "Face", "Handlers", "SyncSender"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

# attributes that live on the wrapper itself; every other name is the socketio object's
_OWN = frozenset({"sio", "app", "dependency_overrides", "_core"})
# socketio state that must not be replaced through the wrapper
_GUARDED = frozenset({"handlers", "namespace_handlers"})


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


class Face:
    """What every face shares: the core, the middleware stack, ``.app`` and passthrough.

    The face stands in for its socketio object wherever an app or python-socketio passes it on
    (``socketio.ASGIApp(tsio, app)``, a client manager's ``set_server(tsio)``): reads and writes
    of names it does not define, python-socketio's private ones included, are the socketio
    object's. Dunder lookups (``copy``, ``pickle``) stay the wrapper's own.
    """

    _role: Role = "server"
    _is_async: bool = True

    sio: Any
    """The wrapped python-socketio object, for anything the wrapper does not cover."""

    def __init__(
        self, sio: Any, *, middleware: Iterable[Middleware] = (), options: Options | None = None
    ) -> None:
        options = options if options is not None else Options()
        patches = install_patches(sio, PATCHES, skipped=options.skipped, options=options)
        object.__setattr__(self, "sio", sio)
        core = Core(sio, self._role, middleware, is_async=self._is_async, patches=patches)
        object.__setattr__(self, "_core", core)

    def __getattr__(self, name: str) -> Any:
        if name in _OWN or _dunder(name):  # not set yet (a copy being made): never the sio's
            raise AttributeError(name)
        return getattr(self.sio, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _OWN or _dunder(name):
            object.__setattr__(self, name, value)
        elif name in _GUARDED:
            raise AttributeError(f"{name!r} is socketio's handler table; register with .on()")
        else:
            setattr(self.sio, name, value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.sio!r})"

    @property
    def app(self) -> Any:
        """The ASGI app (e.g. FastAPI) that dependencies reach as ``request.app``; ``None`` until
        set. It is read when an event arrives, so it may be set after handlers are registered."""
        return self._core.app

    @app.setter
    def app(self, value: Any) -> None:
        self._core.app = value

    @property
    def patches(self) -> dict[str, PatchState]:
        """Every patch of a python-socketio or python-engineio internal that applies to this
        object, by name: ``active``, or off with the ``reason`` (switched off in ``wrap()``, or
        its check found the upstream internal it needs missing; a warning said so then)."""
        return dict(self._core.patches)

    @property
    def middleware(self) -> tuple[Middleware, ...]:
        """The whole stack, outer to inner, built-in stages included."""
        return self._core.stack

    def add_middleware(self, middleware: Middleware) -> None:
        """Add a middleware inside the ones already added; every chain is composed again."""
        self._core.add_middleware(middleware)

    def asyncapi_schema(
        self,
        title: str = "AsyncAPI",
        version: str = "0.1.0",
        description: str | None = None,
        servers: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The AsyncAPI 3.0 document of the registered handlers, as a JSON-able dict.

        Each middleware stage contributes what it knows (see ``Middleware.contribute``); REST
        routes of ``.app`` that declare ``Emits(...)`` appear as ``x-rest-triggers``. Built anew on
        each call; nothing is changed.
        """
        from ..asyncapi.builder import build_asyncapi

        return build_asyncapi(self, title=title, version=version, description=description, servers=servers)

    def typescript(self) -> str:
        """The TypeScript contracts of the registered handlers, as the text of one ``.ts`` module.

        Generated from the AsyncAPI document: an interface or type per schema, and per namespace
        ``ServerToClientEvents`` / ``ClientToServerEvents`` for socket.io-client's ``Socket``, with
        acks typed ``(reply: M | ProblemDetail) => void``. Built anew on each call.
        """
        from ..typescript.contracts import build_typescript

        return build_typescript(self)


class Handlers(Face):
    """Registration of handlers and exception handlers (servers and clients, not simple clients)."""

    @overload
    def on(
        self,
        event: str | type[BaseModel],
        handler: None = None,
        *,
        namespace: str | None = None,
        emits: Sequence[type[BaseModel]] = (),
        middleware: Sequence[Middleware] = (),
    ) -> Callable[[F], F]: ...

    @overload
    def on(
        self,
        event: str | type[BaseModel],
        handler: F,
        *,
        namespace: str | None = None,
        emits: Sequence[type[BaseModel]] = (),
        middleware: Sequence[Middleware] = (),
    ) -> F: ...

    def on(
        self,
        event: str | type[BaseModel],
        handler: Callable[..., Any] | None = None,
        *,
        namespace: str | None = None,
        emits: Sequence[type[BaseModel]] = (),
        middleware: Sequence[Middleware] = (),
    ) -> Any:
        """Register a handler for ``event``: a name, or a model class whose name is the event.

        The handler's payload parameters are validated against their type hints (a handler
        registered for a model validates its first payload parameter against it when that has no
        hint), ``Depends`` parameters are injected, and its return value is the reply. ``emits``
        documents the models the handler emits; ``middleware`` runs for this handler only, inside
        the global middleware. Usable as ``@tsio.on(Ping)``, ``@tsio.on("name")`` and
        ``tsio.on("name", handler)``.
        """
        core = self._core
        name = core.stages.naming.event_for(event)
        model = event if isinstance(event, type) else None
        ns = namespace or "/"

        def register(fn: Any) -> Any:
            route = build_route(
                name,
                ns,
                fn,
                core.role,
                model=model,
                emits=tuple(emits),
                middleware=tuple(middleware),
                sync=not core.is_async,
            )
            core.register(route)
            return fn

        if handler is None:
            return register
        return register(handler)

    @overload
    def event(self, handler: F, /) -> F: ...

    @overload
    def event(
        self,
        handler: None = None,
        /,
        *,
        namespace: str | None = None,
        emits: Sequence[type[BaseModel]] = (),
        middleware: Sequence[Middleware] = (),
    ) -> Callable[[F], F]: ...

    def event(
        self,
        handler: Callable[..., Any] | None = None,
        /,
        *,
        namespace: str | None = None,
        emits: Sequence[type[BaseModel]] = (),
        middleware: Sequence[Middleware] = (),
    ) -> Any:
        """Register a handler whose function name is the event name (``@tsio.event``)."""

        def register(fn: Any) -> Any:
            return self.on(fn.__name__, fn, namespace=namespace, emits=emits, middleware=middleware)

        if handler is None:
            return register
        return register(handler)

    def exception_handler(
        self, exc_type: type[BaseException], *, namespace: str | None = None
    ) -> Callable[[F], F]:
        """Register ``handler(ctx: EventContext, exc)`` (sync or async) for ``exc_type``; its
        return value is the reply. ``namespace`` scopes it to one namespace."""

        def register(fn: F) -> F:
            if not self._core.is_async and inspect.iscoroutinefunction(fn):
                raise TypeError(
                    f"{fn.__name__} is async: a synchronous socketio face runs synchronous "
                    "exception handlers only"
                )
            handler: ExceptionHandler = fn
            self._core.add_exception_handler(exc_type, handler, namespace)
            return fn

        return register

    @property
    def routes(self) -> tuple[Route, ...]:
        """The registered handlers, in registration order."""
        return tuple(self._core.routes.values())

    @property
    def dependency_overrides(self) -> dict[Callable[..., Any], Callable[..., Any]]:
        """``{original: replacement}`` for tests, as in FastAPI; read at event time."""
        return self._core.dependency_overrides


class AsyncSender(Face):
    """Typed ``emit`` and ``call`` for asynchronous faces.

    Both are plain methods returning the coroutine to await, as socketio's own are awaited: the
    outbound chain's, or (a server's ``emit(Model)`` with debug entries filtered out) socketio's
    own ``emit`` with the model already serialised. Either way, one coroutine per event.
    """

    def emit(self, event: str | BaseModel, data: Any = None, /, **kwargs: Any) -> Coroutine[Any, Any, Any]:
        """Emit ``event``: a model instance (named by its class) or a name with ``data``.

        Keyword arguments reach socketio's ``emit`` unchanged.
        """
        return self._core.send(
            "emit", event, data if "data" not in kwargs else _data(data, kwargs), kwargs, None
        )

    @overload
    def call(
        self, event: BaseModel, /, *, response_model: TypeForm[T], **kwargs: Any
    ) -> Coroutine[Any, Any, T]: ...

    @overload
    def call(
        self, event: str, data: Any = None, /, *, response_model: TypeForm[T], **kwargs: Any
    ) -> Coroutine[Any, Any, T]: ...

    @overload
    def call(
        self, event: str | BaseModel, data: Any = None, /, *, response_model: None = None, **kwargs: Any
    ) -> Coroutine[Any, Any, Any]: ...

    def call(
        self, event: str | BaseModel, data: Any = None, /, *, response_model: Any = None, **kwargs: Any
    ) -> Coroutine[Any, Any, Any]:
        """Emit ``event`` and wait for the reply, validated against ``response_model`` if given.

        A problem-detail reply that ``response_model`` does not accept raises
        ``ProblemDetailError``. Keyword arguments reach socketio's ``call`` unchanged.
        """
        return self._core.send(
            "call", event, data if "data" not in kwargs else _data(data, kwargs), kwargs, response_model
        )


class SyncSender(Face):
    """Typed ``emit`` and ``call`` for synchronous faces."""

    _is_async = False

    def emit(self, event: str | BaseModel, data: Any = None, /, **kwargs: Any) -> Any:
        """Emit ``event``: a model instance (named by its class) or a name with ``data``.

        Keyword arguments reach socketio's ``emit`` unchanged.
        """
        return drive(
            self._core.send(
                "emit", event, data if "data" not in kwargs else _data(data, kwargs), kwargs, None
            )
        )

    @overload
    def call(self, event: BaseModel, /, *, response_model: TypeForm[T], **kwargs: Any) -> T: ...

    @overload
    def call(self, event: str, data: Any = None, /, *, response_model: TypeForm[T], **kwargs: Any) -> T: ...

    @overload
    def call(
        self, event: str | BaseModel, data: Any = None, /, *, response_model: None = None, **kwargs: Any
    ) -> Any: ...

    def call(
        self, event: str | BaseModel, data: Any = None, /, *, response_model: Any = None, **kwargs: Any
    ) -> Any:
        """Emit ``event`` and wait for the reply, validated against ``response_model`` if given.

        A problem-detail reply that ``response_model`` does not accept raises
        ``ProblemDetailError``. Keyword arguments reach socketio's ``call`` unchanged.
        """
        return drive(
            self._core.send(
                "call", event, data if "data" not in kwargs else _data(data, kwargs), kwargs, response_model
            )
        )


def _data(data: Any, kwargs: dict[str, Any]) -> Any:
    """The payload of ``emit``/``call`` given as socketio's ``data=`` keyword (the callers check
    ``"data" in kwargs`` first, so the common call costs no frame); a model instance given with it
    raises the same ``TypeError`` in the outbound chain as one given by position."""
    keyword = kwargs.pop("data")
    if data is not None:
        raise TypeError("emit()/call() got the payload twice: by position and as data=")
    return keyword
