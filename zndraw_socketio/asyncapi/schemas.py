"""Payload schemas: pydantic's JSON schemas, generated in one pass, shaped for AsyncAPI 3.0.

Every annotation the document needs is registered first; one ``TypeAdapter.json_schemas`` call
then generates them together, so a model used in several places is one entry of
``components/schemas`` and every reference points there. AsyncAPI's schema object is a superset of
JSON Schema draft 07, so the 2020-12 keywords pydantic writes are translated: ``prefixItems``
becomes the array form of ``items``, and the OpenAPI-style ``discriminator`` object moves to
``x-discriminator`` (AsyncAPI's ``discriminator`` is a property name with other semantics).
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Hashable
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, TypeAdapter

from ..payloads.adapters import adapter_for
from .spec import SchemaMode

__all__ = ["REF_PREFIX", "SchemaSet", "is_nothing", "model_of", "type_repr", "union_members"]

REF_PREFIX = "#/components/schemas/"
_REF_TEMPLATE = REF_PREFIX + "{model}"
_COMPONENT_KEY = re.compile(r"^[\w.\-]+$")
_UNSAFE = re.compile(r"[^\w.\-]")


def _is_union(annotation: Any) -> bool:
    origin = get_origin(annotation)
    return origin is typing.Union or origin is types.UnionType


def union_members(annotation: Any) -> tuple[Any, ...]:
    """The members of a union (``A | B``, ``Union[A, B]``, a discriminated ``Annotated`` union),
    flattened; anything else is its own single member."""
    inner = annotation
    if get_origin(inner) is Annotated:
        inner = get_args(inner)[0]
    if not _is_union(inner):
        return (annotation,)
    members: list[Any] = []
    for arg in get_args(inner):
        members.extend(union_members(arg))
    return tuple(members)


def is_nothing(annotation: Any) -> bool:
    """True for ``None``, ``NoReturn`` and ``Never``: a return type that means "no reply"."""
    return annotation is None or annotation is type(None) or annotation in (typing.NoReturn, typing.Never)


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model ``annotation`` is (through ``Annotated``), else ``None``."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def type_repr(annotation: Any) -> str:
    """A short human name for ``annotation``: ``str``, ``list[Ping]``, ``Ping | None``."""
    if get_origin(annotation) is Annotated:
        return type_repr(get_args(annotation)[0])
    if annotation is type(None) or annotation is None:
        return "None"
    if annotation is Any:
        return "Any"
    if _is_union(annotation):
        return " | ".join(type_repr(a) for a in get_args(annotation))
    origin = get_origin(annotation)
    if origin is not None:
        args = get_args(annotation)
        name = getattr(origin, "__name__", None) or str(origin).replace("typing.", "")
        if not args:
            return name
        return f"{name}[{', '.join(type_repr(a) for a in args)}]"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


class SchemaSet:
    """Collects ``(annotation, mode)`` pairs, then generates all their schemas in one pass.

    ``add`` returns a handle; after ``generate()``, ``schema(handle)`` is the payload schema (a
    ``$ref`` into ``components/schemas`` for a model) or ``None`` when pydantic cannot describe
    the type, with the reason in ``error(handle)``; ``components`` holds the named schemas.
    """

    def __init__(self) -> None:
        self._inputs: list[tuple[Any, SchemaMode]] = []
        self._index: dict[tuple[Hashable, SchemaMode], int] = {}
        self._schemas: dict[int, dict[str, Any] | None] = {}
        self._errors: dict[int, str] = {}
        self.components: dict[str, Any] = {}

    def add(self, annotation: Any, mode: SchemaMode) -> int:
        """Register ``annotation`` to be described in ``mode``; equal annotations share a handle."""
        try:
            key = (annotation, mode)
            found = self._index.get(key)
        except TypeError:  # unhashable annotation
            key, found = None, None
        if found is not None:
            return found
        handle = len(self._inputs)
        self._inputs.append((annotation, mode))
        if key is not None:
            self._index[key] = handle
        return handle

    def schema(self, handle: int) -> dict[str, Any] | None:
        """The generated schema for ``handle`` (``None`` when it could not be generated)."""
        return self._schemas.get(handle)

    def error(self, handle: int) -> str | None:
        """Why the schema for ``handle`` could not be generated, if it could not."""
        return self._errors.get(handle)

    def generate(self) -> None:
        """Generate every registered schema and the shared component schemas."""
        usable: list[tuple[int, SchemaMode, TypeAdapter[Any]]] = []
        for handle, (annotation, mode) in enumerate(self._inputs):
            if isinstance(annotation, str | typing.ForwardRef):
                self._errors[handle] = f"unresolved annotation {annotation!r}"
                continue
            try:
                usable.append((handle, mode, adapter_for(annotation)))
            except Exception as exc:  # an annotation pydantic cannot build an adapter for
                self._errors[handle] = _reason(exc)
        try:
            results, defs = TypeAdapter.json_schemas(usable, ref_template=_REF_TEMPLATE)
        except Exception:
            # find the ones pydantic cannot describe, then generate the rest together
            keep: list[tuple[int, SchemaMode, TypeAdapter[Any]]] = []
            for handle, mode, adapter in usable:
                try:
                    adapter.json_schema(mode=mode, ref_template=_REF_TEMPLATE)
                except Exception as exc:
                    self._errors[handle] = _reason(exc)
                else:
                    keep.append((handle, mode, adapter))
            results, defs = TypeAdapter.json_schemas(keep, ref_template=_REF_TEMPLATE)
        components: dict[str, Any] = dict(defs.get("$defs", {}))
        renames = {k: _safe_key(k, components) for k in components if not _COMPONENT_KEY.match(k)}
        for old, new in renames.items():
            components[new] = components.pop(old)
        self.components = {k: _asyncapi_schema(v, renames) for k, v in sorted(components.items())}
        for (handle, _mode), schema in results.items():
            self._schemas[handle] = _asyncapi_schema(schema, renames)


def _reason(exc: Exception) -> str:
    first = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {first[0] if first else ''}".rstrip(": ")


def _safe_key(key: str, taken: dict[str, Any]) -> str:
    base = _UNSAFE.sub("_", key)
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


# keywords whose value is a schema, a list of schemas, or a map of name -> schema
_ONE = ("additionalProperties", "additionalItems", "items", "contains", "not", "propertyNames")
_ONE += ("if", "then", "else", "unevaluatedProperties", "unevaluatedItems")
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
_MAP = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


def _asyncapi_schema(schema: Any, renames: dict[str, str]) -> Any:
    """A copy of a pydantic JSON schema in AsyncAPI's draft-07 dialect (see the module doc)."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = _renamed(value, renames)
        elif key in _MAP and isinstance(value, dict):
            out[key] = {k: _asyncapi_schema(v, renames) for k, v in value.items()}
        elif key in _MANY and isinstance(value, list):
            out[key] = [_asyncapi_schema(v, renames) for v in value]
        elif key in _ONE:
            out[key] = _asyncapi_schema(value, renames)
        elif key == "discriminator" and isinstance(value, dict):
            mapping = value.get("mapping")
            if isinstance(mapping, dict):
                value = {**value, "mapping": {k: _renamed(v, renames) for k, v in mapping.items()}}
            out["x-discriminator"] = value
        else:
            out[key] = value
    prefix = out.pop("prefixItems", None)
    if isinstance(prefix, list):
        rest = out.pop("items", None)
        if prefix:
            out["items"] = prefix
            out["additionalItems"] = rest if rest is not None else False
        elif rest is not None:
            out["items"] = rest
    return out


def _renamed(ref: Any, renames: dict[str, str]) -> Any:
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        name = ref[len(REF_PREFIX) :]
        if name in renames:
            return REF_PREFIX + renames[name]
    return ref
