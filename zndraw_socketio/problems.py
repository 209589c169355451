"""RFC 9457 problem details: the error replies the chain sends instead of leaving a caller waiting."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

__all__ = [
    "ProblemDetail",
    "ProblemDetailError",
    "http_problem",
    "internal_error_problem",
    "is_problem",
    "validation_problem",
]


class ProblemDetail(BaseModel):
    """RFC 9457 Problem Details, as sent in reply to an event that failed.

    ``kind`` is always ``"error"`` so that a union ``Response | ProblemDetail`` can tell the two
    apart. ``errors`` carries pydantic's validation errors on a 422.
    """

    kind: Literal["error"] = "error"
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


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
    """The 422 reply for a payload that failed validation; inputs are left out of the errors."""
    errors = json.loads(exc.json(include_url=False, include_input=False))
    count = len(errors)
    return {
        "kind": "error",
        "type": "about:blank",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": f"{count} validation error{'s' if count != 1 else ''} for event {event!r}",
        "instance": event,
        "errors": errors,
    }


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
