"""``Bounds``: what one client can make a server hold, per packet and per connection."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Bounds"]


@dataclass(frozen=True)
class Bounds:
    """The limits ``wrap(sio, bounds=Bounds(...))`` puts on what a peer can make ``sio`` hold.

    - ``max_attachments``: binary attachments one packet may announce (socket.io-parser's 10).
    - ``max_attachment_bytes``: their total bytes; ``None`` (the default) is the engine.io
      server's ``max_http_buffer_size`` (1,000,000 unless configured).
    - ``attachment_timeout``: seconds a partial binary packet may wait for its attachments.

    Past any of the three the packet is refused (a 400 problem detail when it asked for an ack),
    logged once, and nothing of it is kept; attachments still on their way are dropped.

    - ``max_buffered_bytes``: the bytes queued for one websocket connection that it has not read
      yet. A send that would go over it waits while the connection's writer drains (a reader
      that keeps up); when the writer writes nothing for half a second the connection is
      disconnected with the reason ``"outbound buffer full"``, what was queued for it dropped,
      logged once; the other members of its rooms keep receiving. ``emit(..., volatile=True)``
      skips a connection whose buffer is not empty instead of queueing.
    """

    max_attachments: int = 10
    max_attachment_bytes: int | None = None
    attachment_timeout: float = 60.0
    max_buffered_bytes: int = 8 * 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("max_attachments", "max_buffered_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, got {value!r}")
        limit = self.max_attachment_bytes
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise ValueError(f"max_attachment_bytes must be an int >= 0 or None, got {limit!r}")
        wait = self.attachment_timeout
        if not isinstance(wait, (int, float)) or isinstance(wait, bool) or not wait > 0:
            raise ValueError(f"attachment_timeout must be a number of seconds > 0, got {wait!r}")
