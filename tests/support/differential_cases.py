"""The handler shapes of the differential matrix, written once for every face.

Each case is the source of one handler, with ``{a}`` for ``async `` (empty on synchronous faces),
``{aw}`` for ``await ``, ``{sid}`` for a leading ``sid: str, `` parameter on servers and ``{sid0}``
for ``sid: str`` alone. The source binds ``handler``; ``setup`` registers exception handlers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

import structlog
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from tests.support.models import Ping, Pong
from zndraw_socketio import Depends, EventContext, InboundContext, ProblemDetail, ProblemDetailError


class Other(BaseModel):
    """The second member of a union payload."""

    count: int


@dataclass(frozen=True)
class Case:
    """One handler shape: its source, a valid payload, what it needs, its exception handlers."""

    name: str
    source: str
    valid: tuple[Any, ...] = ({"message": "hi"},)
    async_only: bool = False
    setup: Callable[[Any, list[Any]], None] | None = None
    tags: tuple[str, ...] = field(default=())


def _value_error_handlers(scope: str) -> Callable[[Any, list[Any]], None]:
    def setup(tsio: Any, calls: list[Any]) -> None:
        def on_global(ctx: EventContext, exc: ValueError) -> dict[str, Any]:
            calls.append(("global", type(exc).__name__, ctx.event, type(ctx).__name__))
            return {"error": str(exc), "state": dict(getattr(ctx, "state", {}))}

        def on_namespace(ctx: EventContext, exc: ValueError) -> dict[str, Any]:
            calls.append(("namespace", type(exc).__name__, ctx.event, type(ctx).__name__))
            return {"scoped": str(exc)}

        tsio.exception_handler(ValueError)(on_global)
        if scope == "namespace":
            tsio.exception_handler(ValueError, namespace="/")(on_namespace)

    return setup


def _validation_handler(tsio: Any, calls: list[Any]) -> None:
    from pydantic import ValidationError

    def on_invalid(ctx: EventContext, exc: ValidationError) -> dict[str, Any]:
        calls.append(("validation", exc.error_count(), ctx.event))
        return {"invalid": exc.error_count()}

    tsio.exception_handler(ValidationError)(on_invalid)


def _broken_handler(tsio: Any, calls: list[Any]) -> None:
    def on_value(ctx: EventContext, exc: ValueError) -> Any:
        calls.append(("broken", type(exc).__name__))
        raise RuntimeError("the exception handler fails too")

    tsio.exception_handler(ValueError)(on_value)


CASES: tuple[Case, ...] = (
    Case(
        "model",
        """
{a}def handler({sid}data: Ping) -> Pong:
    structlog.get_logger("app").info("inside", message=data.message)
    return Pong(reply=data.message)
""",
    ),
    Case(
        "union",
        """
{a}def handler({sid}data: Ping | Other) -> Pong | Other:
    return data if isinstance(data, Other) else Pong(reply=data.message)
""",
        valid=({"count": 3},),
    ),
    Case(
        "list_of_models",
        """
{a}def handler({sid}data: list[Ping]) -> list[Pong]:
    return [Pong(reply=p.message) for p in data]
""",
        valid=([{"message": "a"}, {"message": "b"}],),
    ),
    Case("str", "{a}def handler({sid}data: str) -> str:\n    return data[:10].upper()", valid=("hi",)),
    Case("int", "{a}def handler({sid}data: int) -> int:\n    return data + 1", valid=(41,)),
    Case("dict", "{a}def handler({sid}data: dict) -> dict:\n    return {{'got': len(data)}}"),
    Case("no_payload", "{a}def handler({sid0}) -> str:\n    return 'ok'", valid=()),
    Case(
        "two_payloads",
        "{a}def handler({sid}a: Ping, b: int) -> dict:\n    return {{'m': a.message, 'b': b}}",
        valid=({"message": "hi"}, 2),
    ),
    Case("var_args", "{a}def handler({sid}*args: Any) -> int:\n    return len(args)"),
    Case(
        "optional_default",
        "{a}def handler({sid}data: Ping | None = None) -> str:\n"
        "    return 'none' if data is None else data.message",
    ),
    Case("returns_dict", "{a}def handler({sid}data: Ping) -> dict:\n    return {{'m': data.message}}"),
    Case("returns_none", "{a}def handler({sid}data: Ping) -> None:\n    return None"),
    Case(
        "returns_list_of_models",
        "{a}def handler({sid}data: Ping) -> list[Pong]:\n    return [Pong(reply=data.message)] * 2",
    ),
    Case(
        "returns_union",
        "{a}def handler({sid}data: Ping) -> Pong | Other:\n    return Other(count=len(data.message))",
    ),
    Case("returns_unserialisable", "{a}def handler({sid}data: Ping) -> Any:\n    return object()"),
    Case(
        "wraps_decorated",
        """
def decorate(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)  # an awaitable on async faces, from a plain def
    return wrapper

@decorate
{a}def handler({sid}data: Ping) -> Pong:
    return Pong(reply=data.message)
""",
    ),
    Case(
        "callable_object",
        """
class Handler:
    {a}def __call__(self, {sid}data: Ping) -> Pong:
        return Pong(reply=data.message)

handler = Handler()
""",
    ),
    Case(
        "partial",
        """
{a}def inner({sid}data: Ping, *, suffix: str = "") -> Pong:
    return Pong(reply=data.message + suffix)

handler = functools.partial(inner, suffix="!")
""",
    ),
    Case(
        "plain_def_returning_awaitable",
        """
{a}def inner({sid}data: Ping) -> Pong:
    return Pong(reply=data.message)

