"""The planner on its own: snapshots in, decisions out. No disk, no cache, no clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedwright.config import parse_config
from feedwright.engine.plan import (
    Abandon,
    ArchiveKeep,
    ArchiveRemove,
    ArchiveRender,
    GroupBefore,
    GroupNow,
    Keep,
    PeriodNow,
    Plan,
    Remove,
    Render,
    Snapshot,
    archive_signature,
    plan,
    settle,
    signature,
)
from feedwright.engine.published import subscribed
from feedwright.engine.rows import Entry, Source
from feedwright.group import archive_neighbours
from feedwright.model import (
    ArchiveLinks,
    Author,
    EntryRef,
    GroupChange,
    GroupKey,
    Listing,
    ManifestEntry,
    Post,
)

# Pages (feeds.pages) have tests of their own below.
CONFIG = parse_config(
    {
        "site": {"title": "站", "url": "https://news.example"},
        "source": ".",
        "output": "out",
        "feeds": {"pages": False},
    },
    base=Path("/nonexistent"),
)
PAGES = parse_config(
    {"site": {"title": "站", "url": "https://news.example"}, "source": ".", "output": "out"},
    base=Path("/nonexistent"),
)
ATOM_ONLY = parse_config(
    {
        "site": {"title": "站", "url": "https://news.example"},
        "source": ".",
        "output": "out",
        "feeds": {"formats": ["atom"], "pages": False},
    },
    base=Path("/nonexistent"),
)
SITE = GroupKey("site", "")
NEWS = GroupKey("category", "news")
TECH = GroupKey("tag", "tech")
T0 = datetime(2022, 3, 7, 8, 30, tzinfo=UTC)


def post(name: str, hours: int = 0) -> Post:
    when = T0 + timedelta(hours=hours)
    return Post(
        relpath=f"_posts/{name}.md",
        title=name,
        published=when,
        updated=when,
        url=f"https://news.example/{name}.html",
        id=f"https://news.example/{name}.html",
        categories=(),
        tags=(),
        author=Author("编辑部"),
        excerpt=None,
        markup="markdown",
    )


A, B, C = post("a", 2), post("b", 1), post("c", 0)


def now(key: GroupKey, *posts: Post, spellings: tuple[str, ...] = ()) -> GroupNow:
    if not spellings and key.kind != "site":
        spellings = (key.slug,)
    entries = tuple(Entry(p, p.relpath.encode()) for p in posts)
    return GroupNow(key=key, entries=entries, spellings=spellings)


def files(key: GroupKey, config=CONFIG) -> list[str]:
    folder = {"site": "", "category": f"categories/{key.slug}/", "tag": f"tags/{key.slug}/"}
    names = {"atom": "atom.xml", "rss": "rss.xml", "json": "feed.json"}
    return [folder[key.kind] + names[f] for f in config.feeds.formats]


def owned(*keys: GroupKey, sources: tuple[Post, ...] = (), opml: bool = True) -> dict:
    entry = ManifestEntry(sources=tuple(p.relpath for p in sources))
    out = {path: entry for key in keys for path in files(key)}
    if opml:
        out["feeds.opml"] = ManifestEntry()
    return out


def published_before(group: GroupNow) -> GroupBefore:
    """As the last build left a group it rendered completely."""
    name = min(group.spellings, default="")
    return GroupBefore(name=name, signature=signature(name, group))


def snapshot(**kw) -> Snapshot:
    kw.setdefault("before", {})
    kw.setdefault("owned", {})
    kw.setdefault("broken", frozenset())
    kw.setdefault("rejected", frozenset())
    return Snapshot(**kw)


def kinds(p: Plan) -> list[tuple[str, GroupKey]]:
    out = []
    for d in p.decisions:
        key = d.group.key if isinstance(d, Render) else d.key
        out.append((type(d).__name__, key))
    return out


def test_a_new_group_is_rendered_and_the_opml_with_it():
    site, news = now(SITE, A, B), now(NEWS, A)
    before = {SITE: published_before(now(SITE, B))}
    p = plan(snapshot(groups={SITE: site, NEWS: news}, before=before, owned=owned(SITE)), CONFIG)
    assert kinds(p) == [("Render", SITE), ("Render", NEWS)]
    assert p.published == {SITE: "", NEWS: "news"}
    assert p.opml


def test_a_group_rendered_from_the_same_posts_is_left_alone():
    news = now(NEWS, A, B)
    s = snapshot(groups={NEWS: news}, before={NEWS: published_before(news)}, owned=owned(NEWS))
    p = plan(s, CONFIG)
    assert p.decisions == () and not p.opml
    assert p.published == {NEWS: "news"}


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param({"broken": frozenset({"categories/news/rss.xml"})}, id="changed on disk"),
        pytest.param({"owned": "drop categories/news/feed.json"}, id="not in the manifest"),
    ],
)
def test_a_group_whose_files_were_damaged_is_rendered_again(damage):
    news = now(NEWS, A, B)
    mine = owned(NEWS)
    broken = damage.get("broken", frozenset())
    if "owned" in damage:
        del mine["categories/news/feed.json"]
    s = snapshot(groups={NEWS: news}, before={NEWS: published_before(news)}, owned=mine)
    s = Snapshot(s.groups, s.before, s.owned, broken, s.rejected)
    assert kinds(plan(s, CONFIG)) == [("Render", NEWS)]


def test_new_content_in_one_post_changes_the_signature():
    old = now(NEWS, A, B)
    new = GroupNow(NEWS, (Entry(A, b"other"), old.entries[1]), ("news",))
    s = snapshot(groups={NEWS: new}, before={NEWS: published_before(old)}, owned=owned(NEWS))
    assert kinds(plan(s, CONFIG)) == [("Render", NEWS)]


def test_a_group_without_posts_is_removed_with_its_opml_entry():
    s = snapshot(
        groups={NEWS: now(NEWS)},
        before={NEWS: GroupBefore("news", b"x"), SITE: GroupBefore("", b"y")},
        owned=owned(SITE, NEWS),
    )
    p = plan(s, CONFIG)
    assert p.decisions == (Remove(NEWS, tuple(sorted(files(NEWS)))),)
    assert p.published == {SITE: ""} and p.opml


def test_the_site_has_feeds_even_without_posts():
    p = plan(snapshot(groups={SITE: now(SITE)}), CONFIG)
    assert kinds(p) == [("Render", SITE)]
    assert p.published == {SITE: ""}


def test_a_group_whose_posts_were_all_rejected_keeps_its_feeds_and_name():
    s = snapshot(
        groups={NEWS: now(NEWS)},
        before={NEWS: GroupBefore("News", b"x")},
        owned=owned(NEWS, sources=(A,)),
        rejected=frozenset({A.relpath}),
    )
    p = plan(s, CONFIG)
    assert p.decisions == (Keep(NEWS, "News", frozenset(files(NEWS))),)
    assert p.published == {NEWS: "News"} and not p.opml


def test_files_that_held_a_rejected_post_are_kept_while_the_group_renders():
    news = now(NEWS, B, C)  # A turned bad: it left the group
    s = snapshot(
        groups={NEWS: news},
        before={NEWS: GroupBefore("news", b"x")},
        owned=owned(NEWS, sources=(A, B)),
        rejected=frozenset({A.relpath}),
    )
    (decision,) = plan(s, CONFIG).decisions
    assert isinstance(decision, Render)
    assert decision.keep == frozenset(files(NEWS))
    assert decision.group.posts == (B, C)
    assert decision.signature is None  # recorded so: looked at again next build


def test_a_rejected_post_that_the_feeds_never_held_keeps_nothing():
    news = now(NEWS, B)
    s = snapshot(
        groups={NEWS: news},
        before={NEWS: GroupBefore("news", b"x")},
        owned=owned(NEWS, sources=(B,)),
        rejected=frozenset({A.relpath}),
    )
    (decision,) = plan(s, CONFIG).decisions
    assert isinstance(decision, Render) and decision.keep == frozenset()
    assert decision.signature == signature("news", news)


def test_the_name_is_the_first_spelling_and_a_new_name_changes_the_opml():
    old = now(TECH, A, spellings=("tech",))
    new = now(TECH, A, B, spellings=("Tech", "tech"))
    s = snapshot(groups={TECH: new}, before={TECH: published_before(old)}, owned=owned(TECH))
    p = plan(s, CONFIG)
    (decision,) = p.decisions
    assert isinstance(decision, Render) and decision.group.name == "Tech"
    assert decision.group.spellings == ("Tech", "tech")
    assert p.published == {TECH: "Tech"} and p.opml


def test_groups_not_looked_at_stay_published_as_they_were():
    s = snapshot(
        groups={SITE: now(SITE, A)},
        before={SITE: GroupBefore("", b"x"), NEWS: GroupBefore("news", b"y")},
        owned=owned(SITE, NEWS),
    )
    p = plan(s, CONFIG)
    assert kinds(p) == [("Render", SITE)]
    assert p.published == {SITE: "", NEWS: "news"} and not p.opml


def test_a_damaged_opml_is_rendered_again():
    site = now(SITE, A)
    s = snapshot(
        groups={SITE: site},
        before={SITE: published_before(site)},
        owned=owned(SITE),
        broken=frozenset({"feeds.opml"}),
    )
    p = plan(s, CONFIG)
    assert p.decisions == () and p.opml


def test_a_cold_build_decides_every_group_the_manifest_knows():
    """No cache: what was published comes from the manifest, with no signatures."""
    s = snapshot(
        groups={SITE: now(SITE, B), NEWS: now(NEWS, B)},
        before={
            SITE: GroupBefore("", None),
            NEWS: GroupBefore("news", None),
            TECH: GroupBefore("tech", None),
            GroupKey("tag", "held"): GroupBefore("Held", None),
        },
        owned={
            **owned(SITE, NEWS, TECH),
            "tags/held/atom.xml": ManifestEntry(sources=(A.relpath,), name="Held"),
            "old-layout/feed.xml": ManifestEntry(),
        },
        rejected=frozenset({A.relpath}),
        cold=True,
    )
    p = plan(s, CONFIG)
    assert kinds(p) == [
        ("Render", SITE),
        ("Render", NEWS),
        ("Keep", GroupKey("tag", "held")),
        ("Remove", TECH),
    ]
    assert p.stale == ("old-layout/feed.xml",)
    assert p.opml
    assert p.published == {SITE: "", NEWS: "news", GroupKey("tag", "held"): "Held"}


def test_a_dropped_format_removes_its_files():
    news = now(NEWS, A)
    s = snapshot(groups={NEWS: news}, before={NEWS: published_before(news)}, owned=owned(NEWS))
    (decision,) = plan(s, ATOM_ONLY).decisions
    assert isinstance(decision, Render)
    assert decision.drop == ("categories/news/feed.json", "categories/news/rss.xml")


def test_decisions_come_in_group_order():
    keys = [GroupKey("tag", "b"), GroupKey("category", "z"), SITE, GroupKey("tag", "a")]
    p = plan(snapshot(groups={k: now(k, A) for k in keys}), CONFIG)
    assert [key for _kind, key in kinds(p)] == [
        SITE,
        GroupKey("category", "z"),
        GroupKey("tag", "a"),
        GroupKey("tag", "b"),
    ]


def test_the_signature_covers_name_posts_and_content():
    base = now(NEWS, A, B)
    assert signature("news", base) == signature("news", now(NEWS, A, B))
    assert signature("News", base) != signature("news", base)
    assert signature("news", now(NEWS, A)) != signature("news", base)
    assert signature("news", now(NEWS, B, A)) != signature("news", base)
    other = GroupNow(NEWS, (Entry(A, b"x"), base.entries[1]), ("news",))
    assert signature("news", other) != signature("news", base)


# -- pages (feeds.pages): the page is a file of its group; the site's lists every group -------
def listed_owned(*groups: tuple[GroupNow, int]) -> dict:
    """The manifest after a build that wrote these groups with these post counts."""
    out = {"feeds.opml": ManifestEntry()}
    for now_, count in groups:
        name = min(now_.spellings, default="")
        newest = now_.posts[0].published.isoformat() if now_.posts else ""
        entry = ManifestEntry(sources=(), name=name, count=count, newest=newest)
        for path in files(now_.key, PAGES) + [page_of(now_.key)]:
            out[path] = entry
    return out


def page_of(key: GroupKey) -> str:
    return {"site": "", "category": f"categories/{key.slug}/", "tag": f"tags/{key.slug}/"}[
        key.kind
    ] + "index.html"


def with_count(now_: GroupNow, count: int) -> GroupNow:
    return GroupNow(now_.key, now_.entries, now_.spellings, count=count)


def test_pages_same_posts_and_same_count_is_left_alone():
    site, news = with_count(now(SITE, A, B), 2), with_count(now(NEWS, A), 1)
    s = snapshot(
        groups={SITE: site, NEWS: news},
        before={SITE: published_before(site), NEWS: published_before(news)},
        owned=listed_owned((site, 2), (news, 1)),
    )
    p = plan(s, PAGES)
    assert p.decisions == () and not p.opml
    assert {k: (v.name, v.count) for k, v in p.listed.items()} == {SITE: ("", 2), NEWS: ("news", 1)}


def test_pages_a_count_that_changed_renders_the_group_and_the_site_that_lists_it():
    # An old post of news went (beyond feeds.limit): news's feeds hold the same posts.
    news = with_count(now(NEWS, A), 1)
    site = with_count(now(SITE, A, B), 2)
    s = snapshot(
        groups={SITE: site, NEWS: news},
        before={SITE: published_before(site), NEWS: published_before(news)},
        owned=listed_owned((site, 2), (news, 5)),
    )
    p = plan(s, PAGES)
    assert kinds(p) == [("Render", SITE), ("Render", NEWS)]
    assert p.listed[NEWS].count == 1 and not p.opml


def test_pages_a_missing_page_renders_its_group():
    site, news = with_count(now(SITE, A), 1), with_count(now(NEWS, A), 1)
    owned_ = listed_owned((site, 1), (news, 1))
    del owned_["categories/news/index.html"]
    s = snapshot(
        groups={SITE: site, NEWS: news},
        before={SITE: published_before(site), NEWS: published_before(news)},
        owned=owned_,
    )
    assert kinds(plan(s, PAGES)) == [("Render", NEWS)]


def test_pages_a_group_removed_renders_the_site_whose_page_lists_it():
    site, tech = with_count(now(SITE, A), 1), now(TECH)
    s = snapshot(
        groups={SITE: site, TECH: tech},
        before={SITE: published_before(site), TECH: published_before(now(TECH, A))},
        owned=listed_owned((site, 1), (now(TECH, A), 1)),
    )
    p = plan(s, PAGES)
    assert kinds(p) == [("Render", SITE), ("Remove", TECH)]
    assert TECH not in p.listed
    remove = p.decisions[1]
    assert isinstance(remove, Remove) and "tags/tech/index.html" in remove.files


def test_a_group_the_policy_excludes_is_removed_with_its_opml_entry_like_an_empty_one():
    site, news, tech = now(SITE, A, B), now(NEWS, A), now(TECH, B)
    before = {k.key: published_before(k) for k in (site, news, tech)}
    excluded = {TECH: "1 post, fewer than feeds.tags.min_posts (2)"}
    # the scan did not look at the tag (it is excluded): the planner still removes it
    p = plan(
        snapshot(
            groups={SITE: site, NEWS: news},
            before=before,
            owned=owned(SITE, NEWS, TECH),
            excluded=excluded,
        ),
        CONFIG,
    )
    assert kinds(p) == [("Remove", TECH)]
    assert p.decisions[0].files == tuple(sorted(files(TECH)))
    assert TECH not in p.published and p.opml
    # even when the scan did read it, it gets no feed; nor does an excluded new group
    p = plan(snapshot(groups={TECH: tech}, excluded=excluded), CONFIG)
    assert kinds(p) == [] and TECH not in p.published


def test_a_group_no_longer_excluded_is_rendered_with_the_opml():
    tech = now(TECH, B)
    p = plan(snapshot(groups={TECH: tech}, before={SITE: GroupBefore("", None)}), CONFIG)
    assert kinds(p) == [("Render", TECH)] and p.opml


def test_kept_files_are_listed_under_the_name_they_carry():
    """Files kept while the group rendered under a new name keep the old one (which is in
    the manifest); when the group is left with only kept files, the OPML lists them under
    it, as a cold build (which reads names from the manifest) would."""
    held = {p: ManifestEntry(sources=(A.relpath,), name="Tech") for p in files(TECH)}
    s = snapshot(
        groups={TECH: now(TECH)},
        before={TECH: GroupBefore("tech", None)},
        owned=held,
        rejected=frozenset({A.relpath}),
    )
    p = plan(s, CONFIG)
    assert p.decisions == (Keep(TECH, "Tech", frozenset(files(TECH))),)
    assert p.published == {TECH: "Tech"}


# -- archives ----------------------------------------------------------------------------------
MONTHLY = parse_config(
    {
        "site": {"title": "站", "url": "https://news.example"},
        "source": ".",
        "output": "out",
        "feeds": {
            "archives": "monthly",
            "archives_formats": ["atom", "rss", "json"],
            "pages": False,
        },
    },
    base=Path("/nonexistent"),
)


def period(*posts: Post) -> PeriodNow:
    return PeriodNow(tuple(Source(p.relpath, p.relpath.encode()) for p in posts))


def archive_files(key: GroupKey, month: str) -> list[str]:
    folder = {"site": "", "category": f"categories/{key.slug}/", "tag": f"tags/{key.slug}/"}
    return [f"{folder[key.kind]}archive/{month}/{n}" for n in ("atom.xml", "rss.xml", "feed.json")]


def archived_owned(key: GroupKey, *months: str, sources: tuple[Post, ...] = ()) -> dict:
    entry = ManifestEntry(sources=tuple(p.relpath for p in sources))
    return {path: entry for month in months for path in archive_files(key, month)}


def settled(key: GroupKey, periods: dict[str, PeriodNow], name: str = "news") -> dict:
    """The signatures the last build recorded for ``periods`` (all rendered)."""
    months = sorted(periods)
    out = {}
    for i, month in enumerate(months):
        links = ArchiveLinks(month, *archive_neighbours(months, i))
        out[month] = archive_signature(name, links, periods[month])
    return out


def archive_kinds(p: Plan) -> list[tuple[str, str]]:
    return [
        (type(d).__name__, d.links.period if isinstance(d, ArchiveRender) else d.period)
        for d in p.archives
    ]


def test_every_period_of_a_new_group_gets_an_archive_and_the_feed_links_the_newest():
    news = now(NEWS, A, B)
    periods = {"2022/01": period(C), "2022/03": period(A, B)}
    s = snapshot(groups={NEWS: news}, archives={NEWS: periods})
    p = plan(s, MONTHLY)
    assert archive_kinds(p) == [("ArchiveRender", "2022/01"), ("ArchiveRender", "2022/03")]
    first, second = p.archives
    assert first.links == ArchiveLinks("2022/01", None, "2022/03")
    assert second.links == ArchiveLinks("2022/03", "2022/01", None)
    (render,) = p.render
    assert render.archive == "2022/03"
    assert "archive" not in str(p.published)  # archives are no subscriptions


def test_unchanged_archives_are_left_alone():
    periods = {"2022/01": period(C), "2022/03": period(A, B)}
    news = now(NEWS, A, B)
    s = snapshot(
        groups={NEWS: news},
        before={NEWS: GroupBefore("news", signature("news", news, "2022/03"))},
        owned={**owned(NEWS), **archived_owned(NEWS, "2022/01", "2022/03")},
        archives={NEWS: periods},
        archived={NEWS: settled(NEWS, periods)},
    )
    p = plan(s, MONTHLY)
    assert p.decisions == () and p.archives == ()


def test_a_changed_post_rewrites_only_its_period():
    old = {"2022/01": period(C), "2022/02": period(B), "2022/03": period(A)}
    new = dict(old, **{"2022/02": PeriodNow((Source(B.relpath, b"edited"),))})
    s = snapshot(
        groups={NEWS: now(NEWS, A, B)},
        owned=archived_owned(NEWS, *old),
        archives={NEWS: new},
        archived={NEWS: settled(NEWS, old)},
    )
    assert archive_kinds(plan(s, MONTHLY)) == [("ArchiveRender", "2022/02")]


def test_a_new_newest_period_rewrites_only_the_archive_before_it():
    old = {"2022/01": period(C), "2022/02": period(B)}
    new = {**old, "2022/03": period(A)}
    s = snapshot(
        groups={NEWS: now(NEWS, A, B)},
        owned=archived_owned(NEWS, *old),
        archives={NEWS: new},
        archived={NEWS: settled(NEWS, old)},
    )
    p = plan(s, MONTHLY)
    assert archive_kinds(p) == [("ArchiveRender", "2022/02"), ("ArchiveRender", "2022/03")]
    assert p.archives[0].links == ArchiveLinks("2022/02", "2022/01", "2022/03")


def test_an_emptied_period_is_removed_and_both_neighbours_relinked():
    old = {"2022/01": period(C), "2022/02": period(B), "2022/03": period(A)}
    new = {"2022/01": old["2022/01"], "2022/03": old["2022/03"]}
    s = snapshot(
        groups={NEWS: now(NEWS, A, C)},
        owned=archived_owned(NEWS, *old),
        archives={NEWS: new},
        archived={NEWS: settled(NEWS, old)},
    )
    p = plan(s, MONTHLY)
    assert archive_kinds(p) == [
        ("ArchiveRender", "2022/01"),
        ("ArchiveRender", "2022/03"),
        ("ArchiveRemove", "2022/02"),
    ]
    assert p.archives[2].files == tuple(sorted(archive_files(NEWS, "2022/02")))


@pytest.mark.parametrize("kept", ["2022/01", "2022/02", "2022/03"])
def test_an_archive_kept_for_a_rejected_post_is_still_a_neighbour(kept):
    """A month whose only post is rejected now keeps its archive as it was, and its place
    in the chain: neither neighbour is rewritten (the oldest, a middle and the newest
    kept), the feed's prev-archive stays the newest archive; once the post is fixed, only
    the kept archive is rendered, with the same neighbours."""
    posts = {"2022/01": C, "2022/02": B, "2022/03": A}
    old = {month: period(p) for month, p in posts.items()}
    bad = posts[kept]
    s = snapshot(
        groups={NEWS: now(NEWS, *(p for p in (A, B, C) if p != bad))},
        owned={
            **owned(NEWS, sources=(A, B, C)),
            **{
                path: entry
                for month, p in posts.items()
                for path, entry in archived_owned(NEWS, month, sources=(p,)).items()
            },
        },
        archives={NEWS: {month: p for month, p in old.items() if month != kept}},
        archived={NEWS: settled(NEWS, old)},
        rejected=frozenset({bad.relpath}),
    )
    p = plan(s, MONTHLY)
    assert archive_kinds(p) == [("ArchiveKeep", kept)]
    assert p.archives[0].files == frozenset(archive_files(NEWS, kept))
    (feed,) = p.render  # its files held the rejected post: kept too
    assert feed.keep == frozenset(files(NEWS)) and feed.archive == "2022/03"
    fixed = replace(
        s,
        archives={NEWS: old},
        archived={NEWS: {**settled(NEWS, old), kept: None}},  # kept: look again
        rejected=frozenset(),
    )
    (again,) = plan(fixed, MONTHLY).archives
    months = sorted(posts)
    i = months.index(kept)
    assert again == ArchiveRender(
        NEWS,
        "news",
        ArchiveLinks(kept, *archive_neighbours(months, i)),
        old[kept],
        settled(NEWS, old)[kept],
        ArchiveKeep(NEWS, kept, frozenset(archive_files(NEWS, kept))),
    )


def test_a_kept_archive_whose_post_is_deleted_goes_and_its_neighbours_relink():
    old = {"2022/01": period(C), "2022/02": period(B), "2022/03": period(A)}
    s = snapshot(
        groups={NEWS: now(NEWS, A, C)},
        owned={
            **archived_owned(NEWS, "2022/01", sources=(C,)),
            **archived_owned(NEWS, "2022/02", sources=(B,)),
            **archived_owned(NEWS, "2022/03", sources=(A,)),
        },
        archives={NEWS: {"2022/01": old["2022/01"], "2022/03": old["2022/03"]}},
        archived={NEWS: {**settled(NEWS, old), "2022/02": None}},
    )
    p = plan(s, MONTHLY)
    assert archive_kinds(p) == [
        ("ArchiveRender", "2022/01"),
        ("ArchiveRender", "2022/03"),
        ("ArchiveRemove", "2022/02"),
    ]
    assert p.archives[0].links == ArchiveLinks("2022/01", None, "2022/03")


def test_an_excluded_group_s_kept_archive_goes_once_its_rejected_post_is_gone():
    """A group the policy excludes lost its feeds, but an archive that held a rejected
    post was kept; once that post is deleted the group has no feeds to decide (nothing
    in ``before``), and its kept archive is removed all the same."""
    excluded = {NEWS: "1 post, fewer than feeds.categories.min_posts (2)"}
    s = snapshot(
        groups={},
        owned=archived_owned(NEWS, "2022/01", sources=(C,)),
        excluded=excluded,
        archived={NEWS: {"2022/01": None}},  # kept last build: look again
    )
    p = plan(s, MONTHLY)
    assert p.decisions == ()
    files_ = tuple(sorted(archive_files(NEWS, "2022/01")))
    assert p.archives == (ArchiveRemove(NEWS, "2022/01", files_),)
    # while the post is still rejected, the archive stays kept
    p = plan(replace(s, rejected=frozenset({C.relpath})), MONTHLY)
    assert archive_kinds(p) == [("ArchiveKeep", "2022/01")]


def test_a_renamed_group_rewrites_its_archives():
    periods = {"2022/01": period(C)}
    s = snapshot(
        groups={NEWS: now(NEWS, C, spellings=("News", "news"))},
        owned=archived_owned(NEWS, "2022/01"),
        archives={NEWS: periods},
        archived={NEWS: settled(NEWS, periods, name="news")},
    )
    (decision,) = plan(s, MONTHLY).archives
    assert isinstance(decision, ArchiveRender) and decision.name == "News"


def test_a_damaged_archive_file_is_written_again():
    periods = {"2022/01": period(C)}
    s = snapshot(
        groups={NEWS: now(NEWS, C)},
        owned=archived_owned(NEWS, "2022/01"),
        broken=frozenset({"categories/news/archive/2022/01/rss.xml"}),
        archives={NEWS: periods},
        archived={NEWS: settled(NEWS, periods)},
    )
    assert archive_kinds(plan(s, MONTHLY)) == [("ArchiveRender", "2022/01")]


def test_archives_turned_off_are_removed_in_a_cold_build():
    s = snapshot(
        groups={SITE: now(SITE, A)},
        owned={**owned(SITE), **archived_owned(SITE, "2022/03"), **archived_owned(NEWS, "2022")},
        cold=True,
    )
    p = plan(s, CONFIG)
    assert archive_kinds(p) == [("ArchiveRemove", "2022/03"), ("ArchiveRemove", "2022")]
    assert p.stale == ()  # archives are not foreign files: each is removed as an archive


def test_groups_not_looked_at_keep_their_archives():
    s = snapshot(groups={}, owned=archived_owned(NEWS, "2022/01"))
    assert plan(s, MONTHLY).archives == ()


# -- settling: what a build does when a post cannot be rendered now ---------------------------
def test_a_group_that_cannot_be_rendered_keeps_its_files_its_name_and_its_listing():
    old = with_count(now(NEWS, B), 1)
    new = with_count(now(NEWS, A, B), 2)
    s = snapshot(
        groups={NEWS: new},
        before={NEWS: GroupBefore("news", b"old")},
        owned=listed_owned((old, 1)),
    )
    p = plan(s, PAGES)
    (render,) = p.render
    assert render.otherwise == Keep(
        NEWS,
        "news",
        frozenset([*files(NEWS, PAGES), "categories/news/index.html"]),
        Listing("news", 1, B.published.isoformat()),
    )
    assert p.listed[NEWS].count == 2 and p.changes  # A entered, as the plan stands
    settled = settle(p, [render])
    assert settled.decisions == (render.otherwise,)
    assert settled.published == {NEWS: "news"} and not settled.opml
    assert settled.listed[NEWS] == Listing("news", 1, B.published.isoformat())
    assert settled.changes == ()  # nothing entered: its feeds stay as they were
    assert settle(p, []) is p


def test_a_new_group_that_cannot_be_rendered_has_no_feeds_and_leaves_the_opml():
    site = now(SITE, A)
    s = snapshot(
        groups={SITE: site, TECH: now(TECH, A)},
        before={SITE: published_before(site)},
        owned=owned(SITE),
    )
    p = plan(s, CONFIG)
    assert p.opml and p.published == {SITE: "", TECH: "tech"}
    tech = next(d for d in p.render if d.key == TECH)
    assert tech.otherwise == Abandon(TECH)
    assert set(p.claims) == set(files(TECH))  # owned before anything is written
    settled = settle(p, [tech])
    assert kinds(settled) == [("Abandon", TECH)]
    assert settled.published == {SITE: ""}
    assert settled.opml  # the plan said so; a group that goes changes it too


def test_a_kept_group_that_cannot_be_rendered_changes_the_opml_only_if_its_name_does():
    renamed = now(TECH, A, spellings=("Tech", "tech"))
    s = snapshot(
        groups={TECH: renamed},
        before={TECH: GroupBefore("tech", b"old")},
        owned=owned(TECH),
    )
    p = plan(s, CONFIG)
    assert p.published == {TECH: "Tech"} and p.opml
    settled = settle(p, p.render)
    assert settled.published == {TECH: "tech"} and settled.opml  # the plan's OPML stays


def test_an_archive_that_cannot_be_rendered_keeps_the_files_it_has():
    periods = {"2022/01": period(C), "2022/03": period(A, B)}
    s = snapshot(
        groups={NEWS: now(NEWS, A, B)},
        owned=archived_owned(NEWS, "2022/01"),
        archives={NEWS: periods},
    )
    p = plan(s, MONTHLY)
    january, march = p.archives
    assert january.otherwise == ArchiveKeep(
        NEWS, "2022/01", frozenset(archive_files(NEWS, "2022/01"))
    )
    assert march.otherwise == ArchiveKeep(NEWS, "2022/03", frozenset())
    settled = settle(p, [march])
    assert settled.archives == (january, march.otherwise)
    assert settled.decisions == p.decisions


def test_claims_are_the_new_files_but_pages_someone_else_put_there():
    site, news = now(SITE, A), now(NEWS, A)
    s = snapshot(
        groups={SITE: site, NEWS: news},
        owned={"atom.xml": ManifestEntry()},
        occupied=frozenset({"categories/news/index.html"}),
    )
    p = plan(s, PAGES)
    render = next(d for d in p.render if d.key == NEWS)
    assert render.foreign == frozenset({"categories/news/index.html"})
    assert "categories/news/index.html" not in p.claims
    assert "atom.xml" not in p.claims  # owned already
    assert {"categories/news/atom.xml", "index.html", "feeds.opml"} <= set(p.claims)


# -- files feedwright did not write (#18) -----------------------------------------------------
def test_files_someone_else_put_there_are_not_written_claimed_or_listed():
    """A feed, an archive file and the OPML in the way: each decision leaves its file
    out, records no signature (the next build looks again), claims nothing of it, and the
    OPML leaves out the group whose feed in its format is not feedwright's."""
    periods = {"2022/03": period(A, B)}
    theirs = {"atom.xml", "categories/news/rss.xml", archive_files(NEWS, "2022/03")[2]}
    s = snapshot(
        groups={SITE: now(SITE, A, B), NEWS: now(NEWS, A, B)},
        archives={NEWS: periods},
        occupied=frozenset({*theirs, "feeds.opml"}),
    )
    p = plan(s, MONTHLY)
    site, news = p.render
    assert site.foreign == {"atom.xml"} and news.foreign == {"categories/news/rss.xml"}
    assert site.signature is None and news.signature is None
    (archive,) = p.archive_render
    assert archive.foreign == {archive_files(NEWS, "2022/03")[2]} and archive.signature is None
    assert p.foreign == {*theirs, "feeds.opml"}
    assert not p.opml
    assert set(p.claims).isdisjoint(p.foreign)
    assert "categories/news/atom.xml" in p.claims
    assert p.published == {SITE: "", NEWS: "news"}
    assert subscribed(p, MONTHLY) == {NEWS: "news"}  # the site's Atom feed is not ours
    assert p.adopted == ()
    # a post that cannot be rendered now does not bring the OPML back
    assert not settle(p, [news]).opml


