"""Which files are posts, and which are never read (symlinks out, FIFOs, folders, big files)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import check_tree, parse_feed

from feedwright.discover import MAX_POST_BYTES, discover

SECRET = "TOPSECRET-d41d8cd98f00"
GOOD = "2022-03-01-good.md"


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging the suite) if the block blocks, e.g. on a FIFO."""

    def expire(signum, frame):  # noqa: ARG001
        raise TimeoutError(f"blocked for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def every_output_byte(site) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(site.out.rglob("*")) if p.is_file())


def titles(site) -> list[str]:
    return [e.title for e in site.feed("atom.xml").entries]


def post_text(title: str, body: str = "正文") -> str:
    return f"---\n{front(title)}---\n<p>{body}</p>\n"


def front(title: str) -> str:
    return f"title: {title}\ndate: 2022-03-07 08:00:00 +0800\n"


def add(site, name: str, title: str, body: str = "正文", folder: str = "_posts") -> None:
    site.post(name, front(title), body=f"<p>{body}</p>\n", folder=folder)


# --- names ----------------------------------------------------------------------------------

POSTS = [
    "2022-03-07-a.md",
    "2022-03-07-b.markdown",
    "2022-03-07-c.html",
    "2022-03-07-d.htm",
    "2022-03-07-e.MD",
    "2022-3-7-f.md",
    "2022-03-07-株洲.md",
    "2022-03-07-with.dots.md",
]
IGNORED = [
    "2022-03-07-g.txt",
    "2022-03-07-h.mdx",
    "2022-03-07-i.md~",
    "2022-03-07-j.md.bak",
    "2022-03-07.md",
    "22-03-07-k.md",
    "README.md",
    "index.html",
    ".2022-03-07-hidden.md",
]


def test_file_name_rules(make_site):
    site = make_site()
    for name in POSTS + IGNORED:
        (site.src / "_posts").mkdir(parents=True, exist_ok=True)
        (site.src / "_posts" / name).write_text(post_text(name), encoding="utf-8")
    found = discover(site.src)
    assert [p.relpath for p in found.posts] == sorted(f"_posts/{n}" for n in POSTS)
    assert sorted(found.ignored) == sorted(f"_posts/{n}" for n in IGNORED)
    by_name = {p.relpath: p for p in found.posts}
    post = by_name["_posts/2022-3-7-f.md"]
    assert (post.name_date, post.slug, post.ext) == ((2022, 3, 7), "f", "md")
    assert by_name["_posts/2022-03-07-e.MD"].ext == "md"
    assert by_name["_posts/2022-03-07-with.dots.md"].slug == "with.dots"
    report = site.build()
    assert (report.errors, report.posts) == ((), len(POSTS))
    assert sorted(titles(site)) == sorted(POSTS)


def test_special_folders_are_skipped(make_site):
    site = make_site()
    add(site, GOOD, "好")
    for folder in [
        "_drafts",
        ".git/_posts",
        "_site/_posts",
        "a/_private/_posts",
        "a/.cache/_posts",
    ]:
        add(site, "2022-03-07-skip.md", "不该出现", SECRET, folder=folder)
    add(site, "2022-03-06-kept.md", "保留", folder="a/b/_posts")
    found = discover(site.src)
    assert [p.relpath for p in found.posts] == [
        "_posts/2022-03-01-good.md",
        "a/b/_posts/2022-03-06-kept.md",
    ]
    assert found.posts[1].dir_categories == ("a", "b")
    report = site.build()
    assert report.errors == ()
    assert sorted(titles(site)) == ["保留", "好"]
    assert SECRET.encode() not in every_output_byte(site)


def test_output_folder_inside_the_source_is_not_read(make_site):
    site = make_site(output="site/_posts/out")
    add(site, GOOD, "好")
    (site.root / "site/_posts/out").mkdir(parents=True)
    (site.root / "site/_posts/out/2022-03-07-trap.md").write_text(post_text("陷阱"), "utf-8")
    report = site.build()
    assert report.errors == ()
    out = site.root / "site/_posts/out"
    check_tree(out)
    assert [e.title for e in parse_feed(out / "atom.xml").entries] == ["好"]


# --- what is never read --------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the source holding a secret post and a secret posts folder."""
    folder = tmp_path / "outside"
    (folder / "_posts").mkdir(parents=True)
    (folder / "secret.md").write_text(post_text("秘密", SECRET), encoding="utf-8")
    (folder / "_posts" / "2022-03-07-secret.md").write_text(post_text("秘密", SECRET), "utf-8")
    return folder


@pytest.mark.parametrize(
    "target",
    ["secret.md", "../outside/secret.md", "/dev/zero", "/etc/passwd"],
    ids=["absolute", "relative", "device", "system-file"],
)
def test_symlink_to_a_file_outside_the_source_is_not_read(make_site, outside, target):
    site = make_site()
    add(site, GOOD, "好")
    link = site.src / "_posts" / "2022-03-07-leak.md"
    if target == "secret.md":
        target = str(outside / "secret.md")
    elif target.startswith("../outside"):
        target = os.path.relpath(outside / "secret.md", link.parent)
    link.symlink_to(target)
    with time_limit(20):
        report = site.build()
    assert report.errors == (
        "_posts/2022-03-07-leak.md:1: symlink leads outside the source folder; not read",
    )
    assert titles(site) == ["好"]
    data = every_output_byte(site)
    assert SECRET.encode() not in data and "秘密".encode() not in data and b"root:" not in data


def test_symlink_chain_leading_out_is_not_read(make_site, outside):
    site = make_site()
    add(site, GOOD, "好")
    (site.src / "notes").mkdir()
    (site.src / "notes" / "hop.md").symlink_to(outside / "secret.md")
    (site.src / "_posts" / "2022-03-07-leak.md").symlink_to("../notes/hop.md")
    report = site.build()
    assert report.errors == (
        "_posts/2022-03-07-leak.md:1: symlink leads outside the source folder; not read",
    )
    assert SECRET.encode() not in every_output_byte(site)


def test_symlink_to_a_file_inside_the_source_is_read(make_site):
    site = make_site()
    (site.src / "notes").mkdir()
    (site.src / "notes" / "real.md").write_text(post_text("内部链接"), encoding="utf-8")
    (site.src / "_posts").mkdir()
    (site.src / "_posts" / "2022-03-07-alias.md").symlink_to("../notes/real.md")
    assert site.build().errors == ()
    assert titles(site) == ["内部链接"]


def test_symlinked_folders_are_not_followed(make_site, outside):
    site = make_site()
    add(site, GOOD, "好")
    (site.src / "linked").symlink_to(outside, target_is_directory=True)
    (site.src / "_posts" / "more").symlink_to(outside / "_posts", target_is_directory=True)
    (site.src / "cat").mkdir()
    (site.src / "cat" / "_posts").symlink_to(outside / "_posts", target_is_directory=True)
    (site.src / "_posts" / "loop").symlink_to(site.src, target_is_directory=True)
    found = discover(site.src)
    assert [p.relpath for p in found.posts] == ["_posts/2022-03-01-good.md"]
    with time_limit(20):
        report = site.build()
    assert report.errors == ()
    assert titles(site) == ["好"]
    assert not (site.out / "categories").exists()
    assert SECRET.encode() not in every_output_byte(site)


def test_folder_named_like_a_post_is_skipped(make_site):
    site = make_site()
    add(site, GOOD, "好")
    (site.src / "_posts" / "2022-03-07-folder.md").mkdir()
    (site.src / "_posts" / "2022-03-07-folder.md" / "notes.txt").write_text("x", "utf-8")
    with time_limit(20):
        report = site.build()
    assert (report.errors, report.posts) == ((), 1)
    assert titles(site) == ["好"]


def test_fifo_named_like_a_post_is_skipped_without_hanging(make_site):
    site = make_site()
    add(site, GOOD, "好")
    os.mkfifo(site.src / "_posts" / "2022-03-07-fifo.md")
    (site.src / "_posts" / "2022-03-08-fifo-link.md").symlink_to("2022-03-07-fifo.md")
    with time_limit(20):
        report = site.build()
    assert report.posts == 1
    mentions = sorted(line for line in (*report.errors, *report.warnings) if "fifo" in line)
    assert mentions == [
        "_posts/2022-03-07-fifo.md:1: not a regular file; skipped",
        "_posts/2022-03-08-fifo-link.md:1: not a regular file; skipped",
    ]
    assert titles(site) == ["好"]


@pytest.mark.parametrize(
    "data, message",
    [
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
            "1: not UTF-8 text (byte 0x89 at offset 0)",
        ),
        (b"\x00\x00\x00\x00binary\x00", "1: no front matter (a post starts with a '---' line)"),
        (b"---\ntitle: x\n---\n\x00\x01\xc3\x28", "4: not UTF-8 text (byte 0xc3 at offset 19)"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00\xb7", "1: not UTF-8 text (byte 0xb7 at offset 10)"),
    ],
    ids=["png", "nul-bytes", "binary-body", "zip"],
)
def test_binary_file_named_like_a_post_is_an_error(make_site, data, message):
    site = make_site()
    add(site, GOOD, "好")
    (site.src / "_posts" / "2022-03-07-image.md").write_bytes(data)
    report = site.build()
    assert len(report.errors) == 1
    assert report.errors[0].startswith(f"_posts/2022-03-07-image.md:{message}")
    assert titles(site) == ["好"]


def test_file_larger_than_the_limit_is_an_error(make_site):
    site = make_site()
    add(site, GOOD, "好")
    path = site.src / "_posts" / "2022-03-07-huge.md"
    with path.open("wb") as f:
        f.write(post_text("巨大").encode())
        f.truncate(MAX_POST_BYTES + 1)  # sparse: nothing is really written
    report = site.build()
    assert report.errors == (
        f"_posts/2022-03-07-huge.md:1: file is {MAX_POST_BYTES + 1} bytes; posts larger than "
        f"{MAX_POST_BYTES >> 20} MiB are not read",
    )
    assert titles(site) == ["好"]


# --- wrong folders are loud -----------------------------------------------------------------


def cli_run(*args: str):
    from click.testing import CliRunner

    from feedwright.cli import cli

    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("command", ["build", "check", "feeds"])
def test_source_pointing_at_posts_itself_says_to_point_at_its_parent(make_site, command):
    site = make_site()
    add(site, GOOD, "好")
    posts = site.src / "_posts"
    result = cli_run(command, "--config", str(site.config_path), "--source", str(posts))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: --source: {posts.resolve()} is a _posts folder: "
        f"point --source at the site above it, {site.src.resolve()}\n"
    )
    assert result.stdout == "" and not site.out.exists()


