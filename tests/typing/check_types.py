"""Static typing of the public faces, checked by pyright (``.ci/run``); never run by pytest.

Each ``assert_type`` states what a type checker must infer: ``call(..., response_model=Pong)`` is a
``Pong``, a union response model is that union, ``receive(Pong)`` is ``tuple[str, Pong]`` and
``wrap()`` returns the face of what it wraps. The functions are defined, never called, and the
module's body is guarded, so importing it does nothing.
"""

from typing import TYPE_CHECKING, Any, Literal, assert_type

if TYPE_CHECKING:
    import socketio
    from pydantic import BaseModel

    from zndraw_socketio import (
        AsyncClientWrapper,
        AsyncManagerWrapper,
        AsyncServerWrapper,
        AsyncSimpleClientWrapper,
        ManagerWrapper,
        ProblemDetail,
        SimpleClientWrapper,
        SyncClientWrapper,
        SyncServerWrapper,
        wrap,
    )

    class Ping(BaseModel):
        message: str

    class Pong(BaseModel):
        reply: str

    class Response(BaseModel):
        kind: Literal["response"] = "response"
        data: str

    def check_wrap() -> None:
        assert_type(wrap(socketio.AsyncServer()), AsyncServerWrapper)
        assert_type(wrap(socketio.AsyncClient()), AsyncClientWrapper)
        assert_type(wrap(socketio.Server()), SyncServerWrapper)
        assert_type(wrap(socketio.Client()), SyncClientWrapper)
        assert_type(wrap(socketio.AsyncSimpleClient()), AsyncSimpleClientWrapper)
        assert_type(wrap(socketio.SimpleClient()), SimpleClientWrapper)
        assert_type(wrap(socketio.AsyncRedisManager("redis://", write_only=True)), AsyncManagerWrapper)
        assert_type(wrap(socketio.RedisManager("redis://", write_only=True)), ManagerWrapper)
        assert_type(wrap(socketio.AsyncServer(), middleware=[]), AsyncServerWrapper)

    async def check_async_server(tsio: AsyncServerWrapper) -> None:
        assert_type(await tsio.call(Ping(message="m"), response_model=Pong, to="sid"), Pong)
        assert_type(await tsio.call("my-ping", Ping(message="m"), response_model=Pong, to="sid"), Pong)
        assert_type(
            await tsio.call(Ping(message="m"), response_model=Response | ProblemDetail, to="sid"),
            Response | ProblemDetail,
        )
        assert_type(await tsio.call("event", {"payload": 1}, to="sid"), Any)
        assert_type(tsio(), AsyncServerWrapper)

    async def check_async_client(tsio: AsyncClientWrapper) -> None:
        assert_type(await tsio.call(Ping(message="m"), response_model=Pong), Pong)
        assert_type(await tsio.call("my-ping", Ping(message="m"), response_model=Pong), Pong)
        assert_type(
            await tsio.call(Ping(message="m"), response_model=Response | ProblemDetail),
            Response | ProblemDetail,
        )
        assert_type(await tsio.call("event", {"payload": 1}), Any)

    def check_sync_server(tsio: SyncServerWrapper) -> None:
        assert_type(tsio.call(Ping(message="m"), response_model=Pong, to="sid"), Pong)
        assert_type(tsio.call("my-ping", Ping(message="m"), response_model=Pong, to="sid"), Pong)
        assert_type(
            tsio.call(Ping(message="m"), response_model=Response | ProblemDetail, to="sid"),
            Response | ProblemDetail,
        )
        assert_type(tsio.call("event", {"payload": 1}, to="sid"), Any)
        assert_type(tsio(), SyncServerWrapper)

    def check_sync_client(tsio: SyncClientWrapper) -> None:
        assert_type(tsio.call(Ping(message="m"), response_model=Pong), Pong)
        assert_type(tsio.call("my-ping", Ping(message="m"), response_model=Pong), Pong)
        assert_type(
            tsio.call(Ping(message="m"), response_model=Response | ProblemDetail),
            Response | ProblemDetail,
        )
        assert_type(tsio.call("event", {"payload": 1}), Any)

    async def check_async_simple_client(tsio: AsyncSimpleClientWrapper) -> None:
        assert_type(await tsio.call(Ping(message="m"), response_model=Pong, timeout=5), Pong)
        assert_type(await tsio.call("my-ping", Ping(message="m"), response_model=Pong), Pong)
        assert_type(
            await tsio.call(Ping(message="m"), response_model=Response | ProblemDetail),
            Response | ProblemDetail,
        )
        assert_type(await tsio.receive(Pong), tuple[str, Pong])
        assert_type(await tsio.receive(response_model=Pong, timeout=5), tuple[str, Pong])
        assert_type(await tsio.receive(Response | ProblemDetail), tuple[str, Response | ProblemDetail])
        assert_type(await tsio.receive(), tuple[str, Any])
        async with tsio as entered:
            assert_type(entered, AsyncSimpleClientWrapper)

    def check_simple_client(tsio: SimpleClientWrapper) -> None:
        assert_type(tsio.call(Ping(message="m"), response_model=Pong, timeout=5), Pong)
        assert_type(tsio.call("my-ping", Ping(message="m"), response_model=Pong), Pong)
        assert_type(
            tsio.call(Ping(message="m"), response_model=Response | ProblemDetail),
            Response | ProblemDetail,
        )
        assert_type(tsio.receive(Pong), tuple[str, Pong])
        assert_type(tsio.receive(response_model=Pong, timeout=5), tuple[str, Pong])
        assert_type(tsio.receive(Response | ProblemDetail), tuple[str, Response | ProblemDetail])
        assert_type(tsio.receive(), tuple[str, Any])
        with tsio as entered:
            assert_type(entered, SimpleClientWrapper)

    async def check_async_manager(tsio: AsyncManagerWrapper) -> None:
        await tsio.emit(Ping(message="m"), room="room1")
        await tsio.emit("my-ping", Ping(message="m"))

    def check_manager(tsio: ManagerWrapper) -> None:
        tsio.emit(Ping(message="m"), room="room1")
        tsio.emit("my-ping", Ping(message="m"))

    async def check_handlers(tsio: SyncServerWrapper, atsio: AsyncServerWrapper) -> None:
        @tsio.on(Ping)
        def handle(sid: str, data: Ping) -> Pong:
            return Pong(reply=data.message)

        @atsio.event
        async def ping(sid: str, data: Ping) -> Pong:
            return Pong(reply=data.message)

        # the decorators hand the function back with its type
        assert_type(handle("sid", Ping(message="m")), Pong)
        assert_type(await ping("sid", Ping(message="m")), Pong)
        assert_type(tsio.app, Any)
