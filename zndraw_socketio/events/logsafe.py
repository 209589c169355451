"""Log calls that cannot stop an event: a failure to write an entry is reported, never raised."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["log_safely", "report_log_failure"]

_reported = False


def log_safely(method: Callable[..., Any], message: str, **fields: Any) -> None:
    """``method(message, **fields)`` (a bound logger's ``error``, ``debug``...); if it raises (a
    renderer or stream that cannot write what the entry holds, such as a lone surrogate), the
    entry is dropped and the failure reported, so the event still completes and is answered."""
    try:
        method(message, **fields)
    except Exception as exc:
        report_log_failure(exc)


def report_log_failure(exc: Exception) -> None:
    """Report the first log call of the process that failed on standard error; later ones are
    dropped silently (a broken log setup would otherwise repeat it on every event)."""
    global _reported
    if _reported:
        return
    _reported = True
    with contextlib.suppress(Exception):  # no standard error to write to: nothing else to do
        sys.stderr.write(
            f"zndraw_socketio: a log entry could not be written and was dropped ({type(exc).__name__}:"
            f" {str(exc)!a}); events still complete; further failures are not reported\n"
        )
