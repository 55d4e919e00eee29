"""The server's build runner: coalesces requests, runs ``before_build``, keeps a status.

At most one build runs and at most one waits: a request that arrives while a build
runs queues one more (it will see every change made so far), and any further request
joins that queued build. So a burst of a hundred webhooks costs at most two builds.
Builds run on a :class:`~feedwright.background.Worker`, and ``before_build`` through
:func:`~feedwright.commands.run_command`, as hooks do.

Each build reads the config afresh (the ``reload`` callable: the server's
:class:`~feedwright.reloader.Reloader`), runs its ``webhook.before_build`` (which may pull
a new ``_config.yml``), reads the config once more if it did, and builds with it.

A build that fails (``before_build`` exits non-zero, or the build raises) changes no
feed: writes are atomic and happen only in a build that succeeds up to writing. The
failure is recorded for ``GET /status``. Plain Python: testable without HTTP.

:meth:`Rebuilder.stop` asks a running build to stop at its next safe point (the build's
progress callback raises :class:`BuildStopped`) and stops a running ``before_build``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..background import Outcome, Worker
from ..commands import run_command
from ..config import Config
from ..engine import build
from ..errors import FeedwrightError
from ..hooks import HookRunner
from ..model import BuildReport
from .websub import Publisher, changed_feeds

log = logging.getLogger(__name__)


class BuildStopped(Exception):
    """The server is shutting down: the build stopped at a safe point. Raised from the
    build's progress callback; not a :class:`FeedwrightError` (nothing went wrong)."""

    def __init__(self) -> None:
        super().__init__("stopped at a safe point (the server is shutting down)")


#: Called after every run with its status record and the report (``None`` if it failed).
OnFinish = Callable[[dict[str, Any], BuildReport | None], None]

#: How many error lines a status record keeps (the total is always given).
MAX_ERRORS = 50


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _failed(stage: str) -> str:
    return stage if stage == "build stopped" else f"{stage} failed"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


class _BeforeBuildFailed(Exception):
    def __init__(self, message: str, public: str) -> None:
        super().__init__(message)
        self.public = public


class Rebuilder:
    """Runs :func:`feedwright.engine.build` in the background, one at a time."""

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
        reload: Callable[[], Config] | None = None,
    ) -> None:
        """``cwd`` is where ``webhook.before_build`` runs (the config file's folder);
        ``hooks`` runs ``hooks.after_build`` after each build that changed a file;
        ``reload`` reads the config afresh before each build (default: keep ``config``)."""
        self.config = config
        self._hooks = hooks if hooks is not None else HookRunner()
        self._cwd = cwd
        self._publisher = publisher
        self._on_finish = on_finish
        self._clock = clock
        self._timeout = before_build_timeout
        self._reload = reload
        self._worker: Worker[str] = Worker("feedwright-build", self._run, max_queued=1)
        self._lock = threading.Lock()
        self._runs = 0
        self._current: dict[str, Any] | None = None
        self._last: dict[str, Any] | None = None
        #: The last record's errors without commands or their output (when they differ).
        self._last_public: list[str] | None = None
        self._last_success: str | None = None
        self._stopping = threading.Event()

    # -- requests ---------------------------------------------------------------------------
    def request(self, trigger: str = "webhook") -> Outcome:
        """Ask for a build; returns at once. ``started``, ``queued``, or ``coalesced``."""
        return self._worker.submit(trigger)

    def wait(self, timeout: float) -> bool:
        """Block until no build runs or waits; ``False`` on timeout."""
        return self._worker.wait(timeout)

    def close(self, timeout: float = 30.0) -> bool:
        """Accept no more requests, drop the queued one, and wait for the running build;
        then give a running ``after_build`` hook the time left, and stop it."""
        deadline = time.monotonic() + timeout
        self._worker.close()
        idle = self._worker.wait(timeout)
        self._hooks.wait(max(0.0, deadline - time.monotonic()))
        self._hooks.close()
        return idle

    def stop(self) -> None:
        """Accept no more requests, drop the queued one, and ask the running build to stop
        at its next safe point (a running ``before_build`` is stopped)."""
        self._worker.close()
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

    # -- one build --------------------------------------------------------------------------
    def _run(self, trigger: str) -> None:
        started = self._clock()
        with self._lock:
            self._runs += 1
            self._current = {"trigger": trigger, "started": _iso(started)}
        report: BuildReport | None = None
        stage = "before_build"
        public: list[str] | None = None
        try:
            config = self._fresh_config()
            if self._before_build(config):  # it may have pulled a new _config.yml
                config = self._fresh_config()
            stage = "build"  # a missing source folder fails here: never an empty site
            if self._stopping.is_set():
                raise BuildStopped()
            report = build(config, now=self._clock(), progress=self._check_stop)
            errors = list(report.errors)
        except _BeforeBuildFailed as e:
            errors, public = [str(e)], [e.public]
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
        finally:
            with self._lock:
                self._current = None
        record = self._record(trigger, started, report, stage, errors)
        with self._lock:
            self._last = record
            self._last_public = public[:MAX_ERRORS] if public is not None else None
            if report is not None:
                self._last_success = record["finished"]
            publisher = self._publisher
        if report is not None and publisher is not None:
            publisher.publish(changed_feeds(report))
        if report is not None:
            self._hooks.submit(config, report)  # the config this build used
        if self._on_finish is not None:
            self._on_finish(record, report)  # if it raises, the worker logs it and goes on

    def _record(
        self,
        trigger: str,
        started: datetime,
        report: BuildReport | None,
        stage: str,
        errors: list[str],
    ) -> dict[str, Any]:
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
                unchanged=report.unchanged_count,
                removed=len(report.removed),
                kept=len(report.kept),
                warnings=list(report.distinct_warnings[:MAX_ERRORS]),
            )
        record["errors"] = errors[:MAX_ERRORS]
        record["errors_total"] = len(errors)
        return record

    def _fresh_config(self) -> Config:
        """The config read afresh (``reload``), or the one in use."""
        if self._reload is not None:
            return self._reload()
        with self._lock:
            return self.config

    def _before_build(self, config: Config) -> bool:
        """Run ``webhook.before_build``; whether it ran (raise if it did not succeed)."""
        command = config.webhook.before_build
        if not command:
            return False
        run = run_command(command, cwd=self._cwd, timeout=self._timeout, stop=self._stopping)
        if run.outcome == "stopped":
            raise BuildStopped()
        if not run.ok:
            raise _BeforeBuildFailed(
                f"before_build: {run.describe(details=True)}",
                f"before_build: {run.describe(details=False)}",
            )
        return True

    # -- status -----------------------------------------------------------------------------
    def _shown_last(self, details: bool) -> dict[str, Any] | None:
        """The last record as ``/status`` shows it (call with the lock held)."""
        if self._last is None:
            return None
        shown = dict(self._last)
        if self._last_public is not None and not details:
            shown["errors"] = list(self._last_public)
        return shown

    def status(self) -> dict[str, Any]:
        """What ``GET /status`` shows (JSON-ready); commands and their output only with
        ``server.status_details``."""
        with self._lock:
            config = self.config
            details = config.server.status_details
            doc: dict[str, Any] = {
                "running": self._worker.busy,
                "queued": self._worker.queued() > 0,
                "runs": self._runs,
                "current": dict(self._current) if self._current else None,
                "last": self._shown_last(details),
                "last_success": self._last_success,
            }
            publisher = self._publisher
        if publisher is not None:
            doc["websub"] = publisher.status()
        if config.hooks.after_build:
            doc["after_build"] = self._hooks.status(details=details)
        return doc
