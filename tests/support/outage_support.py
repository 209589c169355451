"""The broker-outage scenario of ``tests/reliability/test_reliability_brokers.py``.

``run_outage(broker, make_manager)`` starts ``broker`` (``tests/support/brokers.py``), two in-process
server nodes on it and a typed client on each, emits a numbered ``Tick`` to a room from node A
every ``EMIT_EVERY`` seconds, kills the broker, starts it again, and records every emit (how long
it took, what it raised, the drop entries it wrote) and what node B's client received, in an
``Outage``.
"""

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import socketio
import socketio.exceptions
import structlog
from pydantic import BaseModel
from structlog.typing import EventDict

from tests.conftest import serve_asgi
from tests.support.brokers import BrokerProcess
from tests.support.helpers import TIMEOUT, asgi_app, typed_client, wait_for_condition
from zndraw_socketio import (
    AsyncClientWrapper,
    AsyncServerWrapper,
    ProblemDetail,
    wrap,
)

if TYPE_CHECKING:
    pass


class Tick(BaseModel):
    seq: int


class Relay(BaseModel):
    """Asks a node to emit ``Relayed`` to ``ROOM`` and to answer with it."""

    text: str


class Relayed(BaseModel):
    text: str


# -- 4, 5. a broker killed and started again while emits flow ---------------------------------------

ROOM = "ticks"
EMIT_EVERY = 0.05
BEFORE_KILL = 1.0
"""Seconds of emits while the broker is up, before it is killed."""
KILLED_FOR = 1.0
"""Seconds the broker is left dead before it is started again (a RabbitMQ node then takes a few
more seconds to accept connections; emits go on all along)."""
AFTER_RECOVERY = 1.0
"""Seconds of emits after node B's client received the first emit made after the restart."""
EMIT_BOUND = 1.5
"""Every emit returns within this (Redis: two attempts of at most 0.5 s each, as bounded below)."""
BOUNDED_REDIS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
"""The ``redis_options`` of the documented setup: redis-py's defaults wait forever."""
RECOVERY_BOUND = {"redis": 6.0, "rabbitmq": 12.0}
"""Seconds after the broker accepts again within which node B's client receives emits again.
python-socketio's Redis listener retries after 1 s, then 2 s; aio-pika's robust connection (the
RabbitMQ manager's) reconnects every 5 s."""
SCENARIO_TIMEOUT = 60.0


@dataclass
class Emit:
    seq: int
    started: float
    ended: float
    error: str | None  # the class name of what the emit raised, or None
    dropped: list[EventDict]  # the "sio publish dropped" entries written while it ran


