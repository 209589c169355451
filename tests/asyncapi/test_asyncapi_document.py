"""The AsyncAPI document of the representative app, and of small apps for the corner cases."""

from __future__ import annotations

from typing import Any, Union

import pytest
from pydantic import ValidationError
from starlette.applications import Starlette

from tests.asyncapi import asyncapi_app as rep
from tests.asyncapi.support import json_pointer, message_names, new_server, payload, refs, unresolved_refs
from zndraw_socketio import EventContext
from zndraw_socketio.asyncapi import to_json


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return rep.tsio.asyncapi_schema(title="Representative API", version="2.1.0", description="Demo.")


# -- the whole document -----------------------------------------------------------------------------
def test_header(doc: dict[str, Any]) -> None:
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"] == {"title": "Representative API", "version": "2.1.0", "description": "Demo."}
    assert doc["defaultContentType"] == "application/json"


def test_no_handlers_means_empty_channels_and_operations() -> None:
    doc = new_server().asyncapi_schema(title="Empty", version="0.0.1")
    assert doc["channels"] == {}
    assert doc["operations"] == {}
    assert doc["info"] == {"title": "Empty", "version": "0.0.1"}
    assert "servers" not in doc


def test_servers_are_copied_in() -> None:
    servers = {"local": {"host": "localhost:8000", "protocol": "ws", "pathname": "/socket.io"}}
    doc = new_server().asyncapi_schema(title="T", version="1", servers=servers)
    assert doc["servers"] == servers
    doc["servers"]["local"]["host"] = "changed"
    assert servers["local"]["host"] == "localhost:8000"


def test_every_ref_resolves_inside_the_document(doc: dict[str, Any]) -> None:
    assert refs(doc)
    assert unresolved_refs(doc) == []
    assert all(r.startswith("#/") for r in refs(doc))


def test_keys_are_sorted_and_json_is_deterministic(doc: dict[str, Any]) -> None:
    def check(value: Any) -> None:
        if isinstance(value, dict):
            assert list(value) == sorted(value)
            for item in value.values():
                check(item)
        elif isinstance(value, list):
            for item in value:
                check(item)

    check(doc)
    again = rep.tsio.asyncapi_schema(title="Representative API", version="2.1.0", description="Demo.")
    assert to_json(again) == to_json(doc)


def test_building_changes_nothing() -> None:
    tsio = rep.tsio
    routes = tsio.routes
    handlers = {ns: dict(table) for ns, table in tsio.sio.handlers.items()}
    stack = tsio.middleware
    emits = {r: r.emits for r in routes}
    rep.tsio.asyncapi_schema()
    assert tsio.routes == routes
    assert {ns: dict(table) for ns, table in tsio.sio.handlers.items()} == handlers
    assert tsio.middleware == stack
    assert {r: r.emits for r in tsio.routes} == emits


# -- channels -----------------------------------------------------------------------------------------
def test_a_channel_per_event_and_namespace(doc: dict[str, Any]) -> None:
    channels = doc["channels"]
    assert channels["ping"]["address"] == "/ping"
    assert channels["chat.ping"]["address"] == "/chat/ping"
    assert channels["ping"]["x-namespace"] == "/"
    assert channels["chat.ping"]["x-namespace"] == "/chat"
    assert channels["chat.ping"]["x-event"] == channels["ping"]["x-event"] == "ping"
    assert doc["operations"]["handlePing"]["channel"] == {"$ref": "#/channels/ping"}
    assert doc["operations"]["chatPing"]["channel"] == {"$ref": "#/channels/chat.ping"}
    addresses = [c["address"] for c in channels.values()]
    assert len(addresses) == len(set(addresses))


def test_operation_messages_belong_to_their_channel(doc: dict[str, Any]) -> None:
    for op in doc["operations"].values():
        channel = op["channel"]["$ref"]
        for ref in op["messages"] + op.get("reply", {}).get("messages", []):
            assert ref["$ref"].startswith(channel + "/messages/")


# -- receive operations --------------------------------------------------------------------------------
def test_a_receive_operation_per_handler_named_in_camel_case(doc: dict[str, Any]) -> None:
    receive = sorted(k for k, op in doc["operations"].items() if op["action"] == "receive")
    assert receive == sorted(
        [
            "addUsers",
            "chatPing",
            "count",
            "draw",
            "echo",
            "handleDisconnect",
            "handlePing",
            "handleRequest",
            "joinRoom",
            "move",
            "pingTwice",
        ]
    )


