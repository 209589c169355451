"""Instructions per event of benchmark variants, counted by valgrind's callgrind.

    python benchmarks/count_instructions.py inbound typed mw1 ratelimit
    python benchmarks/count_instructions.py outbound typed otel --events 3000

Instruction counts do not move with the machine's load, so two versions of a hot path (or two
variants) compare exactly where wall-clock timings on a shared machine do not. Each variant runs
twice under callgrind, on ``test_dispatch.py``'s stubbed server with the same warm-up: once with
``--events`` events and once with none; the difference over ``--events`` is the count per event.
Needs ``valgrind`` on the PATH; slow (about 50x): a few thousand events are enough.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_COLLECTED = re.compile(r"Collected : (\d+)")
_WARM_UP = 2_000


def _run_inside(direction: str, variant: str, events: int) -> None:
    """The measured process: warm up, then ``events`` events, on the stubbed server."""
    from stubbed_runner import stubbed_runner

    run, _ = stubbed_runner(direction, variant)
    run(_WARM_UP)
    if events:
        run(events)


def _instructions(direction: str, variant: str, events: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={tmp}/out",
            sys.executable,
            __file__,
            "--inside",
            direction,
            variant,
            "--events",
            str(events),
        ]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(_HERE), str(_HERE.parent)]),
            "PYTHONHASHSEED": "0",  # the same hashes, dict layouts and so counts in every run
        }
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("direction", choices=["inbound", "outbound"])
    parser.add_argument("variants", nargs="+", help="raw, floor, typed, mw1, ratelimit, otel, ...")
    parser.add_argument("--events", type=int, default=3_000)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        _run_inside(args.direction, args.variants[0], args.events)
        return
    counts = {}
    for variant in args.variants:
        per_event = (
            _instructions(args.direction, variant, args.events) - _instructions(args.direction, variant, 0)
        ) / args.events
        counts[variant] = per_event
        print(f"{args.direction} {variant}: {per_event:,.0f} instructions per event", flush=True)
    if "typed" in counts:
        for variant, count in counts.items():
            if variant != "typed":
                print(f"  {variant} - typed: {count - counts['typed']:+,.0f}")


if __name__ == "__main__":
    main()
