"""Run a user's command the one way feedwright runs commands (``webhook.before_build`` and
``hooks.after_build`` alike), and stop it and what it started the one way.

- The command runs without a shell, in a new session (so in a process group of its own),
  with stdout and stderr on one pipe. Only the last :data:`OUTPUT_LIMIT` bytes of that
  output are kept, each line cut at :data:`LINE_LIMIT` bytes: a command that writes
  without end costs a constant amount of memory.
- It is done when it exits. Whatever it left running in its process group (a background
  ``&`` job holding the pipe open, say) is then stopped; nothing waits for the pipe's end.
  A descendant that started a session of its own (``setsid``, a daemon) is outside the
  group, is not stopped, and can outlive the command.
- It is stopped at its timeout, or when the caller's ``stop`` event is set.
- Stopping (:func:`stop_group`) is always the same: ``SIGTERM`` to the whole group, up to
  :data:`GRACE` seconds for it to end, then ``SIGKILL`` to whatever is left.
"""

from __future__ import annotations

import os
import selectors
import shlex
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

#: Most bytes of a command's output that are kept (its last ones).
OUTPUT_LIMIT = 64 * 1024
#: Longest line kept; the rest of a longer line is dropped, and the cut is marked.
LINE_LIMIT = 4 * 1024
#: Seconds a process group has to end after ``SIGTERM`` before it gets ``SIGKILL``.
GRACE = 1.0
#: How many of the last lines a message quotes.
TAIL_LINES = 5
#: Most bytes read after the command exited (what its leftovers still write is not waited for).
_DRAIN_LIMIT = 4 * OUTPUT_LIMIT
_READ = 65536
_POLL = 0.1

Outcome = Literal["exited", "timed out", "stopped", "cannot run"]


class OutputTail:
    """The last ``limit`` bytes of a stream, as lines of at most ``line_limit`` bytes."""

    def __init__(self, limit: int = OUTPUT_LIMIT, line_limit: int = LINE_LIMIT) -> None:
        self.limit = limit
        self.line_limit = line_limit
        self._lines: deque[bytes] = deque()
        self._size = 0
        self._partial = bytearray()
        self._cut = False  # the partial line was longer than line_limit

    def feed(self, data: bytes) -> None:
        parts = data.split(b"\n")
        self._extend_partial(parts[0])
        if len(parts) == 1:
            return
        self._push(self._finish_partial())
        middle = parts[1:-1]
        # Only the last lines can survive: skip what the limit would drop at once.
        kept, size = 0, 0
        for line in reversed(middle):
            size += min(len(line), self.line_limit) + 1
            kept += 1
            if size >= self.limit:
                break
        if kept < len(middle):
            self._lines.clear()
            self._size = 0
        for line in middle[len(middle) - kept :]:
            self._push(self._cut_line(line))
        self._extend_partial(parts[-1])

    def _extend_partial(self, data: bytes) -> None:
        room = self.line_limit - len(self._partial)
        if len(data) > room:
            self._partial += data[: max(room, 0)]
            self._cut = True
        else:
            self._partial += data

    def _finish_partial(self) -> bytes:
        line = bytes(self._partial) + (b" [cut]" if self._cut else b"")
        self._partial.clear()
        self._cut = False
        return line

    def _cut_line(self, line: bytes) -> bytes:
        return line if len(line) <= self.line_limit else line[: self.line_limit] + b" [cut]"

    def _push(self, line: bytes) -> None:
        self._lines.append(line)
        self._size += len(line) + 1
        while self._size > self.limit and self._lines:
            self._size -= len(self._lines.popleft()) + 1

    def lines(self) -> list[str]:
        """The kept lines (the unfinished last one included), decoded leniently."""
        raw = list(self._lines)
        if self._partial or self._cut:
            raw.append(bytes(self._partial) + (b" [cut]" if self._cut else b""))
        return [line.decode("utf-8", "replace").rstrip("\r") for line in raw]


@dataclass(frozen=True, slots=True)
class CommandResult:
    """How one run of a command went."""

    #: The command, as a shell would show it.
    shown: str
    #: ``exited`` (see ``returncode``), ``timed out``, ``stopped`` or ``cannot run``.
    outcome: Outcome
    #: Its exit status, when it exited.
    returncode: int | None
    #: The last lines of its output (stdout and stderr together), bounded as above.
    output: tuple[str, ...]
    #: Wall seconds from start to done.
    seconds: float
    #: The timeout it had, in seconds.
    timeout: float
    #: Why it could not start (``cannot run``).
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == "exited" and self.returncode == 0

    def tail(self) -> str:
        """The last few non-blank lines of its output, on one line."""
        lines = [line.strip() for line in self.output if line.strip()]
        return " | ".join(lines[-TAIL_LINES:])

    def describe(self, *, details: bool = True) -> str:
        """What happened, in words; with ``details`` the command and its last output."""
        what = f"`{self.shown}` " if details else ""
        if self.outcome == "cannot run":
            return (
                f"cannot run `{self.shown}`: {self.error}"
                if details
                else f"cannot run: {self.error}"
            )
        if self.outcome == "timed out":
            return f"{what}did not finish in {self.timeout:g} s; stopped"
        if self.outcome == "stopped":
            return f"{what}was stopped"
        text = f"{what}exited with {self.returncode}"
        tail = self.tail() if details and not self.ok else ""
        return f"{text}: {tail}" if tail else text


