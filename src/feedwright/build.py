"""The orchestrator: config → discover → parse → group → render → write → BuildReport."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from .config import Config
from .content import render_entry
from .discover import Found, discover, read_post
from .errors import PostError
from .group import group_posts, order_key
from .model import BuildReport, EntryContent, FeedFile, Group, Post
from .opml import render_opml
from .output import ManifestEntry, Output
from .posts import Skip, parse_post
from .render import feed_url, render_group

Progress = Callable[[int, int], None]
OPML = "feeds.opml"


@dataclass(frozen=True, slots=True)
class Parsed:
    """Every post read from the source: the good ones and one error per bad one."""

    posts: list[Post]
    errors: list[PostError]
    warnings: list[str]
    found: Found


def read_posts(config: Config, *, now: datetime, progress: Progress | None = None) -> Parsed:
    """Discover and parse every post. Bad posts become errors; nothing raises."""
    found = discover(config.source, exclude=(config.output,))
    posts: list[Post] = []
    errors: list[PostError] = []
    warnings: list[str] = []
    total = len(found.posts)
    for i, raw in enumerate(found.posts):
        try:
            posts.append(
                parse_post(raw, read_post(raw, config.source), config, now=now, warnings=warnings)
            )
        except PostError as e:
            errors.append(e)
        except Skip:
            pass
        except Exception as e:  # a bug must not cost the other posts: name the post
            errors.append(
                PostError(raw.relpath, 1, f"cannot be processed: {type(e).__name__}: {e}")
            )
        if progress is not None:
            progress(i + 1, total)
    return Parsed(posts=_dedupe(posts, errors), errors=errors, warnings=warnings, found=found)


def _dedupe(posts: list[Post], errors: list[PostError]) -> list[Post]:
    """One post per entry id: the first in feed order wins, the others are rejected."""
    by_id: dict[str, Post] = {}
    for post in sorted(posts, key=lambda p: (*order_key(p), p.relpath)):
        first = by_id.get(post.id)
        if first is None:
            by_id[post.id] = post
        else:
            errors.append(
                PostError(
                    post.relpath,
                    1,
                    f"has the same entry id as {first.relpath} ({post.id}); skipped",
                )
            )
    errors.sort(key=lambda e: e.path)
    return list(by_id.values())


def render_feeds(config: Config, groups: list[Group]) -> list[FeedFile]:
    """Every feed file and the OPML. Each post's body is rendered once."""
    contents: dict[str, EntryContent] = {}
    for group in groups:
        for post in group.posts:
            if post.relpath not in contents:
                contents[post.relpath] = render_entry(post)
    files: list[FeedFile] = []
    for group in groups:
        files.extend(render_group(config, group, contents))
    files.append(
        FeedFile(relpath=OPML, data=render_opml(config, groups), url=feed_url(config, OPML))
    )
    return files


def build(
    config: Config,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> BuildReport:
    """Build every feed of the site. ``now`` decides which posts are in the future."""
    start = time.monotonic()
    now = now or datetime.now(UTC)
    parsed = read_posts(config, now=now, progress=progress)
    groups, warnings = group_posts(parsed.posts, config)
    files = render_feeds(config, groups)
    warnings = parsed.warnings + warnings
    if dry_run:
        return BuildReport(
            posts=len(parsed.posts),
            errors=tuple(map(str, parsed.errors)),
            warnings=tuple(warnings),
            written=(),
            unchanged=(),
            removed=(),
            kept=(),
            seconds=time.monotonic() - start,
        )
    return _write(config, files, parsed, warnings, start)


def _write(
    config: Config, files: list[FeedFile], parsed: Parsed, warnings: list[str], start: float
) -> BuildReport:
    out = Output(config.output)
    out.prepare()
    previous = out.load_manifest()
    rejected = {e.path for e in parsed.errors}
    # A feed that held a post which is now rejected keeps its previous content.
    kept = sorted(path for path, entry in previous.items() if rejected & set(entry.sources))
    kept_set = set(kept)
    manifest = dict(previous)
    for f in files:
        if f.relpath not in kept_set:
            manifest[f.relpath] = ManifestEntry(sources=list(f.sources))
    out.save_manifest(manifest)  # before writing: a killed build still owns what it wrote
    written: list[FeedFile] = []
    unchanged: list[str] = []
    for f in files:
        if f.relpath in kept_set:
            continue
        if out.write(f.relpath, f.data):
            written.append(f)
        else:
            unchanged.append(f.relpath)
    produced = {f.relpath for f in files}
    removed: list[str] = []
    for path in sorted(previous):
        if path in produced or path in kept_set:
            continue
        if rejected:
            # Posts were rejected: a group that vanished may only have lost them. Keep it.
            kept.append(path)
            continue
        if out.remove(path):
            removed.append(path)
        manifest.pop(path, None)
    out.save_manifest(manifest)
    for path in kept:
        warnings.append(f"{path}: kept as it was, because posts it held were rejected")
    return BuildReport(
        posts=len(parsed.posts),
        errors=tuple(map(str, parsed.errors)),
        warnings=tuple(warnings + out.warnings),
        written=tuple(f.relpath for f in written),
        unchanged=tuple(unchanged),
        removed=tuple(removed),
        kept=tuple(sorted(set(kept))),
        seconds=time.monotonic() - start,
        written_urls=tuple(f.url for f in written),
    )
