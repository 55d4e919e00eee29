"""RFC 5005 archived feeds (``feeds.archives``): real sites built into tmp_path, every
document read back with feedparser (and the RELAX NG schema, through ``check_tree``), and a
reader that walks the history by following ``prev-archive`` links between real files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from click.testing import CliRunner
from conftest import NOW, mtimes, parse_feed, shared_tool
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree
from test_cache import POLICIES, Twin, feed_tree, op

from feedwright.changes import file_counts
from feedwright.cli import cli
from feedwright.engine import list_feeds
from feedwright.model import GroupKey
from feedwright.output import manifest

FH = "{http://purl.org/syndication/history/1.0}"
ATOM = "{http://www.w3.org/2005/Atom}"
FEEDS_URL = "https://news.example/feeds/"

# (file name, categories, tags): dates spread over four months, in the offset written.
POSTS = [
    ("2022-01-05-a.md", "news", ["株洲"]),
    ("2022-01-20-b.md", "sport", ["体育"]),
    ("2022-02-03-c.md", "news", ["株洲", "体育"]),
    ("2022-03-01-d.md", "news", []),
    ("2022-03-15-e.md", "sport", ["株洲"]),
    ("2022-03-31-f.md", "news", ["体育"]),
    ("2022-05-09-g.md", "news", ["株洲"]),
]


def write(site, name: str, categories: str, tags: list[str], **more) -> None:
    y, m, d = name[:10].split("-")
    meta = {
        "title": f"文章 {name[11:-3]}",
        "date": f"{y}-{m}-{d} 23:30:00 +0800",  # 15:30 UTC: the period is the written one
        "categories": categories,
        "tags": tags,
        **more,
    }
    site.post(name, meta, body=f"<p>正文 {name}</p>\n[链接](/a/{name}.html)\n")


#: Every format and every kind of group (the default is Atom, for the site and categories).
EVERY = {
    "archives_formats": ["atom", "rss", "json"],
    "archives_groups": ["site", "categories", "tags"],
}


@pytest.fixture
def site(make_site):
    site = make_site(feeds={"archives": "monthly", "limit": 2, **EVERY})
    for name, categories, tags in POSTS:
        more = {"image": "/uploads/c.jpg", "lang": "en"} if name.endswith("-c.md") else {}
        write(site, name, categories, tags, **more)  # a picture: Media RSS in the archives
    return site


def local(site, url: str) -> Path:
    assert url.startswith(FEEDS_URL), url
    return site.out / unquote(url[len(FEEDS_URL) :])


def link(parsed, rel: str) -> str | None:
    hrefs = [x["href"] for x in parsed.feed.get("links", []) if x.get("rel") == rel]
    assert len(hrefs) <= 1, hrefs
    return hrefs[0] if hrefs else None


def walk(site, relpath: str) -> list[tuple[str, list[str]]]:
    """What a reader sees following ``prev-archive`` from a subscription feed: each archive
    document's URL and entry ids, in the order visited (feedparser reads the real files)."""
    feed = site.feed(relpath)
    current = site.config.feeds_url + quote(relpath)
    seen: list[tuple[str, list[str]]] = []
    url = link(feed, "prev-archive")
    newer = None
    while url is not None:
        assert url not in [u for u, _ in seen], "the chain loops"
        doc = parse_feed(local(site, url))
        assert link(doc, "current") == current
        assert link(doc, "next-archive") == newer
        assert link(doc, "self") == url
        root = etree.fromstring(local(site, url).read_bytes())
        marks = root.findall(f"{FH}archive") + root.findall(f"channel/{FH}archive")
        assert len(marks) == 1
        seen.append((url, [e.id for e in doc.entries]))
        newer, url = url, link(doc, "prev-archive")
    return seen


def expected_ids(site, category: str) -> dict[str, list[str]]:
    """Each month's entry ids of the category, from the posts (newest first)."""
    site_url = "https://news.example"
    out: dict[str, list[str]] = {}
    for name, categories, _tags in sorted(POSTS, reverse=True):
        if categories == category:
            y, m, d = name[:10].split("-")
            out.setdefault(f"{y}/{m}", []).append(
                f"{site_url}/{category}/{y}/{m}/{d}/{name[11:-3]}.html"
            )
    return out


