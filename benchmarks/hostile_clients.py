"""What three hostile clients make a server hold, over loopback: plain python-socketio (``raw``)
against ``zndraw_socketio.wrap()`` with its default ``Bounds()`` (``typed``).

    .venv/bin/python benchmarks/hostile_clients.py [--variant raw|typed|both] [--scale 1.0]

Every scenario runs on a fresh ``hostile_server.py`` process (uvicorn on 127.0.0.1, a port of its
own), killed when the scenario ends, whatever happened:

1. ``attachments``: a websocket client written by hand sends a BINARY_EVENT header announcing
   1,000,000 attachments and asking for an ack, then 300 binary frames of 512 KiB (150 MiB),
   reading all the while what the server answers. RSS is read one second after the last frame.
2. ``flood``: a client that stops reading (a small receive buffer, nothing read after its
   connect) asks the server for 1600 events of 64 KiB (100 MiB) sent to itself. RSS is read once
   it stops growing (or after 10 s).
3. ``room``: a ``socketio.AsyncClient`` that reads, and a member of the same room that stopped
   reading; the reader asks for 1600 events of 64 KiB broadcast to the room (100 MiB to each
   member). Reported: the time until the reader received all of them, and RSS once it stops
   growing.

Per scenario: the server's VmRSS (``/proc/<pid>/status``) before the hostile traffic, its peak
(sampled every 0.1 s), after (as above), and one second after the hostile peers closed; then
whether the hostile connection was still open at the end: the peer reads whatever was queued for
it (answering pings) until the server closes the connection or a second passes without data,
then calls ``health``. ``--scale`` multiplies every count (frames, events) for a quick run; the
announced 1,000,000 attachments, the frame and event sizes and the waits stay as they are.
Exits 1 when a scenario failed (the table says which and why).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio

HERE = Path(__file__).resolve().parent
MIB = 1024 * 1024

ANNOUNCED_ATTACHMENTS = 1_000_000
ATTACHMENT_FRAMES = 300
FRAME_BYTES = 512 * 1024
EVENTS = 1600
EVENT_BYTES = 65536  # hostile_server.CHUNK
STALLED_RCVBUF = 4096

READY_TIMEOUT = 30.0  # the server process prints "ready <port>"
CONNECT_TIMEOUT = 10  # a handshake, a join, a health call
SEND_TIMEOUT = 30.0  # one frame accepted by the server
SETTLE_SECONDS = 1.0  # attachments: the wait after the last frame; else: RSS not growing for this long
SETTLE_CAP = 10.0  # the longest wait for RSS to stop growing
GROWTH_MIB = 1.0  # growth under this over SETTLE_SECONDS counts as "stopped growing"
READER_TIMEOUT = 60  # the room's reader receives everything broadcast
DRAIN_IDLE = 1.0  # the probe: the server sent nothing for this long
DRAIN_CAP = 40.0  # the probe: the longest time spent reading what was queued
PROBE_TIMEOUT = 5.0  # the probe: the health call's answer
SCENARIO_TIMEOUT = 90.0
RUN_TIMEOUT = 300.0  # the whole run; scenarios left when it is over are reported as skipped


# --- the server process -------------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    """The resident set size of process ``pid``, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class Server:
    """A running ``hostile_server.py``: its pid, port and what it printed after ``ready``."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []  # stdout: "disconnect <sid> <reason>"
        self.errors: list[str] = []  # stderr, the last lines

    @property
    def pid(self) -> int:
        return self.process.pid

    def disconnects_since(self, mark: int) -> list[tuple[str, str]]:
        """The disconnects (sid, reason) the server printed after its ``mark``-th line."""
        found = [line.split(" ", 2) for line in self.lines[mark:] if line.startswith("disconnect ")]
        return [(words[1], words[2]) for words in found if len(words) == 3]


async def _collect(stream: asyncio.StreamReader | None, into: list[str], keep: int) -> None:
    if stream is None:
        return
    while line := await stream.readline():
        into.append(line.decode(errors="replace").rstrip())
        del into[:-keep]


@contextlib.asynccontextmanager
async def server_process(variant: str) -> AsyncIterator[Server]:
    """A fresh server of ``variant``, killed (and waited for) on the way out."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "hostile_server.py"),
        variant,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=HERE.parent,
    )
    collecting: list[asyncio.Task[None]] = []
    try:
        assert process.stdout is not None
        try:
            async with asyncio.timeout(READY_TIMEOUT):
                first = (await process.stdout.readline()).decode().split()
        except TimeoutError:
            first = []
        if len(first) != 2 or first[0] != "ready":
            process.kill()
            tail = ""
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    assert process.stderr is not None
                    tail = (await process.stderr.read()).decode(errors="replace")[-600:]
            raise RuntimeError(f"the {variant} server did not start: {first!r} {tail}")
        server = Server(process, int(first[1]))
        collecting = [
            asyncio.create_task(_collect(process.stdout, server.lines, 10_000)),
            asyncio.create_task(_collect(process.stderr, server.errors, 40)),
        ]
        yield server
    finally:
        if process.returncode is None:
            process.kill()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await process.wait()
        for task in collecting:
            task.cancel()
        await asyncio.gather(*collecting, return_exceptions=True)


