"""The registry of every place the package depends on a python-socketio or python-engineio internal.

Each entry is a named ``Patch``: what it changes, the upstream releases it was verified against,
and a check of what it needs (attributes, methods, their signatures) on the object being wrapped.
``install_patches`` runs when ``wrap()`` does: a patch whose check fails is switched off with one
warning that names it and the installed versions, and the plain upstream path runs instead;
nothing here runs at import time, so a renamed internal never makes the package fail to import.
An object that is not a real python-socketio object (a ``Mock(spec=socketio.AsyncClient)``) gets
no patch at all. The wrapper reports the outcome as ``tsio.patches``.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import socketio

from .bounds import Bounds

__all__ = [
    "VERIFIED",
    "Options",
    "Patch",
    "PatchState",
    "first",
    "install_patches",
    "installed_versions",
    "is_real",
    "needs",
    "takes",
]

VERIFIED = "python-socketio 5.16.3 to 5.18.1, python-engineio 4.13.2 to 4.15.1"
"""The upstream releases every patch below was verified against (the suite passes on them)."""

_REAL_TYPES: tuple[type, ...] = (
    socketio.AsyncServer,
    socketio.AsyncClient,
    socketio.Server,
    socketio.Client,
    socketio.AsyncSimpleClient,
    socketio.SimpleClient,
    socketio.AsyncManager,
    socketio.Manager,
)


def is_real(sio: Any) -> bool:
    """True for an instance of a python-socketio class (a mock with ``spec=`` only claims to be)."""
    return issubclass(type(sio), _REAL_TYPES)


@dataclass(frozen=True)
class Options:
    """What ``wrap()`` was told: the ``bounds``, and the patches switched off (name -> why)."""

    bounds: Bounds = field(default_factory=Bounds)
    skipped: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PatchState:
    """How one patch stands on one wrapper: ``active``, or off with the ``reason``."""

    active: bool
    reason: str | None = None

    def __bool__(self) -> bool:
        return self.active


Check = Callable[[Any], str | None]
"""``check(sio)``: ``None`` when everything the patch needs is there, else what is missing."""


@dataclass(frozen=True)
class Patch:
    """One patch of an upstream internal: ``applies(sio)`` says whether it is for this kind of
    object at all, ``check(sio)`` whether what it needs is there, ``install(sio, options)``
    installs it (``None``: the chain reads the patch's state and takes the patched path itself;
    ``options`` are ``wrap()``'s, e.g. the bounds)."""

    name: str
    summary: str
    applies: Callable[[Any], bool]
    check: Check
    install: Callable[[Any, Any], None] | None = None
    declines: Check | None = None
    """``declines(sio)``: why the user's own choice makes the patch moot (a subclass overriding
    the method it replaces); the patch is then off without a warning."""


def installed_versions() -> str:
    """The installed python-socketio and python-engineio releases, for warnings and reports."""
    found = []
    for dist in ("python-socketio", "python-engineio"):
        try:
            found.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:  # pragma: no cover - a vendored copy
            found.append(f"{dist} (version unknown)")
    return ", ".join(found)


_warned: set[tuple[str, str]] = set()


def _switched_off(patch: Patch, reason: str) -> None:
    """One warning per patch and reason in a process: the patch is off, the upstream path runs."""
    if (patch.name, reason) in _warned:
        return
    _warned.add((patch.name, reason))
    warnings.warn(
        f"zndraw_socketio: patch {patch.name!r} ({patch.summary}) is switched off: {reason}; "
        f"installed: {installed_versions()}; verified: {VERIFIED}. python-socketio's own path runs.",
        RuntimeWarning,
        stacklevel=4,
    )


def install_patches(
    sio: Any, patches: Iterable[Patch], *, skipped: Mapping[str, str], options: Any = None
) -> dict[str, PatchState]:
    """Install each of ``patches`` that applies to ``sio``; ``skipped`` maps the names the user
    switched off to why. Returns every applicable patch's state, by name."""
    states: dict[str, PatchState] = {}
    real = is_real(sio)
    for patch in patches:
        if not patch.applies(sio):
            continue
        if not real:
            states[patch.name] = PatchState(False, "not a python-socketio object")
            continue
        declined = skipped.get(patch.name) or (patch.declines(sio) if patch.declines else None)
        if declined is not None:
            states[patch.name] = PatchState(False, declined)
            continue
        try:
            missing = patch.check(sio)
        except Exception as exc:  # a check that cannot even look is a failed check
            missing = f"{type(exc).__name__}: {exc}"
        if missing is not None:
            _switched_off(patch, missing)
            states[patch.name] = PatchState(False, missing)
            continue
        if patch.install is not None:
            patch.install(sio, options)
        states[patch.name] = PatchState(True)
    return states


# -- checks ---------------------------------------------------------------------------------------


def needs(obj: Any, *names: str, what: str = "") -> str | None:
    """``None`` when ``obj`` has every attribute in ``names``, else which one is missing."""
    for name in names:
        if not hasattr(obj, name):
            return f"{what or type(obj).__name__} has no {name!r}"
    return None


def takes(function: Any, *params: str, what: str = "") -> str | None:
    """``None`` when ``function`` accepts every parameter in ``params`` by name, else which not."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return f"{what or function!r} has no readable signature"
    names = signature.parameters
    if any(p.kind is p.VAR_KEYWORD for p in names.values()):
        return None  # takes any keyword
    for param in params:
        if param not in names:
            return f"{what or getattr(function, '__qualname__', function)!r} takes no {param!r}"
    return None


def first(*checks: Callable[[], str | None]) -> str | None:
    """The first failing check's reason (checks run lazily, in order), or ``None``."""
    for check in checks:
        reason = check()
        if reason is not None:
            return reason
    return None


def _is(*types: type) -> Callable[[Any], bool]:
    return lambda sio: isinstance(sio, types)


SERVERS = _is(socketio.AsyncServer, socketio.Server)
CLIENTS = _is(socketio.AsyncClient, socketio.Client)
SIMPLE_CLIENTS = _is(socketio.AsyncSimpleClient, socketio.SimpleClient)
MANAGERS = _is(socketio.AsyncManager, socketio.Manager)
ASYNC_SERVER = _is(socketio.AsyncServer)
ASYNC_CLIENT = _is(socketio.AsyncClient)
