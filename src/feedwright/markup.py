"""Markdown → HTML exactly as Python-Markdown renders it, fast for bodies of raw HTML lines.

A typical post body is a column of one-line raw HTML blocks (``<p>…</p>``) with a few
Markdown lines (an autolink, a line of links). Python-Markdown spends most of its time on
the HTML lines, which it passes through unchanged. :class:`MarkdownRenderer` cuts a body
into pieces that cannot influence each other and renders each as Python-Markdown would:

- a *HTML line* (one or more complete block elements, nothing else) is copied;
- a *simple line* (text, ``[text](url)`` links and ``<http://…>`` autolinks only) standing
  alone between blank or HTML lines becomes ``<p>…</p>`` here;
- any other run of lines goes through Python-Markdown on its own.

Pieces are joined as Python-Markdown joins blocks: one newline between them, and a blank
line after a raw HTML block that a blank line follows. Whenever anything could make the
pieces interact (reference definitions, footnotes, abbreviations, definition lists, code
fences, comments and declarations, ``markdown`` attributes, HTML blocks that do not end on
their line, tags spanning lines, control characters), the whole text goes through
Python-Markdown instead. The rules were found by experiment (and in its source) with
Python-Markdown 3.11, ``extra`` and Python 3.11's ``html.parser``; ``tests/test_markup.py``
compares both paths on the installed versions.
"""

from __future__ import annotations

import re
from typing import Literal

import markdown
import markdown.util

#: Python-Markdown's default tab width (``NormalizeWhitespace`` expands tabs to it).
TAB_LENGTH = 4

# -- What Python-Markdown treats as block-level, and the tags a HTML line may start with ---

_BLOCK_LEVEL = frozenset(markdown.util.BLOCK_LEVEL_ELEMENTS)
# Block tags whose content Python-Markdown and Python's HTML parser both leave alone (no
# CDATA/RCDATA content, not ``hr``, which is an empty tag to Python-Markdown).
_LINE_TAGS = _BLOCK_LEVEL & frozenset(
    "address article aside blockquote center dd details div dl dt figcaption figure footer "
    "header h1 h2 h3 h4 h5 h6 li main nav ol p section summary table tbody td tfoot th "
    "thead tr ul video".split()
)
# Tags whose content the HTML parser reads as raw text in some Python version.
_RAW_TEXT_TAGS = "script|style|textarea|title|xmp|iframe|noembed|noframes|noscript|plaintext"

# -- Regular expressions (on text normalised as Python-Markdown normalises it) -------------

# An attribute: quoted values may hold ``>`` (not ``<`` or a backtick), bare ones neither.
_ATTR = r"""(?:[ ]+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:[ ]*=[ ]*(?:"[^"<`]*"|'[^'<`]*'|[^\s"'=<>`]+))?)"""
_START_TAG = rf"<(?!(?:{_RAW_TEXT_TAGS})[ />])[a-zA-Z][a-zA-Z0-9]*{_ATTR}*[ ]*/?>"
_END_TAG = r"</[a-zA-Z][a-zA-Z0-9]*[ ]*>"
_URL_AUTOLINK = r"<(?:https?|ftp)://[^\s<>\"'`\\]+>"
# ``&`` as the HTML parser passes it through unchanged (it adds ``;`` to ``&#65``).
_AMP = r"&(?:\#[0-9]+;|\#[xX][0-9a-fA-F]+;|(?!\#))"
# What may stand inside a HTML line's element, other than the element's own tag name.
_INNER = (
    r"(?:[^<&]++"
    rf"|{_AMP}"
    r"|(?!</?(?P=tag)[ />])"
    rf"(?:{_START_TAG}|{_END_TAG}|{_URL_AUTOLINK}|<(?![a-zA-Z/!?])))*+"
)
_TAG_NAMES = "|".join(sorted(_LINE_TAGS, key=lambda t: (-len(t), t)))
# One complete block element of a HTML line, and up to three spaces after it.
_ELEMENT = re.compile(
    rf"<(?P<tag>{_TAG_NAMES}){_ATTR}*+[ ]*>{_INNER}</(?P=tag)[ ]*>(?P<spaces>[ ]{{0,3}})", re.I
)

