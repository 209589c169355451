"""Fail-fast twins of the payload validators: how a payload with thousands of errors gets its
422 listing without rendering every error.

pydantic-core renders a ``ValidationError``'s errors all at once or not at all, and rendering
them costs about as much as the validation that found them (≈ 0.3 µs per error). Up to
``RENDER_LIMIT`` errors are rendered, and the reply lists the first of them. When a payload fails
with more, the entry notes the payload on the exception (``note_payload``); building the
reply then validates the payload again with the annotation's twin, a validator of the same schema
in which every list, tuple, set, frozenset and dict without a bounded length stops at its first
failing item and every model or typed dict that forbids extra keys sees only its known keys and
the first extra ones, and lists that pass's errors instead (``problems.reported_errors``): some of
the full validation's errors, in its order. The total count stays the one the full validation
found. The twin walks again what the full validation walked up to the first error of each list:
next to nothing for a payload made of errors, at most about one more validation for one whose
errors trail a long valid prefix.

The twin is built from the annotation's core schema once (at most ``_LIMIT`` annotations are
kept). Its models are stand-ins (``_StandIn``) because pydantic-core reuses the validator a
complete model class already has, which would not stop early; so a model's ``__init__`` and
``__post_init__`` are not run by the twin, and a validator of the model that needs the model's own
methods makes the twin fail, in which case the full errors are rendered as before.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import SchemaValidator

from .adapters import adapter_for, memoised
from .problems import MAX_REPORTED_ERRORS, with_payload

__all__ = ["RENDER_LIMIT", "fail_fast_validator", "note_payload"]

RENDER_LIMIT = 1_000
"""The most errors a rejected payload's reply is read from in full (≈ 0.3 ms of rendering); past
it, the errors listed come from the fail-fast twin."""

_SEQUENCES = frozenset({"list", "tuple", "set", "frozenset", "dict"})
_CLASSES = frozenset({"model", "dataclass"})
_FIELDS = frozenset({"model-fields", "typed-dict"})
_LIMIT = 256
_TWINS: dict[Any, Callable[[Any], Any]] = {}


def _no_twin(value: Any) -> Any:
    """Kept for an annotation that has no twin, so that it is not looked at again."""
    raise NotImplementedError


class _StandIn:
    """What the twin's models validate into: a plain object that takes the fields pydantic-core
    sets (its ``__dict__`` and the ``__pydantic_*__`` attributes)."""


def note_payload(exc: ValidationError, annotation: Any, value: Any) -> ValidationError:
    """``exc``, carrying ``value`` and the twin of ``annotation`` when it has more than
    ``RENDER_LIMIT`` errors and the twin can stop earlier than the full validation."""
    if exc.error_count() > RENDER_LIMIT:
        twin = fail_fast_validator(annotation)
        if twin is not None:
            with_payload(exc, twin, value)
    return exc


def fail_fast_validator(annotation: Any) -> Callable[[Any], Any] | None:
    """The fail-fast twin of ``annotation``'s validator (see the module's docstring); ``None``
    when its schema has no list, tuple, set or dict to stop early in, or when it cannot be built."""
    twin = memoised(_TWINS, annotation, lambda: _build(annotation) or _no_twin, _LIMIT)
    return None if twin is _no_twin else twin


def _build(annotation: Any) -> Callable[[Any], Any] | None:
    if annotation is inspect.Parameter.empty or annotation is Any:
        return None
    try:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            schema = annotation.__pydantic_core_schema__
        else:
            schema = adapter_for(annotation).core_schema
        found: list[bool] = []
        twin = _twin_schema(schema, found)
        if not found:
            return None
        return SchemaValidator(twin).validate_python  # type: ignore[arg-type]
    except Exception:  # an incomplete or unusual schema: the full errors are rendered instead
        return None


def _twin_schema(node: Any, found: list[bool], forbid: bool = False) -> Any:
    """A copy of the core schema ``node`` with ``fail_fast`` on every sequence and dict schema, each
    model class replaced by ``_StandIn``, and the input of every model or typed dict that forbids
    extra keys cut to its known keys and the first extra ones (``_trimmed``); ``found`` gets an
    entry per schema changed. ``forbid``: the enclosing model's config forbids extra keys."""
    if isinstance(node, list):
        return [_twin_schema(item, found, forbid) for item in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    config = node.get("config")
    if isinstance(config, dict):  # a model's, dataclass's or typed dict's own config
        forbid = config.get("extra_fields_behavior") == "forbid"
    copied = {
        key: value if key == "metadata" else _twin_schema(value, found, forbid) for key, value in node.items()
    }
    if (
        kind in _SEQUENCES
        and "max_length" not in copied
        and (kind != "tuple" or "variadic_item_index" in copied)
    ):
        # a bounded length is checked as the items go: pydantic then reports ``too_long`` alone,
        # where a fail-fast pass would report the first wrong item
        copied["fail_fast"] = True
        found.append(True)
    elif kind in _CLASSES and "cls" in copied:
        copied["cls"] = _StandIn
        copied.pop("post_init", None)
        if kind == "model":
            copied["custom_init"] = False
    if kind in _FIELDS and copied.get("extra_behavior", "forbid" if forbid else None) == "forbid":
        found.append(True)
        trimmer = {"type": "no-info", "function": _trimmed(_known_keys(copied["fields"]))}
        copied = {"type": "function-before", "function": trimmer, "schema": copied}
        if "ref" in copied["schema"]:  # references to the typed dict go through the cut too
            copied["ref"] = copied["schema"].pop("ref")
    return copied


def _known_keys(fields: dict[str, Any]) -> frozenset[Any]:
    """Every key that may name one of ``fields``: the names and every string in their aliases."""
    known: set[Any] = set(fields)
    pending = [field.get("validation_alias") for field in fields.values()]
    while pending:
        alias = pending.pop()
        if isinstance(alias, str):
            known.add(alias)
        elif isinstance(alias, list):
            pending.extend(alias)
    return frozenset(known)


def _trimmed(known: frozenset[Any]) -> Callable[[Any], Any]:
    """The cut of a dict input: its keys in ``known``, then its first ``MAX_REPORTED_ERRORS``
    other keys in their order (each is an ``extra_forbidden`` error)."""
    room = len(known) + MAX_REPORTED_ERRORS

    def trim(value: Any) -> Any:
        if type(value) is not dict or len(value) <= room:
            return value
        kept = {key: value[key] for key in known if key in value}
        extra = 0
        for key in value:
            if key not in known:
                kept[key] = value[key]
                extra += 1
                if extra == MAX_REPORTED_ERRORS:
                    break
        return kept

    return trim
