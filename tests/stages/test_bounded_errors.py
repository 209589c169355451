"""Rejected payloads cost a bounded reply and a bounded log entry, and no secret reaches the log."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import pytest
import socketio
import socketio.exceptions
import structlog
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from structlog.typing import EventDict

from tests.support.helpers import TIMEOUT, asgi_app, connected, new_server
from zndraw_socketio import AsyncServerWrapper
from zndraw_socketio.payloads.problems import (
    MAX_REPORTED_ERRORS,
    MAX_TEXT_LENGTH,
    ProblemDetail,
    error_count,
    reported_errors,
    validation_problem,
)

if TYPE_CHECKING:
    from tests.conftest import LiveServer

SECRET = "tok-4f9a-SECRET-never-logged"
BOUND = 8_000  # bytes: a generous ceiling for a 422 reply or its log entry


class Items(BaseModel):
    items: list[int]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = ""


class Shouty(BaseModel):
    text: str

    @field_validator("text")
    @classmethod
    def refuse(cls, value: str) -> str:
        raise ValueError("no: " + value)


class Custom(BaseModel):
    code: str

    @field_validator("code")
    @classmethod
    def known(cls, value: str) -> str:
        raise PydanticCustomError("unknown_code", "code {code} is not known", {"code": value[:4]})


class Auth(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str


def hostile_server() -> AsyncServerWrapper:
    tsio = new_server()

    @tsio.on(Items)
    async def items(sid: str, data: Items) -> int:
        return len(data.items)

    @tsio.on(Strict)
    async def strict(sid: str, data: Strict) -> str:
        return data.name

    @tsio.on(Shouty)
    async def shouty(sid: str, data: Shouty) -> str:
        return data.text

    @tsio.on("pair")
    async def pair(sid: str, first: Items, second: Items) -> int:
        return len(first.items) + len(second.items)

    @tsio.on("custom")
    async def custom(sid: str, first: Custom, second: int) -> str:
        return first.code

    @tsio.on("ok")
    async def ok(sid: str) -> str:
        return "ok"

    return tsio


def failures(logs: list[EventDict]) -> list[EventDict]:
    return [e for e in logs if e.get("outcome") == "error"]


def assert_bounded_422(reply: Any, event: str, count: int, listed: int | None = None) -> None:
    """``listed``: how many errors the reply lists, the first ``MAX_REPORTED_ERRORS`` unless the
    fail-fast pass over the payload found fewer."""
    assert reply["status"] == 422 and reply["instance"] == event
    assert reply["error_count"] == count
    assert reply["detail"] == f"{count} validation error{'s' if count != 1 else ''} for event {event!r}"
    assert len(reply["errors"]) == (min(count, MAX_REPORTED_ERRORS) if listed is None else listed)
    assert len(json.dumps(reply)) < BOUND
    ProblemDetail.model_validate(reply)
    for error in reply["errors"]:
        assert set(error) <= {"type", "loc", "msg", "ctx"}
        assert len(error["msg"]) <= MAX_TEXT_LENGTH + 1
        assert all(len(part) <= MAX_TEXT_LENGTH + 1 for part in error["loc"] if isinstance(part, str))


def assert_bounded_entry(entry: EventDict, event: str, count: int, listed: int | None = None) -> None:
    assert (entry["sio_event"], entry["error"], entry["error_count"]) == (event, "ValidationError", count)
    assert "exc_info" not in entry  # the sender's mistake: no traceback
    assert len(entry["errors"]) == (min(count, MAX_REPORTED_ERRORS) if listed is None else listed)
    assert all(set(e) == {"type", "loc"} for e in entry["errors"])
    assert len(repr(entry)) < BOUND


async def test_hundreds_of_thousands_of_wrong_items(live_server: LiveServer) -> None:
    # 990 KB, under the default 1 MB buffer: 330,000 empty strings where integers belong.
    async with live_server(asgi_app(hostile_server())) as url, connected(url) as client:
        with structlog.testing.capture_logs() as logs:
            reply = await client.call("items", {"items": [""] * 330_000}, timeout=TIMEOUT)
        # the count is pydantic's; the listing comes from the fail-fast pass: the list's first
        # failing item
        assert_bounded_422(reply, "items", 330_000, listed=1)
        assert reply["errors"] == [
            {
                "type": "int_parsing",
                "loc": ["items", 0],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
            }
        ]
        [entry] = failures(logs)
        assert_bounded_entry(entry, "items", 330_000, listed=1)
        assert await client.call("ok", timeout=TIMEOUT) == "ok"


async def test_many_long_extra_keys(live_server: LiveServer) -> None:
    keys = {f"{i:06d}" + "k" * 2_000: SECRET for i in range(400)}
    async with live_server(asgi_app(hostile_server())) as url, connected(url) as client:
        with structlog.testing.capture_logs() as logs:
            reply = await client.call("strict", keys, timeout=TIMEOUT)
        assert_bounded_422(reply, "strict", 400)
        first = reply["errors"][0]
        assert first["type"] == "extra_forbidden"
        assert first["loc"] == ["000000" + "k" * (MAX_TEXT_LENGTH - 6) + "…"]
        [entry] = failures(logs)
        assert_bounded_entry(entry, "strict", 400)
        assert SECRET not in json.dumps(reply) and SECRET not in repr(entry)


async def test_a_long_message_is_cut(live_server: LiveServer) -> None:
    async with live_server(asgi_app(hostile_server())) as url, connected(url) as client:
        reply = await client.call("shouty", {"text": "x" * 50_000}, timeout=TIMEOUT)
        assert_bounded_422(reply, "shouty", 1)
        assert reply["errors"][0]["msg"] == ("Value error, no: " + "x" * 50_000)[:MAX_TEXT_LENGTH] + "…"


async def test_several_parameters_and_extra_arguments_stay_bounded(live_server: LiveServer) -> None:
    async with live_server(asgi_app(hostile_server())) as url, connected(url) as client:
        with structlog.testing.capture_logs() as logs:
            reply = await client.call(
                "pair", ({"items": ["a"] * 5_000}, {"items": ["b"] * 3}, *range(20_000)), timeout=TIMEOUT
            )
        # 20,000 extra arguments, 5,000 wrong items in the first, 3 in the second
        assert_bounded_422(reply, "pair", 25_003)
        assert reply["errors"][0]["type"] == "unexpected_positional_argument"
        [entry] = failures(logs)
        assert_bounded_entry(entry, "pair", 25_003)
        reply = await client.call("pair", ({"items": ["a"] * 50}, {"items": ["b"] * 3}), timeout=TIMEOUT)
        assert_bounded_422(reply, "pair", 53)
        assert reply["errors"][0]["loc"] == ["first", "items", 0]
        # a few errors keep everything pydantic reported, the message included
        reply = await client.call("pair", ({"items": [1]}, {"items": ["b", 2, "c"]}), timeout=TIMEOUT)
        assert_bounded_422(reply, "pair", 2)
        assert [e["loc"] for e in reply["errors"]] == [["second", "items", 0], ["second", "items", 2]]
        reply = await client.call("items", ({"items": []}, *range(30_000)), timeout=TIMEOUT)
        assert_bounded_422(reply, "items", 30_000)


async def test_a_custom_error_type_among_several_parameters(live_server: LiveServer) -> None:
    async with live_server(asgi_app(hostile_server())) as url, connected(url) as client:
        reply = await client.call("custom", ({"code": "abcdef"}, "x"), timeout=TIMEOUT)
        assert_bounded_422(reply, "custom", 2)
        assert [(e["type"], e["loc"], e["msg"]) for e in reply["errors"]] == [
            ("unknown_code", ["first", "code"], "code abcd is not known"),
            (
                "int_parsing",
                ["second"],
                "Input should be a valid integer, unable to parse string as an integer",
            ),
        ]


def test_a_deep_location_is_cut() -> None:
    annotation: Any = int
    value: Any = "x"
    for _ in range(40):
        annotation, value = list[annotation], [value]
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(annotation).validate_python(value)
    [error] = reported_errors(caught.value)
    assert error["loc"] == [0] * 32 + ["…"]


def test_a_merged_error_counts_what_it_does_not_list() -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(list[int]).validate_python(["x"] * 50)
    exc = caught.value
    first = reported_errors(exc)
    assert reported_errors(exc) is first  # kept on the exception: the reply and the log share it
    assert error_count(exc) == 50 and len(first) == MAX_REPORTED_ERRORS
    assert validation_problem(exc, "e")["error_count"] == 50


async def test_a_refused_typed_connect_logs_no_auth_value(live_server: LiveServer) -> None:
    buffer = io.StringIO()
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.WriteLoggerFactory(file=buffer),
    )
    tsio = new_server()

    @tsio.on("connect")
    async def connect(sid: str, environ: dict[str, Any], auth: Auth) -> None:
        return None

    async with live_server(asgi_app(tsio)) as url:
        client = socketio.AsyncClient()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(
                url,
                transports=["websocket"],
                auth={"token": SECRET, "unexpected": SECRET},
                wait_timeout=TIMEOUT,
            )
        await client.disconnect()
        async with connected(url, auth={"token": "fine"}):
            pass
    written = buffer.getvalue()
    entries = [json.loads(line) for line in written.splitlines()]
    [refused] = [e for e in entries if e.get("outcome") == "error"]
    assert refused["sio_event"] == "connect" and refused["error"] == "ValidationError"
    assert refused["errors"] == [{"type": "extra_forbidden", "loc": ["unexpected"]}]
    assert "exception" not in refused  # no traceback, so no frame locals either
    assert SECRET not in written
