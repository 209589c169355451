"""The demo in examples/ runs on its own, exits 0, and shows what the README says it shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *args: str) -> str:
    """Run ``examples/<name>`` to the end; its output (it must exit 0)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def test_demo_runs_and_shows_the_exchange() -> None:
    output = run_example("demo.py")
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


def test_testing_handlers_example_runs_its_checks() -> None:
    output = run_example("testing_handlers.py")
    assert "reply: reply='hey ada: hi'" in output, output
    assert "403 Forbidden: bob" in output, output
    assert "refused: One or more namespaces failed to connect: / missing" in output, output
    assert "bob heard: user='ada' text='hi all'" in output, output
    assert "captured: [('out', 'ping'), ('in', 'ping')]" in output, output
    assert output.count("ok: test_") == 5 and output.rstrip().endswith("done"), output


def test_rate_limit_example_refuses_the_fourth_call() -> None:
    output = run_example("rate_limit.py")
    assert "call 2: Pong(reply='ping 2')" in output, output
    assert "call 3: ProblemDetail(kind='error'" in output and "status=429" in output, output
    assert "retry_after: " in output and "rejected: 4" in output, output
    assert output.rstrip().endswith("done"), output


def test_prometheus_example_serves_the_counts_at_metrics() -> None:
    output = run_example("prometheus_metrics.py")
    assert 'socketio_events_total{direction="in",event="ping",namespace="/",outcome="ok"} 1.0' in output, (
        output
    )
    assert 'socketio_events_total{direction="in",event="ping",namespace="/",outcome="error"} 1.0' in output, (
        output
    )
    assert 'socketio_connections{namespace="/"} 1.0' in output, output
    assert output.rstrip().endswith("done"), output


def test_opentelemetry_example_prints_the_span_tree() -> None:
    output = run_example("opentelemetry_tracing.py")
    assert "span 'connect /' kind=SERVER parent='b7ad6b7169203331' links=[]" in output, output
    assert "span 'process ping' kind=CONSUMER parent='none' links=['connect /']" in output, output
    assert "span 'look something up' kind=INTERNAL parent='process ping'" in output, output
    assert "span 'send notice' kind=PRODUCER parent='look something up'" in output, output
    assert "metric messaging.process.duration event=ping count=1" in output, output
    assert "metric messaging.client.operation.duration event=notice count=1" in output, output
    assert output.rstrip().endswith("done"), output


def test_demo_with_the_batteries_limits_and_counts() -> None:
    output = run_example("demo.py", "--batteries")
    assert "reply: Pong(reply='HELLO')" in output, output  # the exchange as without the flag
    match = re.search(r"(\d+) replied, (\d+) refused: Too Many Requests", output)
    assert match is not None, output
    replied, refused = match.groups()
    assert int(replied) + int(refused) == 25 and int(refused) >= 1, output
    assert 'socketio_events_total{direction="in",event="ping",namespace="/",outcome="error"}' in output, (
        output
    )
    assert 'socketio_connections{namespace="/"} 1.0' in output, output
    assert output.rstrip().endswith("done"), output
