"""Differential matrix, outbound: every ``emit``/``call`` shape gives the same packets, log entries
(less ``duration_ms``), results and errors with and without user middleware, on an async server,
an async client and the synchronous server face (``call`` where the face can answer in process)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

import pydantic
import pytest
import socketio
import structlog

from tests.support.differential import PassEverything, normalised
from tests.support.inprocess import PEERS, AsyncServerPeer, Peer
from tests.support.models import Ping, Pong
from zndraw_socketio import ProblemDetailError, wrap


class Unserialisable:
    """Something no JSON encoder takes."""


def _target(peer: Peer) -> dict[str, Any]:
    return {"to": peer.sid} if peer.kind != "async_client" else {}


SHAPES: dict[str, Callable[[Any, Peer], Any]] = {
    "model": lambda t, p: t.emit(Ping(message="m"), **_target(p)),
    "model_again": lambda t, p: t.emit(Ping(message="n"), **_target(p)),
    "name_and_dict": lambda t, p: t.emit("custom", {"a": 1}, **_target(p)),
    "name_and_model": lambda t, p: t.emit("custom", Ping(message="m"), **_target(p)),
    "name_and_list_of_models": lambda t, p: t.emit(
        "custom", [Ping(message="a"), Ping(message="b")], **_target(p)
    ),
    "name_and_tuple": lambda t, p: t.emit("custom", (1, "two"), **_target(p)),
    "name_only": lambda t, p: t.emit("tick", **_target(p)),
    "model_and_data": lambda t, p: t.emit(Ping(message="m"), {"x": 1}),
    "model_and_data_keyword": lambda t, p: t.emit(Ping(message="m"), data={"x": 1}),
    "model_class": lambda t, p: t.emit(Ping),
    "not_an_event": lambda t, p: t.emit(42),
    "unserialisable": lambda t, p: t.emit("custom", Unserialisable(), **_target(p)),
    "unknown_keyword": lambda t, p: t.emit(Ping(message="m"), no_such_keyword=1),
    "namespace": lambda t, p: t.emit(Ping(message="m"), namespace="/", **_target(p)),
    "callback": lambda t, p: t.emit(Ping(message="m"), callback=lambda *a: None, **_target(p)),
    "unhashable_target": lambda t, p: t.emit(Ping(message="m"), to={"not": "hashable"}),
    "unhashable_namespace": lambda t, p: t.emit(Ping(message="m"), namespace=["/"], **_target(p)),
}
CALLS: dict[str, Callable[[Any, Peer], Any]] = {
    "call_model": lambda t, p: t.call(Ping(message="m"), response_model=Pong, timeout=2, **_target(p)),
    "call_raw": lambda t, p: t.call("custom", {"a": 1}, timeout=2, **_target(p)),
    "call_wrong_reply": lambda t, p: t.call(Ping(message="m"), response_model=Ping, timeout=2, **_target(p)),
}
ANSWERS = {"call_model": {"reply": "r"}, "call_raw": [1, 2], "call_wrong_reply": {"reply": "r"}}
PROBLEM = {"kind": "error", "title": "Gone", "status": 410}


async def run_outbound(
    face: str, stack: str, level: int = logging.DEBUG, socketio_logger: logging.Logger | None = None
) -> dict[str, Any]:
    """Every shape on a fresh ``face`` under ``stack``, with log entries below ``level`` filtered
    (at INFO an async server's emit of a known model takes the direct path); ``socketio_logger``
    replaces python-socketio's own logger of the peer."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(level))
    peer = PEERS[face]()
    if socketio_logger is not None:
        peer.sio.logger = socketio_logger
    if face == "async_server":
        peer.sio.async_handlers = True  # socketio's call() requires it; acks are still handled in place
    middleware = {"none": [], "one": [PassEverything()], "three": [PassEverything() for _ in range(3)]}[stack]
    tsio: Any = wrap(peer.sio, middleware=middleware)
    await peer.connect()
    shapes = dict(SHAPES)
    if face != "sync_server":  # a synchronous server's call blocks the thread the answer needs
        shapes.update(CALLS)
        shapes["call_problem"] = CALLS["call_model"]
    results: dict[str, Any] = {}
    for name, shape in shapes.items():
        peer.sent.clear()
        peer.answer_calls = PROBLEM if name == "call_problem" else ANSWERS.get(name)
        with structlog.testing.capture_logs() as logs:
            try:
                result = shape(tsio, peer)
                if hasattr(result, "__await__"):
                    result = await result
                outcome: Any = ("ok", repr(result))
            except Exception as exc:
                outcome = ("raised", type(exc).__name__)
        entries = [{k: normalised(v, peer) for k, v in e.items() if k != "duration_ms"} for e in logs]
        results[name] = (outcome, [p for p in peer.sent if not p.startswith("3")], entries)
    return results


@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO], ids=["debug", "info"])
@pytest.mark.parametrize("face", list(PEERS))
async def test_outbound_user_middleware_changes_nothing(face: str, level: int) -> None:
    baseline = await run_outbound(face, "none", level)
    for stack in ("one", "three"):
        other = await run_outbound(face, stack, level)
        for name in baseline:
            assert other[name] == baseline[name], (stack, name)


