"""python-socketio's own server features keep working on a wrapped server.

Each test runs over a real socket (uvicorn on 127.0.0.1, real ``socketio.AsyncClient`` peers) on
a plain python-socketio server and on a wrapped one with typed handlers, and expects the same:

- the Socket.IO Admin UI instrumentation (``instrument(auth=False)``): the admin namespace
  connects and receives ``config``, ``all_sockets``, ``socket_connected``, ``event_received`` and
  ``event_sent`` for the events typed handlers take and typed emits send, ``server_stats`` with the
  packets counted, ``socket_disconnected``; several servers of one process can be instrumented,
  each reporting its own packets, in any order, wrapped or not; the wrapper steps aside for an
  ``instrument()`` of the user's or when what it follows moved (and a tripwire fingerprints that);
- a client manager set after the handlers were registered carries ``emit(..., to=sid)``;
- ``always_connect=True``: the client is connected before the connect handler runs;
- ``namespaces``: a list admits its namespaces and those with handlers, ``"*"`` admits any;
- ``async_handlers``: a client's events overlap with ``True`` and run one at a time with ``False``
  (where the server's ``call()`` is refused);
- a class-based ``socketio.AsyncNamespace`` registered on the wrapper: its ``on_connect``,
  ``on_<event>`` handlers and ``emit``, next to typed handlers on other namespaces.

The synchronous face is instrumented too: connected in memory (``TestClient``), and served by
werkzeug next to a plain instrumented server.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

import pytest
import socketio
import socketio.exceptions
from engineio.async_socket import AsyncSocket
from engineio.socket import Socket

from tests.support.faces_support import serve_wsgi
from tests.support.helpers import TIMEOUT, Inbox, connected, new_server
from tests.support.models import Ping, Pong
from zndraw_socketio import wrap
from zndraw_socketio.testing import TestClient

if TYPE_CHECKING:
    from tests.conftest import LiveServer

pytestmark = pytest.mark.timeout(45)

Kind = Literal["raw", "wrapped"]
KINDS: tuple[Kind, ...] = ("raw", "wrapped")
STATS_INTERVAL = 0.2
"""Seconds between two ``server_stats`` reports of an instrumented server in these tests."""


@pytest.fixture(autouse=True)
def _engineio_socket_classes() -> Iterator[None]:
    """Leave engine.io's socket classes as they were: an instrumentation replaces their methods for
    the whole process."""
    saved = {cls: dict(vars(cls)) for cls in (AsyncSocket, Socket)}
    yield
    for cls, attributes in saved.items():
        for name in set(vars(cls)) - set(attributes):
            delattr(cls, name)
        for name, value in attributes.items():
            if vars(cls).get(name) is not value:
                setattr(cls, name, value)


def ping_server(kind: Kind, **options: Any) -> tuple[Any, socketio.AsyncServer]:
    """``(what the test drives, the socketio server)``: a server whose ``ping`` event answers a
    pong, with a plain handler (``raw``) or a typed one (``wrapped``)."""
    if kind == "raw":
        sio = socketio.AsyncServer(async_mode="asgi", **options)

        async def raw_ping(sid: str, data: dict[str, Any]) -> dict[str, Any]:
            return {"reply": data["message"]}

        sio.on("ping", raw_ping)
        return sio, sio
    tsio = new_server(**options)

    @tsio.on(Ping)
    async def ping(sid: str, ping: Ping) -> Pong:
        return Pong(reply=ping.message)

    return tsio, tsio.sio


async def emit_ping(kind: Kind, server: Any, message: str, sid: str) -> None:
    """The server emits a ``ping`` to ``sid``: a dict on the plain server, a model on the wrapper."""
    if kind == "raw":
        await server.emit("ping", {"message": message}, to=sid)
    else:
        await server.emit(Ping(message=message), to=sid)


class AdminFeed:
    """Everything a client of the admin namespace receives, in order."""

    def __init__(self, client: socketio.AsyncClient) -> None:
        self.client = client
        """The admin client, to send the admin namespace's commands with."""
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        self._arrived = asyncio.Event()

    def record(self, event: str, *args: Any) -> None:
        self.events.append((event, args))
        self._arrived.set()

    def all(self, event: str) -> list[tuple[Any, ...]]:
        """The arguments of every ``event`` received so far."""
        return [args for name, args in self.events if name == event]

    async def wait_for(
        self, event: str, match: Callable[..., bool] = lambda *args: True, count: int = 1
    ) -> list[tuple[Any, ...]]:
        """The first ``count`` ``event``s whose arguments ``match``, waiting at most ``TIMEOUT``."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                found = [args for args in self.all(event) if match(*args)]
                if len(found) >= count:
                    return found[:count]
                self._arrived.clear()
                await self._arrived.wait()

    def aggregated(self, *, after: int = 0) -> dict[str, int]:
        """The ``aggregatedEvents`` of the ``server_stats`` reports from the ``after``-th on, summed
        by type (``packetsIn``, ``bytesOut``, ``rawConnection``...)."""
        totals: dict[str, int] = {}
        for (stats,) in self.all("server_stats")[after:]:
            for entry in stats["aggregatedEvents"]:
                totals[entry["type"]] = totals.get(entry["type"], 0) + entry["count"]
        return totals


def of(sid: str) -> Callable[..., bool]:
    """A match for the reports whose arguments are ``(namespace, sid, ...)``: those of ``sid``."""
    return lambda namespace, who, *rest: who == sid


@asynccontextmanager
async def admin_connected(url: str) -> AsyncIterator[AdminFeed]:
    """A client of ``/admin``, connected by long-polling and upgraded to a websocket, that records
    what it receives."""
    admin = socketio.AsyncClient(reconnection=False)
    feed = AdminFeed(admin)
    admin.on("*", feed.record, namespace="/admin")
    await admin.connect(url, namespaces=["/admin"], wait_timeout=TIMEOUT)
    try:
        yield feed
    finally:
        await admin.disconnect()


@asynccontextmanager
async def serving(sio: socketio.AsyncServer, live_server: LiveServer) -> AsyncIterator[str]:
    """Serve ``sio`` (the socketio server itself, wrapped or not) and yield its URL."""
    async with live_server(socketio.ASGIApp(sio)) as url:
        yield url


# -- the Admin UI instrumentation ------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_the_admin_namespace_reports_connections_and_typed_events(
    live_server: LiveServer, kind: Kind
) -> None:
    """The admin namespace connects and receives its configuration and the sockets; a client of
    ``/`` is reported when it connects and leaves, the event a typed handler takes is reported as
    received and a typed emit as sent, and the server stats count the packets and the sockets per
    namespace, as on a plain server."""
    server, sio = ping_server(kind)
    admin = server.instrument(auth=False, server_stats_interval=STATS_INTERVAL)
    try:
        async with serving(sio, live_server) as url, admin_connected(url) as feed:
            [(config,)] = await feed.wait_for("config")
            assert set(config["supportedFeatures"]) >= {"EMIT", "JOIN", "ALL_EVENTS", "AGGREGATED_EVENTS"}
            [(sockets,)] = await feed.wait_for("all_sockets")
            assert [socket["nsp"] for socket in sockets] == ["/admin"]
            pings = Inbox()
            async with connected(url) as client:
                client.on("ping", pings.put)
                sid = client.get_sid("/")
                [(socket, _)] = await feed.wait_for("socket_connected", lambda s, _t: s["id"] == sid)
                assert (socket["nsp"], socket["transport"]) == ("/", "websocket")
                for message in ("a", "b"):
                    assert await client.call("ping", {"message": message}, timeout=TIMEOUT) == {
                        "reply": message
                    }
                received = await feed.wait_for("event_received", of(sid), count=2)
                assert [(ns, s, event) for ns, s, event, _ in received] == [
                    ("/", sid, ["ping", {"message": "a"}]),
                    ("/", sid, ["ping", {"message": "b"}]),
                ]
                for message in ("c", "d"):  # the second emit of a model class takes the fast path
                    await emit_ping(kind, server, message, sid)
                    assert await pings.get() == {"message": message}
                sent = await feed.wait_for("event_sent", of(sid), count=2)
                assert [(ns, s, event) for ns, s, event, _ in sent] == [
                    ("/", sid, ["ping", {"message": "c"}]),
                    ("/", sid, ["ping", {"message": "d"}]),
                ]
                [(stats,)] = await feed.wait_for(
                    "server_stats",
                    lambda st: (
                        {n["name"]: n["socketsCount"] for n in st["namespaces"]} == {"/": 1, "/admin": 1}
                    ),
                )
                assert stats["clientsCount"] == 2
            [disconnected] = await feed.wait_for("socket_disconnected", of(sid))
            assert disconnected[0] == "/"
            await feed.wait_for("server_stats", count=len(feed.all("server_stats")) + 1)
            totals = feed.aggregated()
            assert totals["rawConnection"] == 2
            assert totals["rawDisconnection"] == 1
            # in: the admin's connect (a POST), its upgrade's probe and UPGRADE, the client's
            # connect and its two events; out: at least as many, and every report sent to the admin
            assert totals["packetsIn"] >= 6
            assert totals["packetsOut"] >= 12
            assert totals["bytesIn"] > 0
            assert totals["bytesOut"] > 0
            assert [e for e in feed.all("event_received") if e[1] != sid] == []
    finally:
        await admin.shutdown()


@pytest.mark.parametrize("kind", KINDS)
async def test_the_admin_ui_acts_on_a_wrapped_server(live_server: LiveServer, kind: Kind) -> None:
    """The admin namespace's own commands reach the clients: ``emit`` sends an event to them and
    ``join`` puts them in a room, which is reported as ``room_joined``."""
    server, sio = ping_server(kind)
    admin = server.instrument(auth=False, server_stats_interval=STATS_INTERVAL)
    try:
        async with serving(sio, live_server) as url, admin_connected(url) as feed:
            await feed.wait_for("all_sockets")
            notes = Inbox()
            async with connected(url) as client:
                client.on("note", notes.put)
                sid = client.get_sid("/")
                await feed.wait_for("socket_connected", lambda s, _t: s["id"] == sid)
                await feed.client.emit("emit", ("/", sid, "note", {"n": 1}), namespace="/admin")
                assert await notes.get() == {"n": 1}
                await feed.client.emit("join", ("/", "lobby", sid), namespace="/admin")
                [joined] = await feed.wait_for("room_joined", lambda ns, room, *_: room == "lobby")
                assert joined[:3] == ("/", "lobby", sid)
                assert sio.manager.get_rooms(sid, "/") == [sid, "lobby"]
    finally:
        await admin.shutdown()


@pytest.mark.parametrize("first", KINDS)
async def test_several_servers_of_a_process_can_be_instrumented(live_server: LiveServer, first: Kind) -> None:
    """A wrapped server instrumented after another server (plain or wrapped) of the same process
    accepts its connections, and each server's stats count its own packets only: the traffic of
    one server leaves the other's packet counts unchanged."""
    one, one_sio = ping_server(first)
    one_admin = one.instrument(auth=False, server_stats_interval=STATS_INTERVAL)
    two, two_sio = ping_server("wrapped")
    two_admin = two.instrument(auth=False, server_stats_interval=STATS_INTERVAL)
    try:
        async with (
            serving(one_sio, live_server) as one_url,
            serving(two_sio, live_server) as two_url,
            admin_connected(one_url) as one_feed,
            admin_connected(two_url) as two_feed,
        ):
            await one_feed.wait_for("all_sockets")
            await two_feed.wait_for("all_sockets")
            for url, feed in ((one_url, one_feed), (two_url, two_feed)):
                async with connected(url) as client:
                    assert await client.call("ping", {"message": url}, timeout=TIMEOUT) == {"reply": url}
                    sid = client.get_sid("/")
                    await feed.wait_for("event_received", of(sid))
            # from the next report of the first server on, only the second one has traffic
            start = len(one_feed.all("server_stats")) + 1
            await one_feed.wait_for("server_stats", count=start)
            two_start = len(two_feed.all("server_stats"))
            async with connected(two_url) as client:
                for n in range(10):
                    assert await client.call("ping", {"message": str(n)}, timeout=TIMEOUT) == {
                        "reply": str(n)
                    }
            await two_feed.wait_for("server_stats", count=len(two_feed.all("server_stats")) + 2)
            await one_feed.wait_for("server_stats", count=len(one_feed.all("server_stats")) + 2)
            assert one_feed.aggregated(after=start).get("packetsIn", 0) == 0
            assert two_feed.aggregated(after=two_start).get("packetsIn", 0) >= 10
            assert {event[1]["message"] for _, _, event, _ in one_feed.all("event_received")} == {one_url}
    finally:
        await one_admin.shutdown()
        await two_admin.shutdown()


