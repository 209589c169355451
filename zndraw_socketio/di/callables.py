"""What calling a callable gives: classified once, for handlers and dependencies alike."""

from __future__ import annotations

import functools
import inspect
from typing import Any, Literal

__all__ = ["CallKind", "call_kind"]

CallKind = Literal["sync", "async", "gen", "asyncgen"]


def call_kind(call: Any) -> CallKind:
    """``"async"`` when calling ``call`` always gives a coroutine (an ``async def``, also behind
    ``functools.partial``, or an object whose class has an ``async def __call__``), ``"gen"`` /
    ``"asyncgen"`` for generator functions, else ``"sync"`` (whose result may still be awaitable:
    the caller checks it)."""
    target = call
    while isinstance(target, functools.partial):
        target = target.func
    if not (inspect.isroutine(target) or isinstance(target, type)):
        target = getattr(type(target), "__call__", target)  # noqa: B004 - the object's own method
    if inspect.isasyncgenfunction(target):
        return "asyncgen"
    if inspect.isgeneratorfunction(target):
        return "gen"
    if inspect.iscoroutinefunction(target):
        return "async"
    return "sync"
