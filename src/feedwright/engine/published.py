"""What follows from a plan's decisions, without I/O: the files a build claims before it
writes any, those it leaves alone because someone else's file is in their place, the
groups ``feeds.opml`` lists, and who entered and left each group's feeds (the change
report). The decisions themselves are :mod:`.plan`'s.
"""

from __future__ import annotations

from typing import cast

from ..config import Config
from ..layout import (
    FILENAMES,
    OPML,
    SITE,
    archive_paths,
    feed_relpath,
    group_order,
    group_paths,
    page_relpath,
)
from ..model import EntryRef, GroupChange, GroupKey, GroupKind
from .decisions import ArchiveDecision, ArchiveRender, Decision, Plan, Remove, Render, Snapshot


def subscribed(plan: Plan, config: Config) -> dict[GroupKey, str]:
    """The groups ``feeds.opml`` lists, by name: every published group whose feed in
    ``feeds.opml_format`` is feedwright's (not someone else's file in its place)."""
    fmt = config.feeds.opml_format
    return {
        key: name
        for key, name in plan.published.items()
        if fmt is None or feed_relpath(key, fmt) not in plan.foreign
    }


def foreign_files(decisions: list[Decision], archives: list[ArchiveDecision]) -> frozenset[str]:
    """The files of the groups and archives rendered that someone else's file is in the
    place of."""
    found: set[str] = set()
    for d in (*decisions, *archives):
        if isinstance(d, Render | ArchiveRender):
            found |= d.foreign
    return frozenset(found)


def claims(
    snapshot: Snapshot,
    config: Config,
    decisions: list[Decision],
    archives: list[ArchiveDecision],
    opml: bool,
) -> list[str]:
    """The files this build may write that the manifest does not list yet (not those of
    someone else that are in the way)."""
    wanted = [
        p
        for d in decisions
        if isinstance(d, Render)
        for p in group_paths(config, d.key)
        if p not in d.foreign
    ]
    wanted += [
        p
        for d in archives
        if isinstance(d, ArchiveRender)
        for p in archive_paths(config, d.key, d.links.period or "")
        if p not in d.foreign
    ]
    wanted += [OPML] if opml else []
    return [p for p in dict.fromkeys(wanted) if p not in snapshot.owned]


def changes(snapshot: Snapshot, config: Config, decisions: list[Decision]) -> list[GroupChange]:
    """Which posts enter and leave the feeds of each group that is rendered (unless all its
    files are kept as they were) or removed, by the manifest's record of their sources."""
    out = []
    for d in decisions:
        feeds = [feed_relpath(d.key, fmt) for fmt in FILENAMES]
        old = {s for p in feeds if p in snapshot.owned for s in snapshot.owned[p].sources}
        kind = cast(GroupKind, d.key.kind)
        if isinstance(d, Render):
            rendered = [feed_relpath(d.key, fmt) for fmt in config.feeds.formats]
            if config.feeds.pages and d.key != SITE:
                rendered.append(page_relpath(d.key))
            if all(p in d.keep or p in d.foreign for p in rendered):
                continue
            group = d.group
            entered = tuple(
                EntryRef(p.relpath, p.url, p.title) for p in group.posts if p.relpath not in old
            )
            left = tuple(EntryRef(path) for path in sorted(old - {p.relpath for p in group.posts}))
            if entered or left:
                out.append(GroupChange(kind, d.key.slug, group.name, entered, left))
        elif isinstance(d, Remove):
            before = snapshot.before.get(d.key)
            names = [snapshot.owned[p].name for p in feeds if p in snapshot.owned]
            name = before.name if before is not None else next((n for n in names if n), "")
            left = tuple(EntryRef(path) for path in sorted(old))
            out.append(GroupChange(kind, d.key.slug, name, (), left, removed=True))
    return sorted(out, key=lambda c: group_order((c.kind, c.slug)))


__all__ = ["changes", "claims", "foreign_files", "subscribed"]
