"""The fast Markdown path gives Python-Markdown's bytes, and entries render as they did.

``markup.MarkdownRenderer.render`` cuts a body into pieces and renders them apart; it must
equal ``MarkdownRenderer.convert`` (plain Python-Markdown on the whole text) on every
input. These tests compare the two on the bodies of the other test files, the seed post, a
generated corpus and generated documents, and compare ``content.render_entry`` with a copy
of the implementation it replaced.
"""

from __future__ import annotations

import ast
import html as _html
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import markdown
import nh3
import pytest
from conftest import DATA, generate_corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from feedwright import content
from feedwright.config import Config, parse_config
from feedwright.discover import discover
from feedwright.markup import MarkdownRenderer, plan
from feedwright.model import EntryContent, Post, RawPost
from feedwright.posts import parse_post

HERE = Path(__file__).parent
SEED = DATA / "2022-03-07-NW202203072298200683.md"


# -- The oracle: content.py's rendering before the fast path (kept verbatim) ---------------
# Python-Markdown on the whole body from a thread-local instance; nh3.clean called with its
# options on every call; the summary from a second nh3 pass. Do not "improve" it.

_old_local = threading.local()


def _old_markdown() -> markdown.Markdown:
    md = getattr(_old_local, "md", None)
    if md is None:
        md = markdown.Markdown(extensions=["extra"], output_format="html")
        _old_local.md = md
    md.reset()
    return md


def old_render_markdown(text: str) -> str:
    return str(_old_markdown().convert(content._INDENTED_TAG.sub("", text)))


def _old_is_script_url(value: str) -> bool:
    squeezed = re.sub(r"[\x00-\x20]+", "", value).lower()
    return squeezed.startswith(("javascript:", "vbscript:"))


def _old_rewrite_srcset(base: str, value: str) -> str | None:
    out = []
    for candidate in value.split(","):
        parts = candidate.strip().split(None, 1)
        if not parts or _old_is_script_url(parts[0]):
            continue
        out.append(" ".join([content.absolute(base, parts[0]), *parts[1:]]))
    return ", ".join(out) or None


def old_sanitize(fragment: str, base: str) -> str:
    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        if attr in content._URL_ATTRS:
            if _old_is_script_url(value):
                return None
            return content.absolute(base, value)
        if attr == "srcset":
            return _old_rewrite_srcset(base, value)
        return value

    fragment = content._RAW_AUTOLINK.sub(content._autolink, fragment)
    return nh3.clean(
        fragment,
        tags=content._TAGS,
        attributes=content._ATTRS,
        attribute_filter=attribute_filter,
        link_rel=None,
        url_schemes=content._SCHEMES,
        strip_comments=True,
    )


def old_plain_text(fragment: str) -> str:
    spaced = content._BLOCK_END.sub(lambda m: m.group(0) + " ", fragment)
    text = nh3.clean(
        spaced,
        tags=set(),
        attributes={},
        strip_comments=True,
        clean_content_tags={"script", "style"},
    )
    return " ".join(_html.unescape(text).split())


def old_render_entry(post: Post) -> EntryContent:
    body_html = old_render_markdown(post.body) if post.markup == "markdown" else post.body
    more = content._MORE.search(body_html)
    clean = old_sanitize(body_html, post.url)
    if post.excerpt:
        summary = old_plain_text(post.excerpt)
    elif more is not None:
        summary = old_plain_text(old_sanitize(body_html[: more.start()], post.url))
    else:
        summary = content.truncate(old_plain_text(clean))
    return EntryContent(html=clean.strip(), summary=summary)


# -- Inputs ---------------------------------------------------------------------------------


def string_constants(path: Path) -> list[str]:
    """Every string literal of a test module: its bodies, expected HTML, titles…"""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value
    }
    return sorted(found)


TEST_STRINGS = string_constants(HERE / "test_content.py") + string_constants(
    HERE / "test_render.py"
)


def config_for(base: Path) -> Config:
    return parse_config(
        {"site": {"url": "https://finews.example", "timezone": "Asia/Shanghai"}, "source": "."},
        base=base,
    )


