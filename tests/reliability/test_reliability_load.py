"""Many concurrent callers, one typed echo handler: no call lost, no reply delivered to the wrong call.

``CLIENTS`` raw ``socketio.AsyncClient`` peers connect over websocket to one uvicorn server in
this process's loop, and each makes ``CALLS`` ``call()``s with ``IN_FLIGHT`` of them outstanding at
a time. Every call carries a unique id; the handler echoes it with the sender's sid, after a
jitter of 0-2 ms so that replies come back out of order within a connection and across them.
Asserted: every call is answered within ``CALL_TIMEOUT`` (0 lost), every reply is the one for its own
call (0 misrouted: its id, client and sequence number, and the caller's own sid), the handler ran
exactly once per call, and once every client has gone the loop is back to its task count from
before they came (engine.io's ping timers apart: see ``_ping_timers``). Printed: p50 and p99
latency, calls per second, and the process's RSS (``VmRSS``) before the clients connect, once
they are connected, and after the calls.

200 clients x 50 calls (10,000 calls) in both modes: it takes ~10-25 s on the 2-core machine.
The server and the 200 clients share one event loop, so with 400 calls outstanding the latency
is mostly queueing: about the number outstanding divided by the calls per second.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from time import perf_counter
from typing import TYPE_CHECKING

import pytest
import socketio
import socketio.exceptions
from pydantic import BaseModel

from tests.support.helpers import TIMEOUT, asgi_app, connected, new_server
from tests.support.reliability_support import mode_name, other_tasks, percentile, rss_kib, scaled
from zndraw_socketio import AsyncServerWrapper

if TYPE_CHECKING:
    from tests.conftest import LiveServer

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(scaled(60, 300))]

CLIENTS = scaled(200, 200)
CALLS = scaled(50, 50)
"""Calls per client."""
IN_FLIGHT = 2
"""Calls each client has outstanding at a time."""
CALL_TIMEOUT = 30
"""Seconds after which a call counts as lost: generous, since the latency is mostly queueing and
the machine may be shared."""
CONNECTING = 50
"""Clients connecting at a time."""


class Echo(BaseModel):
    id: str
    client: int
    seq: int


class Echoed(BaseModel):
    id: str
    sid: str
    client: int
    seq: int


def echo_server(handled: Counter[str]) -> AsyncServerWrapper:
    tsio = new_server()
    jitter = random.Random(1234)

    @tsio.on(Echo)
    async def echo(sid: str, data: Echo) -> Echoed:
        handled[data.id] += 1
        await asyncio.sleep(jitter.random() * 0.002)
        return Echoed(id=data.id, sid=sid, client=data.client, seq=data.seq)

    return tsio


async def test_concurrent_clients_lose_and_misroute_nothing(
    live_server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    handled: Counter[str] = Counter()
    latencies: list[float] = []
    lost: list[str] = []
    misrouted: list[tuple[str, object]] = []
    sent: set[str] = set()

    async def connect(client: socketio.AsyncClient, url: str, gate: asyncio.Semaphore) -> None:
        async with gate:
            await client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)

    async def one_call(client: socketio.AsyncClient, index: int, seq: int, sid: str) -> None:
        call_id = f"{index}-{seq}-{uuid.uuid4().hex}"
        sent.add(call_id)
        start = perf_counter()
        try:
            payload = {"id": call_id, "client": index, "seq": seq}
            reply = await client.call("echo", payload, timeout=CALL_TIMEOUT)
        except socketio.exceptions.TimeoutError:
            lost.append(call_id)
            return
        latencies.append(perf_counter() - start)
        if reply != {"id": call_id, "sid": sid, "client": index, "seq": seq}:
            misrouted.append((call_id, reply))

    async def calls(client: socketio.AsyncClient, index: int) -> None:
        sid = client.get_sid()
        assert sid is not None
        lanes = [range(lane, CALLS, IN_FLIGHT) for lane in range(IN_FLIGHT)]

        async def lane(seqs: range) -> None:
            for seq in seqs:
                await one_call(client, index, seq, sid)

        await asyncio.gather(*(lane(seqs) for seqs in lanes))

    async with live_server(asgi_app(echo_server(handled))) as url:
        # one client first: engine.io starts its service task on the first connection
        async with connected(url) as first:
            warm_up = {"id": "warm-up", "client": -1, "seq": 0}
            assert await first.call("echo", warm_up, timeout=TIMEOUT) == {**warm_up, "sid": first.get_sid()}
        del handled["warm-up"]
        await asyncio.sleep(0.1)
        baseline = other_tasks() - _ping_timers()
        rss_before = rss_kib()
        clients = [socketio.AsyncClient(reconnection=False) for _ in range(CLIENTS)]
        try:
            gate = asyncio.Semaphore(CONNECTING)
            start = perf_counter()
            await asyncio.gather(*(connect(client, url, gate) for client in clients))
            connected_in = perf_counter() - start
            rss_connected = rss_kib()
            start = perf_counter()
            await asyncio.gather(*(calls(client, index) for index, client in enumerate(clients)))
            elapsed = perf_counter() - start
            rss_after = rss_kib()
        finally:
            await asyncio.gather(*(client.disconnect() for client in clients), return_exceptions=True)
        leftover = await _settled_besides_ping_timers(baseline, within=5.0)

    total = CLIENTS * CALLS
    latencies.sort()
    with capsys.disabled():
        print(
            f"\nload ({mode_name()} mode): {CLIENTS} clients x {CALLS} calls = {total} calls, "
            f"{IN_FLIGHT} in flight per client; connected in {connected_in:.2f} s, calls took "
            f"{elapsed:.2f} s ({total / elapsed:.0f} calls/s)\n"
            f"  latency p50 {percentile(latencies, 0.50) * 1e3:.2f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1e3:.2f} ms, max {latencies[-1] * 1e3:.2f} ms\n"
            f"  lost {len(lost)}, misrouted {len(misrouted)}\n"
            f"  RSS {rss_before / 1024:.1f} MiB before connecting, {rss_connected / 1024:.1f} MiB "
            f"connected, {rss_after / 1024:.1f} MiB after the calls"
        )
    assert len(sent) == total  # the ids are unique
    assert lost == []
    assert misrouted == []
    assert len(latencies) == total
    assert set(handled) == sent and set(handled.values()) == {1}  # each call handled exactly once
    assert leftover == baseline, f"{leftover - baseline} tasks left after the clients went"
    assert _ping_timers() <= CLIENTS + 1  # the warm-up client's too


async def _settled_besides_ping_timers(baseline: int, within: float) -> int:
    """``settled_tasks`` for the tasks that are not engine.io ping timers."""
    deadline = perf_counter() + within
    count = other_tasks() - _ping_timers()
    while count != baseline and perf_counter() < deadline:
        await asyncio.sleep(0.01)
        count = other_tasks() - _ping_timers()
    return count


def _ping_timers() -> int:
    """engine.io's ping timers of this loop: each connection's sleeps for the ping interval (25 s
    by default) and is left to end on its own when the connection closes, so up to one per closed
    connection is still there for that long; they are counted apart."""
    return sum(
        1
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "") == "AsyncSocket._send_ping"
    )