class RssWatch:
    """VmRSS of one process, sampled every 0.1 s while in use (``async with``), with its peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[tuple[float, float]] = []
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> float:
        rss = rss_mib(self.pid)
        self.samples.append((time.monotonic(), rss))
        return rss

    @property
    def peak(self) -> float:
        return max(rss for _, rss in self.samples)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            self.sample()

    async def __aenter__(self) -> RssWatch:
        self.sample()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError, RuntimeError):
                await self._task

    async def settle(self) -> float:
        """RSS once it grew less than ``GROWTH_MIB`` over ``SETTLE_SECONDS`` (at most ``SETTLE_CAP`` s)."""
        start = time.monotonic()
        while True:
            await asyncio.sleep(0.2)
            now, current = time.monotonic(), self.sample()
            earlier = [rss for when, rss in self.samples if start <= when <= now - SETTLE_SECONDS]
            if (earlier and current < earlier[-1] + GROWTH_MIB) or now - start >= SETTLE_CAP:
                return current


# --- a websocket client written by hand ---------------------------------------------------------


def masked(data: bytes, mask: bytes) -> bytes:
    """``data`` XOR the 4-byte ``mask`` repeated (websocket masking, both ways), in one big-int XOR."""
    if not data:
        return b""
    key = (mask * (len(data) // 4 + 1))[: len(data)]
    return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(len(data), "little")


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked websocket frame as a client sends it (1 text, 2 binary, 10 pong)."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        head = bytes([0x80 | opcode, 0x80 | size])
    elif size < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + size.to_bytes(8, "big")
    return head + mask + masked(payload, mask)


class Peer:
    """engine.io v4 / socket.io v5 over a websocket over TCP, all by hand. It reads only when
    told: during its handshake, in ``call``, and once ``start_reading`` was called."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.received = 0  # payload bytes received
        self.last_received = time.monotonic()
        self.closed: str | None = None  # how the server ended the connection, once it did
        self.acks: dict[int, str] = {}
        self.sid: str | None = None  # socket.io's, once connected
        self.changed = asyncio.Event()  # set when an ack arrived or the connection ended
        self._pump: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, port: int, rcvbuf: int | None = None) -> Peer:
        """A websocket to the server on ``port``, its receive buffer set before connecting."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if rcvbuf is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
                reader, writer = await asyncio.open_connection(sock=sock)
                key = base64.b64encode(os.urandom(16)).decode()
                writer.write(
                    (
                        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                        f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                    ).encode()
                )
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
        except BaseException:
            sock.close()
            raise
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            writer.close()
            raise ConnectionError(f"no websocket upgrade: {head[:200]!r}")
        return cls(reader, writer)

    def send(self, message: str | bytes) -> None:
        """One engine.io message: text, or binary (an attachment)."""
        if isinstance(message, str):
            self.writer.write(client_frame(1, message.encode()))
        else:
            self.writer.write(client_frame(2, message))

    async def _frame(self) -> tuple[bool, int, bytes]:
        read = self.reader.readexactly
        head = await read(2)
        size = head[1] & 0x7F
        if size == 126:
            size = int.from_bytes(await read(2), "big")
        elif size == 127:
            size = int.from_bytes(await read(8), "big")
        mask = await read(4) if head[1] & 0x80 else b""
        payload = await read(size) if size else b""
        return bool(head[0] & 0x80), head[0] & 0x0F, masked(payload, mask) if mask else payload

    async def message(self) -> tuple[int, bytes]:
        """The next message, its fragments joined: (1 text | 2 binary | 8 close, payload);
        websocket pings are answered on the way."""
        parts: list[bytes] = []
        kind = 1
        while True:
            fin, opcode, payload = await self._frame()
            self.received += len(payload)
            self.last_received = time.monotonic()
            if opcode == 9:
                self.writer.write(client_frame(10, payload))
            elif opcode == 8:
                return 8, payload
            elif opcode != 10:
                kind = opcode or kind
                parts.append(payload)
                if fin:
                    return kind, b"".join(parts)

    async def text(self) -> str:
        """The next engine.io text message other than a ping (pings answered)."""
        while True:
            opcode, payload = await self.message()
            if opcode == 8:
                self.closed = "close frame"
                raise ConnectionError("the server closed the websocket")
            if opcode == 1 and payload == b"2":
                self.send("3")
            elif opcode == 1:
                return payload.decode()

    async def connect(self) -> None:
        """Read engine.io's open packet, connect to namespace ``/``, read its answer."""
        async with asyncio.timeout(CONNECT_TIMEOUT):
            while not (await self.text()).startswith("0"):
                pass
            self.send("40")
            while not (reply := await self.text()).startswith("40"):
                pass
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            self.sid = json.loads(reply[2:]).get("sid")

    async def call(self, message: str, ack_id: int) -> str:
        """Send ``message`` (raw socket.io text with ``ack_id``) and read until its ack; its data."""
        prefix = f"43{ack_id}["
        self.send(message)
        async with asyncio.timeout(CONNECT_TIMEOUT):
            while not (text := await self.text()).startswith(prefix):
                pass
        return text[len(prefix) - 1 :]

    def start_reading(self) -> None:
        """From now on read everything, in a task: acks kept, pings answered, the close noted."""
        if self._pump is None:
            self._pump = asyncio.create_task(self._read_all())

    def _ended(self, how: str) -> None:
        if self.closed is None:
            self.closed = how
        self.changed.set()

    async def _read_all(self) -> None:
        try:
            while True:
                opcode, payload = await self.message()
                if opcode == 8:
                    return self._ended("close frame")
                if opcode != 1 or len(payload) > 4096:  # a big event: only counted
                    continue
                if payload == b"2":
                    self.send("3")
                elif payload == b"1":
                    return self._ended("engine.io close")
                elif payload.startswith(b"41"):
                    return self._ended("socket.io disconnect")
                elif payload.startswith(b"43"):
                    digits = payload[2:].split(b"[", 1)[0]
                    if digits.isdigit():
                        self.acks[int(digits)] = payload[2 + len(digits) :].decode()
                        self.changed.set()
        except asyncio.IncompleteReadError:
            self._ended("EOF")
        except OSError as exc:
            self._ended(type(exc).__name__)

    async def probe(self, ack_id: int) -> str:
        """Whether the server still serves this connection: read what was queued for it until the
        server ends the connection or sends nothing for ``DRAIN_IDLE`` s, then call ``health``."""
        sock = self.writer.get_extra_info("socket")
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * MIB)
        start, before = time.monotonic(), self.received
        self.start_reading()
        self.last_received = start
        while self.closed is None and time.monotonic() - self.last_received < DRAIN_IDLE:
            if time.monotonic() - start > DRAIN_CAP:
                break
            await asyncio.sleep(0.05)
        took = time.monotonic() - self.last_received if self.closed is None else 0.0
        drained = f"read {(self.received - before) / MIB:.1f} MiB in {time.monotonic() - start - took:.1f} s"
        if self.closed is not None:
            return f"closed ({self.closed}); {drained}"
        with contextlib.suppress(OSError):
            self.send(f'42{ack_id}["health"]')
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(PROBE_TIMEOUT):
                while ack_id not in self.acks and self.closed is None:
                    self.changed.clear()
                    await self.changed.wait()
        if ack_id in self.acks:
            return f"open, health {self.acks[ack_id]}; {drained}"
        if self.closed is not None:
            return f"closed ({self.closed}) on health; {drained}"
        return f"open, health unanswered in {PROBE_TIMEOUT:g} s; {drained}"

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
        self.writer.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await self.writer.wait_closed()