def test_reply_only_when_the_handler_returns_something(doc: dict[str, Any]) -> None:
    ops = doc["operations"]
    assert message_names(doc, ops["handlePing"]["reply"]["messages"])[0] == "Pong"
    assert ops["handlePing"]["reply"]["channel"] == ops["handlePing"]["channel"]
    for op_id in ("draw", "move", "handleDisconnect"):
        assert "reply" not in ops[op_id], op_id


def test_each_member_of_a_union_reply_is_its_own_message(doc: dict[str, Any]) -> None:
    names = message_names(doc, doc["operations"]["handleRequest"]["reply"]["messages"])
    assert names[:2] == ["Response", "ProblemDetail"]
    assert payload(doc, "handleRequest", 0, reply=True) == {"$ref": "#/components/schemas/Response"}
    assert payload(doc, "handleRequest", 1, reply=True) == {"$ref": "#/components/schemas/ProblemDetail"}


def test_each_member_of_a_discriminated_union_payload_is_its_own_message(doc: dict[str, Any]) -> None:
    assert message_names(doc, doc["operations"]["draw"]["messages"]) == ["Circle", "Square"]


@pytest.mark.parametrize(
    "annotation",
    [Union[rep.Circle, rep.Square], rep.Circle | rep.Square, rep.Circle | rep.Square | None],  # noqa: UP007
)
def test_union_spellings(annotation: Any) -> None:
    tsio = new_server()

    async def shape(sid: str, data: Any) -> Any:
        return data

    shape.__annotations__ = {"sid": str, "data": annotation, "return": annotation}
    tsio.on("shape", shape)
    doc = tsio.asyncapi_schema()
    assert message_names(doc, doc["operations"]["shape"]["messages"])[:2] == ["Circle", "Square"]
    assert message_names(doc, doc["operations"]["shape"]["reply"]["messages"])[:2] == ["Circle", "Square"]
    assert unresolved_refs(doc) == []


def test_scalar_and_list_payloads_have_their_own_schemas(doc: dict[str, Any]) -> None:
    assert payload(doc, "echo") == {"type": "string"}
    assert payload(doc, "echo", reply=True) == {"type": "string"}
    assert payload(doc, "count") == {"type": "integer"}
    assert payload(doc, "count", reply=True) == {"type": "integer"}
    assert payload(doc, "addUsers") == {"type": "array", "items": {"$ref": "#/components/schemas/User"}}
    assert payload(doc, "joinRoom", reply=True) == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/User"},
    }