def handler({sid}data: Ping) -> Pong:
    return inner({sidarg}data)
""",
        async_only=True,
    ),
    Case(
        "dep_async",
        """
async def word() -> str:
    return "w"

async def handler({sid}data: Ping, w: Annotated[str, Depends(word)]) -> Pong:
    structlog.get_logger("app").info("inside")
    return Pong(reply=data.message + w)
""",
        async_only=True,
    ),
    Case(
        "dep_partial_and_decorated",
        """
async def word(suffix: str = "") -> str:
    return "w" + suffix

def decorate(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)  # an awaitable, from a plain def
    return wrapper

@decorate
async def other() -> str:
    return "o"

async def handler(
    {sid}data: Ping,
    w: Annotated[str, Depends(functools.partial(word, suffix="!"))],
    o: Annotated[str, Depends(other)],
) -> Pong:
    return Pong(reply=data.message + w + o)
""",
        async_only=True,
    ),
    Case(
        "dep_sync",
        """
def word() -> str:
    return "w"

{a}def handler({sid}data: Ping, w: Annotated[str, Depends(word)]) -> Pong:
    return Pong(reply=data.message + w)
""",
    ),
    Case(
        "dep_three_levels",
        """
{a}def level1() -> str:
    return "1"

{a}def level2(x: Annotated[str, Depends(level1)]) -> str:
    return x + "2"

{a}def level3(x: Annotated[str, Depends(level2)], y: Annotated[str, Depends(level1)]) -> str:
    return x + y + "3"

{a}def handler({sid}data: Ping, w: Annotated[str, Depends(level3)]) -> Pong:
    return Pong(reply=data.message + w)
""",
    ),
    Case(
        "dep_generator",
        """
def resource():
    yield "r"

{a}def handler({sid}data: Ping, r: Annotated[str, Depends(resource)]) -> Pong:
    return Pong(reply=data.message + r)
""",
    ),
    Case(
        "context_parameter",
        """
{a}def handler({sid}data: Ping, ctx: EventContext) -> dict:
    return {{"event": ctx.event, "validated": type(ctx.values[0]).__name__, "data": ctx.data}}
""",
    ),
    Case(
        "dependency_writes_state",
        """
def mark(ctx: InboundContext) -> str:
    ctx.state["marked"] = ctx.event
    return "m"

{a}def handler({sid}data: Ping, m: Annotated[str, Depends(mark)]) -> Pong:
    raise ValueError("after the dependency")
""",
        setup=_value_error_handlers("global"),
    ),
    Case("raises_value", "{a}def handler({sid}data: Ping) -> Pong:\n    raise ValueError('secret')"),
    Case(
        "raises_value_global_handler",
        "{a}def handler({sid}data: Ping) -> Pong:\n    raise ValueError('bad')",
        setup=_value_error_handlers("global"),
    ),
    Case(
        "raises_value_namespace_handler",
        "{a}def handler({sid}data: Ping) -> Pong:\n    raise ValueError('bad')",
        setup=_value_error_handlers("namespace"),
    ),
    Case(
        "exception_handler_fails",
        "{a}def handler({sid}data: Ping) -> Pong:\n    raise ValueError('bad')",
        setup=_broken_handler,
    ),
    Case(
        "raises_http",
        "{a}def handler({sid}data: Ping) -> Pong:\n    raise HTTPException(404, 'nope')",
    ),
    Case(
        "raises_problem",
        """
{a}def handler({sid}data: Ping) -> Pong:
    raise ProblemDetailError(ProblemDetail(title="Conflict", status=409))
""",
    ),
    Case(
        "dependency_raises",
        """
def failing() -> str:
    raise ValueError("in the dependency")

{a}def handler({sid}data: Ping, f: Annotated[str, Depends(failing)]) -> Pong:
    return Pong(reply=f)
""",
    ),
    Case(
        "validation_handler",
        "{a}def handler({sid}data: Ping) -> Pong:\n    return Pong(reply=data.message)",
        setup=_validation_handler,
    ),
)

INPUTS: dict[str, Callable[[Case], tuple[Any, ...]]] = {
    "valid": lambda case: case.valid,
    "wrong_type": lambda case: (["not", "this"],),
    "missing_field": lambda case: ({},),
    "extra_argument": lambda case: (*case.valid, 5),
    "no_arguments": lambda case: (),
    "null": lambda case: (None,),
    "one_megabyte_string": lambda case: ("x" * 1_000_000,),
    "list_for_a_model": lambda case: ([{"message": "hi"}],),
}


def build_handler(case: Case, *, is_async: bool, server: bool) -> Any:
    """The handler of ``case`` for a face: async or not, with or without the sid."""
    source = case.source.format(
        a="async " if is_async else "",
        aw="await " if is_async else "",
        sid="sid: str, " if server else "",
        sid0="sid: str" if server else "",
        sidarg="sid, " if server else "",
    )
    namespace: dict[str, Any] = {
        "Annotated": Annotated,
        "Any": Any,
        "Depends": Depends,
        "EventContext": EventContext,
        "HTTPException": HTTPException,
        "InboundContext": InboundContext,
        "Other": Other,
        "Ping": Ping,
        "Pong": Pong,
        "ProblemDetail": ProblemDetail,
        "ProblemDetailError": ProblemDetailError,
        "functools": functools,
        "structlog": structlog,
    }
    exec(compile(source, f"<case {case.name}>", "exec"), namespace)
    return namespace["handler"]
