"""The progress bar: shown on a terminal for big builds, never in pipes, with -q or in CI."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml


def _site(root: Path, n: int) -> Path:
    posts = root / "site" / "_posts"
    posts.mkdir(parents=True)
    for i in range(n):
        text = f"---\ntitle: 文章{i}\ntags: [标签{i % 7}]\n---\n<p>正文{i}</p>\n"
        (posts / f"2021-01-01-p{i:05d}.md").write_text(text, "utf-8")
    config = root / "config.yaml"
    config.write_text(
        yaml.safe_dump({"site": {"url": "https://p.example"}, "source": "site", "output": "out"}),
        "utf-8",
    )
    return config


def _run_on_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run with stdout and stderr on a pseudo-terminal; return everything it printed."""
    main, secondary = pty.openpty()
    proc = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary, env=env
    )
    os.close(secondary)
    chunks = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.5)
        if ready:
            try:
                data = os.read(main, 65536)
            except OSError:  # the terminal closed: the process is gone
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=60)
    os.close(main)
    assert proc.returncode == 0
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_a_big_build_on_a_terminal_shows_a_progress_bar_and_ci_does_not(tmp_path):
    config = _site(tmp_path, 2100)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    cmd = [sys.executable, "-m", "feedwright", "build", "--config", str(config)]
    shown = _run_on_terminal([*cmd, "--full"], env)
    assert "reading posts" in shown
    assert "2100 posts, 0 rejected" in shown
    quiet = _run_on_terminal([*cmd, "--full", "-q"], env)
    assert "reading posts" not in quiet and "posts," not in quiet
    in_ci = _run_on_terminal([*cmd, "--full"], {**env, "CI": "true"})
    assert "reading posts" not in in_ci and "2100 posts" in in_ci
    piped = subprocess.run(
        [*cmd, "--full"], env=env, capture_output=True, text=True, check=True, timeout=120
    )
    assert "reading posts" not in piped.stderr and "2100 posts" in piped.stdout