def test_nested_models_land_in_components(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert {"Room", "User", "Address", "Ping", "Pong"} <= set(schemas)
    assert schemas["Room"]["properties"]["owner"] == {"$ref": "#/components/schemas/User"}
    assert schemas["Room"]["properties"]["members"]["items"] == {"$ref": "#/components/schemas/User"}
    address = schemas["User"]["properties"]["address"]
    assert {"$ref": "#/components/schemas/Address"} in address["anyOf"]
    assert "$defs" not in to_json(doc)


def test_several_payload_parameters_make_one_message_of_several_arguments(doc: dict[str, Any]) -> None:
    assert payload(doc, "move") == {
        "type": "array",
        "items": [{"type": "integer"}, {"type": "integer"}],
        "minItems": 1,
        "maxItems": 2,
        "x-argument-names": ["x", "y"],
    }


def test_injected_parameters_contribute_nothing(doc: dict[str, Any]) -> None:
    assert message_names(doc, doc["operations"]["pingTwice"]["messages"]) == ["Ping"]
    assert "Settings" not in doc["components"]["schemas"]


def test_a_handler_without_payload_has_a_message_without_payload(doc: dict[str, Any]) -> None:
    [ref] = doc["operations"]["handleDisconnect"]["messages"]
    message = json_pointer(doc, json_pointer(doc, ref["$ref"])["$ref"])
    assert "payload" not in message


def test_docstrings_become_descriptions(doc: dict[str, Any]) -> None:
    ops = doc["operations"]
    assert ops["handlePing"]["description"] == "Answer a ping.\n\nThe reply echoes the message."
    assert "description" not in ops["count"]
    messages = doc["components"]["messages"]
    assert messages["Ping"]["description"] == "A ping from a client."
    assert doc["components"]["schemas"]["Room"]["description"] == "A chat room: its owner and members."
    assert "description" not in messages["Circle"]  # no docstring of its own


# -- send operations ----------------------------------------------------------------------------------
def test_emits_become_send_operations(doc: dict[str, Any]) -> None:
    ops = doc["operations"]
    left = ops["sendSessionLeft"]
    assert left["action"] == "send"
    assert left["channel"] == {"$ref": "#/channels/session_left"}
    assert message_names(doc, left["messages"]) == ["SessionLeft"]
    assert left["x-triggered-by"] == ["handleDisconnect"]
    assert ops["handleDisconnect"]["x-emits"] == ["sendSessionLeft"]
    joined = ops["sendUserJoinedRoom"]  # event_name override; namespace of its handler
    assert joined["channel"] == {"$ref": "#/channels/chat.user_joined_room"}
    assert doc["channels"]["chat.user_joined_room"]["address"] == "/chat/user_joined_room"
    assert ops["joinRoom"]["x-emits"] == ["sendUserJoinedRoom"]


def test_rest_triggers_merge_with_socket_emits_of_the_same_model(doc: dict[str, Any]) -> None:
    ops = doc["operations"]
    trigger = {
        "operationId": "updateSelection",
        "method": "PUT",
        "path": "/rooms/{key}/selection",
        "summary": "Update the selection of a room.",
    }
    assert ops["sendSessionLeft"]["x-rest-triggers"] == [trigger]
    assert ops["sendSelectionChanged"]["x-rest-triggers"] == [trigger]
    assert "x-triggered-by" not in ops["sendSelectionChanged"]
    sends = [k for k, op in ops.items() if op["action"] == "send"]
    assert sorted(sends) == ["sendSelectionChanged", "sendSessionLeft", "sendUserJoinedRoom"]


def test_an_app_that_is_not_fastapi_has_no_rest_triggers() -> None:
    tsio = new_server()
    tsio.app = Starlette()

    @tsio.on("ping", emits=[rep.SessionLeft])
    async def ping(sid: str, data: rep.Ping) -> None: ...

    doc = tsio.asyncapi_schema()
    assert "x-rest-triggers" not in doc["operations"]["sendSessionLeft"]


# -- error replies ------------------------------------------------------------------------------------
def test_problem_detail_error_replies(doc: dict[str, Any]) -> None:
    names = message_names(doc, doc["operations"]["handlePing"]["reply"]["messages"])
    assert names == ["Pong", "UnprocessableContent", "InternalServerError"]
    messages = doc["components"]["messages"]
    for name, status in (("UnprocessableContent", 422), ("InternalServerError", 500)):
        assert messages[name]["payload"] == {"$ref": "#/components/schemas/ProblemDetail"}
        assert messages[name]["examples"][0]["payload"]["status"] == status
    assert doc["components"]["schemas"]["ProblemDetail"]["properties"]["kind"]["const"] == "error"


def test_exception_handlers_add_their_replies_in_their_namespace(doc: dict[str, Any]) -> None:
    chat = message_names(doc, doc["operations"]["chatPing"]["reply"]["messages"])
    assert chat == ["Pong", "UnprocessableContent", "InternalServerError", "RoomFullReply"]
    room_full = doc["components"]["messages"]["RoomFullReply"]
    assert room_full["payload"] == {"type": "object", "additionalProperties": True}
    assert "RoomFull" in room_full["description"]


def test_a_handler_for_validation_errors_replaces_the_422() -> None:
    tsio = new_server()

    @tsio.on(rep.Ping)
    async def ping(sid: str, data: rep.Ping) -> rep.Pong:
        return rep.Pong(reply=data.message)

    @tsio.exception_handler(ValueError)  # as in FastAPI, this does not take validation errors
    async def on_value_error(ctx: EventContext, exc: ValueError) -> rep.Response:
        return rep.Response(data=str(exc))

    doc = tsio.asyncapi_schema()
    names = message_names(doc, doc["operations"]["ping"]["reply"]["messages"])
    assert names == ["Pong", "UnprocessableContent", "InternalServerError", "Response"]

    @tsio.exception_handler(ValidationError)
    async def on_invalid(ctx: EventContext, exc: ValidationError) -> rep.Response:
        return rep.Response(data="invalid")

    doc = tsio.asyncapi_schema()
    names = message_names(doc, doc["operations"]["ping"]["reply"]["messages"])
    assert names == ["Pong", "InternalServerError", "Response"]
