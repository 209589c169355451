"""The pydantic models shared by the scale-out node processes, their worker and their test.

A client ``call``s ``Join`` (answered with ``Joined``) to enter a room on its node, and ``Trigger``
(answered with ``Triggered``) to make that node emit a ``Notice`` to a room, or to everyone. A
``ProbeRequest`` makes a node emit a ``Probe`` to one sid: the test uses it to learn that a node's
pub/sub listener is subscribed, without touching the ``Notice`` traffic it asserts on.
"""

from __future__ import annotations

from pydantic import BaseModel


class Join(BaseModel):
    """Client to server: enter ``room``."""

    room: str


class Joined(BaseModel):
    """The reply to ``Join``: ``node`` entered the caller's sid into ``room``."""

    room: str
    node: str


class Trigger(BaseModel):
    """Client to server: emit ``Notice(text=text, origin=<node>)`` to ``room`` (everyone when
    ``None``)."""

    text: str
    room: str | None = None


class Triggered(BaseModel):
    """The reply to ``Trigger``, sent once the node's ``emit`` has returned."""

    node: str


class Notice(BaseModel):
    """Server (or worker) to clients: the typed model whose delivery across nodes is tested."""

    text: str
    origin: str
    """The node (``node:<port>``) or ``worker`` that emitted it."""


class ProbeRequest(BaseModel):
    """Client to server: emit ``Probe(token=token)`` to the client ``sid`` (on any node)."""

    sid: str
    token: str


class Probe(BaseModel):
    """Server to one client: the answer to a ``ProbeRequest``."""

    token: str
