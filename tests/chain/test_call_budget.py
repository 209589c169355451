"""The Python calls the chain adds per event, counted (not timed) on the benchmarks' stubbed server.

A Python frame costs about 0.03 of the dispatch benchmark's ratio on this machine, and a count of
calls does not move with the machine's load: each row holds the number of Python calls per event a
variant makes beyond its reference variant in the same process, so a change that adds a frame to a
hot path fails here and says which path. When a change adds one on purpose, re-measure with
``benchmarks/count_instructions.py`` and the dispatch benchmark and raise the bound with the figures.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
EVENTS = 200


@pytest.fixture(scope="module", autouse=True)
def _benchmarks_importable() -> Iterator[None]:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield
    finally:
        sys.path.remove(str(BENCHMARKS))


def calls_per_event(direction: str, variant: str) -> float:
    """Python function calls (and coroutine resumptions) per event of ``variant``, after a warm-up."""
    runner = importlib.import_module("stubbed_runner")  # benchmarks/, on the path for this module
    run, close = runner.stubbed_runner(direction, variant)
    try:
        run(300)
        calls = 0

        def profile(frame: object, event: str, arg: object) -> None:
            nonlocal calls
            if event == "call":
                calls += 1

        sys.setprofile(profile)
        try:
            run(EVENTS)
        finally:
            sys.setprofile(None)
    finally:
        close()
    return calls / EVENTS


# (direction, variant, reference, at most this many calls per event more than the reference)
BUDGET = [
    ("inbound", "typed", "raw", 4),  # our entry, the invoker, the reply model's __init__, the guard
    ("inbound", "mw1", "typed", 3),  # the middleware's hook, its step, the innermost call_next
    ("inbound", "mw3", "typed", 7),
    ("inbound", "dep1", "typed", 3),  # the dependency, and the step that solves it before the call
    ("inbound", "dep3", "typed", 9),
    ("outbound", "typed", "raw", 1),  # the face's emit (the direct path hands socketio's coroutine back)
    ("outbound", "mw1", "typed", 6),  # the sender, the hook, its step, the innermost call_next, deliver
    ("outbound", "mw3", "typed", 12),
]


@pytest.mark.parametrize(
    ("direction", "variant", "reference", "bound"), BUDGET, ids=[f"{d}-{v}" for d, v, _, _ in BUDGET]
)
def test_calls_per_event_stay_within_budget(direction: str, variant: str, reference: str, bound: int) -> None:
    # the event loop's own calls (a timer check every few dozen events) add a few hundredths
    extra = round(calls_per_event(direction, variant) - calls_per_event(direction, reference))
    assert extra <= bound, f"{direction} {variant}: {extra} calls per event over {reference} (bound {bound})"
    assert extra >= 0 or reference == "raw", (direction, variant, extra)
