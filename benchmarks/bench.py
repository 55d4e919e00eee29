#!/usr/bin/env python3
"""Benchmark feedwright against floors measured in the same run. Prints a Markdown table.

    .venv/bin/python benchmarks/bench.py                     # N = 10,000 and 100,000
    .venv/bin/python benchmarks/bench.py --posts 2000 --runs 1
    .venv/bin/python benchmarks/bench.py --corpus /tmp/c100k  # an existing corpus

For each N it generates a corpus with ../shared/bench/gen_corpus.py (60 categories,
~400 tags, 20 items a feed), then measures, each in a fresh process and reporting the
median of --runs: the floors (read every file; read + YAML-parse every post with PyYAML's
C loader; the same through python-frontmatter, which uses that loader), a cold full
build, a no-op rebuild, a rebuild after one post is edited and one after a post is
added. Peak RSS is the largest single process (as /usr/bin/time).
Not a test: timings on shared machines are noisy, which is why floors come from the
same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GEN = ROOT.parent / "shared" / "bench" / "gen_corpus.py"

READ_FLOOR = """
import os, sys
n = 0
for d, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        with open(os.path.join(d, f), "rb") as fh:
            n += len(fh.read())
"""

PARSE_FLOOR = """
import os, sys, yaml
for d, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        if not f.endswith(".md"):
            continue
        with open(os.path.join(d, f), encoding="utf-8") as fh:
            text = fh.read()
        yaml.load(text.split("---", 2)[1], Loader=yaml.CSafeLoader)
"""

FRONTMATTER_FLOOR = """
import os, sys, frontmatter
for d, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        if f.endswith(".md"):
            frontmatter.load(os.path.join(d, f))
"""


def run(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one command in a fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "CI": "1"}
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{stderr}")
    return wall, usage.ru_maxrss / 1024


def median(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(s[0] for s in samples), max(s[1] for s in samples)


def newest_visible_post(posts: Path) -> Path:
    today = time.strftime("%Y-%m-%d")
    names = sorted(p.name for p in posts.iterdir() if p.name[:10] <= today)
    return posts / names[-1]


def measure(corpus: Path, runs: int, work: Path) -> list[tuple[str, float, float]]:
    py = sys.executable
    posts = corpus / "_posts"
    config = work / "config.yaml"
    out = work / "out"
    config.write_text(
        "site: {title: bench, url: 'https://finews.example', timezone: Asia/Shanghai}\n"
        f"source: '{corpus}'\noutput: '{out}'\n",
        encoding="utf-8",
    )
    build = [py, "-m", "feedwright", "build", "--config", str(config), "-q"]
    rows = []
    rows.append(
        (
            "floor: read every file",
            *median([run([py, "-c", READ_FLOOR, str(posts)]) for _ in range(runs)]),
        )
    )
    rows.append(
        (
            "floor: read + YAML-parse every post (CSafeLoader)",
            *median([run([py, "-c", PARSE_FLOOR, str(posts)]) for _ in range(runs)]),
        )
    )
    rows.append(
        (
            "floor: read + python-frontmatter.load every post",
            *median([run([py, "-c", FRONTMATTER_FLOOR, str(posts)]) for _ in range(runs)]),
        )
    )
    cold = []
    for _ in range(runs):
        shutil.rmtree(out, ignore_errors=True)
        cold.append(run([*build, "--full"]))
    rows.append(("feedwright: cold full build", *median(cold)))
    rows.append(("feedwright: no-op rebuild", *median([run(build) for _ in range(runs)])))
    target = newest_visible_post(posts)
    original = target.read_bytes()
    edits = []
    for i in range(runs):
        target.write_bytes(original + f"\n<p>编辑 {i}</p>\n".encode())
        edits.append(run(build))
    rows.append(("feedwright: one post edited", *median(edits)))
    added = []
    for i in range(runs):
        new = posts / f"{target.name[:10]}-bench-added-{i}.md"
        new.write_bytes(original.replace(b"title: ", f"title: 新增{i} ".encode(), 1))
        added.append(run(build))
    rows.append(("feedwright: one post added", *median(added)))
    for i in range(runs):
        (posts / f"{target.name[:10]}-bench-added-{i}.md").unlink()
    target.write_bytes(original)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, action="append", help="corpus size (repeatable)")
    ap.add_argument("--corpus", type=Path, help="use this corpus folder instead")
    ap.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    ap.add_argument("--gen", type=Path, default=GEN, help="path of gen_corpus.py")
    args = ap.parse_args()
    sizes = args.posts or [10_000, 100_000]
    print(
        f"feedwright benchmark — {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"median of {args.runs} run(s)\n"
    )
    print("| posts | measurement | wall s | peak RSS MiB | × YAML floor | × frontmatter floor |")
    print("|---:|---|---:|---:|---:|---:|")
    targets = [(args.corpus, None)] if args.corpus else [(None, n) for n in sizes]
    for corpus, n in targets:
        with tempfile.TemporaryDirectory(prefix="feedwright-bench-") as tmp:
            work = Path(tmp)
            if corpus is None:
                corpus = work / "corpus"
                subprocess.run(
                    [
                        sys.executable,
                        str(args.gen),
                        "--posts",
                        str(n),
                        "--out",
                        str(corpus),
                        "--quiet",
                    ],
                    check=True,
                )
            count = sum(1 for _ in (corpus / "_posts").iterdir())
            rows = measure(corpus, args.runs, work)
            yaml_floor, fm_floor = rows[1][1], rows[2][1]
            for name, wall, rss in rows:
                print(
                    f"| {count:,} | {name} | {wall:.2f} | {rss:.0f} | {wall / yaml_floor:.2f} "
                    f"| {wall / fm_floor:.2f} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