# --- the scenarios ------------------------------------------------------------------------------


@dataclass
class Row:
    variant: str
    scenario: str
    before: float | None = None
    peak: float | None = None
    after: float | None = None
    closed_rss: float | None = None
    hostile: str = "-"
    reader: str = "-"
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def scaled(count: int, scale: float) -> int:
    return max(1, round(count * scale))


def describe_ack(data: str | None) -> str:
    """An ack's data in a few words: ``400 <detail>``, the value, or ``none``."""
    if data is None:
        return "no ack"
    with contextlib.suppress(ValueError, TypeError, KeyError, IndexError):
        value = json.loads(data)[0]
        if isinstance(value, dict) and "status" in value:
            return f"ack {value['status']}: {str(value.get('detail', ''))[:60]}"
        return f"ack {value!r}"[:70]
    return f"ack {data[:60]}"


async def warm_up(server: Server) -> None:
    """One ordinary client connects, calls ``health`` and leaves: the paths are warm before RSS."""
    client = socketio.AsyncClient()
    await client.connect(server.url, transports=["websocket"], wait_timeout=CONNECT_TIMEOUT)
    try:
        assert await client.call("health", timeout=CONNECT_TIMEOUT) == "ok"
    finally:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            await client.disconnect()
    await asyncio.sleep(0.3)  # its disconnect printed before the mark