async def test_a_plain_server_instrumented_after_a_wrapped_one_accepts_connections(
    live_server: LiveServer,
) -> None:
    """python-socketio's own ``instrument()`` on a plain server, after a wrapped server was
    instrumented, leaves both servers accepting connections and reporting events."""
    wrapped, wrapped_sio = ping_server("wrapped")
    wrapped_admin = wrapped.instrument(auth=False, server_stats_interval=STATS_INTERVAL)
    raw, raw_sio = ping_server("raw")
    raw_admin = raw.instrument(auth=False, server_stats_interval=STATS_INTERVAL)
    try:
        async with serving(wrapped_sio, live_server) as wrapped_url, serving(raw_sio, live_server) as raw_url:
            for url in (wrapped_url, raw_url):
                async with admin_connected(url) as feed, connected(url) as client:
                    assert await client.call("ping", {"message": "m"}, timeout=TIMEOUT) == {"reply": "m"}
                    sid = client.get_sid("/")
                    await feed.wait_for("event_received", of(sid))
                    await feed.wait_for("server_stats", lambda st: st["aggregatedEvents"] != [])
    finally:
        await wrapped_admin.shutdown()
        await raw_admin.shutdown()


async def test_uninstrument_ends_the_reports_of_one_server_only(live_server: LiveServer) -> None:
    """``uninstrument()`` on one of two instrumented wrapped servers: that one goes on serving its
    clients, and the other goes on counting its packets; so it does after a third server's
    ``instrument()`` without ``auth`` raised, as python-socketio's does."""
    one, one_sio = ping_server("wrapped")
    one_admin = one.instrument(auth=False, server_stats_interval=STATS_INTERVAL)
    two, two_sio = ping_server("wrapped")
    two_admin = two.instrument(auth=False, server_stats_interval=STATS_INTERVAL)
    one_admin.uninstrument()
    with pytest.raises(ValueError, match="auth must be specified"):
        ping_server("wrapped")[0].instrument()
    try:
        async with serving(one_sio, live_server) as one_url, serving(two_sio, live_server) as two_url:
            async with connected(one_url) as client:
                assert await client.call("ping", {"message": "one"}, timeout=TIMEOUT) == {"reply": "one"}
            async with admin_connected(two_url) as feed, connected(two_url) as client:
                assert await client.call("ping", {"message": "two"}, timeout=TIMEOUT) == {"reply": "two"}
                await feed.wait_for("server_stats", lambda st: st["aggregatedEvents"] != [])
                await feed.wait_for("server_stats", count=len(feed.all("server_stats")) + 1)
                assert feed.aggregated()["packetsIn"] > 0
    finally:
        await one_admin.shutdown()
        await two_admin.shutdown()