@dataclass
class Outage:
    """What one broker outage recorded; times are ``time.perf_counter()`` values."""

    kind: str
    emits: list[Emit] = field(default_factory=list)
    at_a: dict[int, float] = field(default_factory=dict)  # node A's client: seq -> arrival
    at_b: list[tuple[int, float]] = field(default_factory=list)  # node B's client, in order
    killed: float = 0.0
    restart_begun: float = 0.0
    restarted: float = 0.0  # the broker accepts clients again
    startup_s: float = 0.0
    restart_s: float = 0.0
    drops: list[EventDict] = field(default_factory=list)
    records: list[logging.LogRecord] = field(default_factory=list)
    relay_reply: Any = None  # what a call to a handler that emits got while the broker was dead
    relay_s: float = 0.0

    @property
    def sent(self) -> list[int]:
        return [e.seq for e in self.emits]

    @property
    def before(self) -> list[Emit]:
        """Emits that ended before the broker was killed."""
        return [e for e in self.emits if e.ended < self.killed]

    @property
    def down(self) -> list[Emit]:
        """Emits made entirely while the broker was dead: after the kill, before the restart."""
        return [e for e in self.emits if e.started > self.killed and e.ended < self.restart_begun]

    @property
    def starting(self) -> list[Emit]:
        """Emits made while the broker was starting again (it may accept before it answers the
        readiness probe)."""
        return [e for e in self.emits if e.started > self.restart_begun and e.ended < self.restarted]

    @property
    def after(self) -> list[Emit]:
        """Emits that started once the broker accepted again."""
        return [e for e in self.emits if e.started > self.restarted]

    @property
    def b_seqs(self) -> list[int]:
        return [seq for seq, _ in self.at_b]

    @property
    def lost(self) -> list[int]:
        """Emits node B's client never received."""
        got = set(self.b_seqs)
        return [seq for seq in self.sent if seq not in got]

    @property
    def recovered_seq(self) -> int | None:
        """The first emit made after the restart that node B's client received."""
        first_after = min((e.seq for e in self.after), default=None)
        if first_after is None:
            return None
        return min((seq for seq in self.b_seqs if seq >= first_after), default=None)

    @property
    def recovery_s(self) -> float | None:
        """Seconds from the broker accepting again to node B's client receiving again."""
        seq = self.recovered_seq
        if seq is None:
            return None
        return dict(self.at_b)[seq] - self.restarted

    def summary(self) -> str:
        down = self.down
        logged = [e.seq for e in self.emits if e.dropped]
        silent = [seq for seq in self.lost if seq not in logged]
        recovery = "never" if self.recovery_s is None else f"{self.recovery_s:.2f} s"
        return (
            f"{self.kind}: start {self.startup_s:.1f} s, restart {self.restart_s:.1f} s; sent "
            f"{len(self.sent)}, {len(down)} while dead (raised: {sum(1 for e in down if e.error)}, "
            f"types {sorted({e.error for e in down if e.error})}), {len(self.starting)} while it "
            f"restarted; logged drops {len(logged)}; lost at "
            f"node B {len(self.lost)} (of which not logged {len(silent)}, seqs {silent[:3]}..{silent[-3:]}); "
            f"node B receives again {recovery} after the broker accepts; slowest emit "
            f"{max(e.ended - e.started for e in self.emits):.3f} s; a call whose handler emits, "
            f"while dead: {self.relay_reply!r} in {self.relay_s:.3f} s"
        )


class _Records(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.NOTSET)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


async def close_manager(manager: Any) -> None:
    """Stop a pub/sub manager's listener and close the connections it opened (bounded)."""
    task = getattr(manager, "thread", None)
    if isinstance(task, asyncio.Future) and not task.done():
        task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(task, TIMEOUT)
    for name in ("pubsub", "redis", "publisher_connection"):
        conn = getattr(manager, name, None)
        if conn is not None:
            closing = conn.aclose() if hasattr(conn, "aclose") else conn.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(closing, TIMEOUT)


@dataclass
class Node:
    server: AsyncServerWrapper
    client: AsyncClientWrapper


@contextlib.asynccontextmanager
async def node(manager: Any, on_tick: Callable[[int], None]) -> AsyncIterator[Node]:
    """A server node on ``manager`` behind uvicorn, and a typed client of it inside ``ROOM``."""
    server = wrap(socketio.AsyncServer(async_mode="asgi", client_manager=manager))

    @server.on("connect")
    async def connect(sid: str, environ: dict[str, Any]) -> None:
        await server.enter_room(sid, ROOM)

    @server.on(Relay)
    async def relay(sid: str, data: Relay) -> Relayed:
        await server.emit(Relayed(text=data.text), room=ROOM)
        return Relayed(text=data.text)

    client = typed_client()

    @client.on(Tick)
    async def tick(data: Tick) -> None:
        on_tick(data.seq)

    try:
        async with serve_asgi(asgi_app(server)) as url:
            await client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
            try:
                yield Node(server, client)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.disconnect(), TIMEOUT)
    finally:
        await close_manager(manager)