@pytest.mark.parametrize("fmt", ["atom.xml", "rss.xml"])
def test_a_reader_walks_every_post_of_a_category_once_newest_period_first(site, fmt):
    site.build()
    seen = walk(site, f"categories/news/{fmt}")
    expected = expected_ids(site, "news")
    assert [unquote(u).split("/archive/")[1].rsplit("/", 1)[0] for u, _ in seen] == list(expected)
    ids = [i for _u, found in seen for i in found]
    assert sorted(ids) == sorted(set(ids))  # exactly once
    assert [found for _u, found in seen] == list(expected.values())
    current = [e.id for e in site.feed(f"categories/news/{fmt}").entries]
    assert set(current) <= set(ids)  # the subscription feed holds the newest, no more


def test_json_feed_archives_chain_through_next_url(site):
    site.build()
    doc = json.loads(site.read("categories/news/feed.json"))
    ids = []
    pages = 0
    while "next_url" in doc:
        doc = parse_feed(local(site, doc["next_url"]))
        ids += [item["id"] for item in doc["items"]]
        pages += 1
    assert pages == 4
    assert ids == [i for found in expected_ids(site, "news").values() for i in found]


def test_every_group_has_archives_and_the_site_too(site):
    site.build()
    names = sorted(
        str(p.relative_to(site.out)) for p in site.out.rglob("atom.xml") if "archive" in p.parts
    )
    assert "archive/2022/04/atom.xml" not in names  # no post that month
    assert [n for n in names if n.startswith("archive/")] == [
        f"archive/2022/{m}/atom.xml" for m in ("01", "02", "03", "05")
    ]
    assert "tags/株洲/archive/2022/05/atom.xml" in names
    assert "tags/体育/archive/2022/05/atom.xml" not in names
    site_archive = site.feed("archive/2022/03/atom.xml")
    assert len(site_archive.entries) == 3  # every post of the month, whatever the limit
    february = site.feed("categories/news/archive/2022/02/rss.xml").entries[0]
    assert february.media_thumbnail[0]["url"] == "https://news.example/uploads/c.jpg"
    # an archive's entry is the one the subscription feed has for the post
    atom = site.read("categories/news/archive/2022/02/atom.xml").decode()
    entry = atom[atom.index("<entry") : atom.index("</entry>")]
    assert entry in site.read("tags/体育/archive/2022/02/atom.xml").decode()


def test_yearly_archives(make_site):
    site = make_site(feeds={"archives": "yearly", **EVERY})
    write(site, "2021-12-31-x.md", "news", [])
    write(site, "2022-01-01-y.md", "news", [])
    site.build()
    assert (site.out / "categories/news/archive/2021/atom.xml").is_file()
    assert (site.out / "categories/news/archive/2022/rss.xml").is_file()
    assert len(walk(site, "categories/news/atom.xml")) == 2


def test_archives_are_neither_in_the_opml_nor_listed_as_feeds(site):
    site.build()
    opml = site.read("feeds.opml").decode()
    assert "archive" not in opml
    assert not [f for f in list_feeds(site.config, now=NOW) if "archive" in f.url]
    result = CliRunner().invoke(cli, ["feeds", "--config", str(site.config_path)])
    assert result.exit_code == 0 and "archive" not in result.stdout


def archive_mtimes(site) -> dict[str, int]:
    return {k: v for k, v in mtimes(site.out).items() if "/archive/" in f"/{k}"}


def test_an_untouched_archive_keeps_its_bytes_and_mtime(site):
    site.build()
    before = archive_mtimes(site)
    data = {k: (site.out / k).read_bytes() for k in before}
    write(site, "2022-03-20-h.md", "sport", [])  # March: site and sport archives change
    report = site.build()
    after = archive_mtimes(site)
    changed = {k for k in before if after[k] != before[k] or (site.out / k).read_bytes() != data[k]}
    march = {f"{d}archive/2022/03/{n}" for d in ("", "categories/sport/") for n in FORMATS}
    assert changed == march
    # the site's feed holds two newer posts: only sport's feed changes (and the pages,
    # which count posts)
    feeds = {p for p in report.written if not p.endswith("index.html")}
    assert feeds == march | {f"categories/sport/{n}" for n in FORMATS}


