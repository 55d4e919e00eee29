"""WebSub publish pings: tell each hub which feeds changed, once they are in place.

A ping is ``POST <hub>`` with the form body ``hub.mode=publish&hub.url=<feed URL>``
(``application/x-www-form-urlencoded``); any ``2xx`` is success. The feed URL is the
public, percent-encoded self URL written in the feed, so the form encoding encodes its
``%`` once more and the hub decodes it once. One ping per feed and hub (not every hub
accepts a repeated ``hub.url``). Failures are retried with exponential backoff; a hub
that stays down is recorded in the status and never fails a build.

Each hub has its own :class:`~feedwright.background.Worker`, so a slow or dead hub does
not delay the others.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .. import __version__
from ..background import Worker
from ..layout import archive_of_path, is_feed_name
from ..model import BuildReport

log = logging.getLogger(__name__)

USER_AGENT = f"feedwright/{__version__} (WebSub publisher)"


def changed_feeds(report: BuildReport) -> list[str]:
    """Public URLs of the feeds a build wrote (not ``feeds.opml`` nor archives, which are
    no WebSub topics)."""
    return [
        url
        for path, url in zip(report.written, report.written_urls, strict=False)
        if is_feed_name(path.rsplit("/", 1)[-1]) and archive_of_path(path) is None
    ]


def publish_body(feed_url: str) -> bytes:
    """The form body of one publish ping."""
    return urlencode([("hub.mode", "publish"), ("hub.url", feed_url)]).encode("ascii")


@dataclass(frozen=True, slots=True)
class PingResult:
    """How one ping to one hub ended."""

    #: The hub's URL.
    hub: str
    #: The feed URL announced.
    url: str
    #: Whether the hub answered 2xx.
    ok: bool
    #: Requests made (1 when the first one succeeded).
    attempts: int
    #: The last HTTP status, or ``None`` when no answer came.
    status: int | None
    #: What went wrong, for the status page; empty on success.
    error: str = ""


def ping(
    hub: str,
    feed_url: str,
    *,
    attempts: int = 4,
    backoff: float = 1.0,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> PingResult:
    """Send one publish ping, retrying network errors, ``408``, ``429`` and ``5xx``.

    Waits ``backoff``, ``2 × backoff``, ``4 × backoff``… between attempts.
    """
    status: int | None = None
    error = ""
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(
            hub,
            data=publish_body(feed_url),
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": USER_AGENT,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status = response.status
                response.read(1 << 16)
            if 200 <= status < 300:
                return PingResult(hub, feed_url, True, attempt, status)
            error = f"HTTP {status}"
        except urllib.error.HTTPError as e:
            status, error = e.code, f"HTTP {e.code} {e.reason}"
            e.close()
            if 400 <= e.code < 500 and e.code not in (408, 429):
                return PingResult(hub, feed_url, False, attempt, status, error)
        except (OSError, http.client.HTTPException, ValueError) as e:
            status, error = None, f"{type(e).__name__}: {getattr(e, 'reason', e)}"
        if attempt < attempts:
            sleep(backoff * 2 ** (attempt - 1))
    return PingResult(hub, feed_url, False, attempts, status, error)


class Publisher:
    """Pings every configured hub for every changed feed, in the background."""

    def __init__(
        self,
        hubs: Iterable[str],
        *,
        attempts: int = 4,
        backoff: float = 1.0,
        timeout: float = 10.0,
    ) -> None:
        self.hubs = tuple(hubs)
        self._options: dict[str, Any] = {
            "attempts": attempts,
            "backoff": backoff,
            "timeout": timeout,
        }
        self._lock = threading.Lock()
        self._sent = 0
        self._failed = 0
        self._last_error: dict[str, str] | None = None
        self._workers = [
            Worker(f"feedwright-websub {hub}", self._pinger(hub), dedupe=True) for hub in self.hubs
        ]

    def _pinger(self, hub: str) -> Callable[[str], None]:
        """One hub's handler: ping it about one feed URL, and record how that went."""

        def handle(url: str) -> None:
            try:
                result = ping(hub, url, **self._options)
            except Exception as e:  # a bug: count it as a failed ping, and go on
                log.exception("WebSub ping to %s failed", hub)
                result = PingResult(hub, url, False, 1, None, f"{type(e).__name__}: {e}")
            self._record(result)

        return handle

    def _record(self, result: PingResult) -> None:
        with self._lock:
            if result.ok:
                self._sent += 1
            else:
                self._failed += 1
                self._last_error = {"hub": result.hub, "url": result.url, "error": result.error}
        if result.ok:
            log.info("WebSub: %s told about %s", result.hub, result.url)
        else:
            log.warning("WebSub: %s not told about %s: %s", result.hub, result.url, result.error)

    def publish(self, urls: Iterable[str]) -> None:
        """Queue a ping for each URL to each hub; returns at once."""
        urls = list(urls)
        if not urls:
            return
        for worker in self._workers:
            for url in urls:
                worker.submit(url)  # a URL already waiting for this hub is pinged once

    def join(self, timeout: float) -> bool:
        """Wait until every queued ping is done; ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        return all(worker.wait(deadline - time.monotonic()) for worker in self._workers)

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "hubs": list(self.hubs),
                "pending": sum(w.pending() for w in self._workers),
                "sent": self._sent,
                "failed": self._failed,
                "last_error": self._last_error,
            }
