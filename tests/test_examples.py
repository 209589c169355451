"""The demo in examples/ runs on its own, exits 0, and shows what the README says it shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo.py"


def test_demo_runs_and_shows_the_exchange() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, str(DEMO)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "reply: Pong(reply='HELLO')" in output, output
    assert "client received: RoomMessage(room='lobby'" in output, output
    assert "ProblemDetailError: 422 Unprocessable Content" in output, output
    assert "'status': 422" in output, output
    assert "title='Internal Server Error', status=500" in output, output
    assert "float division by zero" not in output.split("reply: ProblemDetail(")[1], output
    assert "client received: Announcement(text='hello from REST')" in output, output
    # the structured per-event log entries, both directions, and a handler's own line with its sid
    assert "sio_event=ping" in output, output
    assert "direction=in" in output and "direction=out" in output, output
    assert "outcome=error" in output, output
    handler_line = next(line for line in output.splitlines() if "handling a ping" in line)
    assert "sid=" in handler_line and "sio_event=ping" in handler_line, handler_line
    assert output.rstrip().endswith("done"), output
