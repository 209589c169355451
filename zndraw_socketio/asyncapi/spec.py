"""The drafts the middleware stages fill in when the AsyncAPI document is built.

``Middleware.contribute(route, operation)`` receives an ``OperationSpec`` for each registered
handler. The stages write what they know into it (naming: the channel and operation id;
validation: the messages and replies; exceptions: the error replies), and the builder turns the
drafts into the AsyncAPI 3.0 document. Nothing here touches the app: a draft lives for one build.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..events.route import Route

__all__ = [
    "NO_PAYLOAD",
    "Arguments",
    "MessageSpec",
    "OperationSpec",
    "camel_case",
    "channel_address",
    "docstring",
    "pascal_case",
]

SchemaMode = Literal["validation", "serialization"]


class _NoPayload:
    """The payload of an event that carries no data."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_PAYLOAD"


NO_PAYLOAD: Any = _NoPayload()
"""``MessageSpec.payload`` for an event without data (a handler with no payload parameter)."""


@dataclass(frozen=True, slots=True)
class Arguments:
    """A payload of several positional arguments: a handler with several payload parameters.

    ``names`` and ``annotations`` pair up; the first ``required`` arguments must be sent.
    """

    names: tuple[str, ...]
    annotations: tuple[Any, ...]
    required: int


@dataclass(eq=False, slots=True)
class MessageSpec:
    """One message of an operation, before it becomes an AsyncAPI message object.

    ``payload`` is a type annotation (its JSON schema comes from the same pydantic adapter the
    validation stage runs), an ``Arguments`` for several positional arguments, or ``NO_PAYLOAD``.
    ``mode`` picks pydantic's ``"validation"`` (what is accepted) or ``"serialization"`` (what is
    sent) schema. ``name`` is the message's key in ``components/messages``; when ``None`` a model
    payload is named after its schema and anything else after the operation. ``extensions`` are
    ``x-`` keys added to the message object.
    """

    payload: Any = NO_PAYLOAD
    mode: SchemaMode = "validation"
    name: str | None = None
    title: str | None = None
    summary: str | None = None
    description: str | None = None
    examples: list[dict[str, Any]] = field(default_factory=list)
    extensions: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False, slots=True)
class OperationSpec:
    """What the stages say about one handler: its channel, its ``receive`` operation, its replies.

    ``route`` is the registered handler: read it, never change it. ``messages`` are what the
    handler accepts (one per member of a union payload), ``replies`` what it returns (one per
    member of a union return type), ``errors`` the replies sent when it fails (listed with the
    replies when the handler replies at all). ``extensions`` are ``x-`` keys added to the operation
    object, ``tags`` its tag names. Fields left ``None`` get defaults derived from ``route``.
    """

    route: Route
    operation_id: str | None = None
    namespace: str | None = None
    event: str | None = None
    address: str | None = None
    title: str | None = None
    summary: str | None = None
    description: str | None = None
    messages: list[MessageSpec] = field(default_factory=list)
    replies: list[MessageSpec] = field(default_factory=list)
    errors: list[MessageSpec] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    extensions: dict[str, Any] = field(default_factory=dict)

    def add_extension(self, key: str, value: Any) -> None:
        """Add ``x-<key>`` (or ``key`` when it already starts with ``x-``) to the operation."""
        name = key if key.startswith("x-") else f"x-{key}"
        self.extensions[name] = value


_WORDS = re.compile(r"[^0-9A-Za-z]+")


def camel_case(name: str) -> str:
    """``handle_ping`` -> ``handlePing``; characters that are not letters or digits split words."""
    words = [w for w in _WORDS.split(name) if w]
    if not words:
        return "handler"
    first, rest = words[0], words[1:]
    return first[:1].lower() + first[1:] + "".join(w[:1].upper() + w[1:] for w in rest)


def pascal_case(name: str) -> str:
    """``handle_ping`` -> ``HandlePing``."""
    camel = camel_case(name)
    return camel[:1].upper() + camel[1:]


def channel_address(namespace: str, event: str) -> str:
    """The channel address of ``event`` in ``namespace``: ``/ping``, ``/chat/ping``.

    The namespace is part of the address, so the same event in two namespaces is two channels.
    """
    return f"{namespace.rstrip('/')}/{event}"


def docstring(obj: Any) -> str | None:
    """The cleaned docstring ``obj`` defines itself (an inherited one does not count)."""
    doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    if not isinstance(doc, str):
        return None
    doc = inspect.cleandoc(doc).strip()
    return doc or None
