"""A worker process that is not a server: it emits typed ``Notice`` models through a write-only
client manager wrapped with ``wrap()``, then exits.

    python -m tests.support.scale_out_worker --engine redis|rabbitmq --url URL --channel CHANNEL \\
        TARGET=TEXT [TARGET=TEXT ...]

Each ``TARGET=TEXT`` is one ``emit(Notice(text=TEXT, origin="worker"), room=TARGET)``, in order;
the target ``*`` emits to everyone. Prints ``sent <n>`` when every emit has returned.
"""

from __future__ import annotations

import argparse
import asyncio

from tests.support.scale_out_models import Notice
from tests.support.scale_out_node import ENGINES, Engine, close_manager, manager_for
from zndraw_socketio import AsyncManagerWrapper, wrap

EVERYONE = "*"
ORIGIN = "worker"


def parse_target(spec: str) -> tuple[str | None, str]:
    """``ROOM=TEXT`` as ``(room, text)``; the room ``*`` is ``None`` (everyone)."""
    room, sep, text = spec.partition("=")
    if not sep or not room:
        raise argparse.ArgumentTypeError(f"expected TARGET=TEXT, got {spec!r}")
    return (None if room == EVERYONE else room), text


async def send(engine: Engine, url: str, channel: str, targets: list[tuple[str | None, str]]) -> None:
    """Emit one ``Notice`` per target through a wrapped write-only manager, then close it."""
    manager = manager_for(engine, url, channel, write_only=True)
    try:
        tsio = wrap(manager)
        assert isinstance(tsio, AsyncManagerWrapper)
        for room, text in targets:
            await tsio.emit(Notice(text=text, origin=ORIGIN), room=room)
    finally:
        await close_manager(manager)
    print(f"sent {len(targets)}", flush=True)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and send."""
    parser = argparse.ArgumentParser(description="Emit typed notices through a write-only manager (tests).")
    parser.add_argument("--engine", choices=ENGINES, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--channel", required=True)
    parser.add_argument("targets", nargs="+", type=parse_target, metavar="TARGET=TEXT")
    args = parser.parse_args(argv)
    asyncio.run(send(args.engine, args.url, args.channel, args.targets))


if __name__ == "__main__":
    main()