def load_posts(source: Path) -> list[Post]:
    config = config_for(source)
    posts = []
    for raw in sorted(discover(source).posts, key=lambda r: r.relpath):
        posts.append(parse_post(raw, Path(raw.abspath).read_bytes(), config))
    return posts


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Post]:
    out = tmp_path_factory.mktemp("corpus")
    generate_corpus(out, 200)
    posts = load_posts(out)
    assert len(posts) == 200
    return posts


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Post:
    root = tmp_path_factory.mktemp("seed")
    (root / "_posts").mkdir()
    (root / "_posts" / SEED.name).write_bytes(SEED.read_bytes())
    (post,) = load_posts(root)
    return post


@pytest.fixture
def renderer() -> MarkdownRenderer:
    return MarkdownRenderer()


def normalised(text: str) -> str:
    """What content.py hands to the Markdown renderer."""
    return content._INDENTED_TAG.sub("", text)


# -- The fast path equals Python-Markdown ---------------------------------------------------


def test_the_test_bodies_render_alike(renderer: MarkdownRenderer) -> None:
    assert content._INDENTED_TAG  # the oracle reads it
    assert "<p>第一段。</p>\n\n<p>第二段。</p>" in TEST_STRINGS  # test_render.py was read
    assert any(s.startswith("<p>(作者系") for s in TEST_STRINGS)  # SEED_TAIL was read
    for text in TEST_STRINGS:
        for variant in (text, normalised(text)):
            assert renderer.render(variant) == renderer.convert(variant), variant
    assert renderer.fast > 10 and renderer.mixed > 10 and renderer.slow > 10


def test_the_seed_post_renders_alike_without_python_markdown(
    renderer: MarkdownRenderer, seed: Post
) -> None:
    text = normalised(seed.body)
    assert renderer.render(text) == renderer.convert(text)
    assert (renderer.fast, renderer.mixed, renderer.slow) == (1, 0, 0)
    assert content.render_markdown(seed.body) == old_render_markdown(seed.body)


def test_corpus_bodies_render_alike_without_python_markdown(
    renderer: MarkdownRenderer, corpus: list[Post]
) -> None:
    for post in corpus:
        text = normalised(post.body)
        assert renderer.render(text) == renderer.convert(text), post.relpath
    # Every corpus body is cut into HTML lines and simple lines: no Python-Markdown at all.
    assert (renderer.fast, renderer.mixed, renderer.slow) == (len(corpus), 0, 0)
    assert all(kind == "html" for p in corpus for kind, _ in plan(normalised(p.body)) or [])


def test_the_block_level_tags_are_python_markdowns(renderer: MarkdownRenderer) -> None:
    renderer.convert("x")
    assert renderer._md is not None
    assert renderer._md.block_level_elements == markdown.util.BLOCK_LEVEL_ELEMENTS


