"""Private broker processes for fault tests: a Redis and a RabbitMQ node of a test's own.

Each broker runs in a process group of its own (``start_new_session=True``) on free loopback
ports, with its data, logs and configuration in a temporary directory, so that a test can kill it
and start it again on the same port without touching the system instances (Redis on 6379,
RabbitMQ on 5672). Usage::

    broker = RedisBroker(tmp_path)
    try:
        await broker.start()
        ...
        broker.kill()
        await broker.start()  # the same port again
    finally:
        broker.kill()

``kill()`` sends SIGKILL to the whole process group (``rabbitmq-server`` is a shell script that
execs ``erl``, which runs ``beam.smp`` and its helpers in that group) and waits for the group
leader; it is safe to call on a broker that is not running.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

REDIS_SERVER = "/usr/bin/redis-server"
RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
"""The real start script: ``/usr/sbin/rabbitmq-server`` switches to the ``rabbitmq`` user and
``cd``s into the system node's directory."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BrokerProcess:
    """A broker in a process group of its own; subclasses say how to start it and when it is up."""

    name = "broker"
    startup_timeout = 10.0

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port if port is not None else free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.log = self.directory / f"{self.name}.log"

    # -- what subclasses provide ----------------------------------------------------------------

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    async def ready(self) -> bool:
        """True once the broker serves clients (one bounded probe)."""
        raise NotImplementedError

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The process group leader's pid while it runs."""
        return self.process.pid if self.process is not None and self.process.poll() is None else None

    @property
    def url(self) -> str:
        raise NotImplementedError

    def output(self) -> str:
        """What the broker wrote to stdout and stderr (for failure messages), the last 4,000 chars."""
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    async def start(self) -> float:
        """Start the broker and wait until it serves; return how long that took, in seconds.

        Raises ``RuntimeError`` with the broker's output if it exits or is not up in time; the
        process group is killed then."""
        self.kill()
        begun = time.perf_counter()
        self.process = self._spawn()
        deadline = begun + self.startup_timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                break
            if await self.ready():
                return time.perf_counter() - begun
            await asyncio.sleep(0.1)
        code = self.process.poll()
        self.kill()
        raise RuntimeError(
            f"{self.name} on port {self.port} did not start within {self.startup_timeout} s "
            f"(exit code {code}); command {self.command()}; output:\n{self.output()}"
        )

    def _spawn(self) -> subprocess.Popen[bytes]:
        """Start the broker in a new session (its own process group), output to the log file."""
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"--- start {self.starts}\n".encode())
            out.flush()
            return subprocess.Popen(
                self.command(),
                cwd=self.directory,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL the broker's process group and reap its leader; a no-op when it is not running."""
        process = self.process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # the leader's pid is the group's id
        with contextlib.suppress(subprocess.TimeoutExpired):  # SIGKILL cannot be ignored
            process.wait(5)
        self.process = None
        self._wait_port_free()

    def _wait_port_free(self, timeout: float = 5.0) -> None:
        """Wait until nothing accepts on the port any more (the group's children die with it)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.settimeout(0.2)
                if sock.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.02)


class RedisBroker(BrokerProcess):
    """``redis-server --port <free> --save "" --appendonly no`` bound to 127.0.0.1."""

    name = "redis"

    def command(self) -> list[str]:
        return [
            REDIS_SERVER,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.directory),
        ]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def ready(self) -> bool:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), 0.5)
        except (OSError, TimeoutError):
            return False
        try:
            writer.write(b"PING\r\n")
            await writer.drain()
            return (await asyncio.wait_for(reader.readline(), 0.5)) == b"+PONG\r\n"
        except (OSError, TimeoutError):
            return False
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class RabbitBroker(BrokerProcess):
    """A RabbitMQ node of its own: name ``zndtest<port>@localhost``, AMQP on a free port, the
    distribution port another free one (on 127.0.0.1), mnesia, logs and configuration in the
    directory, no plugins. It registers its name with the machine's epmd (port 4369), as every
    Erlang node on the host does."""

    name = "rabbitmq"
    startup_timeout = 30.0

    def __init__(self, directory: Path, port: int | None = None) -> None:
        super().__init__(directory, port)
        self.dist_port = free_port()
        self.nodename = f"zndtest{self.port}@localhost"
        (self.directory / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\nloopback_users.guest = true\n"
        )
        (self.directory / "enabled_plugins").write_text("[].\n")
        (self.directory / "rabbitmq-env.conf").write_text("")

    @staticmethod
    def available() -> str | None:
        """Why no private node can be started here, or None."""
        missing = [p for p in (RABBITMQ_SERVER,) if not Path(p).exists()]
        if missing:
            return f"not installed: {missing}"
        if shutil.which("erl") is None and not Path("/usr/lib/erlang/bin/erl").exists():
            return "no Erlang (erl) on this machine"
        return None

    def command(self) -> list[str]:
        return [RABBITMQ_SERVER]

    def environment(self) -> dict[str, str]:
        d = self.directory
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        env.update(
            HOME=str(d),  # the Erlang cookie goes here, not into the user's home
            RABBITMQ_NODENAME=self.nodename,
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_MNESIA_BASE=str(d / "mnesia"),
            RABBITMQ_LOG_BASE=str(d / "log"),
            RABBITMQ_CONFIG_FILE=str(d / "rabbitmq.conf"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(d / "enabled_plugins"),
            RABBITMQ_PLUGINS_EXPAND_DIR=str(d / "plugins-expand"),
            RABBITMQ_CONF_ENV_FILE=str(d / "rabbitmq-env.conf"),  # not the system node's
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}",
        )
        return env

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    async def ready(self) -> bool:
        import aio_pika

        try:
            connection = await asyncio.wait_for(aio_pika.connect(self.url, timeout=1), 1.5)
        except Exception:
            return False
        with contextlib.suppress(Exception):
            await asyncio.wait_for(connection.close(), 1.0)
        return True
