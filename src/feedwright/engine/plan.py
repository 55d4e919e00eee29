"""Decide, without I/O, what a build does to each group's feeds and to the OPML.

:func:`plan` takes a :class:`Snapshot` (what the scan found: the groups to look at as
they are now, what was published before, which files feedwright owns and which of them
were changed behind its back, which posts are rejected) and returns a :class:`Plan`:
for each group, render its feeds, keep them as they were, remove them, or nothing.

The rules, each in one place:
- a group whose feeds held a post that is now rejected keeps those files as they were
  (a typo never empties a feed), and so does a group left with no posts because of it;
- a category or tag with no visible post loses its feeds; the site always has them; one
  the feed policy excludes (:func:`feedwright.group.excluded_groups`) loses them the
  same way;
- feeds are rendered again only when what they are rendered from (name and posts, with
  their content hashes) changed, or a file is missing or was changed on disk;
- the OPML is rendered again when the set of published groups or their names changed;
- with ``feeds.pages``, a group's page is one of its files, and a group is rendered again
  when its post count or newest date changed too; the site's page lists every group, so
  the site is rendered again whenever that list changed;
- with ``feeds.archives``, each group of a kind ``feeds.archives_groups`` names has one
  RFC 5005 archive per period with posts, in ``feeds.archives_formats``. An
  archive is rendered again only when what it is rendered from changed: the group's name,
  its posts (with their content hashes), or its neighbours in the chain (a period that
  appears or empties next to it); or a file of it is missing or was changed on disk. An
  archive that held a post that is now rejected is kept as it was, and is still the
  neighbour of those next to it (a typo never breaks the chain); one whose period has no
  post any more is removed. The subscription feed links ``prev-archive`` to the newest;
- a file a build would write (a feed, a page, an archive file, the OPML) that feedwright
  does not own (its manifest does not list it) but something is in the place of is
  someone else's: it is not written (nor claimed, nor ever removed), its group or archive
  is looked at again by the next build (so removing the file lets feedwright write it),
  and neither the OPML nor ``feedwright feeds`` lists it. ``build --adopt`` takes such
  files over instead: they are written and owned from then on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Literal

from ..config import Config
from ..group import archive_neighbours, display_name, listing, make_group
from ..layout import (
    FILENAMES,
    OPML,
    SITE,
    archive_formats,
    archive_of_path,
    archive_paths,
    archive_relpath,
    feed_relpath,
    group_of_path,
    group_order,
    group_paths,
    is_archive_path,
)
from ..model import ArchiveLinks, GroupKey, Listing
from .decisions import (
    Abandon,
    ArchiveDecision,
    ArchiveKeep,
    ArchiveRemove,
    ArchiveRender,
    Decision,
    GroupBefore,
    GroupNow,
    Keep,
    PeriodNow,
    Plan,
    Remove,
    Render,
    Snapshot,
)
from .published import changes, claims, foreign_files

__all__ = [
    "Abandon",
    "ArchiveDecision",
    "ArchiveKeep",
    "ArchiveRemove",
    "ArchiveRender",
    "Decision",
    "GroupBefore",
    "GroupNow",
    "Keep",
    "PeriodNow",
    "Plan",
    "Remove",
    "Render",
    "Snapshot",
    "archive_signature",
    "plan",
    "settle",
    "signature",
]


def signature(name: str, now: GroupNow, archive: str | None = None) -> bytes:
    """What a group's feeds are rendered from: its name and each post's path and content
    (and, with archives on, the newest archive's period: its ``prev-archive`` link)."""
    parts: list[object] = [
        name,
        [[e.post.relpath, e.sha.hex()] for e in now.entries],
    ]
    if archive is not None:
        parts.append(archive)
    data = json.dumps(parts, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).digest()


def archive_signature(name: str, links: ArchiveLinks, period: PeriodNow) -> bytes:
    """What an archive is rendered from: the group's name, its period and neighbours, and
    each post's path and content."""
    posts = [[path, sha.hex()] for path, sha in period.sources]
    data = json.dumps([name, links.period, links.older, links.newer, posts], ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).digest()


def plan(snapshot: Snapshot, config: Config, *, adopt: bool = False) -> Plan:
    """Decide every group of the snapshot (see the module's rules); with ``adopt``, files
    someone else put where this build writes are taken over."""
    occupied = snapshot.occupied
    if adopt:
        snapshot = replace(snapshot, occupied=frozenset())
    owned_by, archives_by, stale = _owned_by(snapshot)
    keys = _to_decide(snapshot, owned_by, archives_by)
    published = {key: b.name for key, b in snapshot.before.items()}
    listed_before = _listed_before(snapshot, owned_by) if config.feeds.pages else {}
    listed = {key: listed_before.get(key, Listing(name, 0, "")) for key, name in published.items()}
    decisions: list[Decision] = []
    archives: list[ArchiveDecision] = []
    for key in sorted(keys, key=group_order):
        archives += _decide_archives(snapshot, config, key, archives_by.get(key, {}))
        decision = _decide(snapshot, config, key, owned_by, archives_by, listed_before)
        if decision is None:
            continue
        decisions.append(decision)
        if isinstance(decision, Render):
            published[key] = decision.group.name
            listed[key] = listing(decision.group)
        elif isinstance(decision, Keep):
            published[key] = decision.name
            listed[key] = listed_before.get(key, Listing(decision.name, 0, ""))
        else:
            published.pop(key, None)
            listed.pop(key, None)
    if config.feeds.pages:
        site = _site_lists(snapshot, config, decisions, listed, listed_before, archives_by)
        decisions = [site, *decisions] if site is not None else decisions
    opml = _opml(snapshot, config, decisions, published)
    foreign = foreign_files(decisions, archives) | (snapshot.occupied & {OPML} if opml else set())
    opml = opml and OPML not in foreign
    claimed = claims(snapshot, config, decisions, archives, opml)
    return Plan(
        decisions=tuple(decisions),
        published=published,
        opml=opml,
        stale=tuple(stale) if snapshot.cold else (),
        listed=listed if config.feeds.pages else {},
        archives=tuple(archives),
        claims=tuple(claimed),
        changes=tuple(changes(snapshot, config, decisions)),
        save_archives=_archives_to_save(snapshot, archives),
        foreign=foreign,
        adopted=tuple(p for p in claimed if p in occupied),
    )


def _archives_to_save(
    snapshot: Snapshot, archives: list[ArchiveDecision]
) -> frozenset[GroupKey] | Literal["all"]:
    """Whose archive entries the manifest saves: only a build that read them and may
    change them saves any; every group's in a cold build, or when a manifest file was
    damaged or is from before the entries were kept apart; else those of the groups it
    decides an archive of (the only ones it may change)."""
    if snapshot.mixed or (snapshot.archives_read and (snapshot.cold or snapshot.damaged)):
        return "all"
    if not snapshot.archives_read:
        return frozenset()
    return frozenset(a.key for a in archives)


def _to_decide(
    snapshot: Snapshot,
    owned_by: Mapping[GroupKey, list[str]],
    archives_by: Mapping[GroupKey, object],
) -> set[GroupKey]:
    """The groups to decide: those looked at, those the policy excludes now that had
    feeds or archives (kept ones too: an archive kept while it held a rejected post goes
    once that post is gone, as the group's feeds went), and in a cold build every group
    the cache or the manifest knows."""
    keys = set(snapshot.groups)
    had = {*snapshot.before, *owned_by, *archives_by, *snapshot.archived}
    keys |= {k for k in snapshot.excluded if k in had}
    if snapshot.cold:
        keys |= set(snapshot.before) | set(owned_by) | set(archives_by)
    return keys


def _opml(
    snapshot: Snapshot, config: Config, decisions: list[Decision], published: Mapping[GroupKey, str]
) -> bool:
    """Whether ``feeds.opml`` is rendered: in a cold build, when the published groups or
    their names changed, when it is damaged or not feedwright's yet, and when a group is
    decided whose feed in the OPML's format feedwright did not own (someone else's file
    was in its place: it may be gone now, or still there)."""
    before = {key: b.name for key, b in snapshot.before.items()}
    if snapshot.cold or published != before or _damaged(snapshot, OPML):
        return True
    fmt = config.feeds.opml_format
    return fmt is not None and any(
        d.key in snapshot.before and feed_relpath(d.key, fmt) not in snapshot.owned
        for d in decisions
    )


def settle(plan: Plan, failed: Iterable[Render | ArchiveRender]) -> Plan:
    """The plan once rendering is done: each decision of ``failed`` (a post of it could
    not be rendered now) is replaced by what it says to do otherwise (keep the files it
    has, or leave the group without feeds), with what follows: the published groups and
    their names, the site's list, the OPML, the change report."""
    groups = {d.key for d in failed if isinstance(d, Render)}
    archives = {(d.key, d.links.period) for d in failed if isinstance(d, ArchiveRender)}
    if not groups and not archives:
        return plan
    published = dict(plan.published)
    listed = dict(plan.listed)
    decisions: list[Decision] = []
    for d in plan.decisions:
        if not isinstance(d, Render) or d.key not in groups:
            decisions.append(d)
            continue
        decisions.append(d.otherwise)
        if isinstance(d.otherwise, Keep):
            published[d.key] = d.otherwise.name
            if d.key in listed and d.otherwise.listing is not None:
                listed[d.key] = d.otherwise.listing
        else:
            published.pop(d.key, None)
            listed.pop(d.key, None)
    return replace(
        plan,
        decisions=tuple(decisions),
        published=published,
        listed=listed,
        opml=(plan.opml or published != plan.published) and OPML not in plan.foreign,
        archives=tuple(
            d.otherwise
            if isinstance(d, ArchiveRender) and (d.key, d.links.period) in archives
            else d
            for d in plan.archives
        ),
        changes=tuple(c for c in plan.changes if GroupKey(c.kind, c.slug) not in groups),
    )


def _owned_by(
    snapshot: Snapshot,
) -> tuple[dict[GroupKey, list[str]], dict[GroupKey, dict[str, list[str]]], list[str]]:
    """The owned files of each group, the owned archive files of each group and period
    (of the groups looked at, or all in a cold build), and the files of no group."""
    owned_by: dict[GroupKey, list[str]] = {}
    archives_by: dict[GroupKey, dict[str, list[str]]] = {}
    stale: list[str] = []
    for path in sorted(snapshot.owned):
        if is_archive_path(path):  # a site's archives may be hundreds of thousands of files
            if snapshot.cold:
                _add_archive(archives_by, path, stale)
            continue
        key = group_of_path(path)
        if key is not None:
            owned_by.setdefault(key, []).append(path)
        elif path != OPML:
            stale.append(path)
    if not snapshot.cold:  # only the archives of the groups looked at
        for path in _archives_near(snapshot):
            _add_archive(archives_by, path, stale)
    return owned_by, archives_by, stale


def _add_archive(
    archives_by: dict[GroupKey, dict[str, list[str]]], path: str, stale: list[str]
) -> None:
    archive = archive_of_path(path)
    if archive is None:
        stale.append(path)
    else:
        archives_by.setdefault(archive[0], {}).setdefault(archive[1], []).append(path)


def _archives_near(snapshot: Snapshot) -> list[str]:
    """The owned archive files of the groups looked at: those of every period they have
    now or had at the last build, in any format."""
    found: set[str] = set()
    for key in {*snapshot.groups, *snapshot.excluded}:
        periods = set(snapshot.archives.get(key, ())) | set(snapshot.archived.get(key, ()))
        for fmt in FILENAMES:
            found.update(archive_relpath(key, period, fmt) for period in periods)
    return sorted(found.intersection(snapshot.owned))


def _listed_before(
    snapshot: Snapshot, owned_by: Mapping[GroupKey, list[str]]
) -> dict[GroupKey, Listing]:
    """Each group as the last build listed it (its files' manifest entries say)."""
    out = {}
    for key, paths in owned_by.items():
        entry = snapshot.owned[paths[0]]
        out[key] = Listing(entry.name, entry.count, entry.newest)
    return out


def _site_lists(
    snapshot: Snapshot,
    config: Config,
    decisions: list[Decision],
    listed: Mapping[GroupKey, Listing],
    listed_before: Mapping[GroupKey, Listing],
    archives_by: Mapping[GroupKey, Mapping[str, list[str]]],
) -> Render | None:
    """The site's page lists every group: render the site again when that list changed
    (the decision to add, if the site has none yet)."""
    now = snapshot.groups.get(SITE)
    if now is None or dict(listed) == dict(listed_before):
        return None
    if any(d.key == SITE for d in decisions):
        return None
    name = display_name(now.spellings)
    newest = _newest_archive(snapshot, config, SITE, archives_by.get(SITE, {}))
    return _render(
        snapshot,
        config,
        now,
        signature(name, now, newest),
        keep=_held(snapshot, [p for p in snapshot.owned if group_of_path(p) == SITE]),
        archive=newest,
    )


def _held(snapshot: Snapshot, owned: list[str]) -> frozenset[str]:
    """Owned files that hold a post which is rejected now (they are kept as they were)."""
    return frozenset(
        p for p in owned if not snapshot.rejected.isdisjoint(snapshot.owned[p].sources)
    )


def _damaged(snapshot: Snapshot, path: str) -> bool:
    return path not in snapshot.owned or path in snapshot.broken


def _decide(
    snapshot: Snapshot,
    config: Config,
    key: GroupKey,
    owned_by: Mapping[GroupKey, list[str]],
    archives_by: Mapping[GroupKey, Mapping[str, list[str]]],
    listed: Mapping[GroupKey, Listing],
) -> Decision | None:
    """One group's decision (from the files each group owns, its archives' files by
    period, the groups as the site's page listed them); ``None`` when its feeds stay as
    they are."""
    owned = owned_by.get(key, [])
    held = _held(snapshot, owned)
    now = None if key in snapshot.excluded else snapshot.groups.get(key)
    before = snapshot.before.get(key)
    if now is None or (not now.posts and key.kind != "site"):
        if held:
            # The name the kept files carry (their manifest says it), so that a cold
            # build, which knows only the manifest, lists them under the same name.
            name = snapshot.owned[min(held)].name or (before.name if before is not None else "")
            return Keep(key, name, held)
        if owned or before is not None:
            return Remove(key, tuple(owned))
        return None
    name = display_name(now.spellings)
    newest = _newest_archive(snapshot, config, key, archives_by.get(key, {}))
    sig = signature(name, now, newest)
    paths = group_paths(config, key)
    drop = tuple(p for p in owned if p not in paths)
    intact = not drop and not any(_damaged(snapshot, p) for p in paths)
    group = make_group(key, now.spellings, now.posts, count=now.count)
    same_listing = not config.feeds.pages or listed.get(key) == listing(group)
    if before is not None and before.signature == sig and intact and same_listing:
        return None
    return _render(snapshot, config, now, sig, keep=held, drop=drop, archive=newest)


def _render(
    snapshot: Snapshot,
    config: Config,
    now: GroupNow,
    sig: bytes,
    *,
    keep: frozenset[str],
    drop: tuple[str, ...] = (),
    archive: str | None,
) -> Render:
    """Render a group's feeds; if a post of it cannot be rendered now, its files stay as
    they were (or, with none, it has no feeds); a file of someone else's is not written
    over, and the group is looked at again next build."""
    key = now.key
    files = [p for p in group_paths(config, key) if p in snapshot.owned]
    before = snapshot.before.get(key)
    otherwise: Keep | Abandon = Abandon(key)
    if before is not None and files:
        entry = snapshot.owned[files[0]]
        shown = Listing(before.name, entry.count, entry.newest)
        otherwise = Keep(key, before.name, frozenset(files), shown)
    foreign = frozenset(p for p in group_paths(config, key) if p in snapshot.occupied)
    return Render(
        key,
        now.entries,
        now.spellings,
        now.count,
        None if keep or foreign else sig,
        otherwise,
        keep=keep,
        drop=drop,
        archive=archive,
        foreign=foreign,
    )


def _newest_archive(
    snapshot: Snapshot, config: Config, key: GroupKey, owned: Mapping[str, list[str]]
) -> str | None:
    """The period of a group's newest archive (its feed's ``prev-archive``), if any: kept
    ones count (:func:`_chain`)."""
    now, kept = _chain(snapshot, config, key, owned)
    return max([*now, *kept], default=None)


def _chain(
    snapshot: Snapshot, config: Config, key: GroupKey, owned: Mapping[str, list[str]]
) -> tuple[Mapping[str, PeriodNow], dict[str, frozenset[str]]]:
    """A group's archives (none for a group the policy excludes, or of a kind without
    archives): every period with posts now, and those without any now that are kept as
    they were (their files held a post that is rejected now), each with its files. Both
    are links of the history: a kept archive is still the neighbour of those next to it,
    so a rejected post never breaks the chain around it."""
    if not archive_formats(config, key) or key in snapshot.excluded:
        return {}, {}
    now = snapshot.archives.get(key, {})
    kept = {p: _held(snapshot, files) for p, files in owned.items() if p not in now}
    return now, {p: held for p, held in kept.items() if held}


def _decide_archives(
    snapshot: Snapshot, config: Config, key: GroupKey, owned: dict[str, list[str]]
) -> list[ArchiveDecision]:
    """One group's archives: render those whose signature or files changed, keep those
    that held a rejected post, remove those whose period emptied (see the module's rules).
    Only groups the scan looked at (every group, in a cold build) are decided."""
    if key not in snapshot.groups and key not in snapshot.excluded and not snapshot.cold:
        return []
    # a group the feed policy excludes loses its archives as it loses its feeds, and so
    # does one of a kind feeds.archives_groups leaves out
    now, kept = _chain(snapshot, config, key, owned)
    group = snapshot.groups.get(key)
    name = display_name(group.spellings) if group is not None else ""
    before = snapshot.archived.get(key, {})
    periods = sorted({*now, *kept})
    out: list[ArchiveDecision] = []
    for i, period in enumerate(periods):
        if period not in now:
            continue  # kept (below), still a neighbour
        links = ArchiveLinks(period, *archive_neighbours(periods, i))
        sig = archive_signature(name, links, now[period])
        paths = archive_paths(config, key, period)
        mine = owned.get(period, [])
        drop = tuple(p for p in mine if p not in paths)
        intact = not drop and not any(_damaged(snapshot, p) for p in paths)
        if before.get(period) == sig and intact:
            continue
        keep = _held(snapshot, mine)
        foreign = frozenset(p for p in paths if p in snapshot.occupied)
        otherwise = ArchiveKeep(key, period, frozenset(p for p in paths if p in snapshot.owned))
        recorded = None if keep or foreign else sig  # files not written: look again next build
        out.append(
            ArchiveRender(key, name, links, now[period], recorded, otherwise, keep, drop, foreign)
        )
    for period in sorted((set(owned) | set(before)) - set(now)):
        mine = owned.get(period, [])
        held = _held(snapshot, mine)
        if held:
            out.append(ArchiveKeep(key, period, held))
        else:
            out.append(ArchiveRemove(key, period, tuple(mine)))
    return out
