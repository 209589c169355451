"""The document as text: JSON, and YAML from a small emitter of our own for JSON-compatible data.

``to_yaml`` needs no YAML library: it writes block-style YAML for dicts, lists, strings, numbers,
booleans and ``None``, quoting every string that could read as anything but itself.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["to_json", "to_yaml"]


def to_json(document: Any, *, indent: int | None = 2) -> str:
    """``document`` as JSON with sorted keys (same document, same text), ending in a newline."""
    return json.dumps(document, indent=indent, sort_keys=True, ensure_ascii=False) + "\n"


def to_yaml(document: Any) -> str:
    """``document`` (JSON-compatible data) as block-style YAML with sorted keys."""
    lines: list[str] = []
    _node(document, 0, lines)
    return "\n".join(lines) + "\n"


# a string that YAML 1.1 and 1.2 both read back as the same string when written bare;
# in double quotes, characters YAML cannot hold as they are (or reads as line breaks) are escaped
_PLAIN = re.compile(r"[A-Za-z_$][A-Za-z0-9_ ./$()-]*")
_RESERVED = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"})
_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


def _string(text: str) -> str:
    if _PLAIN.fullmatch(text) and not text.endswith(" ") and text.lower() not in _RESERVED:
        return text
    quoted = json.dumps(text, ensure_ascii=False)  # JSON escapes are valid YAML double quotes
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"  # YAML 1.1 floats need a dot
        if "e" in text and text.split("e")[1][0] not in "+-":
            text = text.replace("e", "e+")
        return text
    if isinstance(value, str):
        return _string(value)
    raise TypeError(f"to_yaml() takes JSON-compatible data, got {type(value).__name__}")


def _node(value: Any, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            lines.append(pad + "{}")
        for key in sorted(value):
            _entry(pad + _string(str(key)) + ":", value[key], indent, lines)
    elif isinstance(value, list | tuple):
        if not value:
            lines.append(pad + "[]")
        for item in value:
            _entry(pad + "-", item, indent, lines)
    else:
        lines.append(pad + _scalar(value))


def _entry(head: str, value: Any, indent: int, lines: list[str]) -> None:
    """``head`` (``key:`` or ``-``) followed by ``value``, inline when it is a scalar or empty."""
    if isinstance(value, dict | list | tuple) and value:
        if head.endswith("-"):
            # the first line of a nested block goes on the dash's line
            start = len(lines)
            _node(value, indent + 2, lines)
            lines[start] = head + " " + lines[start][indent + 2 :]
        else:
            lines.append(head)
            _node(value, indent + 2, lines)
    elif isinstance(value, dict):
        lines.append(f"{head} {{}}")
    elif isinstance(value, list | tuple):
        lines.append(f"{head} []")
    else:
        lines.append(f"{head} {_scalar(value)}")
