"""uvicorn's h11 protocol with two guards uvicorn lacks: a read timeout and a connection cap.

- **Read timeout.** uvicorn times out idle keep-alive connections, but a client that
  sends its request headers (or its body) one byte at a time holds a connection for as
  long as it likes. Here a request must arrive whole, headers and body, within
  ``read_timeout`` seconds of its first chance to (the connection opening, or the
  previous response ending); otherwise the connection is closed. The application's own
  time (a slow response) is not counted: the timer only cuts a connection while the
  server waits for the client.
- **Connection cap.** uvicorn's ``limit_concurrency`` answers ``503`` per *request*, after
  the connection was accepted and its headers read. Here the connection that would be
  one too many is answered ``503`` at once and closed, before reading anything from it;
  the open connections are not touched.

Both limits are read from a shared :class:`Limits` when a connection opens, so a reload
applies them to new connections.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("feedwright.serve")

_REFUSED = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\n"
    b"retry-after: 1\r\n"
    b"content-length: 24\r\n"
    b"\r\n"
    b"Too many connections.\r\n\r\n"
)


@dataclass(slots=True)
class Limits:
    """What every new connection is held to (changed in place by a reload)."""

    #: Seconds a client has to send a whole request (headers and body).
    read_timeout: float
    #: Most connections open at once.
    max_connections: int
    #: Connections closed for being too slow, and connections refused (for metrics).
    timed_out: int = 0
    refused: int = 0


def protocol_class(limits: Limits) -> type[H11Protocol]:
    """An ``H11Protocol`` subclass bound to ``limits`` (uvicorn's ``http=`` setting)."""

    class GuardedH11Protocol(H11Protocol):
        _read_timer: asyncio.TimerHandle | None = None
        _refused = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            if len(self.connections) >= limits.max_connections:
                self._refused = True
                limits.refused += 1
                self.transport = transport
                transport.write(_REFUSED)
                transport.close()
                return
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            if self._refused:
                return
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            super().data_received(data)
            if self.conn.their_state in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR):
                self._disarm()  # the request is in: the app's own time is not counted

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()  # the next request on this connection gets its own time

        def _arm(self) -> None:
            self._disarm()
            self._read_timer = self.loop.call_later(limits.read_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._read_timer is not None:
                self._read_timer.cancel()
                self._read_timer = None

        def _too_slow(self) -> None:
            self._read_timer = None
            if self.transport.is_closing():
                return
            if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
                return
            limits.timed_out += 1
            # A body cut off is said once, by the route reading it (the webhook's delivery
            # line); headers cut off reach no route, so they are said here.
            if self.conn.their_state is not h11.SEND_BODY and self._partial():
                log.info(
                    "%s: request not received within %g s; disconnected",
                    _peer(self.client),
                    limits.read_timeout,
                )
            self.transport.close()

        def _partial(self) -> bool:
            """Whether some of a request has arrived (not a merely idle connection)."""
            trailing: Any = getattr(self.conn, "trailing_data", (b"", False))
            return bool(trailing[0])

    return GuardedH11Protocol


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "client"
