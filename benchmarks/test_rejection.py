"""What a rejected payload costs beyond pydantic's own validation: the 422 reply and its log entry.

A hostile payload of ``ITEMS`` wrong list items (330,000 fit in python-socketio's default 1 MB
buffer) makes pydantic report one error per item. The chain then builds the bounded 422 reply and
the log entry's fields (``problems.validation_problem``, ``problems.reported_errors``), listing the
errors of a fail-fast pass over the payload, which the entry notes on the exception
(``fail_fast.note_payload``). Each round validates the payload, then builds both; the summary
prints the medians of the two parts and their ratio (the extra work over pydantic's validation
time) for three payloads: many wrong list items, many extra keys against ``extra="forbid"``
(no list to stop early in: every error is rendered), and both at once. Nothing is asserted on
timings.

Run: ``python -m pytest benchmarks/test_rejection.py -p no:cacheprovider --benchmark-only -s``.
"""

from __future__ import annotations

import os
import statistics
from time import perf_counter
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from zndraw_socketio.payloads.fail_fast import note_payload
from zndraw_socketio.payloads.problems import error_count, reported_errors, validation_problem

QUICK = os.environ.get("ZNDRAW_BENCH_QUICK") == "1"
ITEMS = 33_000 if QUICK else 330_000  # the wrong list items: ~990 KB of JSON
KEYS = 5_000 if QUICK else 50_000  # the extra keys
ROUNDS = 2 if QUICK else 15


class Items(BaseModel):
    items: list[int]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: int = 0


class StrictItems(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[int] = []


_EXTRA = {f"key{i}": i for i in range(KEYS)}
PAYLOADS = {
    "wrong items": (Items, {"items": [""] * ITEMS}, ITEMS),
    "extra keys": (Strict, _EXTRA, KEYS),
    "both": (StrictItems, {"items": [""] * ITEMS, **_EXTRA}, ITEMS + KEYS),
}


@pytest.mark.parametrize("case", list(PAYLOADS))
def test_rejecting_a_hostile_payload(benchmark: Any, capsys: Any, case: str) -> None:
    model, payload, expected = PAYLOADS[case]
    validate = model.__pydantic_validator__.validate_python
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
        note_payload(exc, model, payload)  # what the entry does with a payload that failed
        reply = validation_problem(exc, "items")
        entry = {
            "error_count": error_count(exc),
            "errors": [{"type": e["type"], "loc": e["loc"]} for e in reported_errors(exc)],
        }
        end = perf_counter()
        assert reply["error_count"] == entry["error_count"] == expected
        assert 0 < len(reply["errors"]) <= 10
        validating.append(middle - start)
        rejecting.append(end - middle)

    benchmark.pedantic(one_round, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    valid_s, reject_s = statistics.median(validating), statistics.median(rejecting)
    ratios = sorted(r / v for r, v in zip(rejecting, validating, strict=True))
    with capsys.disabled():
        print(
            f"\nrejection, {case} ({expected} errors): pydantic validation {valid_s * 1e3:.1f} ms, "
            f"422 reply + log entry {reject_s * 1e3:.2f} ms; extra/validation = "
            f"{statistics.median(ratios):.3f} (rounds {ratios[0]:.3f}-{ratios[-1]:.3f})"
        )
