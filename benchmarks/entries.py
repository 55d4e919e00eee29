#!/usr/bin/env python3
"""Milliseconds per entry: ``content.render_entry`` before and after the fast Markdown path.

    .venv/bin/python benchmarks/entries.py /tmp/c10k            # a benchmarks/corpus.py site
    .venv/bin/python benchmarks/entries.py /tmp/c10k --posts 500 --runs 5

Parses the first --posts posts of a Jekyll-style folder (made by
benchmarks/corpus.py, or a real site), renders each with the implementation the
fast path replaced (kept as the oracle in tests/test_markup.py, so the test extras must be
installed) and with the current one, checks that both give the same entries, and prints
the best of --runs, in milliseconds per entry, for the whole entry and for Markdown alone.
Not a test: timings on shared machines are noisy.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from feedwright import content
from feedwright.config import parse_config
from feedwright.discover import discover
from feedwright.model import Post
from feedwright.posts import parse_post

ROOT = Path(__file__).resolve().parent.parent


def load_oracle() -> ModuleType:
    """tests/test_markup.py, which keeps the old implementation as its oracle (it imports
    the tests' conftest, so the tests folder goes on the import path)."""
    if str(ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests"))
    spec = importlib.util.spec_from_file_location("test_markup", ROOT / "tests" / "test_markup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_posts(source: Path, url: str, limit: int) -> list[Post]:
    config = parse_config({"site": {"url": url}, "source": "."}, base=source)
    raws = sorted(discover(source).posts, key=lambda r: r.relpath)[:limit]
    return [parse_post(raw, Path(raw.abspath).read_bytes(), config) for raw in raws]


def best_ms(posts: list[Post], render: Callable[[Post], object], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        for post in posts:
            render(post)
        best = min(best, time.perf_counter() - start)
    return best / len(posts) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path, help="a site folder with _posts/")
    parser.add_argument("--posts", type=int, default=2000, help="how many posts (default 2000)")
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs (default 3)")
    parser.add_argument("--url", default="https://finews.example", help="the site's URL")
    args = parser.parse_args()

    oracle = load_oracle()
    posts = load_posts(args.corpus, args.url, args.posts)
    if not posts:
        sys.exit(f"no posts under {args.corpus}")
    renderer = content.EntryRenderer()
    for post in posts:
        if renderer.render_entry(post) != oracle.old_render_entry(post):
            sys.exit(f"{post.relpath}: the new rendering differs from the old one")
    md = renderer.markdown
    print(f"{len(posts)} posts, same entries old and new; Markdown bodies rendered without")
    print(f"Python-Markdown: {md.fast}, partly by it: {md.mixed}, wholly by it: {md.slow}")

    rows = [
        ("entry, old", best_ms(posts, oracle.old_render_entry, args.runs)),
        ("entry, new (one EntryRenderer)", best_ms(posts, renderer.render_entry, args.runs)),
        ("entry, new (render_entry(post))", best_ms(posts, content.render_entry, args.runs)),
        ("Markdown, old", best_ms(posts, lambda p: oracle.old_render_markdown(p.body), args.runs)),
        ("Markdown, new", best_ms(posts, lambda p: renderer.render_markdown(p.body), args.runs)),
    ]
    width = max(len(label) for label, _ in rows)
    for label, ms in rows:
        print(f"{label:<{width}}  {ms:7.3f} ms/entry")
    print(
        f"speed-up: entry {rows[0][1] / rows[1][1]:.1f}x, Markdown {rows[3][1] / rows[4][1]:.1f}x"
    )


if __name__ == "__main__":
    main()
