"""The AsyncAPI 3.0 builder: an introspection pass over the registered handlers and the stack.

For each handler (sorted by namespace and event) an ``OperationSpec`` is handed to every stage's
``contribute(route, operation)``, in the order the stages run for that handler. The drafts then
become channels (one per event and namespace), ``receive`` operations (with their ``reply``),
``send`` operations (one per emitted model, from ``emits=[...]`` and REST ``Emits(...)``), messages
and schemas. Nothing is stored: every call builds a new document from the current state, and the
same app gives the same document, byte for byte once dumped with sorted keys.

Names: a channel id is the event (``ping``) or namespace and event (``chat.ping``), its address
``/ping`` or ``/chat/ping``; a receive operation is the handler's name in camelCase (``handlePing``),
a send operation ``send`` + the event in PascalCase (``sendSessionLeft``); a clash gets the
namespace, then a number, appended. A model emitted from handlers of one namespace is sent in that
namespace, otherwise (several namespaces, or only REST routes) in ``/``, as ``emit`` does by default.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..events.names import get_event_name
from .rest import rest_triggers
from .schemas import REF_PREFIX, SchemaSet, model_of, type_repr
from .spec import (
    NO_PAYLOAD,
    Arguments,
    MessageSpec,
    OperationSpec,
    camel_case,
    channel_address,
    docstring,
    pascal_case,
)

if TYPE_CHECKING:
    from ..events.route import Route

__all__ = ["ASYNCAPI_VERSION", "build_asyncapi", "collect_operations"]

ASYNCAPI_VERSION = "3.0.0"
_CONTENT_TYPE = "application/json"
_UNSAFE = re.compile(r"[^\w.\-]")


def build_asyncapi(
    target: Any,
    *,
    title: str = "AsyncAPI",
    version: str = "0.1.0",
    description: str | None = None,
    servers: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of a wrapper (``tsio``) or its core, as a JSON-able dict.

    ``servers`` is copied into the document as AsyncAPI server objects, e.g.
    ``{"local": {"host": "localhost:8000", "protocol": "ws"}}``. REST routes of ``tsio.app``
    (a FastAPI app) that declare ``Emits(...)`` appear as ``x-rest-triggers``.
    """
    core = getattr(target, "_core", target)
    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    doc: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": info,
        "defaultContentType": _CONTENT_TYPE,
    }
    if servers:
        doc["servers"] = copy.deepcopy(dict(servers))
    doc.update(_Assembler(core).build())
    return _sorted(doc)


def collect_operations(core: Any) -> list[OperationSpec]:
    """One ``OperationSpec`` per registered handler, sorted by namespace and event, each filled in
    by the ``contribute`` hooks of the stages that run for it, outer to inner."""
    routes = sorted(core.routes.values(), key=lambda r: (r.namespace, r.event))
    return [_collect(core, route) for route in routes]


def _collect(core: Any, route: Route) -> OperationSpec:
    spec = OperationSpec(route)
    for mw in core.layers_for(route):
        contribute = getattr(mw, "contribute", None)
        if contribute is not None:
            contribute(route, spec)
    if spec.namespace is None:
        spec.namespace = route.namespace
    if spec.event is None:
        spec.event = route.event
    if spec.address is None:
        spec.address = channel_address(spec.namespace, spec.event)
    if spec.description is None:
        spec.description = docstring(route.handler)
    return spec


@dataclass(eq=False)
class _Send:
    model: type
    event: str
    triggers: list[OperationSpec] = field(default_factory=list)
    rest: list[dict[str, Any]] = field(default_factory=list)
    namespace: str = "/"
    operation_id: str = ""