class OwnInstrument(socketio.AsyncServer):
    """A server class with an ``instrument()`` of its own."""

    def instrument(self, *args: Any, **kwargs: Any) -> Any:
        return ("own", args, kwargs)


def test_the_wrapper_steps_aside_for_an_instrument_of_the_users_or_a_moved_internal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server class overriding ``instrument()`` keeps its own, without a warning; when engine.io's
    socket class lacks a method the wrapper's instrumentation follows, one warning names the patch
    and python-socketio's own ``instrument()`` runs, replacing engine.io's methods itself."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert wrap(OwnInstrument()).instrument(auth=False) == ("own", (), {"auth": False})
    monkeypatch.delattr(AsyncSocket, "_send_ping")
    with pytest.warns(RuntimeWarning, match=r"patch 'admin_instrumentation'.*has no '_send_ping'"):
        tsio = new_server()  # checked when wrap() runs
    assert not tsio.patches["admin_instrumentation"]
    admin = tsio.instrument(auth=False, mode="production")  # which needs no _send_ping
    assert (admin.sio, admin.mode) == (tsio.sio, "production")
    assert isinstance(vars(AsyncSocket)["handle_post_request"], functools.partialmethod)


class SyncFeed:
    """Everything a synchronous client of the admin namespace receives, from its threads."""

    def __init__(self) -> None:
        self.events: queue.Queue[tuple[Any, ...]] = queue.Queue()

    def record(self, event: str, *args: Any) -> None:
        self.events.put((event, *args))

    def wait_for(self, event: str, match: Callable[..., bool] = lambda *args: True) -> tuple[Any, ...]:
        """The arguments of the next ``event`` that ``match``, waiting at most ``TIMEOUT`` for each."""
        while True:
            name, *args = self.events.get(timeout=TIMEOUT)
            if name == event and match(*args):
                return tuple(args)


