"""The in-memory reference pipeline the engine is compared with.

Every post parsed, grouped and rendered at once: no cache, no worker processes, no
history but the id ledger the engine left in the output folder (its ids are an input).
The tests use :func:`simple_build_files` as what an incremental build must write.

Every feed and archive is rendered here as a whole document, independently of the
production serializer (which assembles a header, entries rendered once and a footer):
through feedgen's own document path (a ``FeedGenerator`` with its entries added,
``atom_str``/``rss_str``) and ``json.dumps`` of the whole JSON Feed object
(:func:`whole_documents`). What the documents say comes from the same rules
(:mod:`feedwright.feedxml`'s head and entries, :mod:`feedwright.jsonfeed`'s members).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from feedwright.config import Config
from feedwright.discover import Found, discover, read_post, require_source
from feedwright.errors import PostError, describe
from feedwright.feedfacts import entry_image
from feedwright.feedxml import feed_head, fill_entry
from feedwright.group import (
    archive_neighbours,
    archive_posts,
    group_posts,
    is_visible,
    listing,
    memberships,
    split_duplicates,
)
from feedwright.jsonfeed import json_head, json_item
from feedwright.layout import (
    IDS,
    OPML,
    STATE_DIR,
    archive_formats,
    archive_relpath,
    feed_relpath,
    feed_url,
)
from feedwright.ledger import Row, ledger_id, parse_ledger
from feedwright.model import ArchiveLinks, EntryContent, FeedFile, Group, Post
from feedwright.posts import Skip, dup_message, parse_post, with_body

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Parsed:
    """Every post read from the source: the good ones and one error per bad one."""

    posts: list[Post]
    errors: list[PostError]
    warnings: list[str]
    found: Found


def read_posts(config: Config, *, now: datetime, progress: Progress | None = None) -> Parsed:
    """Discover and parse every post (without bodies: see :func:`with_bodies`)."""
    require_source(config)
    found = discover(config.source, exclude=(config.output,), markdown_ext=config.site.markdown_ext)
    posts: list[Post] = []
    errors: list[PostError] = []
    warnings: list[str] = []
    total = len(found.posts)
    ledger = read_ledger(config)
    for i, raw in enumerate(found.posts):
        try:
            data = read_post(config.source, raw.relpath)
            post = parse_post(raw, data, config, warnings=warnings, keep_body=False)
            post = replace(post, id=ledger_id(post.id, post.url, ledger.get(raw.relpath)))
            if is_visible(post, config, now):
                posts.append(post)
        except PostError as e:
            errors.append(e)
        except Skip:
            pass
        except Exception as e:  # a bug must not cost the other posts: name the post
            errors.append(PostError(raw.relpath, 1, f"cannot be processed: {describe(e)}"))
        if progress is not None:
            progress(i + 1, total)
    return Parsed(posts=_dedupe(posts, errors), errors=errors, warnings=warnings, found=found)


def read_ledger(config: Config) -> dict[str, Row]:
    """The id ledger the engine left in the output folder (none: every id is a permalink)."""
    path = config.output / STATE_DIR / IDS
    return parse_ledger(path.read_bytes(), str(path)) if path.exists() else {}


def _dedupe(posts: list[Post], errors: list[PostError]) -> list[Post]:
    """One post per entry id (the rule of :func:`feedwright.group.split_duplicates`)."""
    kept, lost = split_duplicates(posts)
    errors.extend(PostError(p.relpath, 1, dup_message(w.relpath, p.id)) for p, w in lost)
    errors.sort(key=lambda e: e.path)
    return kept


def group_archives(
    config: Config, posts: list[Post]
) -> dict[tuple[str, str], dict[str, list[Post]]]:
    """Each group's archives (with ``feeds.archives``, for the kinds of group
    ``feeds.archives_groups`` names): its posts by period, in feed order."""
    every = config.feeds.archives
    if not every:
        return {}
    members: dict[tuple[str, str], list[Post]] = {}
    for post in posts:
        for kind, slug, _names in memberships(post, config)[0]:
            if archive_formats(config, (kind, slug)):
                members.setdefault((kind, slug), []).append(post)
    tz = config.site.timezone
    return {key: archive_posts(found, every, tz) for key, found in members.items()}


def whole_documents(
    config: Config,
    group: Group,
    contents: Mapping[str, EntryContent],
    links: ArchiveLinks | None = None,
) -> list[FeedFile]:
    """The group's feed (with ``links.period``: that archive) in each format it is written
    in, every document whole: feedgen's document path, ``json.dumps`` of the whole object."""
    archive = links is not None and links.period is not None
    formats = archive_formats(config, group.key) if archive else config.feeds.formats
    files = []
    for fmt in formats:
        if fmt == "json":
            head = json_head(config, group, links)
            items = [json_item(config, p, contents[p.relpath]) for p in group.posts]
            data = json.dumps({**head, "items": items}, ensure_ascii=False, indent=2) + "\n"
            encoded = data.encode("utf-8")
        else:
            picture = any(entry_image(config, p, contents[p.relpath]) for p in group.posts)
            fg = feed_head(config, group, fmt, links, picture=picture)
            for post in group.posts:
                fill_entry(fg.add_entry(order="append"), config, post, contents[post.relpath])
            encoded = fg.atom_str(pretty=True) if fmt == "atom" else fg.rss_str(pretty=True)
        if archive:
            assert links is not None and links.period is not None
            relpath = archive_relpath(group.key, links.period, fmt)
        else:
            relpath = feed_relpath(group.key, fmt)
        url = feed_url(config, relpath)
        sources = tuple(p.relpath for p in group.posts)
        files.append(FeedFile(relpath, encoded, url, group=group.key, sources=sources))
    return files