@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO], ids=["debug", "info"])
async def test_an_unhashable_target_or_namespace_is_logged_on_every_path(level: int) -> None:
    """An emit of a model sent before, whose target or namespace socketio cannot look up, fails
    with one error entry, on the direct path (no middleware, debug filtered) as on the others."""
    for stack in ("none", "one"):
        result = await run_outbound("async_server", stack, level)
        for name in ("unhashable_target", "unhashable_namespace"):
            outcome, sent, entries = result[name]
            assert outcome[0] == "raised" and sent == [], (stack, name)
            assert [(e["outcome"], e["error"]) for e in entries] == [("error", outcome[1])], (stack, name)


@pytest.mark.parametrize("face", list(PEERS))
async def test_outbound_matrix_sees_what_it_claims(face: str) -> None:
    result = await run_outbound(face, "one")
    outcome, sent, _ = result["model"]
    assert outcome == ("ok", "None") and sent == ['2["ping",{"message":"m"}]']
    assert result["name_and_list_of_models"][1] == ['2["custom",[{"message":"a"},{"message":"b"}]]']
    assert result["model_and_data"][0] == ("raised", "TypeError")
    assert result["unserialisable"][0][0] == "raised"
    failed = result["unknown_keyword"][2]
    assert [(e["outcome"], e["error"]) for e in failed] == [("error", "TypeError")]
    if face != "sync_server":
        assert result["call_model"][0] == ("ok", "Pong(reply='r')")
        assert result["call_problem"][0] == ("raised", "ProblemDetailError")
        assert result["call_wrong_reply"][0] == ("raised", "ValidationError")


async def test_emit_to_a_sid_reaches_the_manager_the_same_way(caplog: pytest.LogCaptureFixture) -> None:
    """``emit(model, to=sid)`` skips the server's ``emit`` (it would only forward to the manager)
    while python-socketio's INFO line is off; with that line on, the server's ``emit`` runs and
    writes it. Packets, results and entries are the same either way."""
    direct = await run_outbound("async_server", "none", logging.INFO)
    chatty = logging.getLogger("tests.socketio.server")
    chatty.setLevel(logging.INFO)
    with caplog.at_level(logging.INFO, logger=chatty.name):
        through_server = await run_outbound("async_server", "none", logging.INFO, chatty)
    assert through_server == direct

    # emitted three times over the direct path's conditions, each one through the server's emit
    peer = AsyncServerPeer()
    peer.sio.logger = chatty
    tsio = wrap(peer.sio)
    await peer.connect()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=chatty.name):
        for message in "abc":
            await tsio.emit(Ping(message=message), to=peer.sid)
    lines = [r.getMessage() for r in caplog.records if r.name == chatty.name]
    assert lines == [f'emitting event "ping" to {peer.sid} [/]'] * 3
    assert peer.sent[-3:] == [f'2["ping",{{"message":"{m}"}}]' for m in "abc"]

    # an empty target is python-socketio's "to or room": no room, every client of the namespace
    quiet = AsyncServerPeer()
    tsio = wrap(quiet.sio)
    await quiet.connect()
    for message in "de":
        await tsio.emit(Ping(message=message), to="")
    assert quiet.sent[-2:] == [f'2["ping",{{"message":"{m}"}}]' for m in "de"]


async def test_an_overridden_server_emit_is_called() -> None:
    """A server class that overrides ``emit`` gets every emit, those the direct path would take
    (a model sent before, to one sid, debug entries filtered) included."""
    seen: list[str] = []

    class Counting(socketio.AsyncServer):
        async def emit(  # type: ignore[override]
            self, event: str, data: Any = None, to: Any = None, room: Any = None, **kwargs: Any
        ) -> None:
            seen.append(event)
            await super().emit(event, data, to, room, **kwargs)

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    peer = AsyncServerPeer(Counting)
    tsio = wrap(peer.sio)
    await peer.connect()
    for message in ("a", "b", "c"):
        await tsio.emit(Ping(message=message), to=peer.sid)
    assert seen == ["ping", "ping", "ping"]
    assert peer.sent[-3:] == [f'2["ping",{{"message":"{m}"}}]' for m in "abc"]


async def test_call_reply_validators_for_many_and_unhashable_models() -> None:
    """Each response model's reply validator is built on its first call and kept up to a bound;
    past it, and for an annotation that cannot be hashed, replies are validated all the same."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    peer = AsyncServerPeer()
    peer.sio.async_handlers = True  # socketio's call() requires it
    tsio = wrap(peer.sio)
    await peer.connect()
    peer.answer_calls = {"reply": "r"}
    models = [pydantic.create_model(f"Reply{i}", reply=(str, ...)) for i in range(300)]
    for model in (*models, models[0], models[-1]):
        result = await tsio.call(Ping(message="m"), response_model=model, to=peer.sid, timeout=2)
        assert type(result) is model and result.reply == "r"  # type: ignore[attr-defined]
    peer.answer_calls = "7"
    assert (
        await tsio.call(Ping(message="m"), response_model=Annotated[int, ["x"]], to=peer.sid, timeout=2) == 7
    )
    peer.answer_calls = {"kind": "error", "title": "Gone", "status": 410}
    with pytest.raises(ProblemDetailError):
        await tsio.call(Ping(message="m"), response_model=models[5], to=peer.sid, timeout=2)