class _Assembler:
    def __init__(self, core: Any) -> None:
        self.core = core
        self.schemas = SchemaSet()
        self.channel_ids: dict[tuple[str, str], str] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self._bodies: dict[str, str] = {}
        self._handles: dict[int, Any] = {}

    # -- the pass ------------------------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        specs = collect_operations(self.core)
        sends = self._sends(specs)
        keys = {(s.namespace or "/", s.event or "") for s in specs}
        keys.update((s.namespace, s.event) for s in sends)
        self._allocate_channels(sorted(keys))
        self._allocate_operation_ids(specs, sends)
        for spec in specs:
            for msg in (*spec.messages, *spec.replies, *spec.errors):
                self._register(msg)
        send_messages = {id(s): MessageSpec(s.model, "serialization") for s in sends}
        for msg in send_messages.values():
            self._register(msg)
        self.schemas.generate()

        operations: dict[str, Any] = {}
        sends_by_model = {s.model: s for s in sends}
        for spec in specs:
            operations[spec.operation_id or ""] = self._receive(spec, sends_by_model)
        for send in sends:
            operations[send.operation_id] = self._send(send, send_messages[id(send)])
        components: dict[str, Any] = {}
        if self.schemas.components:
            components["schemas"] = self.schemas.components
        if self.messages:
            components["messages"] = self.messages
        return {"channels": self.channels, "operations": operations, "components": components}

    def _event_for(self, model: type) -> str:
        return get_event_name(model)

    def _sends(self, specs: list[OperationSpec]) -> list[_Send]:
        found: dict[type, _Send] = {}
        for spec in specs:
            for model in spec.route.emits:
                send = found.get(model) or found.setdefault(model, _Send(model, self._event_for(model)))
                if spec not in send.triggers:
                    send.triggers.append(spec)
        for model, entries in rest_triggers(getattr(self.core, "app", None)).items():
            send = found.get(model) or found.setdefault(model, _Send(model, self._event_for(model)))
            send.rest.extend(entries)
        for send in found.values():
            namespaces = {t.namespace for t in send.triggers if t.namespace and t.namespace != "*"}
            send.namespace = namespaces.pop() if len(namespaces) == 1 else "/"
        return sorted(found.values(), key=lambda s: (s.namespace, s.event, s.model.__qualname__))

    # -- names ---------------------------------------------------------------------------------
    def _allocate_channels(self, keys: list[tuple[str, str]]) -> None:
        taken: set[str] = set()
        for namespace, event in keys:
            base = _part(event) if namespace == "/" else f"{_part(namespace)}.{_part(event)}"
            name, n = base, 1
            while name in taken:
                n += 1
                name = f"{base}_{n}"
            taken.add(name)
            self.channel_ids[(namespace, event)] = name

    def _allocate_operation_ids(self, specs: list[OperationSpec], sends: list[_Send]) -> None:
        taken: set[str] = set()

        def claim(*candidates: str) -> str:
            for candidate in candidates:
                if candidate not in taken:
                    taken.add(candidate)
                    return candidate
            base, n = candidates[-1], 1
            while f"{base}{n}" in taken:
                n += 1
            taken.add(f"{base}{n}")
            return f"{base}{n}"

        for spec in specs:
            base = camel_case(spec.operation_id or spec.route.name)
            ns = pascal_case(_part(spec.namespace or "/"))
            spec.operation_id = claim(base, base + ns, base + ns + pascal_case(_part(spec.event or "")))
        for send in sends:
            base = "send" + pascal_case(_part(send.event))
            send.operation_id = claim(base, base + pascal_case(_part(send.namespace)))

    # -- schemas and messages ------------------------------------------------------------------
    def _register(self, msg: MessageSpec) -> None:
        payload = msg.payload
        if payload is NO_PAYLOAD:
            return
        if isinstance(payload, Arguments):
            handles = tuple(self.schemas.add(_annotation(a), msg.mode) for a in payload.annotations)
            self._handles[id(msg)] = handles
        else:
            self._handles[id(msg)] = self.schemas.add(_annotation(payload), msg.mode)

    def _payload(self, msg: MessageSpec) -> tuple[dict[str, Any] | None, str | None]:
        payload = msg.payload
        if payload is NO_PAYLOAD:
            return None, None
        handle = self._handles[id(msg)]
        if isinstance(payload, Arguments):
            items = [self.schemas.schema(h) or {} for h in handle]
            errors = [e for e in (self.schemas.error(h) for h in handle) if e]
            schema: dict[str, Any] = {
                "type": "array",
                "items": items,
                "minItems": payload.required,
                "maxItems": len(items),
                "x-argument-names": list(payload.names),
            }
            return schema, "; ".join(errors) or None
        return self.schemas.schema(handle), self.schemas.error(handle)

    def _message(self, msg: MessageSpec, hint: str) -> str:
        """Add ``msg`` to ``components/messages`` (once per distinct content); return its name."""
        schema, error = self._payload(msg)
        model = None if isinstance(msg.payload, Arguments) else model_of(msg.payload)
        body: dict[str, Any] = {"contentType": _CONTENT_TYPE}
        if msg.payload is NO_PAYLOAD:
            body["title"] = msg.title or "No data"
            body["description"] = msg.description or "The event carries no data."
        else:
            body["payload"] = schema if schema is not None else {}
            if model is not None:
                title = model.__name__
            elif isinstance(msg.payload, Arguments):
                title = ", ".join(f"{n}: {type_repr(a)}" for n, a in zip(*_pairs(msg.payload), strict=True))
            else:
                title = type_repr(_annotation(msg.payload))
            body["title"] = msg.title or title
            description = msg.description or (docstring(model) if model is not None else None)
            if description:
                body["description"] = description
            if error:
                body["x-schema-error"] = error
        if msg.summary:
            body["summary"] = msg.summary
        if msg.examples:
            body["examples"] = copy.deepcopy(msg.examples)
        body.update(msg.extensions)
        if msg.name:
            base = _UNSAFE.sub("_", msg.name)
        elif schema is not None and set(schema) == {"$ref"} and schema["$ref"].startswith(REF_PREFIX):
            base = schema["$ref"][len(REF_PREFIX) :]
        else:
            base = hint
        canonical = json.dumps(body, sort_keys=True, default=str)
        name, n = base, 1
        while name in self._bodies and self._bodies[name] != canonical:
            n += 1
            name = f"{base}{n}"
        if name not in self._bodies:
            self._bodies[name] = canonical
            self.messages[name] = {"name": name, **body}
        return name

    def _channel(self, namespace: str, event: str, address: str | None) -> str:
        cid = self.channel_ids[(namespace, event)]
        if cid not in self.channels:
            self.channels[cid] = {
                "address": address if address is not None else channel_address(namespace, event),
                "messages": {},
                "x-namespace": namespace,
                "x-event": event,
            }
        return cid

    def _refs(self, cid: str, msgs: list[MessageSpec], hint: str) -> list[dict[str, str]]:
        refs: list[dict[str, str]] = []
        many = len([m for m in msgs if m.name is None and model_of(m.payload) is None]) > 1
        for i, msg in enumerate(msgs, start=1):
            name = self._message(msg, f"{hint}{i}" if many else hint)
            self.channels[cid]["messages"][name] = {"$ref": f"#/components/messages/{name}"}
            ref = {"$ref": f"#/channels/{cid}/messages/{name}"}
            if ref not in refs:
                refs.append(ref)
        return refs

    # -- operations ----------------------------------------------------------------------------
    def _receive(self, spec: OperationSpec, sends: dict[type, _Send]) -> dict[str, Any]:
        namespace, event = spec.namespace or "/", spec.event or ""
        cid = self._channel(namespace, event, spec.address)
        pascal = pascal_case(spec.operation_id or "")
        op: dict[str, Any] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{cid}"},
            "messages": self._refs(cid, spec.messages, f"{pascal}Payload"),
        }
        for key in ("title", "summary", "description"):
            value = getattr(spec, key)
            if value:
                op[key] = value
        if spec.tags:
            op["tags"] = [{"name": t} for t in dict.fromkeys(spec.tags)]
        if spec.replies:
            replies = self._refs(cid, spec.replies, f"{pascal}Reply")
            errors = self._refs(cid, spec.errors, f"{pascal}Error")
            op["reply"] = {
                "channel": {"$ref": f"#/channels/{cid}"},
                "messages": replies + [r for r in errors if r not in replies],
            }
        emitted = [sends[m].operation_id for m in dict.fromkeys(spec.route.emits) if m in sends]
        if emitted:
            op["x-emits"] = emitted
        op.update(spec.extensions)
        return op

    def _send(self, send: _Send, msg: MessageSpec) -> dict[str, Any]:
        cid = self._channel(send.namespace, send.event, None)
        op: dict[str, Any] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{cid}"},
            "messages": self._refs(cid, [msg], pascal_case(send.operation_id)),
            "summary": f"Emit {send.event!r}",
        }
        description = docstring(send.model)
        if description:
            op["description"] = description
        if send.triggers:
            op["x-triggered-by"] = sorted({t.operation_id or "" for t in send.triggers})
        if send.rest:
            op["x-rest-triggers"] = copy.deepcopy(send.rest)
        return op


def _annotation(annotation: Any) -> Any:
    return Any if annotation is inspect.Parameter.empty else annotation


def _pairs(args: Arguments) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    return args.names, tuple(_annotation(a) for a in args.annotations)


def _part(name: str) -> str:
    """A channel-id-safe form of a namespace or event name (``*`` reads ``any``)."""
    name = name.strip("/").replace("/", ".")
    if name == "*":
        return "any"
    return _UNSAFE.sub("_", name) or "root"


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list | tuple):
        return [_sorted(v) for v in value]
    return value
