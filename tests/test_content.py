"""Post bodies in feeds: Markdown as kramdown renders it, sanitised HTML, summaries."""

from __future__ import annotations

import json

import pytest
from conftest import ATOM
from lxml import etree
from lxml import html as lhtml

SEED_TAIL = (
    "<p>(作者系市委党校领导科学教研部主任、副教授) </p>"
    '<p class="em_media">（文章来源：株洲日报）</p>\n\n'
    "<http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202203072298200683>\n\n"
    "[返回株洲日报新闻](//finews.withounder.com/category/zhuzhouribao.html)｜"
    "[返回首页](//finews.withounder.com/)"
)


def content_of(site, name, body, front_matter=None):
    """Build one post and return (JSON item, Atom entry)."""
    site.post(name, {"title": "标题", **(front_matter or {})}, body=body)
    site.build()
    item = json.loads(site.read("feed.json"))["items"][0]
    entry = etree.fromstring(site.read("atom.xml")).find(ATOM + "entry")
    assert entry.findtext(ATOM + "content") == item["content_html"]
    return item, entry


# -- Markdown (ecosystem.md §4: where CommonMark and kramdown disagree, kramdown wins) -----


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "<p>株洲日报讯</p>\n[返回](//host.example/c.html)",
            '<p>株洲日报讯</p>\n<p><a href="https://host.example/c.html">返回</a></p>',
            id="A-markdown-line-after-html-line",
        ),
        pytest.param(
            "<p>原文：<http://e.example/a.htm> 与 [返回](//h.example/x.html) **粗体**</p>",
            '<p>原文：<a href="http://e.example/a.htm">http://e.example/a.htm</a>'
            " 与 [返回](//h.example/x.html) **粗体**</p>",
            id="C-autolink-inside-p-stays-visible",
        ),
        pytest.param(
            "原文 <http://e.example/a.htm> 与 [返回](//h.example/x.html)",
            '<p>原文 <a href="http://e.example/a.htm">http://e.example/a.htm</a>'
            ' 与 <a href="https://h.example/x.html">返回</a></p>',
            id="D-plain-line",
        ),
        pytest.param(
            "<p>一</p><p>二</p>\n原文 <http://e.example/a>",
            '<p>一</p>\n<p>二</p>\n<p>原文 <a href="http://e.example/a">http://e.example/a</a></p>',
            id="E-autolink-line-after-html",
        ),
        pytest.param(
            "<p>段落</p>\n## 小标题", "<p>段落</p>\n<h2>小标题</h2>", id="H-heading-after-html"
        ),
        pytest.param(
            "<div>\n<p>段落</p>\n[返回](/x.html)\n</div>",
            "<div>\n<p>段落</p>\n[返回](/x.html)\n</div>",
            id="G-inside-div-stays-literal",
        ),
        pytest.param(
            "<p>a\nb [链接](/a.html)</p>\n\n正文 *强调*",
            "<p>a\nb [链接](/a.html)</p>\n\n<p>正文 <em>强调</em></p>",
            id="markdown-inside-p-untouched",
        ),
        pytest.param(
            "<p>导语</p>\n[线路图](/map.html)\n <p>　　正文</p>",
            '<p>导语</p>\n<p><a href="https://news.example/map.html">线路图</a></p>\n'
            "<p>\u3000\u3000正文</p>",
            id="indented-html-line-after-markdown-line",
        ),
    ],
)
def test_markdown_renders_as_kramdown(make_site, body, expected):
    item, _ = content_of(make_site(), "2022-03-07-a.md", body)
    assert item["content_html"] == expected


def test_seed_body_keeps_both_links(make_site):
    item, _ = content_of(make_site(), "2022-03-07-seed.md", SEED_TAIL)
    html = item["content_html"]
    assert (
        '<p><a href="http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202203072298200683">'
        "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202203072298200683</a></p>"
    ) in html
    assert (
        '<p><a href="https://finews.withounder.com/category/zhuzhouribao.html">返回株洲日报新闻</a>｜'
        '<a href="https://finews.withounder.com/">返回首页</a></p>'
    ) in html


# -- Sanitising and absolute URLs ---------------------------------------------------------

