"""What a rejected payload costs beyond pydantic's own validation: the 422 reply and its log entry.

A hostile payload of ``ITEMS`` wrong list items (330,000 fit in python-socketio's default 1 MB
buffer) makes pydantic report one error per item. The chain then builds the bounded 422 reply and
the log entry's fields (``problems.validation_problem``, ``problems.reported_errors``). Each round
validates the payload, then builds both; the summary prints the medians of the two parts and
their ratio (the extra work over pydantic's validation time). Nothing is asserted on timings.

Run: ``python -m pytest benchmarks/test_rejection.py -p no:cacheprovider --benchmark-only -s``.
"""

from __future__ import annotations

import os
import statistics
from time import perf_counter
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from zndraw_socketio.problems import error_count, reported_errors, validation_problem

QUICK = os.environ.get("ZNDRAW_BENCH_QUICK") == "1"
ITEMS = 33_000 if QUICK else 330_000
ROUNDS = 2 if QUICK else 15


class Items(BaseModel):
    items: list[int]


def test_rejecting_a_payload_of_many_wrong_items(benchmark: Any, capsys: Any) -> None:
    validate = TypeAdapter(Items).validator.validate_python
    payload = {"items": [""] * ITEMS}
    validating: list[float] = []
    rejecting: list[float] = []

    def one_round() -> None:
        start = perf_counter()
        try:
            validate(payload)
        except ValidationError as caught:
            exc = caught
        else:  # pragma: no cover - the payload is wrong by construction
            raise AssertionError("the payload validated")
        middle = perf_counter()
        reply = validation_problem(exc, "items")
        entry = {
            "error_count": error_count(exc),
            "errors": [{"type": e["type"], "loc": e["loc"]} for e in reported_errors(exc)],
        }
        end = perf_counter()
        assert reply["error_count"] == entry["error_count"] == ITEMS
        validating.append(middle - start)
        rejecting.append(end - middle)

    benchmark.pedantic(one_round, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    valid_s, reject_s = statistics.median(validating), statistics.median(rejecting)
    ratios = sorted(r / v for r, v in zip(rejecting, validating, strict=True))
    with capsys.disabled():
        print(
            f"\nrejection, {ITEMS} wrong items: pydantic validation {valid_s * 1e3:.1f} ms, "
            f"422 reply + log entry {reject_s * 1e3:.1f} ms; extra/validation = "
            f"{statistics.median(ratios):.2f} (rounds {ratios[0]:.2f}-{ratios[-1]:.2f})"
        )