@pytest.mark.parametrize("command", ["build", "check", "feeds"])
def test_source_without_posts_anywhere_is_an_error_naming_the_folder(make_site, command):
    site = make_site()
    (site.src / "notes").mkdir()
    (site.src / "notes" / "2022-03-07-a.md").write_text(post_text("a"), encoding="utf-8")
    (site.src / "_drafts" / "_posts").mkdir(parents=True)  # not entered: it is no site folder
    result = cli_run(command, "--config", str(site.config_path))
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"Error: config.yaml: source: no _posts folder in {site.src.resolve()} (posts go in "
    )
    assert result.stdout == "" and not site.out.exists()


def test_source_given_in_the_config_is_named_as_the_config_key(make_site):
    site = make_site(source="site/_posts")
    add(site, GOOD, "好")
    result = cli_run("build", "--config", str(site.config_path))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: config.yaml: source: ")
    assert result.stderr.endswith(f"point source at the site above it, {site.src.resolve()}\n")


def test_a_missing_source_folder_names_the_option_it_came_from(make_site, tmp_path):
    site = make_site()
    missing = tmp_path / "nowhere"
    result = cli_run("build", "--config", str(site.config_path), "--source", str(missing))
    assert (result.exit_code, result.stderr) == (2, f"Error: --source: no such folder: {missing}\n")
    site.settings["source"] = "nowhere"
    site.save()
    result = cli_run("build", "--config", str(site.config_path))
    assert result.stderr == f"Error: config.yaml: source: no such folder: {missing}\n"


