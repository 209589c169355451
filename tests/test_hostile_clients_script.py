"""``benchmarks/hostile_clients.py`` runs its three scenarios and prints its table (a small run of
the typed variant: nothing measured here is compared)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "hostile_clients.py"


def test_the_hostile_clients_script_runs_and_prints_its_table() -> None:
    command = [sys.executable, str(SCRIPT), "--variant", "typed", "--scale", "0.05"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=50)
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    lines = out.splitlines()
    table = lines.index(
        "hostile clients: server RSS in MiB (before / peak / after / after the hostile peers closed)"
    )
    header, *rows = lines[table + 1 : table + 5]
    assert header.split()[:3] == ["variant", "scenario", "before"] and "hostile connection" in header
    assert [row.split()[:3] for row in rows] == [
        ["typed", "1", "attachments"],
        ["typed", "2", "flood"],
        ["typed", "3", "room"],
    ]
    assert all("FAILED" not in row for row in rows), out
    assert "ack 400: the packet could not be decoded: 1000000 binary attachments" in out
    assert 'health ["ok"]' in rows[0]
