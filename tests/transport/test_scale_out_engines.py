"""Scale-out on two real engines : typed emits cross server processes.

For Redis (``socketio.AsyncRedisManager``) and RabbitMQ (``socketio.AsyncAioPikaManager``), each
test starts two server processes (``tests/support/scale_out_node.py``) on a channel (for RabbitMQ: a
fanout exchange) of its own, and connects four typed clients: on each node one inside the room
``ROOM`` and one outside it. A node emits when a client asks it to (``Trigger``); a worker process
(``tests/support/scale_out_worker.py``) emits through a write-only manager wrapped with ``wrap()``. The
clients' ``@client.on(Notice)`` handlers must receive validated ``Notice`` instances, and only the
ones addressed to them.

Before a test emits, it knows both nodes' listeners are subscribed: each node has delivered a
``Probe`` through the broker to a client of the other. Clients outside a room are checked after a
later notice from the same emitter has reached everyone (the broker keeps one publisher's order),
plus a short grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import socketio

from tests.support.scale_out_models import Join, Joined, Notice, Probe, ProbeRequest, Trigger, Triggered
from tests.support.scale_out_node import ENGINES, Engine
from zndraw_socketio import AsyncClientWrapper, wrap

pytestmark = [pytest.mark.timeout(120), pytest.mark.parametrize("engine", ENGINES)]

ROOT = Path(__file__).resolve().parents[2]
ROOM = "room-x"
TIMEOUT = 10.0
"""Bound on each wait: a node starting, a client connecting, a notice arriving."""
GRACE = 0.3
"""How long a client outside a room is watched for a stray notice after the last one arrived."""
WORKER_TIMEOUT = 30.0


@dataclass
class NodeProcess:
    """A server node running in a child process."""

    process: subprocess.Popen[bytes]
    log: Path
    url: str = ""

    @property
    def name(self) -> str:
        """The node's name, ``node:<port>``: the ``origin`` of the notices it emits."""
        return "node:" + self.url.rsplit(":", 1)[1]

    def output(self) -> str:
        """What the node wrote to stdout and stderr so far (for failure messages)."""
        return self.log.read_text(errors="replace")


@dataclass
class Peer:
    """A typed client connected to one node, with what its handlers received."""

    label: str
    node: NodeProcess
    client: AsyncClientWrapper
    sid: str
    notices: asyncio.Queue[Notice]
    probes: asyncio.Queue[Probe]


@dataclass
class Cluster:
    """Two nodes on one channel and four clients: ``a_in``/``a_out`` on A, ``b_in``/``b_out`` on B;
    the ``_in`` ones joined ``ROOM``."""

    engine: Engine
    broker_url: str
    channel: str
    a: NodeProcess
    b: NodeProcess
    a_in: Peer
    a_out: Peer
    b_in: Peer
    b_out: Peer

    @property
    def peers(self) -> tuple[Peer, ...]:
        """Every client."""
        return (self.a_in, self.a_out, self.b_in, self.b_out)


def node_command(engine: Engine, broker_url: str, channel: str) -> list[str]:
    """The command line of one node process on a free port."""
    return [
        sys.executable,
        "-m",
        "tests.support.scale_out_node",
        "--engine",
        engine,
        "--url",
        broker_url,
        "--channel",
        channel,
        "--port",
        "0",
    ]


def start_node(engine: Engine, broker_url: str, channel: str, log: Path) -> NodeProcess:
    """Start a node process, its output going to ``log`` (a file never blocks the child)."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            node_command(engine, broker_url, channel),
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    return NodeProcess(process, log)


async def wait_ready(node: NodeProcess) -> None:
    """Wait for the node's ``ready <url>`` line; fail with its output if it exits or times out."""
    try:
        async with asyncio.timeout(TIMEOUT):
            while True:
                for line in node.output().splitlines():
                    if line.startswith("ready "):
                        node.url = line.split()[1]
                        return
                if node.process.poll() is not None:
                    break
                await asyncio.sleep(0.02)
    except TimeoutError:
        pass
    pytest.fail(f"node did not start (exit code {node.process.poll()}):\n{node.output()}")


