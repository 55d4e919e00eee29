"""``hooks.after_build``: a command that reads each build's change report on its standard
input, after every build that wrote or removed a file (from ``build``, ``watch`` and
``serve`` alike), e.g. to purge a CDN or copy the feeds to object storage.

The command runs as :mod:`feedwright.commands` runs every command: without a shell, in
the config file's folder, in a process group of its own, its output kept only in part
(the last 64 KiB). A hook that fails, cannot start, or outlives ``hooks.timeout`` is
reported and never fails the build. When it exits, or at the timeout, whatever it left in
its process group is stopped with it; only a descendant that started a session of its own
can outlive it. :func:`run_after_build` runs one and waits; :class:`HookRunner` runs them
one after another in the background (a :class:`~feedwright.background.Worker`), so that
a slow hook never delays the next build.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .background import Worker
from .changes import change_report_json
from .commands import CommandResult, run_command
from .config import Config
from .model import BuildReport


@dataclass(frozen=True, slots=True)
class HookResult:
    """How one run of a hook went."""

    #: The command, as a shell would show it.
    command: str
    #: It exited with status 0 in time.
    ok: bool
    #: What went wrong, with the command and the last lines of its output (empty when ``ok``).
    message: str
    #: Wall seconds it ran.
    seconds: float
    #: Its exit status, if it exited (``None``: it could not start, or was stopped).
    returncode: int | None
    #: When it finished (UTC, ISO 8601).
    finished: str
    #: What went wrong, without the command or its output (empty when ``ok``).
    summary: str = ""

    @classmethod
    def of(cls, run: CommandResult) -> HookResult:
        finished = datetime.now(UTC).isoformat(timespec="milliseconds")
        message = "" if run.ok else run.describe(details=True)
        summary = "" if run.ok else run.describe(details=False)
        return cls(run.shown, run.ok, message, run.seconds, run.returncode, finished, summary)

    def as_dict(self, *, details: bool = False) -> dict[str, Any]:
        """For ``GET /status``: the command and its output only with ``details``."""
        doc: dict[str, Any] = {
            "ok": self.ok,
            "message": self.message if details else self.summary,
            "seconds": round(self.seconds, 3),
            "returncode": self.returncode,
            "finished": self.finished,
        }
        if details:
            doc["command"] = self.command
        return doc


def wants_hook(config: Config, report: BuildReport) -> bool:
    """An ``after_build`` hook is configured and the build changed a file."""
    return bool(config.hooks.after_build) and report.changed


def _run(config: Config, payload: str, stop: threading.Event | None = None) -> HookResult:
    command = config.hooks.after_build
    assert command
    run = run_command(
        command,
        cwd=config.hooks.folder,
        timeout=config.hooks.timeout,
        stdin=payload.encode("utf-8"),
        stop=stop,
    )
    return HookResult.of(run)


def run_after_build(config: Config, report: BuildReport) -> HookResult | None:
    """Run the hook with the report on its standard input and wait for it; ``None`` when
    there is nothing to run (no hook, or the build changed no file)."""
    if not wants_hook(config, report):
        return None
    return _run(config, change_report_json(config, report) + "\n")


class HookRunner:
    """Runs hooks one after another in the background (``serve``, ``watch``).

    :meth:`submit` returns at once; each build that changed a file gets its own run, in
    order. :meth:`close` drops runs not started, stops the running one and waits.
    """

    def __init__(self, on_result: Callable[[HookResult], None] | None = None) -> None:
        self._on_result = on_result
        self._worker: Worker[tuple[Config, str]] = Worker("feedwright-hook", self._handle)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._running = False
        self._last: HookResult | None = None
        self._runs = 0
        self._failures = 0

    def submit(self, config: Config, report: BuildReport) -> bool:
        """Queue a run for this build's report; ``False`` if there is nothing to run."""
        if not wants_hook(config, report):
            return False
        return self._worker.submit((config, change_report_json(config, report) + "\n")) != "closed"

    def _handle(self, job: tuple[Config, str]) -> None:
        config, payload = job
        with self._lock:
            self._running = True
        try:
            result = _run(config, payload, self._stop)
        finally:
            with self._lock:
                self._running = False
        with self._lock:
            self._last = result
            self._runs += 1
            self._failures += 0 if result.ok else 1
        if self._on_result is not None:
            self._on_result(result)  # if it raises, the worker logs it and goes on

    def wait(self, timeout: float) -> bool:
        """Block until every queued run is done; ``False`` on timeout."""
        return self._worker.wait(timeout)

    def close(self, timeout: float = 10.0) -> bool:
        """Drop queued runs, stop the running one (its process group), and wait."""
        self._worker.close()
        self._stop.set()
        return self._worker.wait(timeout)

    def status(self, *, details: bool = False) -> dict[str, Any]:
        """For ``GET /status``: runs, failures, whether one runs now, and the last result
        (its command and output only with ``details``)."""
        with self._lock:
            last = self._last
            doc: dict[str, Any] = {
                "runs": self._runs,
                "failures": self._failures,
                "running": self._running,
                "queued": self._worker.queued(),
            }
        doc["last"] = last.as_dict(details=details) if last is not None else None
        return doc


__all__ = ["HookResult", "HookRunner", "run_after_build", "wants_hook"]