async def after_close(server: Server, row: Row) -> None:
    await asyncio.sleep(1.0)
    row.closed_rss = rss_mib(server.pid)


def note_disconnects(server: Server, mark: int, row: Row, names: dict[str | None, str]) -> None:
    """The disconnects the server reported since ``mark``, each named after its peer."""
    seen = [f"{names.get(sid, sid)} ({reason})" for sid, reason in server.disconnects_since(mark)]
    row.notes.append(f"server disconnects: {', '.join(seen) if seen else 'none'}")


async def attachments(server: Server, scale: float, row: Row) -> None:
    frames = scaled(ATTACHMENT_FRAMES, scale)
    await warm_up(server)
    peer = await Peer.open(server.port)
    try:
        await peer.connect()
        peer.start_reading()
        mark = len(server.lines)
        async with RssWatch(server.pid) as watch:
            row.before = watch.samples[0][1]
            peer.send(f'45{ANNOUNCED_ATTACHMENTS}-1["blob",{{"_placeholder":true,"num":0}}]')
            frame = client_frame(2, bytes(FRAME_BYTES))  # one frame, written again and again
            sent = 0
            for _ in range(frames):
                if peer.closed is not None:
                    break
                peer.writer.write(frame)
                try:
                    async with asyncio.timeout(SEND_TIMEOUT):
                        await peer.writer.drain()
                except (TimeoutError, OSError) as exc:
                    row.notes.append(f"sending stopped: {type(exc).__name__}")
                    break
                sent += 1
            await asyncio.sleep(SETTLE_SECONDS)
            row.after, row.peak = watch.sample(), watch.peak
        row.notes.append(f"{sent}/{frames} frames of {FRAME_BYTES // 1024} KiB sent")
        row.notes.append(describe_ack(peer.acks.get(1)))
        row.hostile = await peer.probe(2)
        note_disconnects(server, mark, row, {peer.sid: "hostile peer"})
    finally:
        await peer.close()
    await after_close(server, row)


async def flood(server: Server, scale: float, row: Row) -> None:
    events = scaled(EVENTS, scale)
    await warm_up(server)
    peer = await Peer.open(server.port, rcvbuf=STALLED_RCVBUF)
    try:
        await peer.connect()
        mark = len(server.lines)
        async with RssWatch(server.pid) as watch:
            row.before = watch.samples[0][1]
            peer.send(f'421["flood",{events}]')  # and nothing read from now on
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await peer.writer.drain()
            row.after = await watch.settle()
            row.peak = watch.peak
        row.notes.append(f"asked for {events} x {EVENT_BYTES // 1024} KiB")
        row.hostile = await peer.probe(2)
        note_disconnects(server, mark, row, {peer.sid: "hostile peer"})
    finally:
        await peer.close()
    await after_close(server, row)


async def room(server: Server, scale: float, row: Row) -> None:
    events = scaled(EVENTS, scale)
    received = 0
    everything = asyncio.Event()

    gone: list[str] = []

    def big(data: Any) -> None:
        nonlocal received
        received += 1
        if received >= events:
            everything.set()

    def left(reason: Any = None) -> None:
        gone.append(str(reason))
        everything.set()

    reader = socketio.AsyncClient(reconnection=False)
    reader.on("big", big)
    reader.on("disconnect", left)
    await reader.connect(server.url, transports=["websocket"], wait_timeout=CONNECT_TIMEOUT)
    try:
        assert await reader.call("join", timeout=CONNECT_TIMEOUT) == "joined"
        reader_sid = reader.get_sid()
        stalled = await Peer.open(server.port, rcvbuf=STALLED_RCVBUF)
        try:
            await stalled.connect()
            joined = await stalled.call('421["join"]', 1)  # its last read until the probe
            assert joined == '["joined"]', joined
            mark = len(server.lines)
            async with RssWatch(server.pid) as watch:
                row.before = watch.samples[0][1]
                start = time.monotonic()
                asked = asyncio.create_task(reader.call("broadcast", events, timeout=READER_TIMEOUT))
                try:
                    async with asyncio.timeout(READER_TIMEOUT):
                        await everything.wait()
                except TimeoutError:
                    row.reader = f"{received}/{events} in {READER_TIMEOUT:g} s"
                else:
                    took = time.monotonic() - start
                    row.reader = f"{took:.2f} s" if received >= events else f"cut: {received}/{events}"
                    if received < events:
                        row.notes.append(f"the reader was disconnected ({gone[0]}) after {took:.2f} s")
                row.after = await watch.settle()
                row.peak = watch.peak
                try:
                    if gone:
                        raise ConnectionError("the reader was disconnected")
                    async with asyncio.timeout(CONNECT_TIMEOUT):
                        row.notes.append(f"broadcast returned {await asked!r}")
                except Exception as exc:
                    asked.cancel()
                    await asyncio.gather(asked, return_exceptions=True)
                    row.notes.append(f"broadcast call: {type(exc).__name__}: {exc}")
            row.notes.append(f"{events} x {EVENT_BYTES // 1024} KiB to each of 2 members")
            row.hostile = await stalled.probe(2)
            note_disconnects(server, mark, row, {stalled.sid: "stalled member", reader_sid: "reader"})
        finally:
            await stalled.close()
    finally:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await reader.disconnect()
    await after_close(server, row)


