"""Profile one benchmark variant with cProfile, to see where the time per event goes.

    python benchmarks/profile_dispatch.py inbound typed  # raw, floor, typed_3vars, mw1, ratelimit, ...
    python benchmarks/profile_dispatch.py outbound mw1 --events 50000 --top 30

Uses the same stubbed server as ``test_dispatch.py`` and structlog configured as there: debug
filtered out, ``merge_sio_context`` among the processors (``typed_3vars``: structlog's defaults).
cProfile inflates small functions, so compare variants with it, and read absolute costs from the
benchmark itself.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats

from stubbed_runner import stubbed_runner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("direction", choices=["inbound", "outbound"])
    parser.add_argument(
        "variant", help="raw, floor, typed, typed_3vars, mw1, mw3, dep1, dep3, ratelimit, otel, ..."
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--top", type=int, default=25, help="how many functions to list")
    args = parser.parse_args()

    run, close = stubbed_runner(args.direction, args.variant)
    run(1_000)  # warm up: caches, the chain's logger
    profile = cProfile.Profile()
    profile.enable()
    run(args.events)
    profile.disable()
    close()
    stats = pstats.Stats(profile)
    print(f"{args.direction} {args.variant}: {args.events} events")
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
