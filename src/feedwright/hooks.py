"""``hooks.after_build``: a command that reads each build's change report on its standard
input, after every build that wrote or removed a file (from ``build``, ``watch`` and
``serve`` alike), e.g. to purge a CDN or copy the feeds to object storage.

The command runs without a shell, in the config file's folder, in a process group of its
own. A hook that fails, cannot start, or outlives ``hooks.timeout`` is reported and never
fails the build; at the timeout its whole process group is killed, so nothing it started
outlives it. :func:`run_after_build` runs one and waits; :class:`HookRunner` runs them one
after another in a background thread, so that a slow hook never delays the next build.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .changes import change_report_json
from .config import Config
from .model import BuildReport

#: How many lines of a failing hook's output its report keeps.
TAIL_LINES = 5


@dataclass(frozen=True, slots=True)
class HookResult:
    """How one run of a hook went."""

    #: The command, as a shell would show it.
    command: str
    #: It exited with status 0 in time.
    ok: bool
    #: What went wrong (empty when ``ok``).
    message: str
    #: Wall seconds it ran.
    seconds: float
    #: Its exit status, if it exited (``None``: it could not start, or was stopped).
    returncode: int | None
    #: When it finished (UTC, ISO 8601).
    finished: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "ok": self.ok,
            "message": self.message,
            "seconds": round(self.seconds, 3),
            "returncode": self.returncode,
            "finished": self.finished,
        }


def wants_hook(config: Config, report: BuildReport) -> bool:
    """An ``after_build`` hook is configured and the build changed a file."""
    return bool(config.hooks.after_build) and report.changed


class _Hook:
    """One run of the command; :meth:`kill` stops it (and its process group) from any thread."""

    def __init__(self, config: Config) -> None:
        command = config.hooks.after_build
        assert command
        self.command = command
        self.config = config
        self.shown = shlex.join(command)
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._killed = False

    def kill(self) -> None:
        with self._lock:
            self._killed = True
            proc = self._proc
        if proc is not None:
            _kill_group(proc)

    def run(self, payload: str) -> HookResult:
        start = time.monotonic()
        timeout = self.config.hooks.timeout
        try:
            with self._lock:
                if self._killed:
                    return self._result(False, "stopped before it started", start, None)
                self._proc = subprocess.Popen(
                    list(self.command),
                    cwd=self.config.hooks.folder,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    start_new_session=True,  # its own process group: killed as a whole
                )
            proc = self._proc
        except OSError as e:
            message = f"cannot run `{self.shown}`: {e.strerror or e}"
            return self._result(False, message, start, None)
        try:
            out, err = proc.communicate(payload.encode("utf-8"), timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            _reap(proc)
            message = f"`{self.shown}` did not finish in {timeout:g} s; stopped"
            return self._result(False, message, start, None)
        finally:
            _kill_group(proc)  # whatever it left running in its group goes with it
        if self._killed and proc.returncode is not None and proc.returncode < 0:
            return self._result(False, f"`{self.shown}` was stopped", start, None)
        if proc.returncode == 0:
            return self._result(True, "", start, 0)
        text = (err or out).decode("utf-8", "replace").strip()
        tail = " | ".join(text.splitlines()[-TAIL_LINES:])
        message = f"`{self.shown}` exited with {proc.returncode}" + (f": {tail}" if tail else "")
        return self._result(False, message, start, proc.returncode)

    def _result(self, ok: bool, message: str, start: float, code: int | None) -> HookResult:
        finished = datetime.now(UTC).isoformat(timespec="milliseconds")
        seconds = time.monotonic() - start
        return HookResult(self.shown, ok, message, seconds, code, finished)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(proc: subprocess.Popen[bytes]) -> None:
    """Wait for a killed hook; its pipes may be held a moment longer by its children."""
    try:
        proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        proc.wait()


def run_after_build(config: Config, report: BuildReport) -> HookResult | None:
    """Run the hook with the report on its standard input and wait for it; ``None`` when
    there is nothing to run (no hook, or the build changed no file)."""
    if not wants_hook(config, report):
        return None
    return _Hook(config).run(change_report_json(config, report) + "\n")


class HookRunner:
    """Runs hooks one after another in a background thread (``serve``, ``watch``).

    :meth:`submit` returns at once; each build that changed a file gets its own run, in
    order. :meth:`close` drops runs not started, stops the running one and waits.
    """

    def __init__(self, on_result: Callable[[HookResult], None] | None = None) -> None:
        self._on_result = on_result
        self._lock = threading.Lock()
        self._queue: deque[tuple[Config, str]] = deque()
        self._thread: threading.Thread | None = None
        self._current: _Hook | None = None
        self._closed = False
        self._last: HookResult | None = None
        self._runs = 0
        self._failures = 0

    def submit(self, config: Config, report: BuildReport) -> bool:
        """Queue a run for this build's report; ``False`` if there is nothing to run."""
        if not wants_hook(config, report):
            return False
        payload = change_report_json(config, report) + "\n"
        with self._lock:
            if self._closed:
                return False
            self._queue.append((config, payload))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="feedwright-hook", daemon=True
                )
                self._thread.start()
        return True

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._queue or self._closed:
                    self._thread = None
                    return
                config, payload = self._queue.popleft()
                hook = self._current = _Hook(config)
            result = hook.run(payload)
            with self._lock:
                self._current = None
                self._last = result
                self._runs += 1
                self._failures += 0 if result.ok else 1
            if self._on_result is not None:
                try:
                    self._on_result(result)
                except Exception:  # a reporting callback must not stop the runner
                    pass

    def wait(self, timeout: float) -> bool:
        """Block until every queued run is done; ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._thread is None:
                    return True
            time.sleep(0.02)
        return False

    def close(self, timeout: float = 10.0) -> bool:
        """Drop queued runs, stop the running one (its process group), and wait."""
        with self._lock:
            self._closed = True
            self._queue.clear()
            current = self._current
            thread = self._thread
        if current is not None:
            current.kill()
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def status(self) -> dict[str, Any]:
        """For ``GET /status``: runs, failures, whether one runs now, and the last result."""
        with self._lock:
            return {
                "runs": self._runs,
                "failures": self._failures,
                "running": self._current is not None,
                "queued": len(self._queue),
                "last": self._last.as_dict() if self._last is not None else None,
            }


__all__ = ["HookResult", "HookRunner", "run_after_build", "wants_hook"]