# -- What the fast path does with each kind of line (found by experiment) -------------------


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("<p>一</p>\n<p>二</p>", [("html", "<p>一</p>"), ("html", "<p>二</p>")]),
        # A blank line after a raw HTML block stays in Python-Markdown's output.
        ("<p>一</p>\n\n<p>二</p>", [("html", "<p>一</p>\n"), ("html", "<p>二</p>")]),
        # Blocks on one line are separate blocks; up to three spaces between them vanish.
        ("<p>一</p> <p class=x>二</p>", [("html", "<p>一</p>"), ("html", "<p class=x>二</p>")]),
        (
            "<p>a</p>\n<http://e.example/a?b=c_d>\n\n[返回](//h.example/c.html)｜[首页](//h.example/)",
            [
                ("html", "<p>a</p>"),
                ("html", '<p><a href="http://e.example/a?b=c_d">http://e.example/a?b=c_d</a></p>'),
                (
                    "html",
                    '<p><a href="//h.example/c.html">返回</a>｜<a href="//h.example/">首页</a></p>',
                ),
            ],
        ),
        # Inside a raw block nothing is Markdown: autolinks, links and emphasis stay.
        (
            "<p>原文：<http://e.example/a.htm> [返回](/x) **粗**</p>",
            [("html", "<p>原文：<http://e.example/a.htm> [返回](/x) **粗**</p>")],
        ),
        # Other lines go to Python-Markdown between the HTML lines.
        (
            "<p>a</p>\n## 小标题\n- 一\n- 二",
            [("html", "<p>a</p>"), ("markdown", "## 小标题\n- 一\n- 二")],
        ),
        ("\t<p>tab</p>", [("markdown", "    <p>tab</p>")]),  # tabs expand: a code block
        # Lines that look simple but start a block are Markdown: a list, a heading, a rule.
        ("<p>a</p>\n1. 一", [("html", "<p>a</p>"), ("markdown", "1. 一")]),
        ("<p>a</p>\n\n# 一", [("html", "<p>a</p>\n"), ("markdown", "# 一")]),
        ("<p>a</p>\n\n-一\n\n+一", [("html", "<p>a</p>\n"), ("markdown", "-一\n\n+一")]),
    ],
)
def test_plan(renderer: MarkdownRenderer, text: str, pieces: list[tuple[str, str]]) -> None:
    assert plan(text) == pieces
    assert renderer.render(text) == renderer.convert(text)


FALLBACKS = {
    "reference definition": "<p>a</p>\n[x]: /u\n\n[a][x]",
    "footnote": "<p>a</p>\n\nb[^1]\n\n[^1]: note",
    "abbreviation": "<p>HTML</p>\n\nHTML\n\n*[HTML]: Hyper Text",
    "definition list after HTML": "<p>term</p>\n: definition",
    "definition list at the start": ": definition",
    "code fence": "<p>a</p>\n```\n<p>b</p>\n```",
    "tilde fence": "~~~\n<p>b</p>\n~~~",
    "comment": "<p>a</p>\n<!--more-->\n<p>b</p>",
    "declaration": "<!DOCTYPE html>\n<p>a</p>",
    "processing instruction": "<?php x ?>\n<p>a</p>",
    "markdown attribute": '<div markdown="1">*a*</div>\n<p>b</p>',
    "markdown attribute without a value": "<p>a</p>\n<p markdown>*a*</p>",
    "multi-line HTML block": "<div>\n<p>a</p>\n</div>",
    "HTML block ending mid-line": "<p>a</p>&amp; b\n\n<p>c</p>",
    "empty tag after a block": "<p>a</p><hr>\nx",
    "nested same tag": "<p>a <p>b</p> c</p>\nx",
    "unclosed nested same tag": "<div><div>a</div>\n<p>b</p>\n</div>",
    "script in a block": "<p><script>x</script></p>",
    "tag spanning lines": 'x <a title="\n<p>b</p>\n">y</a>',
    "unfinished character reference": "&#65b\n<p>a</p>",
    "control character": "<p>a\x0cb</p>",
    "line separator": "<p>a\u2028b</p>",
    "indented HTML line": " <div>a</div>\n<p>b</p>",
    "spaces after HTML before Markdown": "<p>a</p>  \nx\n===",
    "blank first line with spaces": "   \n<p>a</p>",
}


@pytest.mark.parametrize("text", FALLBACKS.values(), ids=FALLBACKS.keys())
def test_what_falls_back_to_python_markdown(renderer: MarkdownRenderer, text: str) -> None:
    assert plan(text) is None
    assert renderer.render(text) == renderer.convert(text)
    assert renderer.slow == 1


# -- Generated documents --------------------------------------------------------------------

cjk = st.text(
    st.sampled_from("株洲日报讯正文新闻　，。（）“”abc XYZ 1234"), min_size=1, max_size=12
).filter(str.strip)
nasty = st.lists(
    st.sampled_from(list("<>&\"'`*_[](){}!|#:;=-+~ /.?@%\\^\t") + ["&amp;", "&#65;", "中"]),
    max_size=8,
).map("".join)
words = cjk | nasty
urls = st.sampled_from(
    ["//finews.example/", "//h.example/c/a_b.html", "/x.html", "img/a.png", "#top", "中文/路径"]
    + ["http://e.example/?a=1", "a(b)c", "x y", "a&b", "<u>", "a*b"]
)
autolinks = st.builds(
    "<{}://{}>".format, st.sampled_from(["http", "https", "ftp", "HTTP", "mailto"]), words
)
links = st.builds("[{}]({})".format, words, urls)
inline = st.lists(words | links | autolinks, min_size=1, max_size=4).map("".join)

