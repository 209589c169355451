"""The wire codec: socket.io packets whose JSON is pydantic-core's, bounded and valid on the wire.

``wrap()`` gives the object it wraps (never python-socketio's own classes) ``PydanticPacket`` as
its packet class and ``MESSAGE_JSON`` as its client manager's JSON, unless the user chose a
serializer or a JSON module of their own. The wire format is python-socketio's: the packet framing
and binary attachments are its own code; only the JSON text differs, and only where the standard
library's is not JSON (``NaN`` and ``±Infinity`` go out as ``null``) or escapes what needs no
escape (text is sent as UTF-8).

Decoding is bounded: nesting deeper than ``MAX_DEPTH`` and integers written with more than
``MAX_INT_DIGITS`` characters (the sign counts, as in engine.io) are refused without deep recursion
or quadratic work. A packet refused that way raises
``UndecodablePacket``, carrying its ack id and namespace, so that ``answer_undecodable`` can answer
the caller with a 400 problem detail instead of leaving it to its timeout.
"""

from __future__ import annotations

import json as _stdlib_json
import math
import re
from collections.abc import Callable
from time import monotonic
from typing import Any

import engineio.json
import structlog
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, from_json, to_json
from socketio import packet as sio_packet

from ..events.logsafe import log_safely
from ..payloads.problems import http_problem

__all__ = [
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "MESSAGE_JSON",
    "PACKET_JSON",
    "PydanticPacket",
    "RenderedJson",
    "UndecodablePacket",
    "answer_undecodable",
    "bounded_packet_class",
    "chosen_by_user",
    "codec_needs",
    "is_default_json",
    "reply_renderer",
    "undecodable_problem",
]

MAX_DEPTH = 200
"""The deepest nesting accepted in a received packet: a value inside more arrays and objects than
this (the packet's argument list counts as one) is refused; pydantic-core's parser draws the same
line."""
MAX_INT_DIGITS = 100
"""The longest integer accepted in a received payload, in characters with its sign: engine.io's
own bound, so that whatever a typed peer accepts a python-socketio peer can read back."""

_LONG_DIGITS = re.compile(rf"\d{{{MAX_INT_DIGITS}}}")  # a run this long may be a refused integer
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # a \uD800-\uDFFF escape, paired or not
_BIG = 10**MAX_INT_DIGITS  # 100 digits, positive
_BIG_NEGATIVE = -(10 ** (MAX_INT_DIGITS - 1))  # "-" and 99 digits


