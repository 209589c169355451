"""Cached pydantic adapters and the encoder that turns replies and payloads into JSON-able data."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel, TypeAdapter
from pydantic_core import to_jsonable_python

from ..events.logsafe import log_safely
from .problems import internal_error_problem

__all__ = [
    "adapter_for",
    "dump_model",
    "encode",
    "encode_reply",
    "memoised",
    "model_dumper",
    "validator_for",
]

T = TypeVar("T")

_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}
_SCALARS = frozenset({str, int, float, bool, bytes, bytearray, type(None)})


def adapter_for(annotation: Any) -> TypeAdapter[Any]:
    """A ``TypeAdapter`` for ``annotation``, built once per annotation and reused."""
    try:
        return _ADAPTERS[annotation]
    except KeyError:
        adapter = _ADAPTERS[annotation] = TypeAdapter(annotation)
        return adapter
    except TypeError:  # unhashable annotation: build, do not cache
        return TypeAdapter(annotation)


def memoised(cache: dict[Any, T], key: Any, build: Callable[[], T], limit: int) -> T:
    """``build()``, kept in ``cache`` under the annotation ``key``: an unhashable key (an
    ``Annotated`` with a list in it) is built and not kept, and a cache already holding ``limit``
    entries is emptied before a new one goes in."""
    try:
        found = cache.get(key)
    except TypeError:
        return build()
    if found is None:
        if len(cache) >= limit:
            cache.clear()
        found = cache[key] = build()
    return found


def validator_for(annotation: Any) -> Callable[[Any], Any] | None:
    """The fastest callable that validates a value against ``annotation``; ``None`` for no-op.

    That is pydantic-core's own ``validate_python``, bound once: ``Model.model_validate`` and
    ``TypeAdapter.validate_python`` only forward to it with their default arguments, and that
    forwarding costs as much again as validating a small model. A model or adapter that is not
    complete yet (a forward reference still to be defined) keeps pydantic's method, which
    rebuilds it on first use.
    """
    if annotation is inspect.Parameter.empty or annotation is Any or annotation is object:
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation.__pydantic_complete__:
            return annotation.__pydantic_validator__.validate_python
        return annotation.model_validate
    adapter = adapter_for(annotation)
    if adapter.pydantic_complete:
        return adapter.validator.validate_python
    return adapter.validate_python


def dump_model(value: BaseModel) -> Any:
    """``value.model_dump(mode="json")`` without the forwarding of its default arguments."""
    return value.__pydantic_serializer__.to_python(value, mode="json")


def model_dumper(annotation: Any) -> tuple[type[BaseModel], Callable[..., Any]] | None:
    """``(Model, serialise)`` for a complete model class ``annotation``, else ``None``.

    ``serialise(value, mode="json")`` is the model's own pydantic-core serializer, bound once, for
    a caller that expects instances of exactly ``Model`` (a handler's declared return type).
    """
    if (
        isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
        and annotation.__pydantic_complete__
    ):
        return annotation, annotation.__pydantic_serializer__.to_python
    return None


def encode(value: Any) -> Any:
    """Turn models (also nested in lists, tuples and dicts) into JSON-able data.

    ``bytes`` stay ``bytes`` (socketio sends them as binary attachments); a tuple stays a tuple,
    which socketio sends as several arguments.
    """
    if isinstance(value, BaseModel):
        return dump_model(value)
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {k: encode(v) for k, v in value.items()}
    if kind is list:
        return [encode(v) for v in value]
    if kind is tuple:
        return tuple(encode(v) for v in value)
    return to_jsonable_python(value)


def encode_reply(value: Any, event: str) -> Any:
    """``encode`` for a handler's reply: a reply that cannot be encoded becomes the 500 problem
    (and an error entry), so that the caller is answered instead of left waiting."""
    try:
        return encode(value)
    except Exception as exc:
        log_safely(
            structlog.get_logger("zndraw_socketio").error,
            "sio reply not serialisable",
            sio_event=event,
            outcome="error",
            exc_info=exc,
        )
        return internal_error_problem(event)