def test_output_that_is_a_file_names_the_option(make_site, tmp_path):
    site = make_site()
    add(site, GOOD, "好")
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    result = cli_run("build", "--config", str(site.config_path), "--output", str(blocker))
    assert result.exit_code == 2
    assert "'--output'" in result.stderr and "config.yaml" not in result.stderr


def test_posts_only_in_category_folders_are_a_site(make_site):
    site = make_site()
    add(site, GOOD, "好", folder="news/_posts")
    assert site.build().posts == 1


def test_a_site_with_an_empty_posts_folder_writes_its_empty_site_feeds(make_site, tmp_path):
    site = make_site()
    add(site, GOOD, "好")
    site.build()
    (site.src / "_posts" / GOOD).unlink()
    site.build()  # the last post deleted: empty site feeds and an OPML
    after_delete = {
        p: site.read(p) for p in ("atom.xml", "rss.xml", "feed.json", "feeds.opml", "index.html")
    }
    fresh = make_site(output="fresh")
    (fresh.src / "_posts").mkdir(parents=True, exist_ok=True)
    report = fresh.build()
    assert sorted(report.written) == sorted(after_delete)
    assert {p: (tmp_path / "fresh" / p).read_bytes() for p in after_delete} == after_delete


# --- -v says what was skipped, and why ----------------------------------------------------


