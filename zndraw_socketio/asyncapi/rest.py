"""REST triggers: FastAPI routes whose parameters are annotated with ``Emits(...)``.

FastAPI is optional: it is imported only when an app is set, and an app that is not a FastAPI app
(or a FastAPI that is not installed) simply has no REST triggers.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, get_args, get_origin

from .emits import Emits
from .spec import camel_case, docstring

__all__ = ["emitted_models", "rest_triggers"]


def emitted_models(endpoint: Any) -> tuple[type, ...]:
    """The models an endpoint's ``Annotated[..., Emits(...)]`` parameters declare, in order."""
    try:
        hints = typing.get_type_hints(endpoint, include_extras=True)
    except Exception:  # unresolvable annotations: nothing we can read
        hints = dict(getattr(endpoint, "__annotations__", {}))
    models: list[type] = []
    for name, hint in hints.items():
        if name == "return":
            continue
        for marker in _markers(hint):
            for model in marker.models:
                if model not in models:
                    models.append(model)
    return tuple(models)


def _markers(hint: Any) -> list[Emits]:
    found: list[Emits] = []
    while get_origin(hint) is Annotated:
        found.extend(m for m in getattr(hint, "__metadata__", ()) if isinstance(m, Emits))
        hint = get_args(hint)[0]
    return found


def rest_triggers(app: Any) -> dict[type, list[dict[str, Any]]]:
    """``{model: [x-rest-triggers entry, ...]}`` for every route of ``app`` that emits ``model``.

    An entry is ``{"operationId", "method", "path", "summary"}``: the endpoint's name in
    camelCase, one HTTP method, the route path and the route's summary (else its docstring's first
    line; left out when there is neither). Entries are sorted by path, method and operation id.
    """
    if app is None:
        return {}
    try:
        from fastapi.routing import APIRoute
    except ImportError:  # pragma: no cover - FastAPI is an optional dependency
        return {}
    found: dict[type, list[dict[str, Any]]] = {}
    for route, prefix in _walk(getattr(app, "routes", None) or (), ""):
        if not isinstance(route, APIRoute):
            continue
        models = emitted_models(route.endpoint)
        if not models:
            continue
        summary = route.summary or _first_line(docstring(route.endpoint))
        name = getattr(route.endpoint, "__name__", None) or route.name
        for method in sorted(route.methods or ()):
            entry: dict[str, Any] = {
                "operationId": camel_case(name),
                "method": method.upper(),
                "path": prefix + route.path,
            }
            if summary:
                entry["summary"] = summary
            for model in models:
                found.setdefault(model, []).append(entry)
    for entries in found.values():
        entries.sort(key=lambda e: (e["path"], e["method"], e["operationId"]))
    return found


def _walk(routes: Any, prefix: str) -> typing.Iterator[tuple[Any, str]]:
    for route in routes:
        sub = getattr(route, "routes", None)
        if sub and not hasattr(route, "endpoint"):  # a Mount of a router or sub-application
            yield from _walk(sub, prefix + str(getattr(route, "path", "")))
        else:
            yield route, prefix


def _first_line(doc: str | None) -> str | None:
    if not doc:
        return None
    return doc.splitlines()[0].strip() or None
