"""A log call that raises never stops a reply: the entry is dropped, the first failure reported."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from tests.support.helpers import TIMEOUT, new_server
from tests.support.models import Ping, Pong
from zndraw_socketio.events import logsafe as _logsafe
from zndraw_socketio.stages.logging import log_failed, log_ok
from zndraw_socketio.testing import TestClient
from zndraw_socketio.transport.codec import UndecodablePacket, answer_undecodable


@pytest.fixture
def strict_console(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.TextIOWrapper]:
    """structlog's default console output on a strict UTF-8 stream (which cannot write a lone
    surrogate), and the process's failure report not given yet."""
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    structlog.configure(
        processors=structlog.get_config()["processors"],
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        wrapper_class=structlog.make_filtering_bound_logger(0),
    )
    monkeypatch.setattr(_logsafe, "_reported", False)
    yield stream
    structlog.reset_defaults()


async def test_an_unwritable_error_entry_still_lets_the_reply_out(
    strict_console: io.TextIOWrapper, capsys: pytest.CaptureFixture[str]
) -> None:
    tsio = new_server()

    @tsio.on(Ping)
    async def ping(sid: str, data: Ping) -> Pong:
        if data.message == "bad":
            raise ValueError("cannot take \ud800 here")
        return Pong(reply=data.message)

    async with TestClient(tsio) as client:
        for _ in range(2):
            reply = await client.call(Ping(message="bad"), timeout=TIMEOUT)
            assert reply["status"] == 500
        assert await client.call(Ping(message="ok"), response_model=Pong, timeout=TIMEOUT) == Pong(reply="ok")
    reports = [line for line in capsys.readouterr().err.splitlines() if line.startswith("zndraw_socketio:")]
    assert len(reports) == 1 and "UnicodeEncodeError" in reports[0]


class Raising:
    """A bound logger whose every call raises."""

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError(f"{name} is broken")

        return fail


def test_both_event_entries_swallow_and_report_a_failing_logger(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_logsafe, "_reported", False)
    log_ok(Raising(), "ping", "sid", "/", "in", 0.0)
    log_failed(Raising(), "ping", "sid", "/", "out", 0.0, ValueError("x"), False)
    err = capsys.readouterr().err
    assert err.count("zndraw_socketio:") == 1 and "RuntimeError: 'debug is broken'" in err


def test_a_failing_processor_does_not_stop_the_undecodable_packets_400(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(logger: Any, method: str, event_dict: Any) -> Any:
        raise RuntimeError("processor down")

    monkeypatch.setattr(_logsafe, "_reported", False)
    structlog.configure(processors=[broken])
    try:
        sent: list[Any] = []
        exc = UndecodablePacket("nesting deeper than 200", 7, "/")
        assert answer_undecodable(exc, "sid", lambda pkt: sent.append(pkt) or "sent") == "sent"
    finally:
        structlog.reset_defaults()
    assert [(p.id, p.data[0]["status"]) for p in sent] == [(7, 400)]
    assert capsys.readouterr().err.count("processor down") == 1
