"""The generated contracts type a real socket.io-client ``Socket`` under ``tsc --strict``.

The contracts of the demo (``examples/demo.py``) and of the test app are written beside the
programs in ``programs/``: the ``*_ok.ts`` ones use them correctly and must compile; each
``*_bad_*.ts`` one misuses them once, on a line marked ``// error: <fragment>``, and must fail
there, with a message holding the fragment, and nowhere else. Every file is a module, so one
``tsc`` run checks each program on its own.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.typescript import typescript_app
from tests.typescript.support import PROGRAMS, Diagnostic, expected_errors, prepare, run_tsc

ROOT = Path(__file__).resolve().parents[2]
BAD = sorted(p.name for p in PROGRAMS.glob("*_bad_*.ts"))
OK = sorted(p.name for p in PROGRAMS.glob("*_ok.ts"))


def write_contracts(directory: Path) -> None:
    """The demo's contracts through the command line, the test app's through ``tsio.typescript()``."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "zndraw_socketio",
            "typescript",
            "demo:tsio",
            "-o",
            str(directory / "demo_contracts.ts"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT / "examples",
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (directory / "app_contracts.ts").write_text(typescript_app.tsio.typescript(), encoding="utf-8")


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, list[Diagnostic], str]]:
    """``{"ok": ..., "bad": ...}``: the ``tsc`` results of the correct and of the wrong programs."""
    directory = tmp_path_factory.mktemp("typescript")
    prepare(directory)
    write_contracts(directory)
    for name in OK + BAD:
        shutil.copy(PROGRAMS / name, directory / name)
    return {"ok": run_tsc(directory, OK), "bad": run_tsc(directory, BAD)}


def test_the_programs_cover_the_misuses() -> None:
    assert {"app_ok.ts", "demo_ok.ts"} <= set(OK)
    for misuse in ("field_type", "missing_field", "ack_type", "unknown_event"):
        assert f"app_bad_{misuse}.ts" in BAD
    for name in BAD:
        assert len(expected_errors(PROGRAMS / name)) == 1, f"{name}: mark exactly one line"


def test_correct_use_compiles(checked: dict[str, tuple[int, list[Diagnostic], str]]) -> None:
    code, diagnostics, output = checked["ok"]
    assert diagnostics == [], output
    assert code == 0, output


@pytest.mark.parametrize("program", BAD)
def test_each_misuse_fails_where_it_is(
    checked: dict[str, tuple[int, list[Diagnostic], str]], program: str
) -> None:
    code, diagnostics, output = checked["bad"]
    assert code != 0, output
    assert not [d for d in diagnostics if not d.file], output  # the run itself went wrong
    mine = [d for d in diagnostics if Path(d.file).name == program]
    assert mine, f"{program} compiled, but it misuses the contracts:\n{output}"
    ((line, fragment),) = expected_errors(PROGRAMS / program).items()
    assert {d.line for d in mine} == {line}, output
    assert any(fragment in d.text for d in mine), f"{fragment!r} not in:\n" + "\n".join(d.text for d in mine)


def test_the_checks_depend_on_the_generated_types(tmp_path: Path) -> None:
    """Contracts without the problem detail in acks, or with every field required, are caught."""
    prepare(tmp_path)
    write_contracts(tmp_path)
    contracts = (tmp_path / "app_contracts.ts").read_text(encoding="utf-8")
    mutants = {
        "no_problem": (contracts.replace(" | ProblemDetail) => void", ") => void"), BAD),
        "all_required": (re.sub(r"^(\s+\w+)\?:", r"\1:", contracts, flags=re.M), ["app_ok.ts"]),
    }
    files: list[str] = []
    for name, (text, programs) in mutants.items():
        assert text != contracts
        (tmp_path / name).mkdir()
        (tmp_path / name / "app_contracts.ts").write_text(text, encoding="utf-8")
        for program in programs:
            if program.startswith("app_"):
                shutil.copy(PROGRAMS / program, tmp_path / name / program)
                files.append(f"{name}/{program}")
    _, diagnostics, output = run_tsc(tmp_path, files)
    failing = {d.file for d in diagnostics}
    # without `| ProblemDetail`, the wrong ack type and the unnarrowed reply compile
    assert "no_problem/app_bad_ack_type.ts" not in failing, output
    assert "no_problem/app_bad_unnarrowed_reply.ts" not in failing, output
    assert "no_problem/app_bad_field_type.ts" in failing, output
    # with optional fields required, the correct program no longer compiles
    assert "all_required/app_ok.ts" in failing, output
