"""TypeScript syntax for the generated contracts: identifiers, quoted keys, literal types and
JSDoc comments (the pieces ``contracts.py`` writes declarations with)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..asyncapi.spec import pascal_case

__all__ = [
    "atom",
    "claim",
    "identifier",
    "is_constant",
    "jsdoc",
    "key",
    "literal",
    "namespace_prefixes",
    "schema_docs",
]

_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_$]+")
# names no declaration or parameter may take: JavaScript's reserved words and TypeScript's types
_RESERVED_WORDS = (
    "any await bigint boolean break case catch class const continue debugger default delete do else "
    "enum export extends false finally for function if implements import in instanceof interface let "
    "never new null number object package private protected public return static string super switch "
    "symbol this throw true try typeof undefined unknown var void while with yield"
)
_WORDS = frozenset(_RESERVED_WORDS.split())
_TAGS = ("format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_TAGS += ("minLength", "maxLength", "pattern", "minItems", "maxItems")


def claim(base: str, taken: set[str]) -> str:
    """``base``, or ``base2``, ``base3``... if taken: the first name not in ``taken``, now added."""
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}{n}"
    taken.add(name)
    return name


def identifier(name: str, *, joined: bool) -> str:
    """``name`` made an identifier that is no reserved word: ``Temperature-Input`` becomes
    ``TemperatureInput`` when ``joined``, else ``Temperature_Input``."""
    parts = [p for p in _NOT_IDENTIFIER.split(name) if p] or ["_"]
    name = parts[0] + "".join(p[:1].upper() + p[1:] if joined else f"_{p}" for p in parts[1:])
    name = f"_{name}" if name[0].isdigit() else name
    return f"{name}_" if name in _WORDS else name


def namespace_prefixes(events: Mapping[str, Any]) -> dict[str, str]:
    """The prefix of each namespace's event interfaces: none for ``/``, else its name in PascalCase
    (``N`` before a leading digit), each one distinct."""
    prefixes, taken = {"/": ""}, {""}
    for namespace in sorted(n for n in events if n != "/"):
        base = pascal_case(namespace) if re.search(r"[A-Za-z0-9]", namespace) else "Namespace"
        prefixes[namespace] = claim(f"N{base}" if base[0].isdigit() else base, taken)
    return prefixes


def key(name: str) -> str:
    """A property or event name, quoted unless it is an identifier."""
    return name if _IDENTIFIER.match(name) else json.dumps(name, ensure_ascii=False)


def literal(value: Any) -> str:
    """A JSON value as a TypeScript literal type (JSON is valid TypeScript type syntax)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def is_constant(prop: Any) -> bool:
    """True for a property whose only value is also its default."""
    if not isinstance(prop, dict) or "default" not in prop:
        return False
    values = [prop["const"]] if "const" in prop else prop.get("enum")
    return isinstance(values, list) and values == [prop["default"]]


def atom(text: str) -> str:
    """``text`` in parentheses when a top-level ``|`` or ``&`` would bind looser than ``[]``."""
    depth, quoted, escaped = 0, False, False
    for ch in text:
        if escaped:
            escaped = False
        elif quoted:
            escaped, quoted = ch == "\\", ch != '"'
        elif ch == '"':
            quoted = True
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch in "|&":
            return f"({text})"
    return text


def schema_docs(schema: Any, *, tags: bool) -> list[str]:
    """The JSDoc lines of ``schema``: its description, with ``tags`` its default (when short) and
    constraints as ``@`` tags, and ``@deprecated``."""
    if not isinstance(schema, dict):
        return []
    lines = str(schema.get("description") or "").strip().splitlines()
    if tags:
        if "default" in schema:
            default = json.dumps(schema["default"], ensure_ascii=False, sort_keys=True)
            if len(default) <= 80:
                lines.append(f"@default {default}")
        tuple_ = isinstance(schema.get("items"), list) or "prefixItems" in schema  # its type says it
        tags_ = [t for t in _TAGS if t in schema and not (tuple_ and t in ("minItems", "maxItems"))]
        lines += [f"@{t} {json.dumps(schema[t], ensure_ascii=False)}" for t in tags_]
    if schema.get("deprecated"):
        lines.append("@deprecated")
    return lines


def jsdoc(lines: list[str], indent: str) -> list[str]:
    """``lines`` as one JSDoc comment at ``indent`` (none for no lines)."""
    text = [line.rstrip().replace("*/", "*\\/") for line in lines]
    if not text:
        return []
    if len(text) == 1:
        return [f"{indent}/** {text[0]} */"]
    return [f"{indent}/**", *(f"{indent} * {t}".rstrip() for t in text), f"{indent} */"]