async def outage(broker: BrokerProcess, make_manager: Callable[[str], Any]) -> Outage:
    """Two nodes on ``broker``, node A emitting ``Tick(seq=n)`` to ``ROOM`` every ``EMIT_EVERY``
    seconds; kill the broker, wait ``KILLED_FOR``, start it again, wait for node B's client to
    receive again, go on ``AFTER_RECOVERY`` seconds more. Debug entries are filtered out, as in
    the production setup the README recommends."""
    result = Outage(broker.name)
    root = logging.getLogger()
    handler = _Records(result.records)
    root.addHandler(handler)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    try:
        result.startup_s = await broker.start()
        channel = f"zndraw-socketio-faults-{uuid.uuid4().hex}"

        def arrived_at_a(seq: int) -> None:
            result.at_a.setdefault(seq, time.perf_counter())

        def arrived_at_b(seq: int) -> None:
            result.at_b.append((seq, time.perf_counter()))

        async with (
            node(make_manager(channel), arrived_at_a) as a,
            node(make_manager(channel), arrived_at_b),
        ):
            # node B's listener is subscribed once a probe (seq 0) from node A reaches its client
            async with asyncio.timeout(TIMEOUT):
                while not result.at_b:
                    await a.server.emit(Tick(seq=0), room=ROOM)
                    await asyncio.sleep(0.1)
            await asyncio.sleep(0.3)
            result.at_a.clear()
            result.at_b.clear()

            stop = asyncio.Event()
            with structlog.testing.capture_logs() as logs:

                async def emitter() -> None:
                    seq = 0
                    while not stop.is_set():
                        seq += 1
                        seen = len(logs)
                        started = time.perf_counter()
                        error = None
                        try:
                            await asyncio.wait_for(a.server.emit(Tick(seq=seq), room=ROOM), TIMEOUT)
                        except asyncio.CancelledError:
                            task = asyncio.current_task()
                            if task is not None and task.cancelling():
                                raise
                            error = "CancelledError"  # raised by the emit, not a cancellation of ours
                        except Exception as exc:
                            error = type(exc).__name__
                        dropped = [
                            e
                            for e in logs[seen:]
                            if e.get("event") == "sio publish dropped" and e.get("sio_event") == "tick"
                        ]
                        result.emits.append(Emit(seq, started, time.perf_counter(), error, dropped))
                        await asyncio.sleep(EMIT_EVERY)

                emitting = asyncio.create_task(emitter())
                try:
                    await asyncio.sleep(BEFORE_KILL)
                    result.killed = time.perf_counter()
                    broker.kill()
                    await asyncio.sleep(KILLED_FOR / 2)
                    begun = time.perf_counter()
                    try:
                        result.relay_reply = await a.client.call(
                            Relay(text="while dead"), response_model=Relayed | ProblemDetail, timeout=TIMEOUT
                        )
                    except Exception as exc:
                        result.relay_reply = exc
                    result.relay_s = time.perf_counter() - begun
                    await asyncio.sleep(max(0.0, result.killed + KILLED_FOR - time.perf_counter()))
                    result.restart_begun = time.perf_counter()
                    result.restart_s = await broker.start()
                    result.restarted = time.perf_counter()
                    with contextlib.suppress(TimeoutError):
                        await wait_for_condition(
                            lambda: result.recovered_seq is not None, RECOVERY_BOUND[broker.name] + 5
                        )
                    await asyncio.sleep(AFTER_RECOVERY)
                finally:
                    stop.set()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(emitting, TIMEOUT)
                await asyncio.sleep(0.5)  # the last emits' way through the broker
            result.drops = [e for e in logs if e.get("event") == "sio publish dropped"]
    finally:
        root.removeHandler(handler)
        structlog.reset_defaults()
        broker.kill()
    return result


def run_outage(broker: BrokerProcess, make_manager: Callable[[str], Any]) -> Outage:
    """``outage()`` in a thread of its own with its own event loop, bounded in time."""
    done: list[Outage] = []
    failed: list[BaseException] = []

    def target() -> None:
        try:
            done.append(asyncio.run(outage(broker, make_manager)))
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=target, name=f"outage-{broker.name}", daemon=True)
    thread.start()
    thread.join(SCENARIO_TIMEOUT)
    if thread.is_alive():
        broker.kill()
        raise RuntimeError(f"the {broker.name} outage did not finish within {SCENARIO_TIMEOUT} s")
    if failed:
        raise failed[0]
    print(done[0].summary())  # shown with -s: the figures of the run
    return done[0]
