"""Benchmark plumbing: per-event medians, and the typed-vs-floor ratios printed after the run.

One event costs microseconds, so every benchmark round handles a batch of events inside one
``run_until_complete``, and the ``measure`` fixture keeps the time per event.

A shared machine drifts by tens of percent over seconds, so two things pair what is compared:

- each variant runs in ``REPS`` short chunks that alternate with the other variants
  (``rep0-raw, rep0-floor, rep0-typed, rep1-raw, ...``);
- before each timed round of a variant, the benchmark's untimed ``setup`` runs and times a batch
  of ``raw`` and (for the typed variants) a batch of ``floor``, each on its own server, so every
  round has a raw and a floor round from a few milliseconds earlier.

``pytest_terminal_summary`` prints, per direction, the median time per event of each variant over
all its rounds, and the ratio (variant - raw) / (floor - raw) against the targets, where both
overheads are medians over the variant's own rounds of (round - the raw round just before it) and
(floor round - that raw round). The battery variants (a typed handler behind one of the middlewares
of ``zndraw_socketio.middleware.ratelimit``, ``.prometheus`` and ``.opentelemetry``) also pair every
round with a ``typed`` round run just before it, and print the median of (round - typed round) in
µs per event against their targets. Nothing is asserted on timings.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable

import pytest
from pytest_benchmark.utils import load_timer

QUICK = os.environ.get("ZNDRAW_BENCH_QUICK") == "1"
"""A smoke run (the test suite's): one short chunk per variant, the same summary."""
REPS = 1 if QUICK else 8
"""Chunks per variant, interleaved with the other variants."""
ROUNDS = 3 if QUICK else 25
"""Timed rounds per chunk (``REPS * ROUNDS`` rounds per variant in all)."""
WARMUP_ROUNDS = 0 if QUICK else 2
VARIANTS = ("raw", "floor", "typed")
EXTRA_VARIANTS = {
    "test_inbound": (
        "typed_3vars",
        "mw1",
        "mw3",
        "dep1",
        "dep3",
        "ratelimit",
        "prometheus",
        "otel",
        "raw_codec",
        "default",
    ),
    "test_outbound": ("mw1", "prometheus", "otel", "raw_codec", "default"),
}
"""Variants beside raw/floor/typed: the typed handler with structlog's default processors (three
structlog context variables instead of ``merge_sio_context``'s one), with one and three
pass-through user middlewares, with one async ``Depends`` / a 3-level nested chain, and behind each
battery middleware (``ratelimit``: in memory, a limit never reached; ``prometheus``: a registry of
its own; ``otel``: the API's default no-op providers, no SDK); outbound, the typed emit with one
pass-through user middleware and behind the batteries that see emits."""

TARGETS = {
    ("inbound", "typed"): 1.15,
    ("inbound", "typed_3vars"): 1.3,
    ("inbound", "mw1"): 1.4,
    ("inbound", "mw3"): 1.8,
    ("inbound", "dep1"): 1.5,
    ("inbound", "dep3"): 2.5,
    ("outbound", "typed"): 1.3,
    ("outbound", "mw1"): 1.5,
}
"""Upper bound of (variant - raw) / (floor - raw), per direction and variant."""

BELOW_RAW = {
    ("inbound", "raw_codec"): "reported",
    ("inbound", "default"): 0.0,
    ("outbound", "raw_codec"): "reported",
    ("outbound", "default"): 0.0,
}
"""Upper bound, in µs per event, of (variant - raw) for the codec variants (``raw_codec``: python-
socketio with zndraw_socketio's packet class, printed without a target; ``default``: the typed
handler with ``wrap()``'s defaults, which should cost less than raw python-socketio)."""

REPORTED: dict[tuple[str, str], str] = {}
"""Variants whose ratio is printed without a target: what they show instead."""

OVER_TYPED_TARGETS = {
    ("inbound", "ratelimit"): 2.0,
    ("inbound", "prometheus"): 3.0,
    ("inbound", "otel"): 3.0,
    ("outbound", "prometheus"): 3.0,
    ("outbound", "otel"): 3.0,
}
"""Upper bound, in µs per event, of (variant - typed) for the battery variants."""

# (direction, variant, rep) -> seconds per event, one value per round
_SAMPLES = pytest.StashKey[dict[tuple[str, str, int], list[float]]]()
# (direction, variant) -> per round: (round - raw, floor - raw), seconds per event, from the raw and
# floor rounds run just before it (floor - raw is None for the floor variant itself)
_OVERHEADS = pytest.StashKey[dict[tuple[str, str], list[tuple[float, float | None]]]]()
# (direction, battery variant) -> per round: round - the typed round run just before it, seconds per event
_OVER_TYPED = pytest.StashKey[dict[tuple[str, str], list[float]]]()

Batch = Callable[[], object]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test taking ``rep`` and ``variant`` runs as rep0-raw, rep0-floor, rep0-typed, rep1-raw..."""
    if {"rep", "variant"} <= set(metafunc.fixturenames):
        metafunc.parametrize("rep", range(REPS), ids=lambda r: f"rep{r}")
        metafunc.parametrize("variant", VARIANTS + EXTRA_VARIANTS.get(metafunc.function.__name__, ()))


@pytest.fixture
def measure(benchmark, request: pytest.FixtureRequest) -> Callable[..., None]:
    """``measure(direction, variant, events, run_batch, raw_batch, floor_batch, typed_batch=None)``:
    benchmark ``run_batch``, which handles ``events`` events per call, and keep its time per event
    for the summary. ``raw_batch`` (``None`` for the raw variant itself) and ``floor_batch``
    (``None`` for raw and floor) handle as many events the raw and the hand-written way; they run
    untimed by the benchmark before every round, timed here, as that round's baselines;
    ``typed_batch`` (battery variants) as many through the typed handler, the same way."""
    rep: int = request.node.callspec.params.get("rep", 0)
    timer = load_timer(str(request.config.getoption("benchmark_timer"))).target  # the benchmark's own

    def timed(batch: Batch) -> float:
        start = timer()
        batch()
        return timer() - start

    def run(
        direction: str,
        variant: str,
        events: int,
        run_batch: Batch,
        raw_batch: Batch | None,
        floor_batch: Batch | None,
        typed_batch: Batch | None = None,
    ) -> None:
        baselines: list[tuple[float, float | None]] = []
        typed_rounds: list[float] = []

        def setup() -> None:
            if raw_batch is not None:
                raw = timed(raw_batch)
                baselines.append((raw, timed(floor_batch) if floor_batch is not None else None))
            if typed_batch is not None:
                typed_rounds.append(timed(typed_batch))

        benchmark.group = f"{direction} (ms per round of {events} events)"
        benchmark.extra_info["events_per_round"] = events
        benchmark.pedantic(run_batch, setup=setup, rounds=ROUNDS, warmup_rounds=WARMUP_ROUNDS)
        stats = benchmark.stats
        if stats is None:  # --benchmark-disable: ran once, nothing measured
            return
        times = list(stats.stats.data)
        benchmark.extra_info["median_us_per_event"] = statistics.median(times) / events * 1e6
        config = request.config
        config.stash.setdefault(_SAMPLES, {})[(direction, variant, rep)] = [t / events for t in times]
        if raw_batch is not None:
            paired = zip(times, baselines[-len(times) :], strict=True)  # the last ones: the timed rounds
            overheads = config.stash.setdefault(_OVERHEADS, {}).setdefault((direction, variant), [])
            overheads.extend(
                ((t - raw) / events, None if floor is None else (floor - raw) / events)
                for t, (raw, floor) in paired
            )
        if typed_batch is not None:
            over = config.stash.setdefault(_OVER_TYPED, {}).setdefault((direction, variant), [])
            over.extend(
                (t - typed) / events for t, typed in zip(times, typed_rounds[-len(times) :], strict=True)
            )

    return run


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    samples = config.stash.get(_SAMPLES, {})
    if not samples:
        return
    write = terminalreporter.write_line
    terminalreporter.section("zndraw_socketio: time per event and ratios")
    write("median µs per event over all rounds of each variant; overheads paired round by round:")
    directions = dict.fromkeys(direction for direction, _ in TARGETS)
    for direction in directions:
        extra = tuple(x for d, x in (*TARGETS, *REPORTED, *OVER_TYPED_TARGETS, *BELOW_RAW) if d == direction)
        variants = [v for v in VARIANTS + extra if v]
        variants = list(dict.fromkeys(variants))
        pooled = {
            v: [t for (d, var, _), times in samples.items() if d == direction and var == v for t in times]
            for v in variants
        }
        us = {v: statistics.median(times) * 1e6 for v, times in pooled.items() if times}
        if not us:
            continue
        rounds = min(len(t) for t in pooled.values() if t)
        cells = "  ".join(f"{v} {t:6.2f}" for v, t in us.items())
        write(f"  {direction:<9} {cells}   ({rounds} rounds each)")
        paired = {
            v: pairs for (d, v), pairs in config.stash.get(_OVERHEADS, {}).items() if d == direction and pairs
        }
        for (d, variant), target in (*TARGETS.items(), *REPORTED.items()):
            pairs = paired.get(variant)
            if d != direction or pairs is None:
                continue
            floors = [floor for _, floor in pairs if floor is not None]
            if not floors:
                write(f"  {'':<9} ratio: needs raw, floor and {variant} in the same run")
                continue
            over = statistics.median(t for t, _ in pairs) * 1e6
            floor_over = statistics.median(floors) * 1e6
            ratio = over / floor_over if floor_over > 0 else float("nan")
            if isinstance(target, str):
                verdict = f"reported: {target}"
            else:
                verdict = f"target <= {target:.2f}: {'met' if ratio <= target else 'MISSED'}"
            write(
                f"  {'':<9} ({variant} - raw) / (floor - raw) = {over:.2f} / {floor_over:.2f} = "
                f"{ratio:.2f}   {verdict}"
            )
        for (d, variant), bound in BELOW_RAW.items():
            pairs = paired.get(variant)
            if d != direction or pairs is None:
                continue
            below = statistics.median(t for t, _ in pairs) * 1e6
            verdict = (
                "reported, no target"
                if isinstance(bound, str)
                else f"target < {bound:.2f} µs: {'met' if below < bound else 'MISSED'}"
            )
            write(f"  {'':<9} ({variant} - raw) = {below:.2f} µs per event   {verdict}")
        over_typed = config.stash.get(_OVER_TYPED, {})
        for (d, variant), limit in OVER_TYPED_TARGETS.items():
            rounds_over = over_typed.get((d, variant))
            if d != direction or not rounds_over:
                continue
            median_us = statistics.median(rounds_over) * 1e6
            write(
                f"  {'':<9} ({variant} - typed) = {median_us:.2f} µs per event   "
                f"target <= {limit:.2f} µs: {'met' if median_us <= limit else 'MISSED'}"
            )
