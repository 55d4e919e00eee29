"""One background worker type: the server's rebuilder, the hook runner and each WebSub
hub's pinger are each a :class:`Worker` with a handler of their own.

A worker handles the items it is given one at a time, in order, in a thread of its own
that starts when there is work and ends when there is none. How a new item joins the
queue is the worker's policy: ``max_queued=1`` keeps one waiting item and drops the rest
(a burst of rebuild requests costs two builds), ``dedupe`` drops an item already waiting
(a feed URL pinged once). A handler that raises is logged with its traceback and the
worker goes on with the next item: its state never sticks at "running".
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, Literal, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

#: What :meth:`Worker.submit` did: started a thread, queued the item, folded it into
#: one already waiting (``coalesced``), or refused it (the worker is closed).
Outcome = Literal["started", "queued", "coalesced", "closed"]


class Worker(Generic[T]):
    """Runs ``handle(item)`` for each submitted item, one at a time, in the background."""

    def __init__(
        self,
        name: str,
        handle: Callable[[T], None],
        *,
        max_queued: int | None = None,
        dedupe: bool = False,
    ) -> None:
        self.name = name
        self._handle = handle
        self._max_queued = max_queued
        self._dedupe = dedupe
        self._cond = threading.Condition()
        self._queue: deque[T] = deque()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, item: T) -> Outcome:
        """Hand ``item`` over; returns at once."""
        with self._cond:
            if self._closed:
                return "closed"
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, args=(item,), name=self.name, daemon=True
                )
                self._thread.start()
                return "started"
            if self._dedupe and item in self._queue:
                return "coalesced"
            if self._max_queued is not None and len(self._queue) >= self._max_queued:
                return "coalesced"
            self._queue.append(item)
            return "queued"

    def _loop(self, item: T) -> None:
        done = False
        try:
            while not done:
                try:
                    self._handle(item)
                except Exception:  # a bug in one item must not stop the others
                    log.exception("%s: a task failed; going on with the next", self.name)
                with self._cond:
                    if self._queue:
                        item = self._queue.popleft()
                    else:  # idle, decided under the lock that submit() takes
                        done = True
                        self._thread = None
                        self._cond.notify_all()
        finally:
            if not done:  # something no handler should raise (never seen): stay usable
                with self._cond:
                    self._thread = None
                    self._cond.notify_all()

    @property
    def busy(self) -> bool:
        """An item is being handled (or about to be)."""
        with self._cond:
            return self._thread is not None

    def queued(self) -> int:
        """Items waiting (not counting the one being handled)."""
        with self._cond:
            return len(self._queue)

    def pending(self) -> int:
        """Items waiting or being handled."""
        with self._cond:
            return len(self._queue) + (self._thread is not None)

    def drop_queued(self) -> None:
        """Forget the waiting items (the one being handled goes on)."""
        with self._cond:
            self._queue.clear()

    def close(self) -> None:
        """Take no more items and forget the waiting ones (the one being handled goes on)."""
        with self._cond:
            self._closed = True
            self._queue.clear()

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed

    def wait(self, timeout: float) -> bool:
        """Block until nothing is handled or waiting; ``False`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._thread is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True


__all__ = ["Outcome", "Worker"]
