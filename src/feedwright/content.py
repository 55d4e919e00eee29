"""A post's body → feed HTML and a plain-text summary.

Markdown is rendered as Python-Markdown renders it (which, unlike CommonMark renderers,
matches Jekyll's kramdown where a Markdown line follows an HTML line), by
:class:`~feedwright.markup.MarkdownRenderer`. Then: autolinks left raw inside HTML blocks
become links (an HTML parser would swallow ``<http://…>`` as a tag), nh3 removes scripts,
event handlers and ``javascript:`` URLs, and every URL in ``href``, ``src``, ``srcset``,
``poster`` (and ``cite``) is made absolute against the permalink.

An :class:`EntryRenderer` holds a Markdown instance and two nh3 cleaners: make one per
process and pass it to :func:`render_entry` (it is not for two threads at once).
"""

from __future__ import annotations

import functools
import html as _html
import re
from collections.abc import Callable
from typing import Any

import nh3

from .markup import MarkdownRenderer
from .model import EntryContent, Post
from .urls import absolute, iri_to_uri

SUMMARY_CHARS = 200
_MORE = re.compile(r"<!--\s*more\s*-->", re.I)
# Up to three spaces before a tag at the start of a line (kramdown: still an HTML block).
_INDENTED_TAG = re.compile(
    r"^ {1,3}(?=</?(?:p|div|h[1-6]|ul|ol|dl|table|blockquote|figure|section|hr)[\s/>])",
    re.M | re.I,
)
_RAW_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^\s<>\"']+|mailto:[^\s<>\"']+)>", re.I)
_BLOCK_END = re.compile(
    r"</(?:p|div|li|h[1-6]|tr|td|th|blockquote|pre|dt|dd|figcaption|table|ul|ol)\s*>|<br\s*/?>",
    re.I,
)
_URL_ATTRS = frozenset({"href", "src", "poster", "cite", "longdesc"})
_TAGS = nh3.ALLOWED_TAGS | {"video", "audio", "source", "picture", "track", "section", "main"}
_ATTRS: dict[str, set[str]] = {k: set(v) for k, v in nh3.ALLOWED_ATTRIBUTES.items()}
_ATTRS["*"] = {"lang", "dir", "title"}
_ATTRS["a"] = _ATTRS["a"] | {"title", "name"}
_ATTRS["img"] = _ATTRS["img"] | {"srcset", "sizes", "loading"}
_ATTRS["video"] = {"src", "poster", "controls", "width", "height", "loop", "muted", "preload"}
_ATTRS["audio"] = {"src", "controls", "loop", "muted", "preload"}
_ATTRS["source"] = {"src", "srcset", "type", "media", "sizes"}
_ATTRS["track"] = {"src", "kind", "srclang", "label", "default"}
_SCHEMES = set(nh3.ALLOWED_URL_SCHEMES) | {"data"}
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20]+")


def _is_script_url(value: str) -> bool:
    squeezed = _CONTROL_OR_SPACE.sub("", value).lower()
    return squeezed.startswith(("javascript:", "vbscript:"))


def _rewrite_srcset(base: str, value: str) -> str | None:
    out = []
    for candidate in value.split(","):
        parts = candidate.strip().split(None, 1)
        if not parts or _is_script_url(parts[0]):
            continue
        out.append(" ".join([absolute(base, parts[0]), *parts[1:]]))
    return ", ".join(out) or None


def _autolink(m: re.Match[str]) -> str:
    url = _html.escape(m.group(1), quote=True)
    text = url[7:] if url.lower().startswith("mailto:") else url
    return f'<a href="{url}">{text}</a>'


def truncate(text: str, limit: int = SUMMARY_CHARS) -> str:
    """Cut at ``limit`` characters (never inside a character), marking the cut with …."""
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + "…"


def _cleaner(**options: Any) -> Callable[[str], str]:
    """nh3's sanitiser with ``options``, built once (``nh3.Cleaner``) where nh3 can."""
    if hasattr(nh3, "Cleaner"):
        return nh3.Cleaner(**options).clean
    return functools.partial(nh3.clean, **options)  # older nh3: built on every call


