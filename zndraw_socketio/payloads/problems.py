"""RFC 9457 problem details: the error replies the chain sends instead of leaving a caller waiting."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

CANCELLED_DETAIL = "the handler was cancelled before it replied"
"""The ``detail`` of the 503 a cancelled handler's caller gets (a shutdown past its grace period)."""

__all__ = [
    "CANCELLED_DETAIL",
    "MAX_REPORTED_ERRORS",
    "MAX_TEXT_LENGTH",
    "ProblemDetail",
    "ProblemDetailError",
    "error_count",
    "http_problem",
    "internal_error_problem",
    "is_problem",
    "reported_errors",
    "unavailable_problem",
    "validation_problem",
    "with_error_count",
    "with_payload",
]

MAX_REPORTED_ERRORS = 10
"""The most validation errors a 422 reply (and its log entry) lists; ``error_count`` gives them all."""
MAX_TEXT_LENGTH = 120
"""The longest string kept in a reported error (a ``loc`` part, ``msg``, ``type``, a ``ctx``
value); a longer one is cut there and ends in ``…``."""
_MAX_LOC_PARTS = 32  # the deepest location kept; a deeper one ends in "…"
_MAX_CTX_KEYS = 8
_COUNT = "_zndraw_socketio_error_count"  # on a merged ValidationError that lists fewer errors
_REPORTED = "_zndraw_socketio_reported"  # the bounded errors, read once per exception
_PAYLOAD = "_zndraw_socketio_payload"  # (a fail-fast validator, the payload) to list errors from
_DECODER = json.JSONDecoder()


class ProblemDetail(BaseModel):
    """RFC 9457 Problem Details, as sent in reply to an event that failed.

    ``kind`` is always ``"error"`` so that a union ``Response | ProblemDetail`` can tell the two
    apart. On a 422, ``errors`` carries at most ``MAX_REPORTED_ERRORS`` of pydantic's
    validation errors (``reported_errors`` says which), without the input values, and
    ``error_count`` how many there were.
    """

    kind: Literal["error"] = "error"
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None
    error_count: int | None = None


class ProblemDetailError(Exception):
    """Raised by ``call(..., response_model=M)`` when the peer replied with a problem detail that
    ``M`` does not accept. ``problem`` holds it, parsed."""

    def __init__(self, problem: ProblemDetail) -> None:
        self.problem = problem
        super().__init__(
            f"{problem.status} {problem.title}" + (f": {problem.detail}" if problem.detail else "")
        )

    @property
    def status(self) -> int:
        """The problem's HTTP-style status code."""
        return self.problem.status


def is_problem(value: Any) -> bool:
    """True when ``value`` looks like a problem-detail reply (a dict with ``kind: "error"``)."""
    return (
        type(value) is dict
        and value.get("kind") == "error"
        and isinstance(value.get("status"), int)
        and isinstance(value.get("title"), str)
    )


def validation_problem(exc: ValidationError, event: str) -> dict[str, Any]:
    """The 422 reply for a payload that failed validation: the count of its errors and at most
    ``MAX_REPORTED_ERRORS`` of them, without input values (see ``reported_errors``)."""
    count = error_count(exc)
    return {
        "kind": "error",
        "type": "about:blank",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": f"{count} validation error{'s' if count != 1 else ''} for event {event!r}",
        "instance": event,
        "errors": reported_errors(exc),
        "error_count": count,
    }


def error_count(exc: ValidationError) -> int:
    """How many errors ``exc`` stands for: its own count, or the count a merged error that lists
    only some of them carries (``with_error_count``)."""
    total = getattr(exc, _COUNT, None)
    return total if isinstance(total, int) else exc.error_count()


def with_error_count(exc: ValidationError, total: int) -> ValidationError:
    """``exc``, marked as standing for ``total`` errors although it lists fewer."""
    setattr(exc, _COUNT, total)
    return exc


def with_payload(exc: ValidationError, validate: Callable[[Any], Any], value: Any) -> ValidationError:
    """``exc``, carrying the payload ``value`` that failed and a fail-fast validator of its type,
    whose errors ``reported_errors`` lists instead of rendering all of ``exc``'s."""
    setattr(exc, _PAYLOAD, (validate, value))
    return exc