# A simple line: text without Markdown or HTML syntax, links and autolinks.
_TEXT = r"[^\s\\`*_{}\[\]<>&!|]"
_URL = r"[^\s\\`*{}\[\]<>&!|\"'()]+"
_LINK = rf"\[(?:{_TEXT}| )+\]\({_URL}\)"
_AUTOLINK = r"<(?:https?|ftp)://[^\s\\`*{}\[\]<>&!|\"']+>"
_SIMPLE_LINE = re.compile(
    rf"(?![-+=:#~0-9])(?:{_TEXT}|{_LINK}|{_AUTOLINK})(?:{_TEXT}| |{_LINK}|{_AUTOLINK})*(?<! )"
)
_SIMPLE_TOKEN = re.compile(
    rf"\[(?P<text>(?:{_TEXT}| )+)\]\((?P<href>{_URL})\)|<(?P<url>(?:https?|ftp)://[^>]+)>"
)

# Anything that can make distant lines interact, or that this module does not model:
# comments, declarations and processing instructions; footnotes; abbreviations; reference
# definitions; code fences; character references (Python's HTML parser loses track of line
# starts after an unfinished one); definition lists; characters that are line breaks to
# ``str.splitlines`` or that no feed can carry; ``markdown`` attributes.
_FALLBACK_MARKS = re.compile(r"<[!?]|\[\^|\*\[|\]:|```|~~~")
_UNFINISHED_CHARREF = re.compile(r"&\#(?![0-9]+;|[xX][0-9a-fA-F]+;)")
_DEFINITION = re.compile(r"\n[ ]{0,3}:")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x85\u2028\u2029]")
_BLANK_WITH_SPACES = re.compile(r"(?<=\n) +\n")


def _must_fall_back(text: str) -> bool:
    """Whether (normalised) ``text`` holds anything of the above."""
    return bool(
        _FALLBACK_MARKS.search(text)
        or ("&#" in text and _UNFINISHED_CHARREF.search(text))
        or _DEFINITION.search("\n" + text[:4])
        or _DEFINITION.search(text)
        or _CONTROL.search(text)
        or "markdown" in text.lower()
    )


# In other lines: a tag that may start a raw HTML block, or may not end on its line.
_BLOCK_START = re.compile(r"\s{0,3}<([a-zA-Z][^\t\n\r\f />\x00]*)")
_OPEN_TAG = re.compile(r"</?[a-zA-Z](?![^<>\"'`]*>)")

Kind = Literal["html", "markdown"]
#: A piece of output: ``("html", text)`` is final, ``("markdown", text)`` still to render.
Piece = tuple[Kind, str]


def normalize(text: str) -> str:
    """The text as Python-Markdown's ``NormalizeWhitespace`` leaves it (without its extra
    trailing blank lines)."""
    if markdown.util.STX in text or markdown.util.ETX in text:
        text = text.replace(markdown.util.STX, "").replace(markdown.util.ETX, "")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\t" in text:
        text = text.expandtabs(TAB_LENGTH)
    if "\n " in text or text.endswith(" "):
        text = _BLANK_WITH_SPACES.sub("\n", text + "\n\n")[:-2]
    return text


def _simple_html(line: str) -> str:
    """A simple line as Python-Markdown renders it (nothing in it needs escaping)."""

    def link(m: re.Match[str]) -> str:
        if m["url"] is not None:
            return f'<a href="{m["url"]}">{m["url"]}</a>'
        return f'<a href="{m["href"]}">{m["text"]}</a>'

    return "<p>" + _SIMPLE_TOKEN.sub(link, line) + "</p>"