def sync_ping_server(kind: Kind) -> tuple[Any, socketio.Server]:
    """``ping_server`` for ``socketio.Server(async_mode="threading")`` and sync handlers."""
    sio = socketio.Server(async_mode="threading")
    if kind == "raw":

        def raw_ping(sid: str, data: dict[str, Any]) -> dict[str, Any]:
            return {"reply": data["message"]}

        sio.on("ping", raw_ping)
        return sio, sio
    tsio = wrap(sio)

    @tsio.on(Ping)
    def ping(sid: str, ping: Ping) -> Pong:
        return Pong(reply=ping.message)

    return tsio, sio


def counts(kind: str) -> Callable[[dict[str, Any]], bool]:
    """A ``server_stats`` match: the report counts packets of ``kind`` (``"packetsIn"``...)."""
    return lambda stats: any(entry["type"] == kind for entry in stats["aggregatedEvents"])


@pytest.mark.parametrize("kind", KINDS)
def test_a_sync_server_is_instrumented_in_memory(kind: Kind) -> None:
    """A ``socketio.Server`` (``async_mode="threading"``) connected in memory, without a web
    server: the admin namespace gets its configuration and the client of ``/``, and the event a
    typed handler takes is reported as received, as on a plain server."""
    server, sio = sync_ping_server(kind)
    admin = server.instrument(auth=False, server_stats_interval=STATS_INTERVAL)
    feed = SyncFeed()
    try:
        watcher = TestClient(sio, namespaces=["/admin"])
        watcher.client.sio.on("*", feed.record, namespace="/admin")
        with watcher:
            (config,) = feed.wait_for("config")
            assert "ALL_EVENTS" in config["supportedFeatures"]
            with TestClient(sio) as client:
                sid = client.get_sid("/")
                socket, _ = feed.wait_for("socket_connected", lambda s, _t: s["id"] == sid)
                assert socket["nsp"] == "/"
                assert client.call("ping", {"message": "s"}, timeout=TIMEOUT) == {"reply": "s"}
                namespace, who, event, _ = feed.wait_for("event_received", of(sid))
                assert (namespace, who, event) == ("/", sid, ["ping", {"message": "s"}])
    finally:
        admin.shutdown()


