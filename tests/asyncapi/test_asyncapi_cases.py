"""The AsyncAPI document of small apps: names, faces, schemas and the ``contribute`` hook."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Annotated, Any, Literal

import socketio
from pydantic import BaseModel, Field

from tests.asyncapi import asyncapi_app as rep
from tests.asyncapi.support import json_pointer, message_names, new_server, payload, unresolved_refs
from tests.support.models import Temperature
from zndraw_socketio import Middleware, OperationSpec, Route, wrap
from zndraw_socketio.asyncapi import MessageSpec, build_asyncapi, to_json


# -- names ---------------------------------------------------------------------------------------------
def test_the_same_function_name_in_two_namespaces_does_not_collide() -> None:
    tsio = new_server()

    async def ping(sid: str, data: rep.Ping) -> None: ...

    tsio.on("ping", ping)
    tsio.on("ping", ping, namespace="/other")
    doc = tsio.asyncapi_schema()
    assert sorted(doc["operations"]) == ["ping", "pingOther"]
    assert sorted(doc["channels"]) == ["other.ping", "ping"]


def test_catch_all_handlers_are_documented() -> None:
    tsio = new_server()

    @tsio.on("*")
    async def any_event(event: str, sid: str, data: Any) -> None: ...

    doc = tsio.asyncapi_schema()
    assert doc["operations"]["anyEvent"]["channel"] == {"$ref": "#/channels/any"}
    assert doc["channels"]["any"]["x-event"] == "*"


def test_a_client_wrapper_documents_its_handlers() -> None:
    client = wrap(socketio.AsyncClient())

    @client.on(rep.Pong)
    async def on_pong(data: rep.Pong) -> None: ...

    doc = client.asyncapi_schema()
    assert message_names(doc, doc["operations"]["onPong"]["messages"]) == ["Pong"]


# -- schemas ------------------------------------------------------------------------------------------
class Pair(BaseModel):
    pair: tuple[int, str]


def test_input_and_output_schemas_that_differ_get_their_own_names() -> None:
    tsio = new_server()

    @tsio.on("convert")
    async def convert(sid: str, data: Temperature) -> Temperature:
        return data

    doc = tsio.asyncapi_schema()
    accepted = payload(doc, "convert")["$ref"]
    replied = payload(doc, "convert", reply=True)["$ref"]
    assert accepted != replied
    assert "fahrenheit" in json_pointer(doc, replied)["properties"]
    assert "fahrenheit" not in json_pointer(doc, accepted)["properties"]
    assert unresolved_refs(doc) == []


def test_schemas_use_asyncapi_draft_07_keywords() -> None:
    tsio = new_server()

    @tsio.on("pair")
    async def pair(
        sid: str, data: Pair, shape: Annotated[rep.Circle | rep.Square, Field(discriminator="kind")]
    ) -> None: ...

    doc = tsio.asyncapi_schema()
    text = to_json(doc)
    assert "prefixItems" not in text
    assert doc["components"]["schemas"]["Pair"]["properties"]["pair"]["items"] == [
        {"type": "integer"},
        {"type": "string"},
    ]
    # the OpenAPI-style discriminator object is kept as an extension
    shape = payload(doc, "pair")["items"][1]
    assert shape["x-discriminator"]["propertyName"] == "kind"
    assert "discriminator" not in shape


def test_a_type_pydantic_cannot_describe_is_reported_not_raised() -> None:
    tsio = new_server()

    @tsio.on("call_me")
    async def call_me(sid: str, data: Any) -> Callable[[], int]:
        return lambda: 1

    doc = tsio.asyncapi_schema()
    [ref, *_] = doc["operations"]["callMe"]["reply"]["messages"]
    message = json_pointer(doc, json_pointer(doc, ref["$ref"])["$ref"])
    assert message["payload"] == {}
    assert "x-schema-error" in message


# -- the contribute hook ------------------------------------------------------------------------------
class Recorder(Middleware):
    def __init__(self, name: str, seen: list[str]) -> None:
        self.name = name
        self.seen = seen

    def contribute(self, route: Route, operation: OperationSpec) -> None:
        self.seen.append(f"{self.name}:{route.event}")
        operation.add_extension("stages", [*operation.extensions.get("x-stages", []), self.name])
        operation.tags.append(self.name)


def test_user_middleware_contributes_in_stack_order() -> None:
    seen: list[str] = []
    tsio = wrap(socketio.AsyncServer(async_mode="asgi"), middleware=[Recorder("outer", seen)])
    tsio.add_middleware(Recorder("inner", seen))

    @tsio.on("ping", middleware=[Recorder("route", seen)])
    async def ping(sid: str, data: rep.Ping) -> None: ...

    doc = tsio.asyncapi_schema()
    op = doc["operations"]["ping"]
    assert op["x-stages"] == ["outer", "inner", "route"]
    assert op["tags"] == [{"name": "outer"}, {"name": "inner"}, {"name": "route"}]
    assert seen == ["outer:ping", "inner:ping", "route:ping"]


def test_a_middleware_can_add_messages() -> None:
    class Ack(BaseModel):
        kind: Literal["ack"] = "ack"

    class AddsAck(Middleware):
        def contribute(self, route: Route, operation: OperationSpec) -> None:
            operation.errors.append(MessageSpec(Ack, "serialization", description="An acknowledgement."))

    tsio = new_server()
    tsio.add_middleware(AddsAck())

    @tsio.on("ping")
    async def ping(sid: str, data: rep.Ping) -> rep.Pong:
        return rep.Pong(reply="")

    doc = build_asyncapi(tsio)
    names = message_names(doc, doc["operations"]["ping"]["reply"]["messages"])
    assert names[-1] == "Ack"
    assert doc["components"]["messages"]["Ack"]["description"] == "An acknowledgement."


def test_the_document_is_a_copy() -> None:
    doc = rep.tsio.asyncapi_schema()
    before = copy.deepcopy(doc)
    doc["channels"].clear()
    assert rep.tsio.asyncapi_schema() == before


def test_every_face_has_a_document() -> None:
    server = wrap(socketio.Server())

    @server.on("count")
    def count(sid: str, n: int) -> int:
        return n + 1

    assert list(server.asyncapi_schema()["operations"]) == ["count"]
    assert wrap(socketio.AsyncSimpleClient()).asyncapi_schema()["channels"] == {}
    assert wrap(socketio.SimpleClient()).asyncapi_schema()["operations"] == {}