FORMATS = ("atom.xml", "rss.xml", "feed.json")


def manifests(site) -> dict:
    """Every file the manifest records (the archives' entries are kept in a file apart)."""
    files = json.loads(site.read(".feedwright/manifest"))["files"]
    assert not [p for p in files if "archive/" in p]
    for path in (site.out / ".feedwright" / "archives").glob("*"):
        files |= json.loads(path.read_bytes())["files"]
    return files


def test_a_new_period_rewrites_only_the_archive_next_to_it(site):
    site.build()
    before = archive_mtimes(site)
    write(site, "2022-07-01-n.md", "news", [])  # July: newer than every archive
    report = site.build()
    archives = {p for p in report.written if "archive/" in p}
    expected = {
        f"{d}archive/2022/{m}/{n}"
        for d in ("", "categories/news/")
        for m in ("05", "07")  # May gains a next-archive link; July is new
        for n in FORMATS
        if (m, n) != ("05", "feed.json")  # JSON Feed links only to older pages
    }
    assert archives == expected
    after = archive_mtimes(site)
    assert {k for k in before if after.get(k) != before[k]} == {
        p for p in expected if "/07/" not in p and not p.startswith("archive/07")
    }
    assert link(site.feed("categories/news/atom.xml"), "prev-archive").endswith(
        "/categories/news/archive/2022/07/atom.xml"
    )
    assert link(site.feed("archive/2022/05/atom.xml"), "next-archive").endswith(
        "/feeds/archive/2022/07/atom.xml"
    )


def test_an_emptied_period_is_removed_and_its_neighbours_relinked(site):
    site.build()
    (site.src / "_posts" / "2022-02-03-c.md").unlink()  # the only post of February
    report = site.build()
    assert not (site.out / "archive/2022/02").exists()
    assert not (site.out / "categories/news/archive/2022/02").exists()
    assert "archive/2022/02/atom.xml" in report.removed
    assert link(site.feed("archive/2022/03/atom.xml"), "prev-archive").endswith(
        "/feeds/archive/2022/01/atom.xml"
    )
    seen = walk(site, "categories/news/atom.xml")
    assert len(seen) == 3
    manifest = manifests(site)
    assert not [p for p in manifest if "/2022/02/" in p or p.startswith("archive/2022/02/")]


def test_turning_archives_off_removes_them_all(site):
    site.build()
    assert (site.out / "archive").is_dir()
    site.settings["feeds"] = {"limit": 2, **EVERY}
    site.save()
    report = site.build()
    assert not [p for p in site.out.rglob("*") if "archive" in p.parts]
    assert "categories/news/archive/2022/01/rss.xml" in report.removed
    assert link(site.feed("atom.xml"), "prev-archive") is None


def test_an_archive_holding_a_post_that_turns_bad_is_kept(site):
    site.build()
    before = site.read("categories/news/archive/2022/02/atom.xml")
    (site.src / "_posts" / "2022-02-03-c.md").write_text("---\ntitle: [unclosed\n---\n", "utf-8")
    report = site.build()
    assert report.rejected == 1
    assert site.read("categories/news/archive/2022/02/atom.xml") == before
    assert "categories/news/archive/2022/02/atom.xml" in report.kept
    write(site, "2022-02-03-c.md", "news", ["株洲", "体育"], title="改")
    site.build()
    assert [e.title for e in site.feed("categories/news/archive/2022/02/atom.xml").entries] == [
        "改"
    ]


#: Every subscription feed of the site fixture's groups that has archives.
CHAINS = [
    f"{folder}{name}"
    for folder in ("", "categories/news/", "categories/sport/", "tags/株洲/", "tags/体育/")
    for name in ("atom.xml", "rss.xml")
]