class UndecodablePacket(ValueError):
    """A received packet that could not be decoded; ``id`` is its ack id (``None``: no ack asked)
    and ``namespace`` its namespace, as far as they were read before the failure."""

    def __init__(self, reason: str, id: int | None, namespace: str | None, attachments: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.id = id
        self.namespace = namespace
        self.attachments = attachments
        """The binary attachments announced by a refused header: they follow as messages of
        their own, which belong to no packet once the header is refused."""


def _loads(text: str | bytes) -> Any:
    """JSON text to Python values, bounded (see ``MAX_DEPTH``, ``MAX_INT_DIGITS``)."""
    try:
        value = from_json(text)
    except ValueError as exc:
        # the one thing pydantic-core refuses that other peers send: a lone surrogate escape;
        # any surrogate escape sends the text to the standard library's decoder, which reads
        # pairs and lone ones alike (and refuses what is not JSON)
        if not (isinstance(text, str) and _SURROGATE_ESCAPE.search(text)):
            raise ValueError(f"invalid JSON: {exc}") from None
        value = _stdlib_json.loads(text)
        _check_depth(value)
    if _LONG_DIGITS.search(text if isinstance(text, str) else text.decode("utf-8", "replace")):
        _check_ints(value)  # a run of digits, maybe inside a string: look at the numbers
    return value


def _walk(value: Any) -> Any:
    """Every value inside ``value`` with how many containers enclose it, iteratively."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        yield item, depth
        if isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())


def _check_depth(value: Any) -> None:
    for _, depth in _walk(value):
        if depth > MAX_DEPTH:
            raise ValueError(f"invalid JSON: nesting deeper than {MAX_DEPTH}")


def _check_ints(value: Any) -> None:
    for item, _ in _walk(value):
        if type(item) is int and not _BIG_NEGATIVE < item < _BIG:
            raise ValueError(f"invalid JSON: an integer longer than {MAX_INT_DIGITS} characters")


def _nulled(value: Any) -> Any:
    """``value`` with NaN and ±Infinity as ``None`` (for the standard library's encoder)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [_nulled(item) for item in value]
    if isinstance(value, dict):
        return {key: _nulled(item) for key, item in value.items()}
    return value


def _dumps_text(data: Any) -> str:
    try:
        return to_json(data, inf_nan_mode="null").decode()
    except (PydanticSerializationError, ValueError, TypeError):
        # what pydantic-core cannot write (a lone surrogate, an unknown type): the standard
        # library's encoder, which escapes the first and raises TypeError for the second
        return _stdlib_json.dumps(_nulled(data), separators=(",", ":"), allow_nan=False)


class RenderedJson:
    """A reply already written as JSON text by pydantic-core (see ``reply_renderer``): a packet
    whose only argument it is carries the text as it is."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class _PacketJSON:
    """The JSON of ``PydanticPacket``: payloads without binary parts (those are split off first)."""

    @staticmethod
    def dumps(data: Any, separators: Any = None, **_: Any) -> str:
        """``data`` as compact JSON text."""
        if type(data) is list and len(data) == 1 and type(data[0]) is RenderedJson:  # an ACK
            return f"[{data[0].text}]"
        return _dumps_text(data)

    @staticmethod
    def loads(text: str | bytes, **_: Any) -> Any:
        """JSON text to Python values, bounded."""
        return _loads(text)


class _MessageJSON(_PacketJSON):
    """The JSON of a client manager's pub/sub messages: binary data is refused as the standard
    library's encoder refuses it, instead of being written as text."""

    @staticmethod
    def dumps(data: Any, separators: Any = None, **_: Any) -> str:
        """``data`` as compact JSON text; ``TypeError`` for bytes."""
        if _has_binary(data):
            return _stdlib_json.dumps(data)  # raises TypeError, as python-socketio's would
        return _dumps_text(data)


PACKET_JSON = _PacketJSON()
MESSAGE_JSON = _MessageJSON()


def reply_renderer(model: type[BaseModel], dump: Callable[..., Any], sio: Any) -> Callable[..., Any]:
    """``dump(value, mode=...)`` for replies of exactly ``model``, sent by ``sio``: while ``sio``
    sends with ``PydanticPacket``, the reply is written as JSON text in one pydantic-core call
    (``RenderedJson``, no dict built first); else, and for what that call cannot write (a lone
    surrogate), ``dump``'s JSON-able data, as before; ``dump`` itself when ``sio`` does not send
    with ``PydanticPacket`` when the entry is compiled. The text is what ``dump`` and the codec
    write: the same serializer and options. A model whose schema asks for ``NaN`` and
    ``±Infinity`` as anything but ``null`` (``ser_json_inf_nan``) keeps ``dump``."""
    if not _ours(getattr(sio, "packet_class", None)) or _inf_nan_not_null(model.__pydantic_core_schema__):
        return dump
    to_json_bytes = model.__pydantic_serializer__.to_json

    def render(value: Any, mode: str = "json") -> Any:
        if _ours(sio.packet_class):
            try:
                return RenderedJson(to_json_bytes(value).decode())
            except (PydanticSerializationError, ValueError):
                pass  # the dict path raises what it raises, or the codec writes it
        return dump(value, mode=mode)

    return render


def _inf_nan_not_null(schema: Any) -> bool:
    """True when a core schema's config anywhere sets ``ser_json_inf_nan`` to other than ``null``."""
    stack = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            mode = item.get("ser_json_inf_nan")
            if isinstance(mode, str) and mode != "null":
                return True
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


def _has_binary(data: Any) -> bool:
    """True when ``data`` holds bytes inside lists and dicts (iteratively: no recursion)."""
    stack = [data]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or kind is int or kind is float or item is None or kind is bool:
            continue
        if isinstance(item, (bytes, bytearray)):
            return True
        if isinstance(item, list):
            extend(item)
        elif isinstance(item, dict):
            extend(item.values())
    return False


class PydanticPacket(sio_packet.Packet):
    """A socket.io packet encoded and decoded with pydantic-core's JSON (see the module)."""

    json = PACKET_JSON

    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        """True when ``data`` holds binary parts, found without recursion."""
        return _has_binary(data)

    max_attachments: int | None = None
    """Binary attachments one packet may announce (``None``: no bound); set per wrapped object."""
    max_attachment_bytes: int | None = None
    """Their total bytes (``None``: no bound)."""
    attachment_timeout: float | None = None
    """Seconds a partial binary packet may wait for its attachments (``None``: no bound)."""

    def decode(self, encoded_packet: Any) -> Any:
        """Decode ``encoded_packet``; ``UndecodablePacket`` (with the ack id, when one was read)
        for a packet that is not valid or is over the bounds."""
        try:
            decoded = super().decode(encoded_packet)
        except (ValueError, TypeError, RecursionError) as exc:
            attachments = _announced_attachments(encoded_packet)
            raise UndecodablePacket(str(exc), self.id, self.namespace, attachments) from None
        announced = decoded if isinstance(decoded, int) else 0  # __init__ stores it as attachment_count
        if announced:
            limit = self.max_attachments
            if limit is not None and announced > limit:
                raise UndecodablePacket(
                    f"{announced} binary attachments announced, at most {limit} accepted",
                    self.id,
                    self.namespace,
                    announced,
                )
            self._attachment_bytes = 0
            self._started = monotonic()
        return decoded

    def add_attachment(self, attachment: Any) -> Any:
        """Add one binary attachment; ``UndecodablePacket`` when the packet has no room for it,
        its placeholders do not match its attachments (a ``num`` that is not the index of one),
        or it is over the bounds (bytes, waiting time), instead of python-socketio's own
        exception, which left the connection waiting for attachments that never come."""
        left = self.attachment_count - len(self.attachments) - 1  # still to come after this one
        limit, wait = self.max_attachment_bytes, self.attachment_timeout
        if limit is not None:
            total = getattr(self, "_attachment_bytes", 0) + len(attachment)
            self._attachment_bytes = total
            if total > limit:
                raise UndecodablePacket(
                    f"binary attachments over {limit} bytes", self.id, self.namespace, max(left, 0)
                )
        if wait is not None and monotonic() - getattr(self, "_started", monotonic()) > wait:
            raise UndecodablePacket(
                f"binary attachments still missing after {wait:g} s", self.id, self.namespace, max(left, 0)
            )
        try:
            return super().add_attachment(attachment)
        except (ValueError, TypeError, IndexError, KeyError, RecursionError) as exc:
            raise UndecodablePacket(
                f"bad binary attachment: {exc!r}"[:200], self.id, self.namespace
            ) from None


def bounded_packet_class(max_attachments: int, max_bytes: int, timeout: float) -> type[PydanticPacket]:
    """``PydanticPacket`` with the binary bounds of one wrapped object (a class of its own, so
    that python-socketio's and other objects' packets are not bounded by them)."""
    return type(
        "PydanticPacket",
        (PydanticPacket,),
        {
            "__module__": __name__,
            "__doc__": PydanticPacket.__doc__,
            "max_attachments": max_attachments,
            "max_attachment_bytes": max_bytes,
            "attachment_timeout": timeout,
        },
    )


def codec_needs(sio: Any) -> str | None:
    """What the codec needs of ``sio`` (see ``patches.py``): ``None`` when it is all there."""
    if hasattr(sio, "client_kwargs") and not hasattr(sio, "packet_class"):  # a simple client
        return None if isinstance(sio.client_kwargs, dict) else "client_kwargs is not a dict"
    if not hasattr(sio, "packet_class"):  # a client manager
        return None
    base = sio_packet.Packet
    for name in ("decode", "add_attachment", "data_is_binary", "encode", "reconstruct_binary"):
        if not hasattr(base, name):
            return f"socketio.packet.Packet has no {name!r}"
    if "attachment_count" not in base(sio_packet.EVENT, data=["x"]).__dict__:
        return "socketio.packet.Packet keeps no attachment_count"
    eio = getattr(sio, "eio", None)
    handlers = getattr(eio, "handlers", None)
    if not isinstance(handlers, dict) or "message" not in handlers or not hasattr(sio, "_binary_packet"):
        return "the engine.io message handler or socketio's _binary_packet is not where it was"
    return None


def _ours(packet_class: Any) -> bool:
    return isinstance(packet_class, type) and issubclass(packet_class, PydanticPacket)


def _announced_attachments(encoded_packet: Any) -> int:
    """How many binary attachments a BINARY_EVENT or BINARY_ACK header announces (``5<n>-...``,
    ``6<n>-...``); 0 for any other packet or a malformed count."""
    if not isinstance(encoded_packet, str) or encoded_packet[:1] not in ("5", "6"):
        return 0
    dash = encoded_packet.find("-", 1, 12)
    count = encoded_packet[1:dash] if dash > 1 else ""
    return int(count) if count.isdigit() else 0


def is_default_json(json_module: Any) -> bool:
    """True for the JSON modules python-socketio uses unless told otherwise."""
    return json_module is engineio.json or json_module is _stdlib_json


def chosen_by_user(packet_class: type, json_module: Any) -> bool:
    """True when a socketio object's serializer (``packet_class``) or its JSON module was chosen
    by the user: it is then kept."""
    return packet_class is not sio_packet.Packet or not is_default_json(json_module)


def undecodable_problem(reason: str) -> dict[str, Any]:
    """The 400 reply to a packet that could not be decoded (``reason``, bounded, says why)."""
    return http_problem(400, f"the packet could not be decoded: {reason[:200]}", None)


def answer_undecodable(exc: UndecodablePacket, sid: str | None, send_ack: Callable[[Any], Any]) -> Any:
    """Log a refused packet once and, when it asked for an ack, answer it with the 400 problem
    through ``send_ack(packet)`` (whose result is returned); ``None`` when no answer is due."""
    log_safely(
        structlog.get_logger("zndraw_socketio").error,
        "sio packet undecodable",
        sio_event=None,
        sid=sid,
        namespace=exc.namespace or "/",
        direction="in",
        outcome="error",
        error="UndecodablePacket",
        reason=exc.reason[:200],
    )
    if exc.id is None:
        return None
    reply = PydanticPacket(
        sio_packet.ACK, namespace=exc.namespace, id=exc.id, data=[undecodable_problem(exc.reason)]
    )
    return send_ack(reply)
