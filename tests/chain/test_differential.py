"""Differential matrix: the same events with and without user middleware give the same results.

Every handler shape of ``tests/support/differential_cases.py`` runs on an async server, an async client and
the synchronous server face, in process (python-socketio's packet handling, engine.io stubbed),
with every input of ``INPUTS``, under four stacks: no user middleware, one pass-through, three,
and a per-handler pass-through. What socketio sends back (the ack bytes), the chain's log entries
(less ``duration_ms``), the context keys of the handler's own log lines and the exception-handler
calls must be the same under all four.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.support.differential import STACK_SHAPES, run_case
from tests.support.differential_cases import CASES, INPUTS, Case
from tests.support.inprocess import PEERS

FACE_CASES = [
    pytest.param(face, case, id=f"{face}-{case.name}")
    for face in PEERS
    for case in CASES
    if not (case.async_only and face == "sync_server")
]


@pytest.mark.parametrize(("face", "case"), FACE_CASES)
async def test_user_middleware_changes_nothing(face: str, case: Case) -> None:
    baseline = await run_case(face, case, "none")
    for shape in STACK_SHAPES[1:]:
        other = await run_case(face, case, shape)
        for name in INPUTS:
            assert other[name] == baseline[name], (shape, name)


@pytest.mark.parametrize("face", list(PEERS))
async def test_the_matrix_sees_what_it_claims(face: str) -> None:
    """The matrix can fail: shapes answer valid input, reject bad input with a 422 and turn an
    exception into a 500 that hides its text; handler lines carry the event's keys."""
    by_name = {case.name: case for case in CASES}
    model = await run_case(face, by_name["model"], "one")
    assert model["valid"]["sent"] == ['31[{"reply":"hi"}]']
    assert '"status":422' in model["wrong_type"]["sent"][0]
    assert model["one_megabyte_string"]["sent"][0].startswith("31[{")
    assert len(model["one_megabyte_string"]["sent"][0]) < 2000  # no input echoed
    inside = [e for e in model["valid"]["entries"] if e["event"] == "inside"]
    assert inside and inside[0]["sio_event"] == "ev" and inside[0]["namespace"] == "/"
    failing = await run_case(face, by_name["raises_value"], "three")
    assert '"status":500' in failing["valid"]["sent"][0] and "secret" not in failing["valid"]["sent"][0]
    levels = [e["level"] for e in failing["valid"]["entries"]]
    assert levels == ["error"]
    if face != "sync_server":
        awaitable = await run_case(face, by_name["wraps_decorated"], "none")
        assert awaitable["valid"]["sent"] == ['31[{"reply":"hi"}]']
        dependencies = await run_case(face, by_name["dep_partial_and_decorated"], "none")
        assert dependencies["valid"]["sent"] == ['31[{"reply":"hiw!o"}]']


async def test_one_context_object_reaches_dependency_and_exception_handler() -> None:
    by_name = {case.name: case for case in CASES}
    for shape in STACK_SHAPES:
        result = await run_case("async_server", by_name["dependency_writes_state"], shape)
        assert result["valid"]["sent"] == ['31[{"error":"after the dependency","state":{"marked":"ev"}}]']
        assert result["valid"]["calls"] == [("global", "ValueError", "ev", "InboundContext")]
        ctx_case = await run_case("async_server", by_name["context_parameter"], shape)
        assert ctx_case["valid"]["sent"] == ['31[{"event":"ev","validated":"Ping","data":{"message":"hi"}}]']


def test_event_loop_is_not_needed_for_the_sync_face() -> None:
    """The synchronous face's events run without an event loop of their own."""
    case = next(c for c in CASES if c.name == "dep_three_levels")
    result = asyncio.run(run_case("sync_server", case, "one"))
    assert result["valid"]["sent"] == ['31[{"reply":"hi1213"}]']