def test_verbose_lists_every_skipped_file_with_its_reason(make_site):
    site = make_site()
    add(site, GOOD, "好")
    posts = site.src / "_posts"
    for name in ["notes.md", "x.mkd", "2022-03-07.md", ".2022-03-07-h.md", "photo.jpg", "README"]:
        (posts / name).write_text("x", encoding="utf-8")
    (site.src / "about.md").write_text("not under _posts: not listed", encoding="utf-8")
    add(site, "draft.md", "草稿", folder="news/_posts/sub")
    result = cli_run("build", "-v", "--config", str(site.config_path))
    assert result.exit_code == 0, result.output
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    exts = "(posts end in .md, .markdown, .html, .htm)"
    assert skipped == [
        "skipped _posts/.2022-03-07-h.md: a hidden file",
        "skipped _posts/2022-03-07.md: no title after the date in the file name "
        "(YYYY-MM-DD-title.md)",
        f"skipped _posts/README: not a post extension {exts}",
        "skipped _posts/notes.md: no date in the file name (posts are named YYYY-MM-DD-title.md)",
        f"skipped _posts/photo.jpg: not a post extension {exts}",
        f"skipped _posts/x.mkd: not a post extension {exts}",
        "skipped news/_posts/sub/draft.md: no date in the file name "
        "(posts are named YYYY-MM-DD-title.md)",
    ]
    assert "wrote atom.xml" in result.stderr.splitlines()
    quiet = cli_run("build", "--config", str(site.config_path))
    assert "skipped" not in quiet.stderr


# --- names that are not UTF-8 (#17.6) -----------------------------------------------------------


def feed_bytes(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and ".feedwright" not in p.parts
    }


def test_names_that_are_not_utf8_are_one_error_each_and_the_rest_is_published(make_site):
    site = make_site()
    add(site, "2022-03-07-good.md", "好")
    add(site, "2022-03-08-also.md", "也好", folder="新闻/_posts")
    src = os.fsencode(site.src)
    text = post_text("坏名字").encode()
    with open(src + b"/_posts/2022-03-09-caf\xe9.md", "wb") as f:  # Latin-1, not UTF-8
        f.write(text)
    os.makedirs(src + b"/caf\xe9/_posts")
    with open(src + b"/caf\xe9/_posts/2022-03-10-ok.md", "wb") as f:
        f.write(text)
    expected = (
        "_posts/2022-03-09-caf\\xe9.md: the file name (or a folder above it) is not UTF-8 "
        "(byte 0xe9, shown as \\xe9); rename it in UTF-8 to publish the post; skipped",
        "caf\\xe9/_posts/2022-03-10-ok.md: the file name (or a folder above it) is not UTF-8 "
        "(byte 0xe9, shown as \\xe9); rename it in UTF-8 to publish the post; skipped",
    )
    first = site.build()
    assert first.errors == expected
    assert [(r.path, r.line) for r in first.error_records] == [
        ("_posts/2022-03-09-caf\\xe9.md", None),
        ("caf\\xe9/_posts/2022-03-10-ok.md", None),
    ]
    assert first.posts == 2
    assert titles(site) == ["也好", "好"]
    built = feed_bytes(site.out)
    again = site.build()  # cached
    assert (again.errors, again.written, again.removed) == (expected, (), ())
    assert feed_bytes(site.out) == built
    full = site.build(full=True)
    assert (full.errors, full.written) == (expected, ())
    assert feed_bytes(site.out) == built
    result = cli_run("check", "--config", str(site.config_path))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == list(expected)
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "folder, name",
    [
        ("/site/_posts", "2024-01-01-a.md"),
        ("/", "_posts/x.md"),
        ("/site/", "_posts/x.md"),
        ("", "x.md"),
        ("/site", "/abs/x.md"),
        ("relative/dir", "a/b.md"),
        (".", "x.md"),
    ],
)
def test_join_is_os_path_join(folder: str, name: str) -> None:
    import os

    from feedwright.discover import _join

    assert _join(folder, name) == os.path.join(folder, name)
