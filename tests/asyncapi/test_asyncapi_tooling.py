"""The official tooling accepts the document: the AsyncAPI 3.0.0 JSON Schema (@asyncapi/specs,
validated with ajv) and the official parser (@asyncapi/parser), both run with node."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import socketio

from tests.asyncapi import asyncapi_app as rep
from tests.asyncapi.support import NODE_DIR, TRICKY, errors, node_check, unresolved_refs
from tests.support.models import Temperature
from zndraw_socketio import Middleware, OperationSpec, Route, wrap
from zndraw_socketio.asyncapi import to_yaml
from zndraw_socketio.asyncapi.serve import REACT_COMPONENT_VERSION


def representative() -> dict[str, Any]:
    return rep.tsio.asyncapi_schema(
        title="Representative API",
        version="2.1.0",
        description="Demo.",
        servers={"local": {"host": "localhost:8000", "protocol": "ws", "pathname": "/socket.io"}},
    )


def test_the_representative_document_passes_the_spec_schema_and_the_parser(tmp_path: Path) -> None:
    doc = representative()
    assert unresolved_refs(doc) == []
    result = node_check(tmp_path, doc, to_yaml(doc))
    assert result["schemaErrors"] == []
    assert errors(result["diagnostics"]) == []
    assert result["parsed"] is True
    assert result["operations"] == sorted(doc["operations"])
    assert result["channels"] == sorted(doc["channels"])
    # the YAML form is the same document, and the parser reads it too
    assert result["yaml"]["sameAsJson"] is True
    assert result["yaml"]["parsed"] is True
    assert errors(result["yaml"]["diagnostics"]) == []


def test_the_empty_document_passes(tmp_path: Path) -> None:
    doc = wrap(socketio.AsyncServer(async_mode="asgi")).asyncapi_schema(title="Empty", version="0")
    result = node_check(tmp_path, doc)
    assert result["schemaErrors"] == []
    assert errors(result["diagnostics"]) == []


class Tagger(Middleware):
    def contribute(self, route: Route, operation: OperationSpec) -> None:
        operation.tags.append("tagged")
        operation.add_extension("audited", True)


def corner_cases() -> dict[str, Any]:
    """A document with what the representative app leaves out: catch-alls, a computed field, a
    type pydantic cannot describe, several arguments, an optional union, a middleware's own keys."""
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"), middleware=[Tagger()])

    @tsio.on("*")
    async def any_event(event: str, sid: str, data: Any) -> None: ...

    @tsio.on("status", namespace="*")
    async def any_namespace(namespace: str, sid: str) -> Temperature | None:
        return None

    @tsio.on("convert")
    async def convert(sid: str, data: Temperature, scale: float = 1.0) -> Temperature:
        return data

    @tsio.on("factory")
    async def factory(sid: str, data: Temperature | rep.Ping | None) -> Callable[[], int]:
        return lambda: 1

    @tsio.on("connect")
    async def connect(sid: str, environ: dict[str, Any], auth: dict[str, str] | None = None) -> None: ...

    doc = tsio.asyncapi_schema(title="Corner cases", version="1")
    names = {m["name"] for m in doc["components"]["messages"].values()}
    assert {"Temperature-Input", "Temperature-Output", "Ping"} <= names
    assert "x-schema-error" in doc["components"]["messages"]["FactoryReply"]
    return doc


def test_corner_cases_pass_the_spec_schema_and_the_parser(tmp_path: Path) -> None:
    doc = corner_cases()
    assert unresolved_refs(doc) == []
    result = node_check(tmp_path, doc, to_yaml(doc))
    assert result["schemaErrors"] == []
    assert errors(result["diagnostics"]) == []
    assert result["yaml"]["sameAsJson"] is True
    assert result["operations"] == sorted(doc["operations"])


def test_the_checks_do_catch_a_broken_document(tmp_path: Path) -> None:
    doc = representative()
    doc["operations"]["count"]["action"] = "publish"  # AsyncAPI 2 wording
    doc["operations"]["echo"]["messages"] = [{"$ref": "#/channels/count/messages/CountPayload"}]
    result = node_check(tmp_path, doc)
    assert result["schemaErrors"]
    codes = {d["code"] for d in errors(result["diagnostics"])}
    assert "asyncapi3-operation-messages-from-referred-channel" in codes


def test_the_yaml_writer_agrees_with_a_yaml_1_2_reader(tmp_path: Path) -> None:
    # js-yaml reads the YAML; the document is no AsyncAPI document, so only that part counts
    assert node_check(tmp_path, TRICKY, to_yaml(TRICKY))["yaml"]["sameAsJson"] is True


def test_the_default_cdn_bundle_is_the_version_the_tests_render() -> None:
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    installed = lock["packages"]["node_modules/@asyncapi/react-component"]["version"]
    assert installed == REACT_COMPONENT_VERSION
