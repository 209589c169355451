"""Markers read from annotations: ``Emits`` documents what a REST route emits."""

from __future__ import annotations

from typing import Any

__all__ = ["Emits"]


class Emits:
    """Marks a FastAPI route parameter as emitting these models over Socket.IO.

    ``Annotated[AsyncServerWrapper, Depends(tsio), Emits(SessionLeft)]``: the AsyncAPI document lists
    the route as an ``x-rest-triggers`` entry of each model's send operation. ``models`` is the
    tuple of models (``Emits()`` with none declares nothing).
    """

    __slots__ = ("models",)

    def __init__(self, *models: Any) -> None:
        for model in models:
            if not isinstance(model, type):
                raise TypeError(f"Emits() takes model classes, got {model!r}")
        self.models: tuple[type, ...] = tuple(models)

    def __repr__(self) -> str:
        return f"Emits({', '.join(m.__name__ for m in self.models)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Emits) and other.models == self.models

    def __hash__(self) -> int:
        return hash(self.models)