# Tags inside a HTML line's element: inline, void, and block-level ones (never the same as
# the elements of clean_html_lines below).
inner_tags = st.sampled_from(
    ["<b>粗</b>", "<hr>", "<br/>", '<img src="/a.jpg" alt="图">', "<blockquote>引</blockquote>"]
)
tags = st.sampled_from(["p", "div", "h2", "P", "section", "li", "td", "video", "span", "hr"])
attrs = st.sampled_from(["", ' class="em_media"', " id=x", " title='a>b'", " hidden", " "])


@st.composite
def html_lines(draw: Any) -> str:
    elements = []
    for _ in range(draw(st.integers(1, 3))):
        tag = draw(tags)
        inside = draw(st.lists(words | links | autolinks | inner_tags, max_size=3))
        elements.append(f"<{tag}{draw(attrs)}>{''.join(inside)}</{tag}>" + draw(spaces(3)))
    return draw(spaces(3)) + "".join(elements)  # indented HTML lines too


def spaces(most: int) -> st.SearchStrategy[str]:
    return st.sampled_from([""] * 4 + [" " * n for n in range(1, most + 1)])


markdown_lines = st.one_of(
    inline,
    inline.map("# {}".format),
    inline.map("## {} ##".format),
    st.sampled_from(["===", "---", "***", "- - -", "|---|---|", "    code", "        code2"]),
    inline.map("- {}".format),
    inline.map("* {}".format),
    inline.map("1. {}".format),
    inline.map("> {}".format),
    inline.map("    {}".format),
    inline.map("| {} | b |".format),
    inline.map("*{}*".format),
    inline.map("**{}**".format),
    inline.map("_{}_".format),
    inline.map("{}  ".format),
    inline.map("\u3000\u3000{}".format),
    st.sampled_from(["{: .c}", "[a](b){: .c}", "`<p>x</p>`", "<span>x</span>", "x <b>y</b>"]),
    st.sampled_from(["```", "~~~", "[x]: /u", "[a][x]", "[^1]", "[^1]: note", "*[HTML]: H"]),
    st.sampled_from([": 定义", "<!--more-->", "<div>", "</div>", "<hr>", "&#65b", "a\tb"]),
)
blank_lines = st.sampled_from(["", "", " ", "   "])
lines = st.one_of(html_lines(), markdown_lines, blank_lines)
documents = st.lists(lines, min_size=1, max_size=10).map("\n".join)

# Lines after which the pieces can never interact: HTML lines without spaces around their
# elements, simple lines, blank lines, and Markdown that only affects its own block.
safe_urls = st.sampled_from(
    ["//finews.example/", "//h.example/c/a_b.html", "/x.html", "img/a.png", "#top", "中文/路径"]
)
safe_links = st.builds("[{}]({})".format, cjk, safe_urls)
safe_autolinks = st.builds(
    "<{}://{}>".format,
    st.sampled_from(["http", "https", "ftp"]),
    st.text("abcxyz./_-?=0123", min_size=1, max_size=12),
)
safe_inline = cjk | safe_links | safe_autolinks
clean_html_lines = st.lists(
    st.builds(
        "<{0}{1}>{2}</{0}>".format,
        st.sampled_from(["p", "div", "h2", "P", "section", "li", "td", "video"]),
        attrs,
        st.lists(safe_inline | inner_tags, max_size=3).map("".join),
    ),
    min_size=1,
    max_size=3,
).map("".join)
simple_lines = st.lists(safe_inline, min_size=1, max_size=4).map("".join)
safe_markdown_lines = st.one_of(
    simple_lines.map("# {}".format),
    simple_lines.map("- {}".format),
    simple_lines.map("1. {}".format),
    simple_lines.map("> {}".format),
    simple_lines.map("    {}".format),
    cjk.map("*{}*".format),
    st.sampled_from(["===", "---", "| a | b |", "|---|---|", "`code`", "x <b>y</b>"]),
)
fast_documents = st.lists(
    st.one_of(clean_html_lines, simple_lines, safe_markdown_lines, st.just("")),
    min_size=1,
    max_size=12,
).map("\n".join)