DIRTY = (
    '<p onclick="steal()" onMouseOver="x()">正文<script>alert(1)</script></p>\n'
    '<p><a href="javascript:alert(1)">坏</a> <a href=" JaVaScRiPt:alert(2)">坏2</a> '
    '<a href="java&#x09;script:alert(3)">坏3</a> '
    '<a href="//cdn.example/c.html">协议相对</a> <a href="#sec">锚点</a> '
    '<a href="../x.html">上级</a> <a href="mailto:a@b.example">信</a></p>\n'
    '<img src="/a.jpg" srcset="/a-1x.jpg 1x, //cdn.example/a-2x.jpg 2x" onerror="x()" alt="图">\n'
    '<video src="v.mp4" poster="/p.jpg" controls></video>\n'
    '<iframe src="https://evil.example/"></iframe><style>p{}</style>'
)


@pytest.mark.parametrize("scheme", ["https", "http"])
@pytest.mark.parametrize("ext", ["html", "md"])
def test_content_is_sanitised_and_every_url_absolute(make_site, scheme, ext):
    site = make_site(site={"url": f"{scheme}://news.example"})
    item, _ = content_of(site, f"2022-03-07-a.{ext}", DIRTY, {"categories": "news"})
    permalink = f"{scheme}://news.example/news/2022/03/07/a.html"
    assert item["url"] == permalink
    html = item["content_html"]
    assert "javascript" not in html.lower()
    root = lhtml.fragment_fromstring(html, create_parent="div")
    assert [el.tag for el in root.iter("script", "iframe", "style")] == []
    assert [a for el in root.iter() for a in el.attrib if a.lower().startswith("on")] == []
    assert root.xpath("string(.)").startswith("正文")
    assert [a.get("href") for a in root.iter("a")] == [
        None,
        None,
        None,
        f"{scheme}://cdn.example/c.html",
        f"{permalink}#sec",
        f"{scheme}://news.example/news/2022/03/x.html",
        "mailto:a@b.example",
    ]
    (img,) = root.iter("img")
    assert img.get("src") == f"{scheme}://news.example/a.jpg"
    assert img.get("srcset") == (
        f"{scheme}://news.example/a-1x.jpg 1x, {scheme}://cdn.example/a-2x.jpg 2x"
    )
    (video,) = root.iter("video")
    assert video.get("src") == f"{scheme}://news.example/news/2022/03/07/v.mp4"
    assert video.get("poster") == f"{scheme}://news.example/p.jpg"


def test_relative_links_resolve_against_the_posts_own_permalink(make_site):
    item, _ = content_of(
        make_site(),
        "2022-03-07-a.md",
        '[图](img/a.png) <a href="#top">顶部</a>',
        {"permalink": "/special/专题/"},
    )
    assert item["url"] == "https://news.example/special/%E4%B8%93%E9%A2%98/"
    assert item["content_html"] == (
        '<p><a href="https://news.example/special/%E4%B8%93%E9%A2%98/img/a.png">图</a> '
        '<a href="https://news.example/special/%E4%B8%93%E9%A2%98/#top">顶部</a></p>'
    )


# -- Summaries: excerpt > <!--more--> > the first 200 characters --------------------------

MORE_BODY = "<p>导语：<b>株洲</b>新闻。</p>\n<!--more-->\n<p>正文第二段。</p>"


@pytest.mark.parametrize(
    ("front_matter", "body", "expected"),
    [
        ({"excerpt": "摘要 <b>粗</b>", "description": "描述"}, MORE_BODY, "摘要 粗"),
        ({"description": "描述。"}, MORE_BODY, "描述。"),
        ({}, MORE_BODY, "导语：株洲新闻。"),
        ({}, "<p>短文。</p>\n\n<p>第二段。</p>", "短文。 第二段。"),
        ({}, "<p>" + "株" * 200 + "</p>", "株" * 200),
    ],
    ids=["excerpt-wins", "description", "more", "short-body", "exactly-200"],
)
def test_summary_precedence(make_site, front_matter, body, expected):
    item, entry = content_of(make_site(), "2022-03-07-a.md", body, front_matter)
    assert item["summary"] == expected
    assert entry.findtext(ATOM + "summary") == expected
    assert "<!--" not in item["content_html"]


def test_long_summary_is_cut_at_200_characters_on_a_character_boundary(make_site):
    site = make_site()
    text = "株𠀀洲" * 100  # U+20000 is four bytes in UTF-8, a surrogate pair in UTF-16
    item, entry = content_of(site, "2022-03-07-a.md", f"<p>{text}</p>")
    expected = "株𠀀洲" * 66 + "株𠀀…"
    assert item["summary"] == expected
    assert entry.findtext(ATOM + "summary") == expected
    assert f"<summary>{expected}</summary>".encode() in site.read("atom.xml")
