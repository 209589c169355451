"""Reliability of scale-out under broker faults, over real sockets and brokers.

A broker (a private ``redis-server``, a private RabbitMQ node: ``tests/support/brokers.py``) is killed and
started again while a node emits a numbered typed model to a room every 50 ms: emits never hang,
the drops are logged as ``"sio publish dropped"``, and node B's client receives emits again once
python-socketio's listener has reconnected. Each broker's outage runs once (a module fixture, in
a thread of its own with its own event loop); the tests check what it recorded.

No ``from __future__ import annotations``: handlers are defined inside the tests and their
annotations must be real objects.
"""

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import socketio
import socketio.exceptions

from tests.support.brokers import RabbitBroker, RedisBroker
from zndraw_socketio import (
    ProblemDetail,
)

if TYPE_CHECKING:
    pass

from tests.support.outage_support import (
    BOUNDED_REDIS,
    EMIT_BOUND,
    RECOVERY_BOUND,
    ROOM,
    SCENARIO_TIMEOUT,
    Outage,
    Relayed,
    run_outage,
)

pytestmark = pytest.mark.reliability


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def redis_outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    broker = RedisBroker(tmp_path_factory.mktemp("redis"))
    if not os.path.exists(broker.command()[0]):
        unavailable(f"no {broker.command()[0]}")
    try:
        yield run_outage(
            broker,
            lambda channel: socketio.AsyncRedisManager(
                broker.url, channel=channel, redis_options=dict(BOUNDED_REDIS)
            ),
        )
    finally:
        broker.kill()


@pytest.fixture(scope="module")
def rabbitmq_outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    reason = RabbitBroker.available()
    if reason is not None:
        unavailable(f"no private RabbitMQ node can be started: {reason}")
    broker = RabbitBroker(tmp_path_factory.mktemp("rabbitmq"))
    try:
        yield run_outage(broker, lambda channel: socketio.AsyncAioPikaManager(broker.url, channel=channel))
    finally:
        broker.kill()


OUTAGES = [
    pytest.param("redis_outage", id="redis"),
    pytest.param("rabbitmq_outage", id="rabbitmq"),
]
broker_test = pytest.mark.timeout(SCENARIO_TIMEOUT + 30)


def recorded(request: pytest.FixtureRequest, name: str) -> Outage:
    outage = request.getfixturevalue(name)
    assert isinstance(outage, Outage)
    return outage


@broker_test
@pytest.mark.parametrize("name", OUTAGES)
def test_emits_do_not_hang_while_the_broker_is_down(request: pytest.FixtureRequest, name: str) -> None:
    o = recorded(request, name)
    assert len(o.before) >= 10 and len(o.down) >= 10 and len(o.after) >= 10, o.summary()
    slow = [
        (e.seq, round(e.ended - e.started, 3), e.error) for e in o.emits if e.ended - e.started > EMIT_BOUND
    ]
    assert slow == [], o.summary()
    assert all(e.error is None for e in o.before), o.summary()


@broker_test
@pytest.mark.parametrize("name", OUTAGES)
def test_node_b_receives_again_after_the_restart(request: pytest.FixtureRequest, name: str) -> None:
    o = recorded(request, name)
    assert o.recovery_s is not None and o.recovery_s < RECOVERY_BOUND[o.kind], o.summary()
    recovered = o.recovered_seq
    assert recovered is not None
    # at most once, in order: no emit arrives twice, none out of order
    assert o.b_seqs == sorted(set(o.b_seqs)), o.summary()
    # nothing is lost while the broker is up: not before the kill, not once the listener is back
    assert set(o.b_seqs) >= {e.seq for e in o.before}, o.summary()
    assert [seq for seq in o.lost if seq >= recovered] == [], o.summary()
    # the node's own clients get every emit, the broker down or not
    assert sorted(o.at_a) == o.sent, o.summary()
    # an emit that completed without error after recovery raised nothing on the way
    assert all(e.error is None for e in o.emits if e.seq >= recovered), o.summary()


@broker_test
@pytest.mark.parametrize("name", OUTAGES)
def test_a_handler_that_emits_while_the_broker_is_down_still_answers(
    request: pytest.FixtureRequest, name: str
) -> None:
    o = recorded(request, name)
    assert o.relay_s < EMIT_BOUND, o.summary()
    reply = o.relay_reply
    # Redis: the emit's drop is logged and the handler goes on; RabbitMQ: the emit raises and
    # the caller gets a problem detail
    assert reply == Relayed(text="while dead") or (
        isinstance(reply, ProblemDetail) and reply.status >= 500
    ), o.summary()
    assert [e["sio_event"] for e in o.drops if e["sio_event"] != "tick"] == ["relayed"], o.summary()


@broker_test
@pytest.mark.parametrize("name", OUTAGES)
def test_drops_while_the_broker_is_down_are_logged(request: pytest.FixtureRequest, name: str) -> None:
    """Every emit made while the broker is dead writes one "sio publish dropped" entry and is
    really lost at node B; so does every emit that raised; no emit writes one while it is up."""
    o = recorded(request, name)
    assert all(len(e.dropped) <= 1 for e in o.emits), o.summary()
    assert [e.seq for e in o.before if e.dropped] == [], o.summary()
    unlogged = [(e.seq, e.error) for e in o.down if not e.dropped]
    assert unlogged == [], f"{len(unlogged)} drops not logged, e.g. {unlogged[:3]}; {o.summary()}"
    raised = [(e.seq, e.error) for e in o.emits if e.error and not e.dropped]
    assert raised == [], f"emits that raised without a drop entry: {raised[:3]}; {o.summary()}"
    logged = [e.seq for e in o.emits if e.dropped]
    assert set(logged) <= set(o.lost), o.summary()  # a logged drop is a real loss
    recovered = o.recovered_seq
    assert recovered is not None and [seq for seq in logged if seq >= recovered] == [], o.summary()
    for entry in o.drops:
        assert entry["sio_event"] in ("tick", "relayed"), entry
        assert (entry["operation"], entry["room"], entry["namespace"]) == ("emit", ROOM, "/"), entry
        assert (entry["log_level"], entry["direction"], entry["outcome"]) == ("error", "out", "error")
    if o.kind == "redis":  # python-socketio retries once, then gives up with a log line
        assert {e["error"] for e in o.drops} == {"PublishGaveUp"}, o.summary()


@broker_test
def test_rabbitmq_emit_fails_promptly_while_down(rabbitmq_outage: Outage) -> None:
    """An emit while the RabbitMQ node is dead raises at once (python-socketio's aio-pika manager
    raises ``asyncio.CancelledError`` for aio-pika's ``ChannelInvalidStateError``); it never waits
    for the broker to come back."""
    o = rabbitmq_outage
    assert all(e.error is not None and e.ended - e.started < EMIT_BOUND for e in o.down), o.summary()
