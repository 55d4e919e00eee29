"""A real ``feedwright serve`` subprocess for the tests, on a free loopback port.

Everything it starts carries a marker in its environment, so a test can check that
nothing is left running after a signal, and the context manager kills the lot on exit.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import procs
import pytest
from live import SECRET, wait_until

MARK = "FEEDWRIGHT_TEST_RUN"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path
    run: str

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        with httpx.Client(trust_env=False, timeout=10) as client:
            return client.get(self.url + path, **kwargs)

    def status(self) -> dict[str, Any]:
        return dict(self.get("/status").json())

    def stderr(self) -> str:
        return self.log.read_text("utf-8", "replace")

    def family(self) -> list[procs.Proc]:
        return procs.marked(MARK, self.run)


@contextmanager
def serving(site: Any, *args: str, wait_for_build: bool = True) -> Iterator[Served]:
    """Start ``feedwright serve`` on a free port; kill it and all it started on the way out."""
    port = free_port()
    site.settings.setdefault("server", {})["port"] = port
    site.save()
    run = uuid.uuid4().hex
    log = site.root / f"serve-{run}.log"
    env = {**os.environ, "FEEDWRIGHT_WEBHOOK_SECRET": SECRET, "CI": "1", MARK: run}
    cmd = [sys.executable, "-m", "feedwright", "serve", "--config", str(site.config_path), *args]
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    served = Served(proc, f"http://127.0.0.1:{port}", log, run)
    try:

        def up() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"serve exited {proc.returncode}:\n{served.stderr()}")
            try:
                status = served.status()
            except httpx.TransportError:
                return False
            return not wait_for_build or (status["runs"] >= 1 and not status["running"])

        wait_until(up, timeout=60, step=0.05)
        yield served
    finally:
        proc.kill()
        proc.wait(timeout=30)
        procs.kill(served.family())


def stop(served: Served, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> int:
    """Send ``sig``; the exit status, once nothing it started still runs."""
    served.proc.send_signal(sig)
    try:
        status = served.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"serve still runs {timeout} s after {sig.name}:\n{served.stderr()}")
    left = procs.survivors(served.family, timeout=2)
    assert not left, procs.describe(left)
    return status


def seed(make_site: Any, **overrides: Any) -> Any:
    site = make_site(**overrides)
    site.post(
        "2022-03-07-first.md",
        {"title": "第一篇", "date": "2022-03-07 08:30:46 +08:00", "tags": ["株洲"]},
    )
    site.post("2022-03-08-second.md", {"title": "第二篇", "date": "2022-03-08 09:00:00 +08:00"})
    return site


def write_big_site(root: Path, count: int) -> Path:
    """A site folder of ``count`` posts in 7 categories and 31 tags; its path."""
    src = root / "_posts"
    src.mkdir(parents=True)
    body = "".join(f"<p>第{j}段。</p>\n" for j in range(12))
    for i in range(count):
        (src / f"2021-01-01-p{i:05d}.md").write_text(
            f"---\ntitle: 文章{i}\ndate: 2021-{1 + i % 12:02d}-{1 + i % 28:02d} 10:00:00 +0800\n"
            f"categories: paper{i % 7}\ntags: [标签{i % 31}]\n---\n{body}",
            "utf-8",
        )
    return root
