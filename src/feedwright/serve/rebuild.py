"""The server's build runner: coalesces requests, runs ``before_build``, keeps a status.

At most one build runs and at most one waits: a request that arrives while a build
runs queues one more (it will see every change made so far), and any further request
joins that queued build. So a burst of a hundred webhooks costs at most two builds.

A build that fails (``before_build`` exits non-zero, or the build raises) changes no
feed: writes are atomic and happen only in a build that succeeds up to writing. The
failure is recorded for ``GET /status``. Plain Python: testable without HTTP.

:meth:`Rebuilder.stop` asks a running build to stop at a safe point: while it still reads
posts (before it writes anything), it gives up and leaves every feed as it was; once it
writes, it finishes. :meth:`Rebuilder.set_config` (a reload) applies to the next build.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ..config import Config
from ..engine import build
from ..errors import FeedwrightError
from ..hooks import HookRunner
from ..model import BuildReport
from .websub import Publisher, changed_feeds

log = logging.getLogger(__name__)

Outcome = Literal["started", "queued", "coalesced", "closed"]


class BuildStopped(Exception):
    """The server is shutting down: the build stopped before writing anything. Raised from
    the build's progress callback; not a :class:`FeedwrightError` (nothing went wrong)."""

    def __init__(self) -> None:
        super().__init__("stopped at a safe point (the server is shutting down); nothing written")


#: Called after every run with its status record and the report (``None`` if it failed).
OnFinish = Callable[[dict[str, Any], BuildReport | None], None]

