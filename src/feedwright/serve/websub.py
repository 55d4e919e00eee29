"""WebSub publish pings: tell each hub which feeds changed, once they are in place.

A ping is ``POST <hub>`` with the form body ``hub.mode=publish&hub.url=<feed URL>``
(``application/x-www-form-urlencoded``); any ``2xx`` is success. The feed URL is the
public, percent-encoded self URL written in the feed, so the form encoding encodes its
``%`` once more and the hub decodes it once. One ping per feed and hub (not every hub
accepts a repeated ``hub.url``). Failures are retried with exponential backoff; a hub
that stays down is recorded in the status and never fails a build.

Each hub has its own worker thread, so a slow or dead hub does not delay the others.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .. import __version__
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


class _HubWorker:
    """One hub's queue of feed URLs and the thread that pings them in order."""

    def __init__(
        self,
        hub: str,
        send: Callable[[str, str], PingResult],
        done: Callable[[PingResult], None],
    ) -> None:
        self.hub = hub
        self._send = send
        self._done = done
        self._pending: deque[str] = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._thread: threading.Thread | None = None

    def add(self, urls: Iterable[str]) -> None:
        with self._cond:
            for url in urls:
                if url not in self._pending:  # already waiting: one ping covers both
                    self._pending.append(url)
            if self._pending and self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name=f"feedwright-websub {self.hub}", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._cond:
                if not self._pending:
                    self._thread = None
                    self._busy = False
                    self._cond.notify_all()
                    return
                url = self._pending.popleft()
                self._busy = True
            try:
                result = self._send(self.hub, url)
            except Exception as e:  # never let a bug kill the worker silently
                log.exception("WebSub ping to %s failed", self.hub)
                result = PingResult(self.hub, url, False, 1, None, f"{type(e).__name__}: {e}")
            self._done(result)

    def pending(self) -> int:
        with self._cond:
            return len(self._pending) + (1 if self._busy else 0)

    def join(self, deadline: float) -> bool:
        with self._cond:
            while self._thread is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True


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
        self._workers = [_HubWorker(hub, self._send, self._record) for hub in self.hubs]

    def _send(self, hub: str, url: str) -> PingResult:
        return ping(hub, url, **self._options)

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
            worker.add(urls)

    def join(self, timeout: float) -> bool:
        """Wait until every queued ping is done; ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        return all(worker.join(deadline) for worker in self._workers)

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "hubs": list(self.hubs),
                "pending": sum(w.pending() for w in self._workers),
                "sent": self._sent,
                "failed": self._failed,
                "last_error": self._last_error,
            }
