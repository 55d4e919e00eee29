"""Stopping a build at a safe point.

The build's ``progress(done, total)`` callback is how a caller stops it: the callback may
raise, and the engine calls it between batches of work in every phase: parsing
(:mod:`.sources`, with the counts), then reading groups, rendering, writing and archives
(:class:`Checkpoints` repeats the last counts there), and while it waits for another
build's lock. A build stopped at one of these points discards the batch of files it was
staging (nothing is renamed half-way), rolls its cache back, shuts its worker pool down
and leaves the previous feeds (and those of each batch it already published).

:func:`stop_on_signals` is how a command-line process uses it: SIGINT and SIGTERM set a
flag that the next safe point turns into :class:`Stopped`; on the way out the signal is
delivered again as it would have been (SIGINT: ``KeyboardInterrupt``; SIGTERM: the process
ends by it). A second signal does not wait for a safe point.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

Progress = Callable[[int, int], None]


class Stopped(BaseException):
    """A build was stopped at a safe point (a ``BaseException``, as ``KeyboardInterrupt``:
    nothing that handles errors may take it for one)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Checkpoints:
    """The build's progress callback (``None``: none), with the safe points past parsing:
    :meth:`check` calls it again with the last counts it heard."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.done = 0
        self.total = 0

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        self.check()

    def check(self) -> None:
        if self.progress is not None:
            self.progress(self.done, self.total)


class SignalStop:
    """What :func:`stop_on_signals` yields: the signal received, if any."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def progress(self, callback: Progress | None = None) -> Progress:
        """A progress callback that raises :class:`Stopped` once a signal came, after
        passing the counts on to ``callback``."""

        def progress(done: int, total: int) -> None:
            if callback is not None:
                callback(done, total)
            if self.signum is not None:
                raise Stopped(self.signum)

        return progress


@contextmanager
def stop_on_signals(
    signals: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM),
) -> Iterator[SignalStop]:
    """Turn ``signals`` into a stop at the build's next safe point (see the module). Only
    the main thread can take signals: elsewhere this changes nothing."""
    stop = SignalStop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {sig: signal.getsignal(sig) for sig in signals}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.signum is not None:  # a second signal: now
            restore()
            signal.raise_signal(signum)
        stop.signum = signum

    for sig in signals:
        signal.signal(sig, handle)
    stopped = False
    try:
        yield stop
    except Stopped:
        stopped = True
    finally:
        restore()
        if stop.signum is not None:
            signal.raise_signal(stop.signum)  # as it would have been, the build unwound
    if stopped:  # the signal was ignored, or handled without ending anything
        raise SystemExit(128 + (stop.signum or 0))