def render_feeds(
    config: Config,
    groups: list[Group],
    archives: dict[tuple[str, str], dict[str, list[Post]]] | None = None,
) -> list[FeedFile]:
    """Every feed file of ``groups`` (posts with bodies), their ``archives`` (by group and
    period, posts with bodies) and the OPML."""
    from feedwright.content import EntryRenderer
    from feedwright.markup import MarkdownRenderer
    from feedwright.opml import render_opml
    from feedwright.render import render_page_file

    class PlainMarkdown(MarkdownRenderer):
        """Every body through Python-Markdown whole: the engine's fast path is checked too."""

        def render(self, text: str) -> str:
            return self.convert(text)

    archives = archives or {}
    renderer = EntryRenderer(markdown=PlainMarkdown())
    every = [p for g in groups for p in g.posts]
    every += [p for periods in archives.values() for found in periods.values() for p in found]
    contents = {p.relpath: renderer.render_entry(p) for p in every}
    files = []
    for group in groups:
        periods = sorted(archives.get(group.key, {}))
        links = ArchiveLinks(None, periods[-1]) if periods else None
        files += whole_documents(config, group, contents, links)
        if config.feeds.pages and group.kind != "site":
            files.append(render_page_file(config, group, contents))
        for i, period in enumerate(periods):
            archive = Group(group.kind, group.slug, group.name, tuple(archives[group.key][period]))
            links = ArchiveLinks(period, *archive_neighbours(periods, i))
            files += whole_documents(config, archive, contents, links)
    if config.feeds.pages:  # the site's page lists every group
        listed = {g.key: listing(g) for g in groups}
        site = next(g for g in groups if g.kind == "site")
        files.append(render_page_file(config, site, contents, listed))
    files.append(
        FeedFile(relpath=OPML, data=render_opml(config, groups), url=feed_url(config, OPML))
    )
    return files


def simple_build_files(config: Config, *, now: datetime) -> tuple[list[FeedFile], Parsed]:
    """What a build writes, computed in memory without cache (for tests and tools)."""
    parsed = read_posts(config, now=now)
    groups, _ = group_posts(parsed.posts, config)
    archives = group_archives(config, parsed.posts)
    loaded = with_bodies(config, [*groups, Group("site", "", "", tuple(parsed.posts))])
    bodies = {p.relpath: p for p in loaded[-1].posts}
    archives = {
        key: {period: [bodies[p.relpath] for p in found] for period, found in periods.items()}
        for key, periods in archives.items()
    }
    return render_feeds(config, loaded[:-1], archives), parsed


def with_bodies(config: Config, groups: list[Group]) -> list[Group]:
    """The groups with their posts' bodies loaded (each file read once)."""
    loaded: dict[str, Post] = {}
    for post in (p for g in groups for p in g.posts if p.relpath not in loaded):
        with open(config.source / post.relpath, "rb") as f:
            loaded[post.relpath] = with_body(post, f.read())
    return [replace(g, posts=tuple(loaded[p.relpath] for p in g.posts)) for g in groups]
