"""A payload with more than ``RENDER_LIMIT`` errors is listed from a fail-fast pass over it: the
errors listed are some of pydantic's, in pydantic's order, and the count stays pydantic's."""

from __future__ import annotations

from typing import Annotated, Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AliasChoices, AliasPath, BaseModel, ConfigDict, Field, ValidationError, model_validator
from typing_extensions import TypedDict

from tests.support.helpers import TIMEOUT, Passthrough, new_server
from zndraw_socketio import Depends
from zndraw_socketio.payloads import fail_fast
from zndraw_socketio.payloads.fail_fast import RENDER_LIMIT, fail_fast_validator, note_payload
from zndraw_socketio.payloads.problems import MAX_REPORTED_ERRORS, reported_errors, validation_problem
from zndraw_socketio.testing import TestClient

pytestmark = pytest.mark.timeout(120)


class Leaf(BaseModel):
    x: int
    tags: list[str] = []


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("", validation_alias=AliasChoices("name", "title", AliasPath("meta", "name")))
    size: int = 0


class Shape(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    side: int


class Tree(BaseModel):
    leaves: list[Leaf] = []
    pairs: dict[str, int] = {}
    point: tuple[int, int] = (0, 0)
    kinds: set[int] = set()
    closed: Closed | None = None
    shapes: list[Shape] = []
    children: list[Tree] = []
    bounded: Annotated[list[int], Field(max_length=3)] = []
    mixed: tuple[int, ...] = ()
    sized: Annotated[set[int], Field(min_length=2, max_length=4)] = {0, 1}
    short: Annotated[dict[str, int], Field(max_length=2)] = {}


class Described(BaseModel):
    """A model whose after-validator needs the model's own method, which the twin's stand-in
    does not have."""

    x: int

    @model_validator(mode="after")
    def described(self) -> Described:
        self.describe()
        return self

    def describe(self) -> str:
        return str(self.x)


class Checked(BaseModel):
    items: list[Described]


class Flat(BaseModel):
    a: int
    b: str


def full_and_listed(annotation: Any, payload: Any) -> tuple[ValidationError, list[dict[str, Any]]]:
    with pytest.raises(ValidationError) as caught:
        annotation.model_validate(payload)
    exc = note_payload(caught.value, annotation, payload)
    return exc, reported_errors(exc)


def keys_of(errors: list[dict[str, Any]]) -> list[tuple[str, tuple[Any, ...], str]]:
    return [(e["type"], tuple(e["loc"]), e["msg"]) for e in errors]


def assert_listed_from(exc: ValidationError, listed: list[dict[str, Any]]) -> None:
    """``listed`` is a non-empty, bounded subsequence of all of ``exc``'s errors."""
    everything = keys_of([dict(e, loc=list(e["loc"])) for e in exc.errors(include_url=False)])
    assert 1 <= len(listed) <= MAX_REPORTED_ERRORS
    remaining = iter(everything)
    assert all(key in remaining for key in keys_of(listed)), (keys_of(listed), everything[:20])


def test_thousands_of_wrong_items_are_listed_by_the_first_of_each_list() -> None:
    payload = {
        "leaves": [{"x": "a", "tags": [1, 2]}] * 2_000,
        "pairs": {str(i): "v" for i in range(500)},
        "kinds": ["k"] * 300,
    }
    exc, listed = full_and_listed(Tree, payload)
    assert exc.error_count() == 2_000 * 3 + 500 + 300
    assert [e["loc"] for e in listed] == [
        ["leaves", 0, "x"],
        ["leaves", 0, "tags", 0],
        ["pairs", "0"],
        ["kinds", 0],
    ]
    assert_listed_from(exc, listed)
    problem = validation_problem(exc, "tree")
    assert problem["error_count"] == exc.error_count() and problem["errors"] == listed


def test_extra_keys_are_listed_as_the_first_ones_after_the_fields() -> None:
    extra = {f"key{i}": i for i in range(5_000)}
    payload = {"closed": {"size": "big", "title": "t", **extra}}
    exc, listed = full_and_listed(Tree, payload)
    assert exc.error_count() == 5_001
    # the same as the full rendering's first errors: the field, then the extra keys in order
    assert keys_of(listed) == keys_of(
        [dict(e, loc=list(e["loc"])) for e in exc.errors(include_url=False)[:MAX_REPORTED_ERRORS]]
    )
    # an aliased field given by any of its names is not counted as an extra key
    for named in ({"name": "n"}, {"title": "n"}, {"meta": {"name": "n"}}):
        exc, listed = full_and_listed(Closed, {**named, **extra})
        assert exc.error_count() == 5_000
        assert_listed_from(exc, listed)
        assert all(e["type"] == "extra_forbidden" for e in listed)


def test_a_typed_dict_that_forbids_extra_keys_is_cut_too() -> None:
    payload = {"shapes": [{"side": "s", **{f"k{i}": 0 for i in range(2_000)}}] * 3}
    exc, listed = full_and_listed(Tree, payload)
    assert exc.error_count() == 3 * 2_001
    assert [e["loc"] for e in listed] == [["shapes", 0, "side"], *(["shapes", 0, f"k{i}"] for i in range(9))]


def test_a_validator_the_twin_cannot_run_falls_back_to_the_full_errors() -> None:
    payload = {"items": [{"x": 1}] + [{"x": "a"}] * 2_000}  # the first item runs the after-validator
    _, listed = full_and_listed(Checked, payload)
    assert [e["loc"] for e in listed] == [["items", i, "x"] for i in range(1, MAX_REPORTED_ERRORS + 1)]
    assert Checked.model_validate({"items": [{"x": 2}]}).items[0].describe() == "2"


def test_up_to_the_render_limit_the_first_errors_are_listed() -> None:
    _, listed = full_and_listed(Tree, {"leaves": [{"x": "a"}] * RENDER_LIMIT})
    assert [e["loc"] for e in listed] == [["leaves", i, "x"] for i in range(MAX_REPORTED_ERRORS)]
    _, listed = full_and_listed(Tree, {"leaves": [{"x": "a"}] * (RENDER_LIMIT + 1)})
    assert [e["loc"] for e in listed] == [["leaves", 0, "x"]]


def test_few_errors_and_flat_schemas_are_listed_as_pydantic_reports_them() -> None:
    assert fail_fast_validator(Flat) is None
    assert fail_fast_validator(int) is None
    assert fail_fast_validator(Any) is None
    assert fail_fast_validator(list[int]) is not None
    assert fail_fast_validator(Annotated[list[int], ["unhashable"]]) is not None
    with pytest.raises(ValidationError) as caught:
        Tree.model_validate({"leaves": [{"x": "a"}] * 3})
    exc = note_payload(caught.value, Tree, {"leaves": [{"x": "a"}] * 3})
    assert [e["loc"] for e in reported_errors(exc)] == [["leaves", i, "x"] for i in range(3)]


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text("ab1", max_size=2),
    lambda inner: (
        st.lists(inner, max_size=14) | st.dictionaries(st.text("xkst", max_size=3), inner, max_size=14)
    ),
    max_leaves=24,
)
_tree_like = st.fixed_dictionaries(
    {},
    optional={
        "leaves": st.lists(
            st.fixed_dictionaries({}, optional={"x": _json, "tags": _json}) | _json, max_size=14
        ),
        "pairs": _json,
        "point": _json,
        "kinds": _json,
        "closed": st.dictionaries(
            st.sampled_from(["name", "title", "size", "meta", "zz", "q"]), _json, max_size=14
        )
        | _json,
        "shapes": st.lists(st.dictionaries(st.sampled_from(["side", "a", "b", "c"]), _json), max_size=12),
        "children": st.lists(
            st.fixed_dictionaries({}, optional={"leaves": _json, "pairs": _json}), max_size=4
        ),
        "junk": _json,
        "bounded": _json,
        "mixed": _json,
        "sized": _json,
        "short": _json,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=_tree_like)
def test_the_listing_is_always_some_of_pydantics_errors_in_its_order(payload: dict[str, Any]) -> None:
    try:
        Tree.model_validate(payload)
    except ValidationError as caught:
        # the twin from the 11th error on, so that these small payloads exercise it
        with patch.object(fail_fast, "RENDER_LIMIT", MAX_REPORTED_ERRORS):
            exc = note_payload(caught, Tree, payload)
        listed = reported_errors(exc)
        if exc.error_count() <= MAX_REPORTED_ERRORS:
            assert len(listed) == exc.error_count()
        assert_listed_from(exc, listed)


def items_dependency() -> int:
    return 1


@pytest.mark.parametrize("shape", ["direct", "middleware", "sync", "dependency", "two payloads"])
async def test_every_entry_shape_lists_from_the_fail_fast_pass(shape: str) -> None:
    tsio = new_server()
    if shape == "middleware":
        tsio.add_middleware(Passthrough())
    if shape == "direct" or shape == "middleware":

        @tsio.on("tree")
        async def tree(sid: str, data: Tree) -> int:
            return len(data.leaves)

    elif shape == "sync":

        @tsio.on("tree")
        def tree_sync(sid: str, data: Tree) -> int:
            return len(data.leaves)

    elif shape == "dependency":

        @tsio.on("tree")
        async def tree_dep(sid: str, data: Tree, one: Annotated[int, Depends(items_dependency)]) -> int:
            return len(data.leaves) + one

    else:

        @tsio.on("tree")
        async def tree_two(sid: str, data: Tree, other: int) -> int:
            return len(data.leaves) + other

    payload = {"leaves": [{"x": "a"}] * 2_000}
    args = (payload, 1) if shape == "two payloads" else payload
    async with TestClient(tsio) as client:
        reply = await client.call("tree", args, timeout=TIMEOUT)
    assert reply["status"] == 422 and reply["error_count"] == 2_000
    prefix = ["data"] if shape == "two payloads" else []
    assert [e["loc"] for e in reply["errors"]] == [[*prefix, "leaves", 0, "x"]]


def test_an_annotation_without_a_twin_is_looked_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    class Once(BaseModel):
        a: int

    built: list[Any] = []
    real = fail_fast._build
    monkeypatch.setattr(fail_fast, "_build", lambda annotation: built.append(annotation) or real(annotation))
    assert fail_fast_validator(Once) is None and fail_fast_validator(Once) is None
    assert built == [Once]