def test_two_sync_servers_of_a_process_can_be_instrumented() -> None:
    """Two ``socketio.Server``s served by werkzeug (threads; websockets through simple-websocket),
    a plain one instrumented first and a wrapped one after it: both accept websocket clients,
    report the events their handlers take, and count the packets (python-socketio's sync client
    polls through ``requests``, which the dev extra does not install)."""
    raw, raw_sio = sync_ping_server("raw")
    wrapped, wrapped_sio = sync_ping_server("wrapped")
    admins = [
        server.instrument(auth=False, server_stats_interval=STATS_INTERVAL) for server in (raw, wrapped)
    ]
    try:
        with (
            serve_wsgi(socketio.WSGIApp(raw_sio)) as raw_url,
            serve_wsgi(socketio.WSGIApp(wrapped_sio)) as url,
        ):
            for base in (raw_url, url):
                feed = SyncFeed()
                watcher = socketio.Client(reconnection=False)
                watcher.on("*", feed.record, namespace="/admin")
                watcher.connect(base, namespaces=["/admin"], transports=["websocket"], wait_timeout=TIMEOUT)
                client = socketio.Client(reconnection=False)
                try:
                    feed.wait_for("all_sockets")
                    client.connect(base, transports=["websocket"], wait_timeout=TIMEOUT)
                    sid = client.get_sid("/") or ""
                    assert client.call("ping", {"message": "m"}, timeout=TIMEOUT) == {"reply": "m"}
                    feed.wait_for("event_received", of(sid))
                    feed.wait_for("server_stats", counts("packetsIn"))
                finally:
                    client.disconnect()
                    watcher.disconnect()
    finally:
        for admin in admins:
            admin.shutdown()


