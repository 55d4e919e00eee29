#!/usr/bin/env python3
"""Seconds to serialize every group's documents: from entries rendered once and shared by
every document (one ``render.EntryXml``; ``entry_fragments`` + ``render_document``), from
fragments rendered per group (``render_group`` without one: what the engine's call sites
get today), and as one whole feedgen document per group and format (the tests' reference;
and, with ``--old``, the serializer this one replaced).

    .venv/bin/python benchmarks/documents.py /tmp/c2k                 # a benchmarks/corpus.py site
    git show d3e606b:src/feedwright/render.py > /tmp/old_render.py
    .venv/bin/python benchmarks/documents.py /tmp/c2k --old /tmp/old_render.py

Parses the first --posts posts, renders their entries' content once (not timed), groups
them as a build does (site, categories, tags), and times two workloads, best of --runs:
the subscription feeds (the newest ``--limit`` posts of every group, every format), and
the RFC 5005 archives of every group, period and format (every post in every group it is
in). Checks that every way gives the same bytes (the old one: the feeds; its archives
declared namespaces on their entries). Not a test: timings on shared machines are noisy.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from feedwright.config import Config, parse_config
from feedwright.content import EntryRenderer
from feedwright.discover import discover
from feedwright.group import archive_neighbours, archive_posts, group_posts
from feedwright.model import ArchiveLinks, EntryContent, FeedFile, Group
from feedwright.posts import parse_post
from feedwright.render import EntryXml, render_group

ROOT = Path(__file__).resolve().parent.parent
Job = tuple[Group, ArchiveLinks | None]
Way = Callable[[], list[FeedFile]]


def load_reference() -> ModuleType:
    """tests/reference.py: whole documents through feedgen's document path."""
    sys.path.insert(0, str(ROOT / "tests"))
    import reference

    return reference


def load_old(path: Path) -> ModuleType:
    """A render.py of an earlier feedwright, imported inside the installed package."""
    spec = importlib.util.spec_from_file_location("feedwright._old_render", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def site(source: Path, url: str, limit: int, posts: int) -> tuple[Config, list, dict]:
    config = parse_config(
        {
            "site": {"url": url, "title": "基准", "timezone": "Asia/Shanghai"},
            "source": ".",
            "feeds": {
                "limit": limit,
                "pages": False,
                "archives": "monthly",
                "archives_formats": ["atom", "rss", "json"],
                "archives_groups": ["site", "categories", "tags"],
            },
        },
        base=source,
    )
    raws = sorted(discover(source).posts, key=lambda r: r.relpath)[:posts]
    parsed = [parse_post(raw, Path(raw.abspath).read_bytes(), config) for raw in raws]
    renderer = EntryRenderer()
    contents = {p.relpath: renderer.render_entry(p) for p in parsed}
    return config, parsed, contents


def feed_jobs(config: Config, posts: list) -> list[Job]:
    groups, _ = group_posts(posts, config)
    return [(g, None) for g in groups]


def archive_jobs(config: Config, posts: list) -> list[Job]:
    every = config.feeds.archives or "monthly"
    # every post of each group, not only its newest: the groups without a limit
    unlimited = parse_config(
        {"site": {"url": config.site.url}, "source": ".", "feeds": {"limit": 10**9}},
        base=config.source,
    )
    whole, _ = group_posts(posts, unlimited)
    jobs: list[Job] = []
    for g in whole:
        periods = archive_posts(g.posts, every, config.site.timezone)
        names = sorted(periods)
        for i, period in enumerate(names):
            group = Group(g.kind, g.slug, g.name, tuple(periods[period]))
            jobs.append((group, ArchiveLinks(period, *archive_neighbours(names, i))))
    return jobs


def whole(
    reference: ModuleType, config: Config, jobs: list[Job], contents: dict[str, EntryContent]
) -> list[FeedFile]:
    return [f for g, links in jobs for f in reference.whole_documents(config, g, contents, links)]


def previous(
    old: ModuleType, config: Config, jobs: list[Job], contents: dict[str, EntryContent]
) -> list[FeedFile]:
    xml = old.EntryXml(config)  # as its engine used it: entries shared within a task
    out: list[FeedFile] = []
    for g, links in jobs:
        if links is None:
            out += old.render_group(config, g, contents, links)
        else:
            out += old.render_archive(config, g, contents, links, xml)
    return out


def shared(config: Config, jobs: list[Job], contents: dict[str, EntryContent]) -> list[FeedFile]:
    xml = EntryXml(config)  # every entry rendered once, for every document
    return [f for g, links in jobs for f in render_group(config, g, contents, links, xml)]


def timed(ways: dict[str, Way], runs: int) -> dict[str, tuple[float, list[FeedFile]]]:
    """Each way's best time of ``runs`` and its files; the ways take turns in each run
    (so a busy moment of a shared machine does not fall on one of them only)."""
    best: dict[str, tuple[float, list[FeedFile]]] = {}
    for _ in range(runs):
        for name, way in ways.items():
            start = time.perf_counter()
            out = way()
            seconds = time.perf_counter() - start
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, out)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", type=Path, help="a site folder with _posts/")
    parser.add_argument("--posts", type=int, default=2000, help="how many posts (default 2000)")
    parser.add_argument("--limit", type=int, default=20, help="feeds.limit (default 20)")
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs (default 3)")
    parser.add_argument("--url", default="https://finews.example", help="the site's URL")
    parser.add_argument("--old", type=Path, help="an earlier render.py to time as well")
    args = parser.parse_args()

    config, posts, contents = site(args.corpus, args.url, args.limit, args.posts)
    if not posts:
        sys.exit(f"no posts under {args.corpus}")
    reference = load_reference()
    old = load_old(args.old) if args.old else None
    for label, jobs in [
        ("feeds", feed_jobs(config, posts)),
        ("archives", archive_jobs(config, posts)),
    ]:
        entries = sum(len(g.posts) for g, _ in jobs)
        distinct = len({p.relpath for g, _ in jobs for p in g.posts})
        print(f"{label}: {len(jobs)} groups' documents, {entries} entries ({distinct} posts)")

        ways: dict[str, Way] = {
            "shared fragments (render_document)": lambda jobs=jobs: shared(config, jobs, contents),
            "fragments per group (no xml passed)": lambda jobs=jobs: [
                f for g, links in jobs for f in render_group(config, g, contents, links)
            ],
            "whole feedgen documents": lambda jobs=jobs: whole(reference, config, jobs, contents),
        }
        if old is not None:
            ways["the serializer replaced (--old)"] = lambda jobs=jobs: previous(
                old, config, jobs, contents
            )
        found = timed(ways, args.runs)
        made = [[f.data for f in files] for _s, files in found.values()]
        assert made[0] == made[1] == made[2], "not the same bytes"
        if old is not None and label == "feeds":  # its archives declared namespaces elsewhere
            assert made[0] == made[3], "not the bytes of the serializer replaced"
        for name, (seconds, _files) in found.items():
            print(f"  {name:<36} {seconds:7.3f} s  ({seconds / entries * 1e6:6.1f} µs/entry)")


if __name__ == "__main__":
    main()
