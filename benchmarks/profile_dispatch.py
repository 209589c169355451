"""Profile one benchmark variant with cProfile, to see where the time per event goes.

    python benchmarks/profile_dispatch.py inbound typed  # raw, floor, typed_3vars, mw1, mw3, dep1, dep3
    python benchmarks/profile_dispatch.py outbound mw1 --events 50000 --top 30

Uses the same stubbed server as ``test_dispatch.py`` and structlog configured as there: debug
filtered out, ``merge_sio_context`` among the processors (``typed_3vars``: structlog's defaults).
cProfile inflates small functions, so compare variants with it, and read absolute costs from the
benchmark itself.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import pstats

import structlog
from test_dispatch import StubbedServer, _emitter, _inbound_server

from zndraw_socketio import merge_sio_context


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("direction", choices=["inbound", "outbound"])
    parser.add_argument(
        "variant", choices=["raw", "floor", "typed", "typed_3vars", "mw1", "mw3", "dep1", "dep3"]
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--top", type=int, default=25, help="how many functions to list")
    args = parser.parse_args()

    processors = list(structlog.get_config()["processors"])
    if args.variant != "typed_3vars":
        processors.insert(0, merge_sio_context)
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO), processors=processors
    )
    loop = asyncio.new_event_loop()
    if args.direction == "inbound":
        server = _inbound_server(args.variant)
        loop.run_until_complete(server.connect())

        def run(n: int) -> None:
            loop.run_until_complete(server.receive(n))
    else:
        server = StubbedServer()
        loop.run_until_complete(server.connect())
        emits = _emitter(args.variant, server)

        def run(n: int) -> None:
            loop.run_until_complete(emits(n))

    run(1_000)  # warm up: caches, the chain's logger
    profile = cProfile.Profile()
    profile.enable()
    run(args.events)
    profile.disable()
    loop.close()
    stats = pstats.Stats(profile)
    print(f"{args.direction} {args.variant}: {args.events} events")
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