class RecordingManager(socketio.AsyncManager):
    """A client manager that records the events it is asked to emit."""

    def __init__(self) -> None:
        super().__init__()
        self.emitted: list[tuple[str, Any]] = []

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> Any:
        self.emitted.append((event, data))
        return await super().emit(
            event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kwargs
        )


@pytest.mark.parametrize("kind", KINDS)
async def test_a_client_manager_swapped_in_after_registration_carries_emits_to_a_sid(
    live_server: LiveServer, kind: Kind
) -> None:
    """A client manager set after the handlers were registered (as a lifespan does:
    ``manager.set_server(...)``, then ``server.manager = manager``) carries the server's
    ``emit(..., to=sid)``, the first and the later ones of a model class alike."""
    server, sio = ping_server(kind)
    manager = RecordingManager()
    manager.set_server(sio)
    server.manager = manager
    async with serving(sio, live_server) as url, connected(url) as client:
        pings = Inbox()
        client.on("ping", pings.put)
        sid = client.get_sid("/") or ""
        for message in ("a", "b"):
            await emit_ping(kind, server, message, sid)
            assert await pings.get() == {"message": message}
    assert manager.emitted == [("ping", {"message": "a"}), ("ping", {"message": "b"})]


# -- server options ----------------------------------------------------------------------------------


def connect_server(kind: Kind, **options: Any) -> tuple[Any, socketio.AsyncServer]:
    """A ``ping_server`` whose connect handler refuses ``auth={"let": "out"}`` and otherwise emits
    ``welcome`` to the new client from inside the handler."""
    server, sio = ping_server(kind, **options)

    async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any] | None = None) -> None:
        if auth == {"let": "out"}:
            raise ConnectionRefusedError("no")
        await server.emit("welcome", {"to": sid}, to=sid)

    server.on("connect", connect)  # a plain handler on the plain server, a typed one on the wrapper
    return server, sio


def watched_client() -> tuple[socketio.AsyncClient, Inbox]:
    """A client recording its ``connect``, ``disconnect`` (with the reason) and ``welcome`` events."""
    client = socketio.AsyncClient(reconnection=False)
    seen = Inbox()
    client.on("connect", lambda: seen.put(("connect",)))
    client.on("disconnect", lambda reason: seen.put(("disconnect", reason)))
    client.on("connect_error", lambda data: seen.put(("connect_error", data)))
    client.on("welcome", lambda data: seen.put(("welcome", data)))
    return client, seen


@pytest.mark.parametrize("kind", KINDS)
async def test_always_connect_connects_before_the_connect_handler_runs(
    live_server: LiveServer, kind: Kind
) -> None:
    """With ``always_connect=True`` the client is connected before the connect handler runs: an
    emit from the handler reaches it, events work, and a handler that refuses disconnects a client
    that was connected, where the default refuses the connection itself."""
    for always_connect in (True, False):
        _, sio = connect_server(kind, always_connect=always_connect)
        async with serving(sio, live_server) as url:
            client, seen = watched_client()
            await client.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
            try:
                first = [await seen.get(), await seen.get()]
                assert sorted(first) == [("connect",), ("welcome", {"to": client.get_sid("/")})]
                assert await client.call("ping", {"message": "in"}, timeout=TIMEOUT) == {"reply": "in"}
            finally:
                await client.disconnect()
            refused, seen = watched_client()
            if always_connect:
                await refused.connect(
                    url, transports=["websocket"], auth={"let": "out"}, wait_timeout=TIMEOUT
                )
                assert [await seen.get(), await seen.get()] == [
                    ("connect",),
                    ("disconnect", refused.reason.SERVER_DISCONNECT),
                ]
                await refused.wait()
            else:
                with pytest.raises(socketio.exceptions.ConnectionError):
                    await refused.connect(
                        url, transports=["websocket"], auth={"let": "out"}, wait_timeout=TIMEOUT
                    )
                assert await seen.get() == ("connect_error", {"message": "Connection refused by server"})
            assert not refused.connected
            assert await seen.nothing_within(0.1)


