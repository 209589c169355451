"""Helpers for the TypeScript tests: the node tooling lookup and a ``tsc`` run over programs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.asyncapi.support import missing_tool

HERE = Path(__file__).parent
NODE_DIR = HERE / "node"
NODE_MODULES = NODE_DIR / "node_modules"
TSC = NODE_MODULES / ".bin" / "tsc"
PROGRAMS = HERE / "programs"

# strict checking, modules resolved the way a bundler resolves socket.io-client's typings
TSC_FLAGS = (
    "--noEmit",
    "--strict",
    "--pretty",
    "false",
    "--target",
    "es2020",
    "--module",
    "esnext",
    "--moduleResolution",
    "bundler",
)

# `file(line,col): error TSnnnn: text`, or `error TSnnnn: text` for an error of no file
_DIAGNOSTIC = re.compile(r"^(?:(?P<file>.+?)\((?P<line>\d+),\d+\): )?error (?P<code>TS\d+): (?P<text>.*)$")
_MARKER = re.compile(r"//\s*error:\s*(?P<fragment>.+?)\s*$")


@dataclass
class Diagnostic:
    """One ``tsc`` error: where (``""`` and 0 for an error of no file, such as a bad option), its
    code, and its message with the continuation lines."""

    file: str
    line: int
    code: str
    text: str


def tsc_path() -> Path:
    """The compiler of ``tests/typescript/node`` (skips, or fails under CI=true, when missing)."""
    if shutil.which("node") is None:
        missing_tool("node is not installed")
    if not TSC.exists() or not (NODE_MODULES / "socket.io-client" / "package.json").is_file():
        missing_tool(f"the TypeScript node tooling is not installed: run `npm ci` in {NODE_DIR}")
    return TSC


def prepare(directory: Path) -> None:
    """Make ``directory`` resolve ``socket.io-client`` and ``typescript`` from the test tooling."""
    link = directory / "node_modules"
    if not link.exists():
        os.symlink(NODE_MODULES, link, target_is_directory=True)


def run_tsc(directory: Path, files: list[str]) -> tuple[int, list[Diagnostic], str]:
    """Type-check ``files`` (relative to ``directory``) in one ``tsc`` run: its exit code, its
    errors and its whole output."""
    done = subprocess.run(
        [str(tsc_path()), *TSC_FLAGS, *files],
        capture_output=True,
        text=True,
        cwd=directory,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    found: list[Diagnostic] = []
    for line in output.splitlines():
        match = _DIAGNOSTIC.match(line)
        if match:
            file, number = match["file"] or "", int(match["line"] or 0)
            found.append(Diagnostic(file, number, match["code"], match["text"]))
        elif found and line.startswith(" "):
            found[-1].text += "\n" + line.strip()
    return done.returncode, found, output


def expected_errors(program: Path) -> dict[int, str]:
    """``{line: fragment}`` for the lines of ``program`` marked ``// error: <fragment>``."""
    marks: dict[int, str] = {}
    for number, line in enumerate(program.read_text(encoding="utf-8").splitlines(), start=1):
        match = _MARKER.search(line)
        if match:
            marks[number] = match["fragment"]
    return marks