SCENARIOS: dict[str, Callable[[Server, float, Row], Awaitable[None]]] = {
    "1 attachments": attachments,
    "2 flood": flood,
    "3 room": room,
}


# --- the run ------------------------------------------------------------------------------------


def mib(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def delta(row: Row, value: float | None) -> str:
    return "-" if value is None or row.before is None else f"{value - row.before:+.1f}"


def report(row: Row) -> None:
    print(
        f"[{row.variant}] {row.scenario}: RSS before {mib(row.before)} MiB, peak {mib(row.peak)}, "
        f"after {mib(row.after)} ({delta(row, row.after)}), "
        f"after the hostile peers closed {mib(row.closed_rss)} ({delta(row, row.closed_rss)})",
        flush=True,
    )
    print(f"    hostile connection: {row.hostile}", flush=True)
    if row.reader != "-":
        print(f"    the reader received every broadcast in: {row.reader}", flush=True)
    for note in row.notes:
        print(f"    {note}", flush=True)
    if row.error:
        print(f"    FAILED: {row.error}", flush=True)


def table(rows: list[Row]) -> None:
    head = ("variant", "scenario", "before", "peak", "after", "Δafter", "closed", "Δclosed", "reader")
    cells = [
        (
            row.variant,
            row.scenario,
            mib(row.before),
            mib(row.peak),
            mib(row.after),
            delta(row, row.after),
            mib(row.closed_rss),
            delta(row, row.closed_rss),
            row.reader,
        )
        for row in rows
    ]
    widths = [max(len(str(c)) for c in column) for column in zip(head, *cells, strict=True)]
    print("\nhostile clients: server RSS in MiB (before / peak / after / after the hostile peers closed)")
    print("  " + "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + "  hostile connection")
    for row, line in zip(rows, cells, strict=True):
        status = f"FAILED: {row.error}" if row.error else row.hostile.split(";", 1)[0]
        print("  " + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + "  " + status)


async def run(variants: list[str], scale: float) -> list[Row]:
    rows: list[Row] = []
    deadline = time.monotonic() + RUN_TIMEOUT
    for variant in variants:
        for name, scenario in SCENARIOS.items():
            row = Row(variant, name)
            rows.append(row)
            left = deadline - time.monotonic()
            if left <= 0:
                row.error = "skipped: the run is out of time"
                continue
            server: Server | None = None
            try:
                async with asyncio.timeout(min(SCENARIO_TIMEOUT, left)):
                    async with server_process(variant) as server:
                        await scenario(server, scale, row)
            except Exception as exc:
                row.error = f"{type(exc).__name__}: {exc}"[:300]
                if server is not None and server.errors:
                    row.notes.append("server stderr: " + " | ".join(server.errors[-5:])[-400:])
            report(row)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument("--variant", choices=("raw", "typed", "both"), default="both")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every count (frames, events)")
    args = parser.parse_args()
    if not args.scale > 0:
        parser.error("--scale must be > 0")
    variants = ["raw", "typed"] if args.variant == "both" else [args.variant]
    load = os.getloadavg()
    print(
        f"python-socketio {version('python-socketio')}, python-engineio {version('python-engineio')}; "
        f"{os.cpu_count()} CPUs, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; scale {args.scale:g}",
        flush=True,
    )
    started = time.monotonic()
    rows = asyncio.run(run(variants, args.scale))
    table(rows)
    print(f"({time.monotonic() - started:.0f} s)")
    return 1 if any(row.error for row in rows) else 0


def version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed(distribution)
    except PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