async def connect_to(url: str, namespaces: list[str]) -> socketio.AsyncClient | str:
    """A client connected to ``namespaces``, or the error message of the refusal."""
    client = socketio.AsyncClient(reconnection=False)
    try:
        await client.connect(url, namespaces=namespaces, transports=["websocket"], wait_timeout=TIMEOUT)
    except socketio.exceptions.ConnectionError as exc:
        return str(exc)
    return client


@pytest.mark.parametrize("kind", KINDS)
async def test_a_namespaces_list_admits_its_namespaces_and_those_with_handlers(
    live_server: LiveServer, kind: Kind
) -> None:
    """``namespaces=["/", "/open"]``: a client connects to those and to a namespace with a handler,
    typed handlers answer on ``/`` and on that namespace, and any other namespace is refused."""
    server, sio = ping_server(kind, namespaces=["/", "/open"])
    if kind == "raw":
        sio.on("ping", lambda sid, data: {"typed": data["message"]}, namespace="/typed")
    else:

        @server.on(Ping, namespace="/typed")
        def typed_ping(sid: str, ping: Ping) -> dict[str, str]:
            return {"typed": ping.message}

    async with serving(sio, live_server) as url:
        client = await connect_to(url, ["/", "/open", "/typed"])
        assert isinstance(client, socketio.AsyncClient)
        try:
            assert set(client.namespaces) == {"/", "/open", "/typed"}
            assert await client.call("ping", {"message": "root"}, timeout=TIMEOUT) == {"reply": "root"}
            reply = await client.call("ping", {"message": "t"}, namespace="/typed", timeout=TIMEOUT)
            assert reply == {"typed": "t"}
        finally:
            await client.disconnect()
        assert await connect_to(url, ["/closed"]) == "One or more namespaces failed to connect: /closed"


@pytest.mark.parametrize("kind", KINDS)
async def test_a_catch_all_namespaces_option_admits_any_namespace(
    live_server: LiveServer, kind: Kind
) -> None:
    """``namespaces="*"``: a client connects to any namespace; the typed handler of ``/`` answers
    there, and a catch-all namespace handler answers on every other one, with its namespace."""
    server, sio = ping_server(kind, namespaces="*")
    if kind == "raw":
        sio.on("where", lambda namespace, sid, data: [namespace, data], namespace="*")
    else:

        @server.on("where", namespace="*")
        def where(namespace: str, sid: str, data: int) -> list[Any]:
            return [namespace, data]

    async with serving(sio, live_server) as url:
        client = await connect_to(url, ["/", "/anything", "/else"])
        assert isinstance(client, socketio.AsyncClient)
        try:
            assert await client.call("ping", {"message": "r"}, timeout=TIMEOUT) == {"reply": "r"}
            for namespace in ("/anything", "/else"):
                reply = await client.call("where", 3, namespace=namespace, timeout=TIMEOUT)
                assert reply == [namespace, 3]
        finally:
            await client.disconnect()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("async_handlers", [True, False])
async def test_async_handlers_decides_whether_a_clients_events_overlap(
    live_server: LiveServer, kind: Kind, async_handlers: bool
) -> None:
    """``async_handlers=True``: a quick event sent after a slow one is answered first;
    ``async_handlers=False``: the events of a client run one at a time, in order, and the
    server's ``call()`` raises as python-socketio's does."""
    server, sio = ping_server(kind, async_handlers=async_handlers)

    async def slow(sid: str, data: str) -> str:
        await asyncio.sleep(0.3)
        return f"slow {data}"

    def quick(sid: str, data: str) -> str:
        return f"quick {data}"

    server.on("slow", slow)
    server.on("quick", quick)
    async with serving(sio, live_server) as url, connected(url) as client:
        replies = Inbox()
        await client.emit("slow", "1", callback=replies.put)
        await client.emit("quick", "2", callback=replies.put)
        order = [await replies.get(), await replies.get()]
        assert order == (["quick 2", "slow 1"] if async_handlers else ["slow 1", "quick 2"])
        assert await client.call("ping", {"message": "p"}, timeout=TIMEOUT) == {"reply": "p"}
        sid = client.get_sid("/")
        client.on("question", lambda data: f"answer {data}")
        if async_handlers:
            assert await server.call("question", "q", to=sid, timeout=TIMEOUT) == "answer q"
        else:
            with pytest.raises(RuntimeError, match="async_handlers is False"):
                await server.call("question", "q", to=sid, timeout=TIMEOUT)


