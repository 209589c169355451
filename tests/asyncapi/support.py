"""Helpers for the AsyncAPI tests: the ``$ref`` check, the node checks and tool lookup."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import socketio

from zndraw_socketio import wrap

NODE_DIR = Path(__file__).parent / "node"
NODE_MODULES = NODE_DIR / "node_modules"
REACT_COMPONENT = NODE_MODULES / "@asyncapi" / "react-component"

# data that is hard to write as YAML: what the YAML writer must get right
TRICKY: dict[str, Any] = {
    "plain": "handlePing",
    "ref": "#/components/schemas/Ping",
    "words": ["yes", "No", "on", "OFF", "null", "~", "true", "y"],
    "numbers": ["1", "1.5", "0x10", "1e3", ".inf"],
    "floats": [0.5, 1e-05, 1e20, -2.0, 3.0],
    "ints": [0, -1, 10**20],
    "bools": [True, False, None],
    "punctuation": [
        "a: b",
        "a #b",
        "- x",
        "[x]",
        "{x}",
        "'q'",
        '"q"',
        "@x",
        "`x`",
        "x ",
        " x",
        "",
        "%x",
        "!x",
        "*x",
        "&x",
        "|x",
        ">x",
        "?x",
        ",x",
        "x,y",
        "C:\\dir",
        "a-b/c.d (e) $f",
    ],
    "lines": "first\nsecond\n\ttabbed",
    "unicode": "grüße \u2013 ✓ \u2028 \x7f \x85",
    "empty": {"list": [], "dict": {}},
    "nested": [[1, [2, []]], [{"a": {"b": [{}]}}], {"k": [{"x": 1, "y": [1, 2]}]}],
    "odd keys": {"1": 1, "": 2, "a: b": 3, "$ref": 4, "x-emits": 5},
}


def missing_tool(message: str) -> None:
    """Skip the test, or fail it under CI=true, where every tool must be installed."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: .ci/run must install it)")
    pytest.skip(message)


def json_pointer(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer (``#/a/b``) in ``document``; raises ``LookupError``."""
    if not pointer.startswith("#"):
        raise LookupError(f"not a local reference: {pointer}")
    value = document
    for raw in pointer[1:].split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise LookupError(f"{pointer}: no {part!r}")
    return value


def refs(document: Any) -> list[str]:
    """Every ``$ref`` string in ``document``."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str):
                found.append(ref)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(document)
    return found


def unresolved_refs(document: Any) -> list[str]:
    """The ``$ref``s that do not resolve inside ``document`` (external ones included)."""
    bad: list[str] = []
    for ref in refs(document):
        try:
            json_pointer(document, ref)
        except LookupError:
            bad.append(ref)
    return bad


def node_check(tmp_path: Path, document: Any, yaml_text: str | None = None) -> dict[str, Any]:
    """Run ``node/check.mjs`` on ``document`` (and its YAML form): the spec validation and the
    official parser's findings, as a dict."""
    node = shutil.which("node")
    if node is None:
        missing_tool("node is not installed")
    if not (NODE_MODULES / "@asyncapi" / "parser").is_dir():
        missing_tool(f"the AsyncAPI node tooling is not installed: run `npm ci` in {NODE_DIR}")
    assert node is not None
    doc_file = tmp_path / "asyncapi.json"
    doc_file.write_text(json.dumps(document), encoding="utf-8")
    args = [node, str(NODE_DIR / "check.mjs"), str(doc_file)]
    if yaml_text is not None:
        yaml_file = tmp_path / "asyncapi.yaml"
        yaml_file.write_text(yaml_text, encoding="utf-8")
        args.append(str(yaml_file))
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=NODE_DIR, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def errors(diagnostics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parser diagnostics of severity error."""
    return [d for d in diagnostics if d["severity"] == 0]


def chromium() -> str:
    """The path of a Chromium binary (skips, or fails under CI=true, when there is none)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path is not None:
            return path
    missing_tool("chromium is not installed")
    raise AssertionError("unreachable")  # pragma: no cover


def new_server() -> Any:
    """A wrapped ASGI AsyncServer with nothing registered."""
    return wrap(socketio.AsyncServer(async_mode="asgi"))


def message_names(doc: dict[str, Any], refs_: list[dict[str, str]]) -> list[str]:
    """The component message names behind operation message references."""
    names = []
    for ref in refs_:
        channel_msg = json_pointer(doc, ref["$ref"])
        names.append(json_pointer(doc, channel_msg["$ref"])["name"])
    return names


def payload(doc: dict[str, Any], op_id: str, index: int = 0, *, reply: bool = False) -> dict[str, Any]:
    op = doc["operations"][op_id]
    ref = (op["reply"] if reply else op)["messages"][index]["$ref"]
    return json_pointer(doc, json_pointer(doc, ref)["$ref"])["payload"]
