"""The hypothesis strategies of the property-based suite (``test_reliability_properties.py``):
hostile payloads for its typed handlers."""

from __future__ import annotations

import json
import math
import os
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from tests.support.reliability_oracle import _BIG, _BIG_NEGATIVE, CASES, MARK, MAX_NEST
from zndraw_socketio.transport.codec import MAX_DEPTH, MAX_INT_DIGITS

# -- strategies -------------------------------------------------------------------------------------
EDGE_PIECES = [
    "\x00",
    "\x1f",
    "\u202e",  # right-to-left override
    "\u200f",  # right-to-left mark
    "\u061c",
    "שלום",
    "مرحبا",
    "\ufeff",  # byte order mark
    "e\u0301",  # a combining accent
    "😀",
    "👩\u200d👩\u200d👧",  # a zero-width-joiner sequence
    "\U0001d54f",  # a letter outside the basic plane
    "\uffff",
    "\ud800",  # lone surrogates: the standard library sends them escaped
    "\udfff",
    "\\ud83d",  # the text of an escape, not one
    '"',
    "\\",
    "\n",
    "1" * (MAX_INT_DIGITS + 5),  # a long run of digits inside a string: not an integer
]
pieces = st.one_of(st.sampled_from(EDGE_PIECES), st.text(max_size=4))
plain_text = st.lists(pieces, max_size=8).map("".join)
value_text = plain_text.map(lambda text: text + MARK)
FIELD_NAMES = [
    "title",
    "layers",
    "meta",
    "version",
    "name",
    "points",
    "tags",
    "x",
    "y",
    "label",
    "_placeholder",
    "num",
]
keys = st.one_of(st.sampled_from(FIELD_NAMES), plain_text)


def _repeated(piece: str, size: int) -> str:
    unit = max(1, len(json.dumps(piece)) - 2)
    return (piece + MARK) * max(1, size // (unit + len(MARK)))


huge_text = st.builds(_repeated, st.sampled_from(["x", "ab", *EDGE_PIECES]), st.integers(1_000, 400_000))
big_ints = st.one_of(
    st.sampled_from(
        [_BIG - 1, _BIG, _BIG_NEGATIVE + 1, _BIG_NEGATIVE, -_BIG + 1, 2**63, -(2**63) - 1, 2**64]
    ),
    st.integers(min_value=10**90, max_value=10**110),
    st.integers(min_value=-(10**110), max_value=-(10**90)),
    st.integers(min_value=_BIG, max_value=10**4_000),
)
floats = st.one_of(
    st.floats(), st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 5e-324, 1.7976931348623157e308])
)
numbers = st.one_of(floats, st.integers(-1_000, 1_000))
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.integers(),
    floats,
    value_text,
    st.binary(max_size=32),
)
"""Small values of every JSON kind, bytes included (big integers are drawn apart: one among the
leaves of every nested value would get most cases refused whole)."""
json_values = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=16,
)


def _nest(depth: int, lists: list[bool], leaf: Any) -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if lists[level % len(lists)] else {"k": value}
    return value


nest_depths = st.one_of(st.integers(0, MAX_NEST), st.sampled_from(range(MAX_DEPTH - 6, MAX_DEPTH + 3)))
deep = st.builds(_nest, nest_depths, st.lists(st.booleans(), min_size=1, max_size=3), leaves)