def run_command(
    command: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None,
    timeout: float,
    stdin: bytes | None = None,
    stop: threading.Event | None = None,
) -> CommandResult:
    """Run ``command`` (see the module), feeding it ``stdin``; wait until it is done."""
    started = time.monotonic()
    shown = shlex.join(command)
    tail = OutputTail()

    def result(outcome: Outcome, code: int | None = None, error: str = "") -> CommandResult:
        seconds = time.monotonic() - started
        return CommandResult(shown, outcome, code, tuple(tail.lines()), seconds, timeout, error)

    if stop is not None and stop.is_set():
        return result("stopped")
    try:
        proc = subprocess.Popen(
            list(command),
            cwd=Path(cwd) if cwd is not None else None,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole
        )
    except OSError as e:
        return result("cannot run", error=e.strerror or str(e))
    try:
        outcome = _Waiter(proc, stdin or b"", tail).wait(started + timeout, stop)
    finally:
        stop_group(proc)
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()
    return result(outcome, proc.returncode if outcome == "exited" else None)


class _Waiter:
    """Feeds the command's stdin and reads its output until it exits, times out or is stopped."""

    def __init__(self, proc: subprocess.Popen[bytes], payload: bytes, tail: OutputTail) -> None:
        assert proc.stdout is not None
        self.proc = proc
        self.tail = tail
        self.out = proc.stdout.fileno()
        self.payload = memoryview(payload)
        self.sel = selectors.DefaultSelector()
        os.set_blocking(self.out, False)
        self.sel.register(self.out, selectors.EVENT_READ)
        self.pidfd = _pidfd(proc.pid)
        if self.pidfd is not None:
            self.sel.register(self.pidfd, selectors.EVENT_READ)
        self.stdin: int | None = None
        if proc.stdin is not None:
            if payload:
                self.stdin = proc.stdin.fileno()
                os.set_blocking(self.stdin, False)
                self.sel.register(self.stdin, selectors.EVENT_WRITE)
            else:
                proc.stdin.close()

    def wait(self, deadline: float, stop: threading.Event | None) -> Outcome:
        try:
            while True:
                if self.proc.poll() is not None:
                    self._drain()
                    return "exited"
                if stop is not None and stop.is_set():
                    return "stopped"
                left = deadline - time.monotonic()
                if not left > 0:  # NaN counts as no time left
                    return "timed out"
                for key, _events in self.sel.select(min(left, _POLL)):
                    if key.fd == self.out:
                        self._read()
                    elif key.fd == self.stdin:
                        self._write()
        finally:
            self.sel.close()
            if self.pidfd is not None:
                os.close(self.pidfd)

    def _read(self) -> None:
        try:
            data = os.read(self.out, _READ)
        except BlockingIOError:
            return
        if data:
            self.tail.feed(data)
        else:  # every writer closed it
            self.sel.unregister(self.out)

    def _write(self) -> None:
        assert self.stdin is not None and self.proc.stdin is not None
        try:
            sent = os.write(self.stdin, self.payload[:_READ])
        except BlockingIOError:
            return
        except OSError:  # it does not read its input (it closed it, or exited): fine
            sent = len(self.payload)
        self.payload = self.payload[sent:]
        if not self.payload:
            self.sel.unregister(self.stdin)
            self.stdin = None
            self.proc.stdin.close()

    def _drain(self) -> None:
        """What the command wrote before it exited (not what its leftovers write later)."""
        read = 0
        while read < _DRAIN_LIMIT:
            try:
                data = os.read(self.out, _READ)
            except (BlockingIOError, ValueError, OSError):
                return
            if not data:
                return
            read += len(data)
            self.tail.feed(data)


def _pidfd(pid: int) -> int | None:
    """A file descriptor that becomes readable when ``pid`` exits (Linux 5.3+), or None."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def stop_group(proc: subprocess.Popen[bytes], grace: float = GRACE) -> None:
    """Stop ``proc``'s process group: ``SIGTERM``, up to ``grace`` s to end, then ``SIGKILL``.

    Returns at once when the group has already ended (nothing it started is left).
    """
    pgid = proc.pid
    proc.poll()
    if not _group_alive(pgid, proc):
        return
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        proc.poll()  # reap the leader: a zombie still counts as a member
        if not _group_alive(pgid, proc):
            break
        time.sleep(0.02)
    else:
        _signal_group(pgid, signal.SIGKILL)
    proc.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int, leader: subprocess.Popen[bytes]) -> bool:
    """Whether a process of the group still runs (zombies, which nobody may reap, do not)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if leader.returncode is None:
        return True
    return any(_live_member(entry, pgid) for entry in _proc_entries())


def _proc_entries() -> list[str]:
    try:
        return [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def _live_member(pid: str, pgid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read()
    except OSError:
        return False
    fields = text[text.rindex(b")") + 2 :].split()  # the name may hold spaces and ")"
    return int(fields[2]) == pgid and fields[0] not in (b"Z", b"X")


__all__ = [
    "GRACE",
    "LINE_LIMIT",
    "OUTPUT_LIMIT",
    "CommandResult",
    "OutputTail",
    "run_command",
    "stop_group",
]