@settings(max_examples=400, deadline=None)
@given(fast_documents)
def test_documents_of_html_and_simple_lines_take_the_fast_path(text: str) -> None:
    renderer = MarkdownRenderer()
    assert plan(text) is not None
    assert renderer.render(text) == renderer.convert(text)


@settings(max_examples=400, deadline=None)
@given(documents)
def test_any_document_renders_alike(text: str) -> None:
    renderer = MarkdownRenderer()
    assert renderer.render(text) == renderer.convert(text)
    assert content.render_markdown(text) == old_render_markdown(text)


# -- Entries: the new content.py equals the old one -----------------------------------------

DIRTY = (
    '<p onclick="steal()">正文<script>alert(1)</script></p>\n'
    '<p><a href="javascript:alert(1)">坏</a> <a href="//cdn.example/c.html">协议相对</a> '
    '<a href="#sec">锚点</a> <a href="../x.html">上级</a> <a href="mailto:a@b.example">信</a></p>\n'
    '<img src="/a.jpg" srcset="/a-1x.jpg 1x, //cdn.example/a-2x.jpg 2x" onerror="x()" alt="图">\n'
    '<video src="v.mp4" poster="/p.jpg" controls></video>\n'
    '<iframe src="https://evil.example/"></iframe><style>p{}</style>'
)


def made_posts(source: Path) -> Iterator[Post]:
    """Posts with an excerpt, a <!--more-->, dirty HTML, as .md and .html."""
    cases: dict[str, tuple[str, str]] = {
        "excerpt": ("excerpt: 摘要 <b>粗</b>\n", "<p>正文</p>\n[返回](//h.example/)"),
        "more": ("", "<p>导语：<b>株洲</b>新闻。</p>\n<!--more-->\n<p>正文第二段。</p>"),
        "dirty": ("", DIRTY),
        "long": ("", "<p>" + "株𠀀洲" * 100 + "</p>\n<http://e.example/a>"),
        "empty": ("", ""),
    }
    config = config_for(source)
    for name, (front, body) in cases.items():
        for ext in ("md", "html"):
            data = f"---\ntitle: 标题\n{front}---\n{body}".encode()
            raw = RawPost(
                relpath=f"_posts/2022-03-07-{name}.{ext}",
                abspath="",
                dir_categories=(),
                name_date=(2022, 3, 7),
                slug=name,
                ext=ext,
            )
            yield parse_post(raw, data, config)


def test_entries_render_as_before(corpus: list[Post], seed: Post, tmp_path: Path) -> None:
    posts = [*corpus, seed, *made_posts(tmp_path)]
    renderer = content.EntryRenderer()
    for post in posts:
        expected = old_render_entry(post)
        assert renderer.render_entry(post) == expected, post.relpath
        assert content.render_entry(post) == expected, post.relpath
    assert renderer.markdown.fast >= len(corpus) + 1  # the corpus and the seed: no Markdown


def test_entries_render_as_before_with_an_nh3_without_cleaner(
    corpus: list[Post], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(nh3, "Cleaner")
    renderer = content.EntryRenderer()
    for post in [*corpus[:20], *made_posts(tmp_path)]:
        assert renderer.render_entry(post) == old_render_entry(post), post.relpath


def test_sanitize_forgets_the_base_url_afterwards() -> None:
    renderer = content.EntryRenderer()
    html = renderer.sanitize('<a href="x.html">x</a>', "https://news.example/a/b.html")
    assert html == '<a href="https://news.example/a/x.html">x</a>'
    assert renderer._base == ""