def _other_is_safe(line: str) -> bool:
    """Whether a line that goes to Python-Markdown leaves its HTML parser where it found it:
    no raw HTML block starts in it, and every tag in it ends on it."""
    m = _BLOCK_START.match(line)
    if m is not None and m[1].lower() in _BLOCK_LEVEL:
        return False
    return _OPEN_TAG.search(line) is None


def plan(text: str) -> list[Piece] | None:
    """Cut ``text`` into pieces that render independently, or ``None`` if it cannot be.

    Joining the rendered pieces with newlines (see :meth:`MarkdownRenderer.render`) gives
    exactly Python-Markdown's rendering of the whole text.
    """
    text = normalize(text)
    if _must_fall_back(text):
        return None
    lines = text.split("\n")
    if lines[0] and lines[0].isspace():
        return None
    pieces: list[Piece] = []
    run: list[str] = []  # lines since the last HTML line
    n = len(lines)
    for i, line in enumerate(lines):
        elements = _html_line(line) if line[:1] == "<" else None
        if elements is None:
            run.append(line)
            continue
        if run and not _flush(run, pieces):
            return None
        run = []
        after = lines[i + 1] if i + 1 < n else None
        if line[-1] == " " and after and _html_line(after) is None:
            return None  # the spaces would start the next line's block
        if after == "":  # a blank line follows: Python-Markdown keeps it
            elements[-1] += "\n"
        pieces.extend(("html", element) for element in elements)
    if run and not _flush(run, pieces):
        return None
    return pieces


def _html_line(line: str) -> list[str] | None:
    """The elements of a HTML line (without the spaces after them), or ``None``."""
    elements = []
    pos, end = 0, len(line)
    while pos < end:
        m = _ELEMENT.match(line, pos)
        if m is None:
            return None
        elements.append(line[pos : m.end() - len(m["spaces"])])
        pos = m.end()
    return elements


def _flush(run: list[str], pieces: list[Piece]) -> bool:
    """Add the pieces of the lines between two HTML lines; ``False`` if they are unsafe."""
    lines = [line for line in run if line]
    if not lines:
        return True
    simple = _SIMPLE_LINE.fullmatch
    if all(simple(line) for line in lines) and all(
        a == "" or b == "" for a, b in zip(run, run[1:], strict=False)
    ):
        pieces.extend(("html", _simple_html(line)) for line in lines)
        return True
    if not all(_other_is_safe(line) for line in lines):
        return False
    start = next(i for i, line in enumerate(run) if line)
    end = max(i for i, line in enumerate(run) if line) + 1
    pieces.append(("markdown", "\n".join(run[start:end])))
    return True


class MarkdownRenderer:
    """Renders Markdown byte for byte as Python-Markdown with ``extra`` and HTML output.

    It owns one ``markdown.Markdown`` instance (made when first needed), so it is not for
    two threads at once: make one per process. It counts how texts were rendered.
    """

    def __init__(self) -> None:
        self._md: markdown.Markdown | None = None
        #: Texts rendered without Python-Markdown, in pieces of which Python-Markdown
        #: rendered some, and whole by Python-Markdown.
        self.fast = 0
        self.mixed = 0
        self.slow = 0

    def convert(self, text: str) -> str:
        """Python-Markdown's rendering of the whole of ``text`` (the reference)."""
        if self._md is None:
            self._md = markdown.Markdown(extensions=["extra"], output_format="html")
        self._md.reset()
        return str(self._md.convert(text))

    def render(self, text: str) -> str:
        """The same string as :meth:`convert`, faster for bodies of raw HTML lines."""
        pieces = plan(text)
        if pieces is None:
            self.slow += 1
            return self.convert(text)
        if any(kind == "markdown" for kind, _ in pieces):
            self.mixed += 1
        else:
            self.fast += 1
        out = [html if kind == "html" else self.convert(html) for kind, html in pieces]
        return "\n".join(piece for piece in out if piece).strip()