@pytest.mark.parametrize(
    "bad",
    ["2022-01-05-a.md", "2022-02-03-c.md", "2022-05-09-g.md"],
    ids=["oldest", "middle", "newest"],
)
def test_a_rejected_post_never_breaks_the_history_chain(site, bad):
    """The only post of a month turns bad (news's oldest, a middle and its newest month;
    February is the site's and two tags' only post too): the month's archives are kept as
    they were and stay in the chain, so a reader walking ``prev-archive`` from any feed
    sees exactly what it saw, and no other archive is rewritten. Fixed, everything is as
    it was, byte for byte."""
    site.build()
    chains = {feed: walk(site, feed) for feed in CHAINS}
    tree = feed_tree(site.out)
    post = site.src / "_posts" / bad
    good = post.read_bytes()
    post.write_text("---\ntitle: [unclosed\n---\n", "utf-8")
    report = site.build()
    assert report.rejected == 1
    assert {feed: walk(site, feed) for feed in CHAINS} == chains
    assert not [p for p in report.written if "archive/" in p]
    assert f"categories/news/archive/{bad[:7].replace('-', '/')}/atom.xml" in report.kept
    archives = {path: data for path, data in tree.items() if "archive/" in f"/{path}"}
    assert {p: d for p, d in feed_tree(site.out).items() if p in archives} == archives
    post.write_bytes(good)
    site.build()
    assert feed_tree(site.out) == tree


def test_a_deleted_archive_file_is_written_again(site):
    site.build()
    path = site.out / "tags/株洲/archive/2022/03/rss.xml"
    data = path.read_bytes()
    path.unlink()
    report = site.build()
    assert report.written == ("tags/株洲/archive/2022/03/rss.xml",)
    assert path.read_bytes() == data


@pytest.mark.parametrize("value", [True, "weekly", "Monthly", 1, ["monthly"], {"a": 1}])
def test_a_bad_archives_value_exits_2_naming_the_key(make_site, value):
    site = make_site(feeds={"archives": value})
    write(site, "2022-01-05-a.md", "news", [])
    result = CliRunner().invoke(cli, ["build", "--config", str(site.config_path)])
    assert result.exit_code == 2, result.output
    assert "feeds.archives" in result.stderr
    assert "monthly, yearly or false" in result.stderr
    assert "Traceback" not in result.output
    assert not site.out.exists()


@pytest.mark.parametrize("value", [False, None])
def test_archives_false_or_empty_is_off(make_site, value):
    site = make_site(feeds={"archives": value})
    write(site, "2022-01-05-a.md", "news", [])
    site.build()
    assert not (site.out / "archive").exists()


def test_the_w3c_validator_accepts_every_archive(site, tmp_path):
    checker = shared_tool("tools/validate_feeds.py")  # the W3C validator's code, and more
    site.settings["websub"] = {"hubs": ["https://hub.example/"]}
    site.save()
    site.build()
    result = subprocess.run(
        [sys.executable, str(checker), str(site.out), "--w3c"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )
    last = result.stdout.strip().splitlines()[-1]
    documents = len(list(site.out.rglob("*.xml"))) + len(list(site.out.rglob("*.json")))
    assert last.startswith(f"{documents} feeds, 0 problems"), result.stdout + result.stderr
    assert result.returncode == 0
    # Its only warnings are the subscription feeds' too (RSS <author> beside dc:creator).
    warned = [line for line in result.stdout.splitlines() if "warning:" in line]
    assert all("DuplicateItemSemantics" in line for line in warned), warned


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ops=st.lists(op, min_size=1, max_size=6),
    every=st.sampled_from(["monthly", "yearly"]),
    archived=st.sampled_from([{}, EVERY, {"archives_formats": ["rss", "json"]}]),
)
def test_cached_builds_equal_full_builds_with_archives(tmp_path_factory, ops, every, archived):
    """The same random edits as the cache's own property test, with archives on (the
    default set, every one, or others): the cached build writes what ``--full`` and the
    in-memory reference write, archives included."""
    twin = Twin(tmp_path_factory.mktemp("twin"), feeds={"archives": every, **archived})
    for i in range(5):
        twin.apply("add", i, 1 + i)
    twin.check()
    assert any("/archive/" in f"/{p}" for p in feed_tree(twin.cached.output))
    for kind, i, variant in ops:
        twin.apply(kind, i, variant)
        twin.check()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(op, min_size=1, max_size=6))