def test_adopting_takes_over_the_files_in_the_way():
    s = snapshot(
        groups={SITE: now(SITE, A)},
        occupied=frozenset({"atom.xml", "feeds.opml"}),
    )
    p = plan(s, CONFIG, adopt=True)
    (site,) = p.render
    assert site.foreign == frozenset() and site.signature is not None
    assert p.opml and p.foreign == frozenset()
    assert set(p.adopted) == {"atom.xml", "feeds.opml"} <= set(p.claims)


def test_a_group_whose_opml_feed_was_not_ours_renders_the_opml_again():
    """The last build left the site's Atom feed alone (someone else's): whether it is still
    in the way or gone now, the OPML, which lists the site by it, is rendered again."""
    site = now(SITE, A)
    before = {SITE: GroupBefore("", None)}
    unowned = {p: ManifestEntry() for p in ["rss.xml", "feed.json", "feeds.opml"]}
    for occupied in (frozenset({"atom.xml"}), frozenset()):
        s = snapshot(groups={SITE: site}, before=before, owned=unowned, occupied=occupied)
        p = plan(s, CONFIG)
        assert p.opml
        assert subscribed(p, CONFIG) == ({} if occupied else {SITE: ""})
    owned_all = {**unowned, "atom.xml": ManifestEntry()}
    s = snapshot(groups={SITE: site}, before=before, owned=owned_all)
    assert not plan(s, CONFIG).opml  # a group kept as it was, all its files ours: no


