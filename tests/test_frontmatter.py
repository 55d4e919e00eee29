"""Front matter as Jekyll reads it: BOM, ``...``, line ends, errors with the file's true line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ATOM, NOW, check_tree
from lxml import etree

from feedwright.errors import PostError
from feedwright.frontmatter import split

GOOD = "2022-03-01-good.md"


def put(site, name: str, data: bytes | str) -> Path:
    """A post file with exactly these bytes (no helper formatting)."""
    path = site.src / "_posts" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def titles(site, feed: str = "atom.xml") -> list[str]:
    return [e.title for e in site.feed(feed).entries]


def with_good_post(site):
    site.post(GOOD, {"title": "好文章", "date": "2022-03-01 10:00:00 +0800"})


# --- what Jekyll accepts ----------------------------------------------------------------


def test_bom_is_ignored(make_site):
    site = make_site()
    put(site, "2022-03-07-bom.md", b"\xef\xbb\xbf---\ntitle: \xe6\xa0\xaa\xe6\xb4\xb2\n---\nbody")
    report = site.build()
    assert report.errors == ()
    assert titles(site) == ["株洲"]


def test_three_dots_close_the_front_matter(make_site):
    site = make_site()
    put(site, "2022-03-07-dots.md", "---\ntitle: 点\ntags: 株洲\n...\n<p>正文</p>\n")
    site.build()
    entry = site.feed("atom.xml").entries[0]
    assert entry.title == "点"
    assert [t.term for t in entry.tags] == ["株洲"]
    assert entry.content[0].value == "<p>正文</p>"


@pytest.mark.parametrize("eol", ["\r\n", "\r"], ids=["crlf", "cr-only"])
def test_line_ends(make_site, eol):
    site = make_site()
    text = "---\ntitle: 行尾\ntags: [甲, 乙]\n---\n<p>一</p>\n<p>二</p>\n"
    put(site, "2022-03-07-eol.md", text.replace("\n", eol))
    report = site.build()
    assert report.errors == ()
    entry = site.feed("atom.xml").entries[0]
    assert entry.title == "行尾"
    assert [t.term for t in entry.tags] == ["甲", "乙"]
    assert entry.content[0].value == "<p>一</p>\n<p>二</p>"


def test_leading_indentation_of_the_body_is_kept(make_site):
    site = make_site()
    put(site, "2022-03-07-code.md", "---\ntitle: 代码\n---\n    indented code\n\ntext\n")
    doc = split("p.md", (site.src / "_posts" / "2022-03-07-code.md").read_bytes())
    assert doc.body == "    indented code\n\ntext\n"
    assert doc.body_line == 4
    site.build()
    content = site.feed("atom.xml").entries[0].content[0].value
    assert content == "<pre><code>indented code\n</code></pre>\n<p>text</p>"


@pytest.mark.parametrize(
    "name, front, title",
    [
        ("2022-03-07-hello-world.md", "", "Hello World"),
        ("2022-03-07-hello-world.md", "# only a comment\n", "Hello World"),
        ("2022-03-07-multi-word-slug.html", "\n", "Multi Word Slug"),
        ("2022-03-07-株洲新闻.md", "", "株洲新闻"),
        ("2022-03-07-hello-world.md", "title: ''\n", "Hello World"),
    ],
)
def test_empty_front_matter_takes_the_title_from_the_slug(make_site, name, front, title):
    site = make_site()
    put(site, name, f"---\n{front}---\n<p>x</p>\n")
    report = site.build()
    assert report.errors == ()
    assert titles(site) == [title]
    assert site.feed("feed.json")["items"][0]["date_published"] == "2022-03-07T00:00:00+08:00"


@pytest.mark.parametrize(
    "text, message",
    [
        ("title: x\n\nbody\n", "1: no front matter (a post starts with a '---' line)"),
        ("\n---\ntitle: x\n---\nbody\n", "1: no front matter (a post starts with a '---' line)"),
        ("---\ntitle: x\nbody\n", "1: front matter is not closed (no '---' or '...' line)"),
        ("---\ntitle: x\n", "1: front matter is not closed (no '---' or '...' line)"),
    ],
    ids=["none", "blank-line-first", "unclosed", "unclosed-at-eof"],
)
def test_missing_or_unclosed_front_matter_is_an_error(make_site, text, message):
    site = make_site()
    with_good_post(site)
    put(site, "2022-03-07-bad.md", text)
    report = site.build()
    assert report.errors == (f"_posts/2022-03-07-bad.md:{message}",)
    assert titles(site) == ["好文章"]


# --- invalid YAML: the line named is the file's own line --------------------------------

YAML_ERRORS = {
    "colon-in-value": ("---\ntitle: Re: 回复\n---\nb", 2, "mapping values are not allowed"),
    "after-blank-lines": ("---\n\n\ntitle: ok\nx: a: b\n---\nb", 5, "mapping values"),
    "bom": ("\ufeff---\ntitle: ok\nx: a: b\n---\nb", 3, "mapping values"),
    "crlf": ("---\r\ntitle: ok\r\n\r\nx: a: b\r\n---\r\nb", 4, "mapping values"),
    "cr-only": ("---\rtitle: ok\r\rx: a: b\r---\rb", 4, "mapping values"),
    "dots-closer": ("---\ntitle: ok\nx: a: b\n...\nb", 3, "mapping values"),
    "unclosed-bracket-last": ("---\n\n\ntitle: ok\ntags: [unclosed\n---\nb", 5, "expected ','"),
    "unclosed-quote-last": (
        '---\nexcerpt: |\n  line 1\n  line 2\n\ntitle: "never closed\n---\nb',
        6,
        "found unexpected end of stream",
    ),
    "tab-indent": ("---\ntitle: ok\ntags:\n\t- a\n---\nb", 4, "tabs cannot indent YAML"),
    "bad-indent": ("---\ntitle: ok\nauthor:\n  name: a\n email: b\n---\nb", 5, "expected key"),
    "undefined-alias": ("---\ntitle: ok\n\n# note\ntags: *nope\n---\nb", 5, "undefined alias"),
    "raw-control-char": ("---\ntitle: ok\n\nexcerpt: a\x01b\n---\nb", 4, "U+0001"),
    "after-block-scalar": (
        "---\nexcerpt: >\n  one\n  two\n\n  three\ntitle: [a\ndate: x\n---\nb",
        8,
        "expected ','",
    ),
}


@pytest.mark.parametrize("case", YAML_ERRORS, ids=list(YAML_ERRORS))
def test_invalid_yaml_names_the_true_line(make_site, case):
    text, line, words = YAML_ERRORS[case]
    site = make_site()
    with_good_post(site)
    put(site, "2022-03-07-bad.md", text)
    report = site.build()
    assert len(report.errors) == 1
    prefix = f"_posts/2022-03-07-bad.md:{line}: invalid YAML in front matter: "
    assert report.errors[0].startswith(prefix), report.errors[0]
    assert words in report.errors[0]
    assert titles(site) == ["好文章"]


def test_post_error_carries_path_and_line():
    with pytest.raises(PostError) as info:
        split("_posts/x.md", b"---\ntitle: a\ndate: b: c\n---\n")
    assert (info.value.path, info.value.line) == ("_posts/x.md", 3)
    assert str(info.value).startswith("_posts/x.md:3: invalid YAML")


@pytest.mark.parametrize(
    "data, line, offset",
    [
        ("---\ntitle: 株洲日报\n---\n正文\n".encode("gbk"), 2, 11),
        ("---\ntitle: ok\n\n\n---\n第一行\n正文\n".encode("gbk"), 6, 20),
        (b"---\ntitle: ok\n---\n\xff\xfe", 4, 18),
    ],
    ids=["gbk-title", "gbk-body", "stray-bytes"],
)
def test_undecodable_bytes_are_an_error_with_the_line(make_site, data, line, offset):
    site = make_site()
    with_good_post(site)
    put(site, "2022-03-07-gbk.md", data)
    report = site.build()
    byte = data[offset]
    assert report.errors == (
        f"_posts/2022-03-07-gbk.md:{line}: not UTF-8 text (byte 0x{byte:02x} at offset "
        f"{offset}); save the file as UTF-8",
    )
    assert titles(site) == ["好文章"]


@pytest.mark.parametrize(
    "front, kind",
    [("- a\n- b\n", "a list"), ("just some text\n", "a str"), ("42\n", "a int")],
)
def test_front_matter_that_is_not_a_mapping(make_site, front, kind):
    site = make_site()
    with_good_post(site)
    put(site, "2022-03-07-list.md", f"---\n{front}---\nbody\n")
    report = site.build()
    assert report.errors == (
        f"_posts/2022-03-07-list.md:2: front matter is {kind}, not a mapping of keys to values",
    )
    assert titles(site) == ["好文章"]


# --- hostile front matter -----------------------------------------------------------------

PYTHON_TAGS = [
    "!!python/object/apply:os.system ['touch {m}']",
    "!!python/object/apply:builtins.open ['{m}', 'w']",
    "!!python/object/new:subprocess.Popen [[touch, '{m}']]",
    "!!python/object/apply:subprocess.check_call [[touch, '{m}']]",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/tuple [a, b]",
    "!<tag:yaml.org,2002:python/object/apply:os.system> ['touch {m}']",
    "!ruby/object:Gem::Installer {{i: x}}",
]


@pytest.mark.parametrize("tag", PYTHON_TAGS)
def test_python_tags_are_rejected_and_never_run(make_site, tmp_path, tag):
    marker = tmp_path / "pwned"
    site = make_site()
    with_good_post(site)
    put(site, "2022-03-07-evil.md", f"---\ntitle: 坏\n\ntags: {tag.format(m=marker)}\n---\nb\n")
    report = site.build()
    assert len(report.errors) == 1
    assert report.errors[0].startswith(
        "_posts/2022-03-07-evil.md:4: invalid YAML in front matter: "
        "could not determine a constructor for the tag"
    )
    assert not marker.exists()
    assert titles(site) == ["好文章"]


def _laughs(levels: int = 9) -> tuple[str, str]:
    text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    prev = "a"
    for name in "bcdefghijklmn"[: levels - 1]:
        text += f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
        prev = name
    return text, prev


BOMB_KEYS = {  # key → the error it gives (None: the value is ignored, the post publishes)
    "title": "title: expected text, got a list",
    "tags": "tags: expected names, got a nested list",
    "categories": "categories: expected names, got a nested list",
    "date": "date: expected a date such as 2022-03-07 08:30:46 +0800, got a list",
    "updated": "updated: expected a date such as 2022-03-07 08:30:46 +0800, got a list",
    "author": "author: expected a name or a mapping",
    "permalink": "permalink: expected a path",
    "excerpt": None,
    "image": "image: expected a URL or a path, got a list",
    "id": None,
    "lang": None,
    "slug": None,
}


def test_alias_bomb_is_handled_quickly_in_bounded_memory(make_site):
    """9⁹ "lol"s behind aliases: nothing may expand them (a repr, a join, a copy)."""
    site = make_site()
    with_good_post(site)
    anchors, last = _laughs()
    line = anchors.count("\n") + 2
    for i, key in enumerate(BOMB_KEYS):
        put(site, f"2022-03-07-bomb{i:02d}.md", f"---\n{anchors}{key}: *{last}\n---\nb\n")
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31))\n"
        "from feedwright.cli import main\n"
        "sys.argv = ['feedwright', 'build', '--config', sys.argv[1]]\n"
        "main()\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(site.config_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    check_tree(site.out)
    errors = sorted(line for line in run.stderr.splitlines() if line.startswith("_posts/"))
    expected = sorted(
        f"_posts/2022-03-07-bomb{i:02d}.md:{line}: {message}"
        for i, message in enumerate(BOMB_KEYS.values())
        if message is not None
    )
    assert errors == expected
    feed = json.loads((site.out / "feed.json").read_bytes())
    published = sum(message is None for message in BOMB_KEYS.values())
    assert len(feed["items"]) == 1 + published
    assert max(len(item["id"]) for item in feed["items"]) < 200


@pytest.mark.parametrize(
    "front",
    [
        "title: " + "[" * 10000 + "]" * 10000 + "\n",
        "title: " + "{a: " * 10000 + "x" + "}" * 10000 + "\n",
        "".join(" " * i + f"k{i}:\n" for i in range(2000)) + " " * 2000 + "v\n",
        "tags: " + "[" * 100000 + "\n",
    ],
    ids=["flow-seq", "flow-map", "block-map", "100k-unclosed"],
)
def test_deep_nesting_is_a_clean_error(make_site, front):
    site = make_site()
    with_good_post(site)
    put(site, "2022-03-07-deep.md", f"---\n{front}---\nbody\n")
    report = site.build()
    assert len(report.errors) == 1
    assert report.errors[0].startswith("_posts/2022-03-07-deep.md:")
    assert "invalid YAML in front matter: exceeded maximum nesting depth" in report.errors[0]
    assert titles(site) == ["好文章"]


# --- characters XML cannot carry, and sizes ---------------------------------------------


def test_control_characters_are_removed_from_title_and_body(make_site):
    site = make_site()
    front = 'title: "株\\x01洲\\u000b日\\x1b报\\uFFFE"\ndescription: "摘\\x00要"\n'
    body = "<p>正\x00文\x08内\x1f容\ufffe。</p>\n"
    put(site, "2022-03-07-ctl.html", f"---\n{front}---\n{body}")
    report = site.build()
    assert report.errors == ()
    entry = site.feed("atom.xml").entries[0]
    assert entry.title == "株洲日报"
    assert entry.summary == "摘要"
    assert entry.content[0].value == "<p>正文内容。</p>"
    item = site.feed("feed.json")["items"][0]
    assert (item["title"], item["content_html"]) == ("株洲日报", "<p>正文内容。</p>")
    rss = etree.fromstring(site.read("rss.xml"))
    assert rss.findtext("channel/item/title") == "株洲日报"


def test_multi_megabyte_title_is_cut_with_a_warning(make_site):
    site = make_site()
    big = "株洲日报" * 250_000  # 3 MB of UTF-8
    site.post("2022-03-07-long.md", {"title": big, "tags": ["长"]})
    report = site.build()
    assert report.errors == ()
    assert report.warnings == ("_posts/2022-03-07-long.md:2: title cut to 2000 characters",)
    expected = big[:1999] + "…"
    assert titles(site) == [expected]
    assert titles(site, "tags/长/rss.xml") == [expected]
    assert site.feed("feed.json")["items"][0]["title"] == expected
    atom = etree.fromstring(site.read("atom.xml"))
    assert atom.findtext(f"{ATOM}entry/{ATOM}title") == expected
    assert len(site.read("atom.xml")) < 100_000


def test_multi_megabyte_body_is_published(make_site):
    site = make_site()
    paragraphs = [f"<p>第{i}段 株洲日报讯 {'正文' * 40}</p>" for i in range(8000)]
    body = "\n\n".join(paragraphs)
    assert len(body.encode()) > 2_000_000
    site.post("2022-03-07-big.md", {"title": "大"}, body=body + "\n")
    report = site.build(now=NOW)
    assert report.errors == ()
    content = site.feed("atom.xml").entries[0].content[0].value
    assert content.startswith(paragraphs[0]) and content.endswith(paragraphs[-1])
    assert content.count("<p>") == 8000
    assert site.feed("feed.json")["items"][0]["content_html"] == content


@pytest.mark.parametrize(
    "data",
    [
        b"---\ntitle: x\n---\n\xc3\x28",
        b"\xef\xbb\xbf---\ntitle: x\n---\n\xc3\x28",
        b"\xef\xbb\xbf\xff",
        b"\xef\xbb",
        b"\xef\xbb\xbf",
        b"\xef\xbb\xbf\xef\xbb\xbf---\n",
    ],
)
def test_decode_reads_as_the_utf_8_sig_codec_errors_included(data: bytes) -> None:
    """Bytes are read as the ``utf-8-sig`` codec reads them (one BOM ignored), and an
    error names the line and byte it names."""
    from feedwright.errors import PostError
    from feedwright.frontmatter import decode

    try:
        want: str | None = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        want = None
        line = data.count(b"\n", 0, e.start) + 1
        said = f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})"
    if want is not None:
        assert decode("p.md", data) == want
        return
    with pytest.raises(PostError) as raised:
        decode("p.md", data)
    assert str(raised.value).startswith(f"p.md:{line}: {said}")
