"""Event names: the snake_case class name of a model, or its ``event_name`` override."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["get_event_name", "known_event_name", "snake_case"]

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_CACHE: dict[type, str] = {}


def snake_case(name: str) -> str:
    """Turn ``CamelCase`` (acronyms included, ``HTTPRequest``) into ``camel_case``."""
    return _BOUNDARY.sub("_", name).lower()


def get_event_name(model: Any) -> str:
    """Return the event name of a model class or instance.

    The name is the class name in snake_case (``CustomEvent`` -> ``"custom_event"``), unless the
    class sets ``event_name: ClassVar[str]``. Results are cached per class.
    """
    cls = model if isinstance(model, type) else type(model)
    try:
        return _CACHE[cls]
    except KeyError:
        pass
    override = getattr(cls, "event_name", None)
    name = override if isinstance(override, str) else snake_case(cls.__name__)
    _CACHE[cls] = name
    return name


known_event_name = _CACHE.get
"""``known_event_name(cls)``: the event name of a model class already named once, else ``None``
(a dictionary lookup, for the outbound hot path)."""