def test_the_change_report_says_who_entered_and_left_and_which_groups_went():
    news = now(NEWS, A, B)
    s = snapshot(
        groups={NEWS: news, TECH: now(TECH)},
        before={NEWS: GroupBefore("news", b"x"), TECH: GroupBefore("Tech", b"y")},
        owned={**owned(NEWS, sources=(B, C)), **owned(TECH, sources=(C,))},
    )
    p = plan(s, CONFIG)
    assert p.changes == (
        GroupChange(
            "category",
            "news",
            "news",
            (EntryRef(A.relpath, A.url, A.title),),
            (EntryRef(C.relpath),),
        ),
        GroupChange("tag", "tech", "Tech", (), (EntryRef(C.relpath),), removed=True),
    )


def test_a_group_whose_files_are_all_kept_reports_no_change():
    news = now(NEWS, B)  # A turned bad and every file held it
    s = snapshot(
        groups={NEWS: news},
        before={NEWS: GroupBefore("news", b"x")},
        owned=owned(NEWS, sources=(A, B)),
        rejected=frozenset({A.relpath}),
    )
    p = plan(s, CONFIG)
    assert kinds(p) == [("Render", NEWS)] and p.changes == ()


@pytest.mark.parametrize(
    ("fields", "saved"),
    [
        ({}, frozenset()),
        ({"cold": True}, "all"),
        ({"damaged": True}, "all"),
        ({"mixed": True, "archives_read": False}, "all"),
        ({"cold": True, "archives_read": False}, frozenset()),
    ],
)
def test_the_archives_manifest_is_saved_only_by_a_build_that_read_it_and_may_change_it(
    fields, saved
):
    assert plan(snapshot(groups={}, **fields), MONTHLY).save_archives == saved


def test_a_build_saves_the_archive_entries_of_the_groups_it_decides_archives_of_only():
    """Per-group archive manifests: a build that changes one group's archives saves that
    group's entries, not those of another group it looked at and left alone."""
    old = {"2022/01": period(C), "2022/02": period(B)}
    new = dict(old, **{"2022/02": PeriodNow((Source(B.relpath, b"edited"),))})
    sport_key = GroupKey("category", "sport")
    tech = {"2022/03": period(A)}
    s = snapshot(
        groups={NEWS: now(NEWS, B, C), sport_key: now(sport_key, A)},
        owned={**archived_owned(NEWS, *old), **archived_owned(sport_key, *tech)},
        archives={NEWS: new, sport_key: tech},
        archived={NEWS: settled(NEWS, old), sport_key: settled(sport_key, tech, name="sport")},
    )
    p = plan(s, MONTHLY)
    assert archive_kinds(p) == [("ArchiveRender", "2022/02")]
    assert p.save_archives == frozenset({NEWS})