async def stop_node(node: NodeProcess) -> None:
    """Terminate a node process and wait for it; kill it when it does not exit in time."""
    process = node.process
    if process.poll() is None:
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 5)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait, 5)


async def connect_peer(label: str, node: NodeProcess) -> Peer:
    """Connect a typed client to ``node``; its handlers queue what they receive."""
    client = wrap(socketio.AsyncClient())
    notices: asyncio.Queue[Notice] = asyncio.Queue()
    probes: asyncio.Queue[Probe] = asyncio.Queue()

    @client.on(Notice)
    async def on_notice(data: Notice) -> None:
        notices.put_nowait(data)

    @client.on(Probe)
    async def on_probe(data: Probe) -> None:
        probes.put_nowait(data)

    await client.connect(node.url, transports=["websocket"], wait_timeout=TIMEOUT)
    return Peer(label, node, client, client.get_sid("/"), notices, probes)


async def disconnect_peer(peer: Peer) -> None:
    """Disconnect a client, bounded in time."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(peer.client.disconnect(), TIMEOUT)


async def join(peer: Peer, room: str) -> None:
    """Make ``peer`` enter ``room`` on its node, and wait for the node to say it did."""
    joined = await peer.client.call(Join(room=room), response_model=Joined, timeout=TIMEOUT)
    assert joined == Joined(room=room, node=peer.node.name)


async def wait_linked(sender: Peer, receiver: Peer) -> None:
    """Wait until a ``Probe`` that ``sender``'s node emits to ``receiver`` (on the other node)
    arrives: the receiving node's listener is then subscribed to the channel."""
    try:
        async with asyncio.timeout(TIMEOUT):
            while True:
                token = uuid.uuid4().hex
                await sender.client.emit(ProbeRequest(sid=receiver.sid, token=token))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.25):
                        while (await receiver.probes.get()).token != token:
                            pass
                        return
    except TimeoutError:
        pass
    logs = "".join(f"--- {node.name}:\n{node.output()}\n" for node in (sender.node, receiver.node))
    pytest.fail(
        f"{receiver.node.name} never received what {sender.node.name} published on the channel:\n{logs}"
    )


async def delete_exchange(broker_url: str, exchange: str) -> None:
    """Delete a test's RabbitMQ exchange (best effort: the broker may be gone)."""
    import aio_pika

    with contextlib.suppress(Exception):
        async with asyncio.timeout(5):
            connection = await aio_pika.connect(broker_url, timeout=2)
            async with connection:
                channel = await connection.channel()
                await channel.exchange_delete(exchange)