# a group's archive file that --full does not write stayed in the cached build
@example(ops=[("tick", 0, 4), ("bad", 0, 1), ("edit", 2, 2), ("delete", 0, 1)])
def test_cached_builds_equal_full_builds_with_archives_policies_and_pages(tmp_path_factory, ops):
    """Everything on at once (pages are on by default): archives, feed policies that
    groups cross as posts change; cached == ``--full`` == the reference."""
    feeds = {"archives": "monthly", **POLICIES}
    twin = Twin(tmp_path_factory.mktemp("twin"), feeds=feeds)
    for i in range(5):
        twin.apply("add", i, 1 + i)
    twin.check()
    for kind, i, variant in ops:
        twin.apply(kind, i, variant)
        twin.check()


def test_a_group_the_feed_policy_excludes_has_no_archives(make_site):
    site = make_site(feeds={"archives": "monthly", "tags": {"min_posts": 4}, **EVERY})
    for name, categories, tags in POSTS:
        write(site, name, categories, tags)
    site.build()
    assert (site.out / "tags/株洲/archive/2022/05/atom.xml").is_file()  # 4 posts
    assert not (site.out / "tags/体育").exists()  # 3 posts: no feeds, no archives
    (site.src / "_posts" / "2022-05-09-g.md").unlink()  # 株洲 falls to 3 posts
    report = site.build()
    assert not (site.out / "tags/株洲").exists()
    assert "tags/株洲/archive/2022/01/atom.xml" in report.removed
    manifest = manifests(site)
    assert not [p for p in manifest if p.startswith("tags/")]


def archive_manifest(site, kind: str, slug: str) -> Path:
    """The file of one group's archive entries."""
    name = manifest.archive_name(GroupKey(kind, slug))
    return site.out / ".feedwright" / "archives" / name


def test_a_rebuild_that_decides_no_archive_leaves_the_archives_manifest_unread(site):
    """The archives' manifest entries are read only by a build that may decide an archive:
    a damaged one goes unnoticed by a no-op, and is rebuilt (from the cache) by the next
    build that looks at its group."""
    first = site.build()
    archives = sorted(p for p in first.written if "archive/" in p)
    state = archive_manifest(site, "site", "")
    good = json.loads(state.read_bytes())["files"]
    assert sorted(good) == [p for p in archives if p.startswith("archive/")]
    state.write_bytes(b"garbage{")
    report = site.build()
    assert (report.written, report.removed, report.warnings) == ((), (), ())
    # the report still counts them (not listed: a big site has a hundred thousand)
    assert not set(archives) & set(report.unchanged)
    assert report.unlisted == len(archives)
    assert report.unchanged_count == len(first.written)
    assert file_counts(report)["archive"].unchanged == len(archives)
    assert state.read_bytes() == b"garbage{"
    write(site, "2022-03-20-h.md", "sport", [])
    report = site.build()
    assert any(f"{state.name}: unreadable manifest" in w for w in report.warnings)
    rebuilt = json.loads(state.read_bytes())["files"]
    assert set(good) <= set(rebuilt)
    # what the rebuilt entries lack (the posts each held) is learnt again as archives are
    # written; the files are still feedwright's: turning archives off removes them all
    site.settings["feeds"] = {"limit": 2, **EVERY}
    site.save()
    site.build()
    assert not [p for p in site.out.rglob("*") if "archive" in p.parts]


def test_a_build_reads_and_saves_only_the_archive_entries_of_the_groups_it_looks_at(site):
    """Each group's archive entries are a file of their own: an edit in one category
    leaves the files of the groups it does not touch unread and as they were."""
    site.build()
    folder = site.out / ".feedwright" / "archives"
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    assert len(before) == 1 + 2 + 2  # the site, news and sport, 株洲 and 体育
    news = archive_manifest(site, "category", "news")
    news.write_bytes(b"garbage{")  # not read by the next build
    write(site, "2022-03-20-h.md", "sport", [])
    report = site.build()
    assert report.warnings == ()
    assert "categories/sport/archive/2022/03/atom.xml" in report.written
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    changed = {name for name in before if after[name] != before[name]}
    site_file = archive_manifest(site, "site", "").name
    sport = archive_manifest(site, "category", "sport").name
    assert changed == {news.name, site_file, sport}  # news: only because it was damaged
    assert after[news.name][0] == b"garbage{"
    # the archive files of the groups not looked at are counted as unchanged, not listed
    assert report.unlisted > 0
    on_disk = [p for p in site.out.rglob("*") if p.is_file() and ".feedwright" not in p.parts]
    assert len(report.written) + report.unchanged_count == len(on_disk)
    assert "categories/sport/archive/2022/03/atom.xml" in manifests_of(site, sport)