class EntryRenderer:
    """Renders post bodies into feed HTML and summaries (one per process, see module doc)."""

    def __init__(self, markdown: MarkdownRenderer | None = None) -> None:
        self.markdown = markdown if markdown is not None else MarkdownRenderer()
        self._base = ""  # the URL that relative URLs resolve against, during sanitize()
        self._clean = _cleaner(
            tags=_TAGS,
            attributes=_ATTRS,
            attribute_filter=self._attribute,
            link_rel=None,
            url_schemes=_SCHEMES,
            strip_comments=True,
        )
        self._text = _cleaner(
            tags=set(), attributes={}, strip_comments=True, clean_content_tags={"script", "style"}
        )

    def render_markdown(self, text: str) -> str:
        """Markdown (raw HTML passed through) → HTML, as Jekyll's kramdown would.

        Python-Markdown keeps the indent of `` <p>`` as a whitespace line, which glues an
        indented HTML line to the Markdown paragraph above it; kramdown starts a block there.
        """
        return self.markdown.render(_INDENTED_TAG.sub("", text))

    def _attribute(self, tag: str, attr: str, value: str) -> str | None:
        if attr in _URL_ATTRS:
            if _is_script_url(value):
                return None
            return absolute(self._base, value)
        if attr == "srcset":
            return _rewrite_srcset(self._base, value)
        return value

    def sanitize(self, fragment: str, base: str) -> str:
        """Remove scripts and handlers; make every URL absolute against ``base``."""
        self._base = base
        try:
            return self._clean(_RAW_AUTOLINK.sub(_autolink, fragment))
        finally:
            self._base = ""

    def plain_text(self, fragment: str) -> str:
        """Visible text of an HTML fragment, whitespace collapsed."""
        spaced = _BLOCK_END.sub(lambda m: m.group(0) + " ", fragment)
        return " ".join(_html.unescape(self._text(spaced)).split())

    def render_entry(self, post: Post) -> EntryContent:
        """The feed HTML and the summary of one post."""
        body_html = self.render_markdown(post.body) if post.markup == "markdown" else post.body
        more = _MORE.search(body_html)
        clean = self.sanitize(body_html, post.url)
        if post.excerpt:
            summary = self.plain_text(post.excerpt)
        elif more is not None:
            summary = self.plain_text(self.sanitize(body_html[: more.start()], post.url))
        else:
            summary = truncate(self.plain_text(clean))
        return EntryContent(html=clean.strip(), summary=summary)


def render_markdown(text: str, renderer: EntryRenderer | None = None) -> str:
    """:meth:`EntryRenderer.render_markdown` (with a new renderer if none is given)."""
    return (renderer or EntryRenderer()).render_markdown(text)


def render_entry(post: Post, renderer: EntryRenderer | None = None) -> EntryContent:
    """The feed HTML and the summary of one post (with a new renderer if none is given:
    pass one in to render many posts)."""
    return (renderer or EntryRenderer()).render_entry(post)


# An <img> tag as nh3 serialises it: lower-case names, values in double quotes (a `"`
# inside is `&quot;`, but a `>` may stay raw, so the attributes are matched one by one).
_IMG = re.compile(r'<img((?:\s+[^\s="\'>/]+(?:="[^"]*")?)*)\s*/?>', re.I)
_SRC = re.compile(r'\ssrc="([^"]*)"')


def first_image(fragment: str) -> str | None:
    """The ``src`` of the first ``<img>`` with an http(s) URL in sanitised feed HTML (whose
    URLs are already absolute), percent-encoded; ``None`` if there is none."""
    for tag in _IMG.finditer(fragment):
        src = _SRC.search(tag.group(1))
        if src is None:
            continue
        url = _html.unescape(src.group(1)).strip()
        if url.lower().startswith(("http://", "https://")):
            return iri_to_uri(url)
    return None
