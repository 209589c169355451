"""Shared test fixtures.

Nothing here imports zndraw_socketio: the fixtures serve and reset any ASGI app.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager

import pytest
import redis
import structlog
import uvicorn
from redis.backoff import NoBackoff
from redis.retry import Retry
from starlette.types import ASGIApp

REDIS_URL = "redis://127.0.0.1:6379/0"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"

LiveServer = Callable[[ASGIApp], AbstractAsyncContextManager[str]]
"""What the `live_server` fixture returns: `async with live_server(app) as url: ...`."""


class _InProcessServer(uvicorn.Server):
    """A uvicorn server that leaves the process's signal handlers alone.

    Ctrl-C then interrupts the test run as usual instead of asking the server to shut down.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve_asgi(
    app: ASGIApp,
    *,
    startup_timeout: float = 10.0,
    shutdown_timeout: int = 5,
) -> AsyncIterator[str]:
    """Serve `app` with uvicorn in the running event loop and yield its base URL.

    The listening socket is bound before the server starts, so the port cannot be taken
    by anyone else in between.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="auto",
            timeout_graceful_shutdown=shutdown_timeout,
        )
        server = _InProcessServer(config)

        async def run() -> None:
            # uvicorn reports a failed startup with sys.exit(); an asyncio task would re-raise that
            # SystemExit out of the event loop and end the whole test session.
            try:
                await server.serve(sockets=[sock])
            except SystemExit as exc:
                raise RuntimeError(f"uvicorn failed to start (exit code {exc.code})") from exc

        task = asyncio.create_task(run(), name=f"uvicorn:{port}")
        try:
            async with asyncio.timeout(startup_timeout):
                while not server.started:
                    if task.done():
                        task.result()  # raises the startup error
                        raise RuntimeError("uvicorn stopped before it started serving")
                    await asyncio.sleep(0.01)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            if not task.done():
                # uvicorn bounds its own graceful shutdown by shutdown_timeout; allow a little more.
                # On timeout, wait_for cancels the task and waits for it to finish.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(task, timeout=shutdown_timeout + 2.0)


@pytest.fixture
def live_server() -> LiveServer:
    """Factory serving an ASGI app on 127.0.0.1 in the test's own event loop.

    Usage: ``async with live_server(app) as url: ...`` where ``url`` is ``http://127.0.0.1:PORT``.
    """
    return serve_asgi


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the local Redis; skips the test when none answers (fails instead under CI=true)."""
    # No retries: redis-py's default retry policy stretches a refused connection to seconds.
    client = redis.Redis.from_url(
        REDIS_URL, socket_connect_timeout=1, socket_timeout=1, retry=Retry(NoBackoff(), 0)
    )
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        message = f"no Redis answers at {REDIS_URL}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """URL of the local RabbitMQ; skips the test when none accepts an AMQP connection (fails instead
    under CI=true)."""
    import aio_pika  # the dev extra's; imported here so that other tests need no AMQP client

    async def connect() -> None:
        connection = await asyncio.wait_for(aio_pika.connect(RABBITMQ_URL, timeout=2), 2.5)
        await connection.close()

    # In a thread of its own: a session fixture must not run (or close) an event loop in the
    # thread whose loops pytest-asyncio manages.
    failure: list[BaseException] = []

    def probe() -> None:
        try:
            asyncio.run(connect())
        except Exception as exc:
            failure.append(exc)

    thread = threading.Thread(target=probe, name="rabbitmq-probe", daemon=True)
    thread.start()
    thread.join(5)
    if thread.is_alive() or failure:
        reason = repr(failure[0]) if failure else "no answer within 5 s"
        message = f"no RabbitMQ accepts an AMQP connection at {RABBITMQ_URL}: {reason}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return RABBITMQ_URL


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    """Undo any structlog configuration a test made."""
    yield
    structlog.reset_defaults()


@pytest.fixture(autouse=True)
def _clear_structlog_contextvars() -> Iterator[None]:
    """Start and end every test with no structlog context variables bound."""
    structlog.contextvars.clear_contextvars()
    yield
    structlog.contextvars.clear_contextvars()