def reported_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """At most ``MAX_REPORTED_ERRORS`` errors of ``exc`` as JSON-able dicts (``type``, ``loc``,
    ``msg``, ``ctx``), without input values, every string cut at ``MAX_TEXT_LENGTH``: its first
    ones, or those of a fail-fast pass over its payload.

    pydantic-core renders all errors or none; its JSON rendering is the cheapest of its ways (one
    pass in Rust, no Python object per error), and only the first errors' text is parsed. An
    exception that carries its payload (``with_payload``) lists the errors of a fail-fast pass over
    it instead (``fail_fast``): the first failing item of each list, tuple, set and dict, the first
    extra keys of a model that forbids them, and every other error, in pydantic's order. The
    result is kept on the exception, so that the reply and the log entry share one rendering.
    """
    kept = getattr(exc, _REPORTED, None)
    if kept is not None:
        return kept
    text = _sampled(exc).json(include_url=False, include_input=False)
    errors: list[dict[str, Any]] = []
    at = 1  # past the opening bracket; pydantic-core writes no whitespace without an indent
    while len(errors) < MAX_REPORTED_ERRORS and at < len(text) and text[at] != "]":
        item, at = _DECODER.raw_decode(text, at)
        at += 1  # the comma or the closing bracket
        errors.append(_bounded_error(item))
    setattr(exc, _REPORTED, errors)
    return errors


def _sampled(exc: ValidationError) -> ValidationError:
    """The errors to list for ``exc``: those of the fail-fast pass over its payload when it carries
    one and that pass fails as it should, else its own."""
    carried = getattr(exc, _PAYLOAD, None)
    if carried is None:
        return exc
    setattr(exc, _PAYLOAD, None)  # the payload is not kept past this
    validate, value = carried
    try:
        validate(value)
    except ValidationError as fewer:
        return fewer
    except Exception:  # a validator of the model needed the model itself: render them all
        pass
    return exc


def _bounded_error(item: dict[str, Any]) -> dict[str, Any]:
    loc = item.get("loc", [])
    parts = [_cut(part) for part in loc[:_MAX_LOC_PARTS]]
    if len(loc) > _MAX_LOC_PARTS:
        parts.append("…")
    error: dict[str, Any] = {
        "type": _cut(item.get("type", "")),
        "loc": parts,
        "msg": _cut(item.get("msg", "")),
    }
    ctx = item.get("ctx")
    if isinstance(ctx, dict) and ctx:
        error["ctx"] = {
            _cut(key): value if value is None or isinstance(value, (bool, int, float)) else _cut(value)
            for key, value in list(ctx.items())[:_MAX_CTX_KEYS]
        }
    return error


def _cut(value: Any) -> Any:
    """A string cut at ``MAX_TEXT_LENGTH``; an integer as it is; anything else as cut JSON text."""
    if isinstance(value, int):
        return value
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= MAX_TEXT_LENGTH else text[:MAX_TEXT_LENGTH] + "…"


def http_problem(status: int, detail: Any, event: str | None) -> dict[str, Any]:
    """The reply for an ``HTTPException`` raised in a handler or dependency: its status and detail
    (also the 400 for a packet that could not be decoded, whose event is unknown: ``None``)."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return {
        "kind": "error",
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail if detail is None or isinstance(detail, str) else json.dumps(detail, default=str),
        "instance": event,
    }


def internal_error_problem(event: str) -> dict[str, Any]:
    """The 500 reply for an exception nobody handled; it says nothing about the exception."""
    return {
        "kind": "error",
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": None,
        "instance": event,
    }


def unavailable_problem(event: str, detail: str = "the server is shutting down") -> dict[str, Any]:
    """The 503 reply for an event the server did not finish: refused because it is shutting down
    (the default ``detail``), or whose handler was cancelled before it replied."""
    return {
        "kind": "error",
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": detail,
        "instance": event,
    }
