"""The process table, read from ``/proc``: who descends from whom, who carries a marker.

A process is named by its pid *and* its start time (:class:`Proc`), so a pid reused by
the system while a test waits is never mistaken for the process it recorded. A marker is
an environment variable given to a process when it starts: every process it starts
inherits it (``exec`` and ``fork`` both keep the environment), so the marker finds a
process's whole family even after the process that started them is gone and they are
re-parented to init.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class Proc:
    """One process, for good: a pid names another process once this one is reaped."""

    #: The process id.
    pid: int
    #: When it started, in clock ticks after boot (field 22 of ``/proc/<pid>/stat``).
    start: int


def _stat(pid: int) -> tuple[str, int, int] | None:
    """``(state, ppid, start)`` of a process, or ``None`` when there is no such process."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name may hold spaces and ")"
    return fields[0], int(fields[1]), int(fields[19])


def _pids() -> list[int]:
    return [int(name) for name in os.listdir(PROC) if name.isdigit()]


def live(proc: Proc) -> bool:
    """Whether the process still runs (a zombie has ended: it only waits to be reaped)."""
    stat = _stat(proc.pid)
    return stat is not None and stat[2] == proc.start and stat[0] not in ("Z", "X")


def _tree() -> dict[int, list[Proc]]:
    """The live processes under each pid."""
    children: dict[int, list[Proc]] = {}
    for pid in _pids():
        stat = _stat(pid)
        if stat is not None and stat[0] not in ("Z", "X"):
            children.setdefault(stat[1], []).append(Proc(pid, stat[2]))
    return children


def children(pid: int) -> list[Proc]:
    """The live processes ``pid`` started (and has not lost to an exit)."""
    return _tree().get(pid, [])


def descendants(pid: int) -> list[Proc]:
    """Every live process below ``pid`` in the process tree (children, grandchildren…)."""
    tree = _tree()
    found: list[Proc] = []
    todo = [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child.pid)
    return found


def marked(name: str, value: str) -> list[Proc]:
    """Every live process started with ``name=value`` in its environment."""
    entry = f"{name}={value}".encode()
    found = []
    for pid in _pids():
        stat = _stat(pid)
        if stat is None or stat[0] in ("Z", "X"):
            continue
        try:
            environ = (PROC / str(pid) / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if entry in environ.split(b"\0"):
            found.append(Proc(pid, stat[2]))
    return found


def command(proc: Proc) -> str:
    """The process's command line (shortened), for messages."""
    try:
        argv = (PROC / str(proc.pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    text = " ".join(a.decode(errors="replace") for a in argv if a)
    return text if len(text) <= 200 else text[:199] + "…"


def describe(procs: Iterable[Proc]) -> str:
    return "\n".join(f"  {p.pid}: {command(p)}" for p in procs)


def survivors(find: Callable[[], Iterable[Proc]], timeout: float) -> list[Proc]:
    """What ``find`` returns that still runs, once it is empty or ``timeout`` s have passed."""
    deadline = time.monotonic() + timeout
    while True:
        left = sorted({p for p in find() if live(p)}, key=lambda p: p.pid)
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.02)


def kill(procs: Iterable[Proc]) -> None:
    """``SIGKILL`` each process that still runs (and is still the one recorded)."""
    for proc in procs:
        try:
            fd = os.pidfd_open(proc.pid)  # holds this pid: it cannot name another process now
        except OSError:
            continue
        try:
            if live(proc):
                signal.pidfd_send_signal(fd, signal.SIGKILL)
        except ProcessLookupError:
            pass
        finally:
            os.close(fd)