@contextlib.asynccontextmanager
async def cluster(engine: Engine, broker_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    """Two nodes on a fresh channel, four connected clients, both listeners subscribed."""
    channel = f"zndraw-socketio-test-{uuid.uuid4().hex}"
    async with contextlib.AsyncExitStack() as stack:
        if engine == "rabbitmq":
            stack.push_async_callback(delete_exchange, broker_url, channel)
        nodes: list[NodeProcess] = []
        for name in ("a", "b"):
            node = start_node(engine, broker_url, channel, tmp_path / f"node-{name}.log")
            stack.push_async_callback(stop_node, node)
            nodes.append(node)
        a, b = nodes
        for node in nodes:  # both are starting already
            await wait_ready(node)
        peers: list[Peer] = []
        for label, node in (("a_in", a), ("a_out", a), ("b_in", b), ("b_out", b)):
            peer = await connect_peer(label, node)
            stack.push_async_callback(disconnect_peer, peer)
            peers.append(peer)
        a_in, a_out, b_in, b_out = peers
        await join(a_in, ROOM)
        await join(b_in, ROOM)
        await wait_linked(a_in, b_out)  # B's listener hears A
        await wait_linked(b_in, a_out)  # A's listener hears B
        yield Cluster(engine, broker_url, channel, a, b, a_in, a_out, b_in, b_out)


async def trigger(peer: Peer, text: str, room: str | None = None) -> None:
    """Make ``peer``'s node ``emit(Notice(text=text, origin=<node>), room=room)``."""
    reply = await peer.client.call(Trigger(text=text, room=room), response_model=Triggered, timeout=TIMEOUT)
    assert reply == Triggered(node=peer.node.name)


async def run_worker(c: Cluster, targets: Sequence[str]) -> None:
    """Run the worker process, which emits a ``Notice`` per ``TARGET=TEXT`` and exits."""
    command = [
        sys.executable,
        "-m",
        "tests.support.scale_out_worker",
        "--engine",
        c.engine,
        "--url",
        c.broker_url,
        "--channel",
        c.channel,
        *targets,
    ]
    done = await asyncio.to_thread(
        subprocess.run,
        command,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT,
    )
    output = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode == 0, f"the worker failed (exit code {done.returncode}):\n{output}"
    assert f"sent {len(targets)}" in done.stdout.splitlines(), output


async def received(peers: Sequence[Peer], *last: Notice) -> dict[str, list[tuple[str, str]]]:
    """What each peer's ``Notice`` handler received, as sorted ``(text, origin)`` pairs, once every
    notice of ``last`` reached every peer and ``GRACE`` has passed. Every item must be a ``Notice``
    instance."""
    got: dict[str, list[Notice]] = {peer.label: [] for peer in peers}

    async def until_last(peer: Peer) -> None:
        while not all(notice in got[peer.label] for notice in last):
            got[peer.label].append(await peer.notices.get())

    try:
        async with asyncio.timeout(TIMEOUT):
            await asyncio.gather(*(until_last(peer) for peer in peers))
    except TimeoutError:
        pytest.fail(f"{last!r} did not reach every client; they received {got}")
    await asyncio.sleep(GRACE)
    for peer in peers:
        while not peer.notices.empty():
            got[peer.label].append(peer.notices.get_nowait())
    for notices in got.values():
        assert all(type(notice) is Notice for notice in notices), notices
    return {label: sorted((n.text, n.origin) for n in notices) for label, notices in got.items()}


async def test_server_emit_to_a_room_reaches_the_room_on_both_nodes_only(
    engine: Engine, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with cluster(engine, request.getfixturevalue(f"{engine}_url"), tmp_path) as c:
        a = c.a.name
        await trigger(c.a_out, "to the room", room=ROOM)  # a client outside the room asks A
        await trigger(c.a_out, "after", room=None)  # a later notice from A, to everyone
        room, after = ("to the room", a), ("after", a)
        assert await received(c.peers, Notice(text="after", origin=a)) == {
            "a_in": [after, room],
            "a_out": [after],
            "b_in": [after, room],
            "b_out": [after],
        }


async def test_worker_process_emits_typed_models_to_a_room_and_to_everyone(
    engine: Engine, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with cluster(engine, request.getfixturevalue(f"{engine}_url"), tmp_path) as c:
        await run_worker(c, [f"{ROOM}=worker to the room", "*=worker to all"])
        room, everyone = ("worker to the room", "worker"), ("worker to all", "worker")
        assert await received(c.peers, Notice(text="worker to all", origin="worker")) == {
            "a_in": [everyone, room],
            "a_out": [everyone],
            "b_in": [everyone, room],
            "b_out": [everyone],
        }


async def test_broadcast_from_either_node_reaches_every_client(
    engine: Engine, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    async with cluster(engine, request.getfixturevalue(f"{engine}_url"), tmp_path) as c:
        a, b = c.a.name, c.b.name
        await trigger(c.a_in, "from a")
        await trigger(c.b_out, "from b")
        got = await received(c.peers, Notice(text="from a", origin=a), Notice(text="from b", origin=b))
        expected = [("from a", a), ("from b", b)]
        assert got == {"a_in": expected, "a_out": expected, "b_in": expected, "b_out": expected}
