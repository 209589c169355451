"""``python -m zndraw_socketio asyncapi module:attribute [--yaml] [-o FILE]``, and the YAML writer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.asyncapi import asyncapi_app as rep
from tests.asyncapi.support import TRICKY
from zndraw_socketio.asyncapi import to_json, to_yaml

ROOT = Path(__file__).resolve().parents[2]
TARGET = "tests.asyncapi.asyncapi_app:tsio"


def run_cli(*args: str, seed: str = "0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run(
        [sys.executable, "-m", "zndraw_socketio", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


def test_json_to_stdout_is_the_document() -> None:
    done = run_cli("asyncapi", TARGET)
    assert done.returncode == 0, done.stderr
    # the app's title and version are the defaults
    assert json.loads(done.stdout) == rep.tsio.asyncapi_schema(title="Representative API", version="2.1.0")
    assert done.stdout == to_json(rep.tsio.asyncapi_schema(title="Representative API", version="2.1.0"))


def test_same_app_same_bytes_across_processes() -> None:
    first = run_cli("asyncapi", TARGET, seed="1")
    second = run_cli("asyncapi", TARGET, seed="12345")
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout


def test_yaml_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "asyncapi.yaml"
    done = run_cli("asyncapi", TARGET, "--yaml", "-o", str(out), "--title", "CLI", "--version", "9")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    text = out.read_text(encoding="utf-8")
    assert text.startswith('asyncapi: "3.0.0"\n') or text.startswith("asyncapi: 3.0.0\n")
    assert text == to_yaml(rep.tsio.asyncapi_schema(title="CLI", version="9"))


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("tests.asyncapi.asyncapi_app", "expected module:attribute"),
        ("tests.asyncapi.no_such_module:tsio", "cannot import"),
        ("tests.asyncapi.asyncapi_app:nope", "has no attribute"),
        ("tests.asyncapi.asyncapi_app:app", "not a zndraw_socketio wrapper"),
    ],
)
def test_bad_targets_fail_with_a_message(target: str, message: str) -> None:
    done = run_cli("asyncapi", target)
    assert done.returncode != 0
    assert message in done.stderr


# -- the YAML writer ------------------------------------------------------------------------------------
def test_yaml_round_trips_through_pyyaml() -> None:
    yaml = pytest.importorskip("yaml")
    assert yaml.safe_load(to_yaml(TRICKY)) == TRICKY
    doc = rep.tsio.asyncapi_schema()
    assert yaml.safe_load(to_yaml(doc)) == doc


def test_yaml_is_block_style_and_sorted() -> None:
    text = to_yaml({"b": [1, {"d": 2, "c": 3}], "a": {}})
    assert text == "a: {}\nb:\n  - 1\n  - c: 3\n    d: 2\n"


def test_yaml_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(TypeError):
        to_yaml({"x": object()})