def _filled(item: Any, size: int) -> list[Any]:
    unit = len(json.dumps(item, default=lambda b: "b" * 40)) + 1
    return [item] * max(1, size // unit)


huge_lists = st.builds(_filled, st.one_of(leaves, json_values), st.integers(1_000, 400_000))
placeholders = st.fixed_dictionaries(
    {"_placeholder": st.one_of(st.just(True), leaves), "num": st.one_of(st.integers(-3, 3), leaves)}
)
"""The sender's own imitation of python-socketio's binary placeholder object."""
hostile = st.one_of(
    json_values, leaves, json_values, leaves, deep, huge_lists, huge_text, placeholders, big_ints
)
"""Anything at all, the big and deep kinds included."""

points = st.fixed_dictionaries({"x": numbers, "y": numbers}, optional={"label": value_text})
layers = st.fixed_dictionaries(
    {
        "name": value_text,
        "points": st.one_of(
            st.lists(points, max_size=4), st.builds(_filled, points, st.integers(1_000, 300_000))
        ),
    },
    optional={"tags": st.dictionaries(keys, st.integers(-100, 100), max_size=3)},
)
scenes = st.fixed_dictionaries(
    {
        "title": st.one_of(value_text, value_text, value_text, huge_text),
        "layers": st.lists(layers, max_size=3),
    },
    optional={
        "meta": st.one_of(
            st.none(), st.dictionaries(keys, st.one_of(json_values, json_values, deep), max_size=3)
        ),
        "version": st.one_of(st.integers(), big_ints, value_text),
    },
)


def _slots(value: Any) -> list[tuple[Any, Any]]:
    """(container, key) for every child of the containers in ``value`` (the first 20 of each)."""
    found: list[tuple[Any, Any]] = []
    stack = [value]
    while stack and len(found) < 500:
        item = stack.pop()
        if isinstance(item, dict):
            children = list(item.items())[:20]
        elif isinstance(item, list):
            children = list(enumerate(item))[:20]
        else:
            continue
        for key, child in children:
            found.append((item, key))
            stack.append(child)
    return found


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[Any]) -> Any:
    """A value of ``base`` with 0 to 3 mutations: a child replaced by anything (a wrong type, a
    huge or deep value), deleted (a missing field), wrapped in a list, or a key added (an extra
    field); or the whole value replaced."""
    value = draw(base)
    for _ in range(draw(st.integers(0, 3))):
        slots = _slots(value)
        operation = draw(st.sampled_from(["replace", "delete", "wrap", "add", "root"]))
        if operation == "root" or not slots:
            value = draw(hostile)
            continue
        container, key = slots[draw(st.integers(0, len(slots) - 1))]
        if operation == "replace":
            container[key] = draw(hostile)
        elif operation == "wrap":
            container[key] = [container[key]]
        elif operation == "delete" and isinstance(container, dict):
            del container[key]
        elif isinstance(container, dict):
            container[draw(keys)] = draw(hostile)
        else:
            container.append(draw(hostile))
    return value


@st.composite
def arity(draw: st.DrawFn, args: list[Any]) -> list[Any]:
    """``args`` as they are (mostly), cut short, or with extra positional arguments."""
    kind = draw(st.sampled_from(["as is"] * 5 + ["fewer", "extra", "many extra"]))
    if kind == "fewer":
        return args[: draw(st.integers(0, max(0, len(args) - 1)))]
    if kind == "extra":
        return args + draw(st.lists(st.one_of(leaves, json_values), min_size=1, max_size=3))
    if kind == "many extra":
        return args + [draw(leaves)] * draw(st.integers(4, 1_000))
    return args


def _sometimes_wrong(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, strategy, strategy, hostile)


@st.composite
def scene_cases(draw: st.DrawFn) -> tuple[str, list[Any]]:
    return "scene", draw(arity([draw(mutated(scenes))]))


@st.composite
def parameter_cases(draw: st.DrawFn) -> tuple[str, list[Any]]:
    if draw(st.booleans()):
        args = [
            draw(mutated(scenes)),
            draw(_sometimes_wrong(st.integers(-4, 4))),
            draw(_sometimes_wrong(numbers)),
        ]
        if draw(st.booleans()):
            args.append(draw(_sometimes_wrong(st.booleans())))
        return "place", draw(arity(args))
    dividends = st.one_of(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6), st.integers(), big_ints)
    args = [draw(_sometimes_wrong(dividends)), draw(_sometimes_wrong(st.integers(-3, 3)))]
    return "divide", draw(arity(args))


binaries = st.one_of(
    st.binary(max_size=64),
    st.builds(lambda n, byte: bytes([byte]) * n, st.integers(1_000, 400_000), st.integers(0, 255)),
)


@st.composite
def blob_cases(draw: st.DrawFn) -> tuple[str, list[Any]]:
    args = [draw(_sometimes_wrong(binaries)), draw(_sometimes_wrong(value_text))]
    if draw(st.booleans()):
        mixed = st.lists(st.one_of(binaries, placeholders, leaves, json_values), max_size=5)
        chunks = st.one_of(st.lists(binaries, max_size=5), st.lists(binaries, max_size=5), mixed)
        args.append(draw(_sometimes_wrong(chunks)))
    return "blob", draw(arity(args))


_NO_SHRINK = [phase for phase in Phase if phase is not Phase.shrink]
SETTINGS = settings(
    max_examples=CASES,
    deadline=None,
    database=None,  # nothing written into the work tree; a failure prints its reproduction blob
    print_blob=True,
    # a case that fails by timing out would take minutes to shrink: a failure is reported as
    # drawn (with its reproduction blob) unless ZNDRAW_RELIABILITY_SHRINK=1
    phases=list(Phase) if os.environ.get("ZNDRAW_RELIABILITY_SHRINK") == "1" else _NO_SHRINK,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)