#: How many error lines a status record keeps (the total is always given).
MAX_ERRORS = 50


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """End a command and every process it started: SIGTERM, then SIGKILL after 2 s."""
    for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.communicate(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _failed(stage: str) -> str:
    return stage if stage == "build stopped" else f"{stage} failed"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


class Rebuilder:
    """Runs :func:`feedwright.engine.build` in a background thread, one at a time."""

    def __init__(
        self,
        config: Config,
        *,
        cwd: str | Path | None = None,
        publisher: Publisher | None = None,
        on_finish: OnFinish | None = None,
        clock: Callable[[], datetime] = _utc_now,
        before_build_timeout: float = 600.0,
        hooks: HookRunner | None = None,
    ) -> None:
        """``cwd`` is where ``webhook.before_build`` runs (the config file's folder);
        ``hooks`` runs ``hooks.after_build`` after each build that changed a file."""
        self.config = config
        self._hooks = hooks if hooks is not None else HookRunner()
        self._cwd = cwd
        self._publisher = publisher
        self._on_finish = on_finish
        self._clock = clock
        self._timeout = before_build_timeout
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._running = False
        self._queued: str | None = None
        self._closed = False
        self._runs = 0
        self._current: dict[str, Any] | None = None
        self._last: dict[str, Any] | None = None
        self._last_success: str | None = None
        self._stopping = threading.Event()

    # -- requests ---------------------------------------------------------------------------
    def request(self, trigger: str = "webhook") -> Outcome:
        """Ask for a build; returns at once. ``started``, ``queued``, or ``coalesced``."""
        with self._lock:
            if self._closed:
                return "closed"
            if not self._running:
                self._running = True
                threading.Thread(
                    target=self._loop, args=(trigger,), name="feedwright-build", daemon=True
                ).start()
                return "started"
            if self._queued is None:
                self._queued = trigger
                return "queued"
            return "coalesced"

    def wait(self, timeout: float) -> bool:
        """Block until no build runs or waits; ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
            return True

    def close(self, timeout: float = 30.0) -> bool:
        """Accept no more requests, drop the queued one, and wait for the running build."""
        with self._lock:
            self._closed = True
            self._queued = None
        deadline = time.monotonic() + timeout
        idle = self.wait(timeout)
        # A running after_build hook may finish in the time left; then it is stopped.
        self._hooks.wait(max(0.0, deadline - time.monotonic()))
        self._hooks.close()
        return idle

    def stop(self) -> None:
        """Accept no more requests, drop the queued one, and ask the running build to stop
        at its next safe point (it stops only while it reads posts, before writing)."""
        with self._lock:
            self._closed = True
            self._queued = None
        self._stopping.set()

    def set_config(self, config: Config, *, publisher: Publisher | None = None) -> None:
        """Use ``config`` (and ``publisher``, for its hubs) from the next build on; a
        running build keeps the ones it has."""
        with self._lock:
            self.config = config
            self._publisher = publisher

    def _check_stop(self, done: int, total: int) -> None:
        """The build's progress callback: a safe point to stop at."""
        if self._stopping.is_set():
            raise BuildStopped()

    # -- the worker -------------------------------------------------------------------------
    def _loop(self, trigger: str) -> None:
        try:
            while True:
                self._run(trigger)
                with self._lock:
                    if self._queued is None:
                        return
                    trigger, self._queued = self._queued, None
        finally:
            with self._lock:
                self._running = False
                self._queued = None
                self._current = None
                self._idle.notify_all()

    def _run(self, trigger: str) -> None:
        started = self._clock()
        with self._lock:
            self._runs += 1
            self._current = {"trigger": trigger, "started": _iso(started)}
        report: BuildReport | None = None
        stage = "before_build"
        with self._lock:
            config = self.config
        try:
            problem = self._before_build(config)
            if problem is None:
                stage = "build"  # a missing source folder fails here: never an empty site
                if self._stopping.is_set():
                    raise BuildStopped()
                report = build(config, now=self._clock(), progress=self._check_stop)
                errors = list(report.errors)
            else:
                errors = [problem]
        except BuildStopped as e:
            stage = "build stopped"
            errors = [str(e)]
        except FeedwrightError as e:
            errors = [str(e)]
        except OSError as e:
            errors = [f"{e.filename or stage}: {e.strerror or e}"]
        except Exception as e:  # a bug must not stop the server from serving
            log.exception("build failed")
            errors = [f"{type(e).__name__}: {e}"]
        finished = self._clock()
        record: dict[str, Any] = {
            "trigger": trigger,
            "started": _iso(started),
            "finished": _iso(finished),
            "seconds": round((finished - started).total_seconds(), 3),
            "ok": report is not None,
            "result": "ok" if report is not None else _failed(stage),
        }
        if report is not None:
            record.update(
                posts=report.posts,
                rejected=report.rejected,
                written=len(report.written),
                unchanged=len(report.unchanged),
                removed=len(report.removed),
                kept=len(report.kept),
                warnings=list(report.distinct_warnings[:MAX_ERRORS]),
            )
        record["errors"] = errors[:MAX_ERRORS]
        record["errors_total"] = len(errors)
        with self._lock:
            self._last = record
            if report is not None:
                self._last_success = record["finished"]
        with self._lock:
            publisher = self._publisher
        if report is not None and publisher is not None:
            publisher.publish(changed_feeds(report))
        if report is not None:
            self._hooks.submit(config, report)  # the config this build used
        if self._on_finish is not None:
            try:
                self._on_finish(record, report)
            except Exception:
                log.exception("on_finish callback failed")

    def _before_build(self, config: Config) -> str | None:
        """Run ``webhook.before_build``; what went wrong, or ``None`` if it succeeded."""
        command = config.webhook.before_build
        if not command:
            return None
        shown = shlex.join(command)
        try:
            proc = subprocess.Popen(
                list(command),
                cwd=self._cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group: stopped with all it started
            )
        except OSError as e:
            return f"before_build: cannot run `{shown}`: {e.strerror or e}"
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                stdout, stderr = proc.communicate(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                if self._stopping.is_set():
                    _stop_group(proc)
                    raise BuildStopped() from None
                if time.monotonic() > deadline:
                    _stop_group(proc)
                    return f"before_build: `{shown}` did not finish in {self._timeout:g} s; stopped"
        if proc.returncode == 0:
            return None
        output = (stderr or stdout).decode("utf-8", "replace").strip()
        tail = " | ".join(output.splitlines()[-5:])
        return f"before_build: `{shown}` exited with {proc.returncode}" + (
            f": {tail}" if tail else ""
        )

    # -- status -----------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """What ``GET /status`` shows (JSON-ready)."""
        with self._lock:
            doc: dict[str, Any] = {
                "running": self._running,
                "queued": self._queued is not None,
                "runs": self._runs,
                "current": dict(self._current) if self._current else None,
                "last": dict(self._last) if self._last else None,
                "last_success": self._last_success,
            }
            publisher = self._publisher
            config = self.config
        if publisher is not None:
            doc["websub"] = publisher.status()
        if config.hooks.after_build:
            doc["after_build"] = self._hooks.status()
        return doc