def manifests_of(site, name: str) -> dict:
    return json.loads((site.out / ".feedwright" / "archives" / name).read_bytes())["files"]


def test_a_manifest_that_holds_archive_entries_is_split_when_next_saved(site):
    """A manifest from before the archives' entries were kept apart is read as it is."""
    site.build()
    state = site.out / ".feedwright"
    files = manifests(site)
    (state / "manifest").write_text(json.dumps({"version": 1, "files": files}), "utf-8")
    shutil.rmtree(state / "archives")
    write(site, "2022-03-20-h.md", "sport", [])
    report = site.build()
    assert report.warnings == ()
    assert set(manifests(site)) == set(files) | set(report.written)
    (site.src / "_posts" / "2022-02-03-c.md").unlink()  # February's archives go
    report = site.build()
    assert "archive/2022/02/atom.xml" in report.removed
    assert not (site.out / "archive/2022/02").exists()


def test_the_one_archives_manifest_of_older_builds_is_split_by_the_next_build_that_reads_it(
    site,
):
    """Builds before the archives' entries were kept a file per group kept them in one
    file: a no-op leaves it be, the next build that looks at a group splits it."""
    site.build()
    state = site.out / ".feedwright"
    files = manifests(site)
    archived = {p: v for p, v in files.items() if "archive/" in p}
    (state / "manifest-archives").write_text(json.dumps({"version": 1, "files": archived}), "utf-8")
    shutil.rmtree(state / "archives")
    report = site.build()
    assert (report.written, report.removed, report.warnings) == ((), (), ())
    assert (state / "manifest-archives").exists() and not (state / "archives").exists()
    write(site, "2022-03-20-h.md", "sport", [])
    report = site.build()
    assert report.warnings == ()
    assert not (state / "manifest-archives").exists()
    assert set(manifests(site)) == set(files) | set(report.written)
    (site.src / "_posts" / "2022-02-03-c.md").unlink()  # February's archives go
    report = site.build()
    assert "tags/株洲/archive/2022/02/atom.xml" in report.removed
    assert not (site.out / "tags/株洲/archive/2022/02").exists()


def test_archives_are_checked_by_folder(site):
    """A no-op rebuild looks at an archive's files only when their folder moved: a file
    removed, replaced or renamed, or the folder gone, is written again; bytes changed in
    place (the folder does not move) wait until the group is next looked at, or --full."""
    site.build()
    folder = site.out / "tags/株洲/archive/2022/03"
    data = {p.name: p.read_bytes() for p in folder.iterdir()}
    other = site.out / "categories/news/archive/2022/01"
    (other / "atom.xml").rename(other / "moved.xml")  # renamed away
    for p in folder.iterdir():
        p.unlink()
    folder.rmdir()  # the whole folder
    report = site.build()
    assert set(report.written) == {
        "categories/news/archive/2022/01/atom.xml",
        *(f"tags/株洲/archive/2022/03/{n}" for n in FORMATS),
    }
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == data
    assert site.build().written == ()  # settled: the next no-op writes nothing
    # replaced by another file (written beside it and renamed over it, as editors do)
    tmp = folder / "x.tmp"
    tmp.write_bytes(b"<feed/>")
    tmp.replace(folder / "rss.xml")
    assert site.build().written == ("tags/株洲/archive/2022/03/rss.xml",)
    assert (folder / "rss.xml").read_bytes() == data["rss.xml"]
    # changed in place: the trade-off
    changed = data["atom.xml"].replace(b"UTF-8", b"utf-8", 1)
    assert changed != data["atom.xml"]
    with open(folder / "atom.xml", "r+b") as f:
        f.write(changed)
    assert site.build().written == ()
    write(site, "2022-01-20-h.md", "news", ["株洲"])  # 株洲 is looked at again
    report = site.build()
    assert "tags/株洲/archive/2022/03/atom.xml" in report.written
    assert (folder / "atom.xml").read_bytes() == data["atom.xml"]
