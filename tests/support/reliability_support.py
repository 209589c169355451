"""Shared pieces of the reliability suite (``tests/test_reliability_*.py``).

The suite has two modes: the default one, sized to run in well under a minute and a half on a
2-core machine, and the long one, selected with ``ZNDRAW_RELIABILITY=long``::

    ZNDRAW_RELIABILITY=long .venv/bin/python -m pytest -m reliability -p no:cacheprovider
"""

from __future__ import annotations

import asyncio
import gc
import os
import re
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import Any

from structlog.typing import EventDict

LONG = os.environ.get("ZNDRAW_RELIABILITY") == "long"
"""True in the long mode (``ZNDRAW_RELIABILITY=long``)."""


def scaled(default: int, long: int) -> int:
    """``long`` in the long mode, ``default`` otherwise."""
    return long if LONG else default


def retained_per_event(
    loop: asyncio.AbstractEventLoop, run: Callable[[int], Awaitable[None]], warm_up: int, events: int
) -> float:
    """Bytes kept per event by ``run(events)`` after ``run(warm_up)``: tracemalloc's traced memory
    before and after, garbage collected both times (the benchmarks' memory figure uses it too)."""
    loop.run_until_complete(run(warm_up))  # caches, the chain's logger, the first tracebacks
    gc.collect()
    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        loop.run_until_complete(run(events))
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / events


def mode_name() -> str:
    """The mode's name, for the figures the tests print."""
    return "long" if LONG else "default"


def rss_kib() -> int:
    """The resident set size of this process, in KiB (``VmRSS`` of ``/proc/self/status``)."""
    with open("/proc/self/status", encoding="ascii") as status:
        match = re.search(r"^VmRSS:\s+(\d+)\s+kB$", status.read(), re.MULTILINE)
    assert match is not None, "no VmRSS line in /proc/self/status"
    return int(match.group(1))


def other_tasks() -> int:
    """How many tasks of the running loop there are besides the current one."""
    current = asyncio.current_task()
    return sum(1 for task in asyncio.all_tasks() if task is not current)


async def settled_tasks(baseline: int, within: float = 2.0) -> int:
    """Wait (at most ``within`` seconds) until the loop has ``baseline`` tasks besides the current
    one again; returns how many it has at the end (``baseline`` when it got there)."""
    deadline = time.monotonic() + within
    count = other_tasks()
    while count != baseline and time.monotonic() < deadline:
        await asyncio.sleep(0.001)
        count = other_tasks()
    return count


def error_entries(logs: list[EventDict]) -> list[EventDict]:
    """The captured entries that report a failure (``outcome="error"``)."""
    return [entry for entry in logs if entry.get("outcome") == "error"]


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``sorted_values`` (nearest rank)."""
    assert sorted_values, "no values"
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


def short(value: Any, limit: int = 300) -> str:
    """``repr(value)`` cut at ``limit`` characters, for assertion messages about huge payloads."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"