class Room(socketio.AsyncNamespace):
    """A class-based namespace: it records its connects and disconnects, echoes, and emits."""

    def __init__(self, namespace: str, seen: Inbox) -> None:
        super().__init__(namespace)
        self.seen = seen

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        self.seen.put(("connect", auth))

    async def on_disconnect(self, sid: str, reason: str) -> None:
        self.seen.put(("disconnect", reason))

    async def on_echo(self, sid: str, data: Any) -> Any:
        return data

    async def on_shout(self, sid: str, data: str) -> None:
        await self.emit("shouted", data.upper(), to=sid)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_class_based_namespace_registered_on_the_wrapper(live_server: LiveServer, kind: Kind) -> None:
    """``register_namespace(Room("/room"))``: its ``on_connect`` gets the client's auth, its
    ``on_echo`` answers, its ``emit`` reaches the client, its ``on_disconnect`` runs when the server
    disconnects the client from it; the typed handlers of ``/`` and ``/other`` answer next to it."""
    server, sio = ping_server(kind)
    seen = Inbox()
    server.register_namespace(Room("/room", seen))
    if kind == "raw":
        sio.on("ping", lambda sid, data: {"other": data["message"]}, namespace="/other")
    else:

        @server.on(Ping, namespace="/other")
        async def other_ping(sid: str, ping: Ping) -> dict[str, str]:
            return {"other": ping.message}

    async with serving(sio, live_server) as url:
        shouts = Inbox()
        async with connected(url, namespaces=["/", "/room", "/other"], auth={"token": "t"}) as client:
            client.on("shouted", shouts.put, namespace="/room")
            assert await seen.get() == ("connect", {"token": "t"})
            assert await client.call("echo", {"x": [1, 2]}, namespace="/room", timeout=TIMEOUT) == {
                "x": [1, 2]
            }
            await client.emit("shout", "hey", namespace="/room")
            assert await shouts.get() == "HEY"
            assert await client.call("ping", {"message": "r"}, timeout=TIMEOUT) == {"reply": "r"}
            reply = await client.call("ping", {"message": "o"}, namespace="/other", timeout=TIMEOUT)
            assert reply == {"other": "o"}
            await server.disconnect(client.get_sid("/room"), namespace="/room")
            assert await seen.get() == ("disconnect", sio.reason.SERVER_DISCONNECT)
            assert await client.call("ping", {"message": "after"}, timeout=TIMEOUT) == {"reply": "after"}


async def test_an_instrumented_wrapped_server_keeps_its_websocket_loop(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the admin instrumentation on, the wrapper's websocket loop (and its outbound bound)
    still serves every websocket, and the instrumentation still counts its packets."""
    from zndraw_socketio.transport import websocket_loop as loop_module

    served: list[str] = []
    original = loop_module.serve_websocket

    async def counting(socket: Any, ws: Any) -> None:
        served.append(socket.sid)
        await original(socket, ws)

    monkeypatch.setattr(loop_module, "serve_websocket", counting)
    server, sio = ping_server("wrapped")
    admin = server.instrument(auth=False, server_stats_interval=STATS_INTERVAL)
    try:
        async with serving(sio, live_server) as url, admin_connected(url) as feed:
            async with connected(url) as client:
                assert await client.call("ping", {"message": "x"}, timeout=TIMEOUT) == {"reply": "x"}
            await feed.wait_for("server_stats", count=len(feed.all("server_stats")) + 1)
            assert feed.aggregated()["packetsIn"] >= 3
        assert len(served) >= 2  # the admin's connection after its upgrade, and the client's
    finally:
        await admin.shutdown()
