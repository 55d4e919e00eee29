"""The front-matter fast path reads what PyYAML reads, wherever it answers at all."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import DATA, generate_corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from feedwright.dates import Timestamp
from feedwright.frontmatter import _SPLIT, _Loader, decode, load_simple


def pyyaml(raw: str) -> object:
    """What PyYAML (the loader feedwright falls back to) makes of ``raw``."""
    try:
        data = yaml.load(raw, Loader=_Loader)
    except yaml.YAMLError as e:
        return ("error", type(e).__name__)
    if data is None:
        return {}
    if isinstance(data, dict):
        return {str(k): v for k, v in data.items()}
    return ("not a mapping", data)


def agrees(raw: str) -> bool:
    """True when the fast path answered (and then it must agree with PyYAML, timestamps
    told apart from text alike: :class:`~feedwright.dates.Timestamp` is a type of its own)."""
    fast = load_simple(raw)
    if fast is None:
        return False
    slow = pyyaml(raw)
    assert fast == slow, (raw, fast, slow)
    assert [type(v) for v in fast.values()] == [type(v) for v in slow.values()], raw  # type: ignore[union-attr]
    return True


COMMON = [
    'layout: post\ntitle: "切实提高新时代群众工作能力"\ndate: 2022-03-07 08:30:46 +0800\n'
    "categories: zhuzhouribao\ntags: 株洲日报新闻\n",
    "title: 混本范均\ndate: 2015-01-01 14:46:25 +0800\ncategories: changshawanbao\n"
    "tags: [长沙晚报新闻, 经济发展, 教育改革]\n",
    "title: 'Hello, world'\npublished: false\nfuture: true\n# a comment\n\nauthor: 编辑部\n",
    "title: A title: with a colon\n",  # PyYAML refuses this: the fast path must not answer
    "permalink: /news/:year/:title.html\nimage: //img.example/a.jpg\nlang: zh-CN\n",
    "date: 2022-03-07T08:30:46+08:00\nupdated: 2022-03-08\nexcerpt:\ntags: []\n",
]


@pytest.mark.parametrize("raw", COMMON)
def test_common_front_matter(raw):
    agrees(raw)


def test_the_fast_path_answers_for_the_common_forms():
    assert sum(agrees(raw) for raw in COMMON) == len(COMMON) - 1


def test_the_seed_post_and_a_generated_corpus_take_the_fast_path(tmp_path):
    generated = generate_corpus(tmp_path, 300, "--tags", "2000")
    files = sorted(DATA.glob("*.md")) + sorted(generated.glob("*.md"))
    assert len(files) == 301
    for path in files:
        m = _SPLIT.match(decode(path.name, path.read_bytes()))
        assert m is not None
        assert agrees(m.group(1)), path


KEYS = ["title", "date", "tags", "on", "yes", "null", "True", "_x", "a-b", "y", "Title", "0"]
SEPARATORS = [": ", ":", ":   ", " : ", ":\t", ": \t"]
WORDS = [
    "",
    "post",
    "株洲日报新闻",
    "2022-03-07 08:30:46 +0800",
    "2022-03-07T08:30:46+08:00",
    "2022-03-07",
    # what Psych (Jekyll's YAML) reads as a timestamp: seconds included; "T", "t" or spaces
    "2022-03-07 08:30:46",
    "2022-3-7 8:30:46",
    "2022-03-07t08:30:46.5Z",
    "2022-03-07   08:30:46 +8",
    "2022-03-07 08:30:46-05:00",
    "-2022-03-07 08:30:46",
    "2022-03-07 08:30",
    "2022-03-07T08:30:46 UTC",
    "2022",
    "-5",
    "3.14",
    ".inf",
    "0x1f",
    "1_000",
    "~",
    "null",
    "Null",
    "true",
    "yes",
    "No",
    "off",
    "a: b",
    "a:b",
    "http://x.example/a#b",
    "a #comment",
    "a#b",
    "=",
    "<<",
    "!tag x",
    "&anchor x",
    "*alias",
    "|",
    ">",
    "%x",
    "@x",
    "`x`",
    "- item",
    "?x",
    "a, b",
    "{a: b}",
    "x:",
]


def quoted(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from([f'"{text}"', f"'{text}'", text])


values = (
    st.sampled_from(WORDS).flatmap(quoted)
    | st.lists(st.sampled_from(WORDS), max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]")
    | st.text(
        st.characters(blacklist_categories=("Cs",)) | st.sampled_from(list(":#[]{},'\"\\ -!&*")),
        max_size=12,
    )
)
lines = st.one_of(
    st.tuples(st.sampled_from(KEYS), st.sampled_from(SEPARATORS), values).map("".join),
    st.sampled_from(["", "   ", "# comment", "  # indented", "  - item", "---", "..."]),
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(lines, max_size=6).map(lambda xs: "\n".join(xs) + "\n"))
def test_the_fast_path_agrees_with_pyyaml_wherever_it_answers(raw):
    agrees(raw)


# Lines of the shape the fast path reads, with awkward text in them.
text = st.text(
    st.sampled_from(list("株洲日报 新闻abcXY019.-_/:#,'\"&*!?|>@`%=<~")), min_size=1, max_size=10
)
nice_values = (
    st.sampled_from(WORDS).flatmap(quoted)
    | text.flatmap(quoted)
    | st.lists(st.sampled_from(WORDS) | text, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]")
)
nice_lines = st.tuples(st.sampled_from(KEYS), st.just(": "), nice_values).map("".join) | st.just(
    "# comment"
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(nice_lines, min_size=1, max_size=5).map(lambda xs: "\n".join(xs) + "\n"))
def test_the_fast_path_agrees_with_pyyaml_on_lines_of_its_own_shape(raw):
    agrees(raw)


@pytest.mark.parametrize(
    "value, timestamp",
    [
        ("2024-04-05 23:30:00", True),
        ("2024-04-05T23:30:00", True),
        ("2024-4-5 3:30:00", True),
        ("2024-04-05 23:30:00.75 +0800", True),
        ("2024-04-05 23:30:00 +800", True),
        ("2024-04-05 23:30", False),
        ("2024-04-05T23:30", False),
        ("2024-04-05", False),
        ('"2024-04-05 23:30:00"', False),
        ("'2024-04-05 23:30:00 +0800'", False),
        ("2024-04-05 23:30:00z", False),
    ],
)
def test_timestamps_are_what_psych_reads_as_timestamps(value, timestamp):
    """Psych's ScalarScanner::TIME (measured with ``ruby -ryaml``; tests/test_jekyll.py
    compares 1,500 values with Jekyll itself)."""
    raw = f"date: {value}\n"
    for meta in (load_simple(raw), yaml.load(raw, Loader=_Loader)):
        assert meta is not None
        assert isinstance(meta["date"], Timestamp) is timestamp
        assert meta["date"] == value.strip("'\"")


def test_lines_read_before_read_the_same_and_lists_are_never_shared() -> None:
    """Lines seen before are looked up (most posts repeat most lines): the same values,
    and each post gets a list of its own."""
    raw = "layout: post\ntags: [a, b]\ndate: 2024-04-05 10:00:00 +0800\n"
    first = load_simple(raw)
    assert first is not None
    first["tags"].append("c")
    again = load_simple(raw)
    assert again == {"layout": "post", "tags": ["a", "b"], "date": "2024-04-05 10:00:00 +0800"}
    assert again is not None and type(again["date"]) is Timestamp
    assert again["tags"] is not first["tags"]


def test_lines_read_before_are_bounded() -> None:
    from feedwright import frontmatter

    for i in range(frontmatter._SEEN_MAX + 10):
        assert load_simple(f"title: post {i}\n") == {"title": f"post {i}"}
    assert len(frontmatter._SEEN) <= frontmatter._SEEN_MAX


def test_awkward_characters_are_pyyamls_non_printable_and_the_line_breaks() -> None:
    """The one class the fast path searches is PyYAML's non-printable characters, tabs,
    line breaks other than ``\\n`` and the BOM, for every code point."""
    from feedwright.frontmatter import _AWKWARD

    both = re.compile("[\t\r\x85\u2028\u2029\ufeff]|" + yaml.reader.Reader.NON_PRINTABLE.pattern)
    text = "".join(map(chr, range(0x110000)))
    assert [m.start() for m in _AWKWARD.finditer(text)] == [m.start() for m in both.finditer(text)]


def test_long_lines_are_read_but_not_kept() -> None:
    from feedwright import frontmatter

    line = "excerpt: " + "x" * 5000
    assert load_simple(line + "\n") == {"excerpt": "x" * 5000}
    assert line not in frontmatter._SEEN
