"""A post's body → feed HTML and a plain-text summary.

Markdown is rendered by Python-Markdown (which, unlike CommonMark renderers, matches
Jekyll's kramdown where a Markdown line follows an HTML line). Then: autolinks left raw
inside HTML blocks become links (an HTML parser would swallow ``<http://…>`` as a tag),
nh3 removes scripts, event handlers and ``javascript:`` URLs, and every URL in ``href``,
``src``, ``srcset``, ``poster`` (and ``cite``) is made absolute against the permalink.
"""

from __future__ import annotations

import html as _html
import re
import threading

import markdown
import nh3

from .model import EntryContent, Post
from .urls import absolute

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
_local = threading.local()


def _markdown() -> markdown.Markdown:
    md = getattr(_local, "md", None)
    if md is None:
        md = markdown.Markdown(extensions=["extra"], output_format="html")
        _local.md = md
    md.reset()
    return md


def render_markdown(text: str) -> str:
    """Markdown (raw HTML passed through) → HTML, as Jekyll's kramdown would.

    Python-Markdown keeps the indent of `` <p>`` as a whitespace line, which glues an
    indented HTML line to the Markdown paragraph above it; kramdown starts a block there.
    """
    return str(_markdown().convert(_INDENTED_TAG.sub("", text)))


def _is_script_url(value: str) -> bool:
    squeezed = re.sub(r"[\x00-\x20]+", "", value).lower()
    return squeezed.startswith(("javascript:", "vbscript:"))


def _rewrite_srcset(base: str, value: str) -> str | None:
    out = []
    for candidate in value.split(","):
        parts = candidate.strip().split(None, 1)
        if not parts or _is_script_url(parts[0]):
            continue
        out.append(" ".join([absolute(base, parts[0]), *parts[1:]]))
    return ", ".join(out) or None


def sanitize(fragment: str, base: str) -> str:
    """Remove scripts and handlers; make every URL absolute against ``base``."""

    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        if attr in _URL_ATTRS:
            if _is_script_url(value):
                return None
            return absolute(base, value)
        if attr == "srcset":
            return _rewrite_srcset(base, value)
        return value

    fragment = _RAW_AUTOLINK.sub(_autolink, fragment)
    return nh3.clean(
        fragment,
        tags=_TAGS,
        attributes=_ATTRS,
        attribute_filter=attribute_filter,
        link_rel=None,
        url_schemes=_SCHEMES,
        strip_comments=True,
    )


def _autolink(m: re.Match[str]) -> str:
    url = _html.escape(m.group(1), quote=True)
    text = url[7:] if url.lower().startswith("mailto:") else url
    return f'<a href="{url}">{text}</a>'


def plain_text(fragment: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed."""
    spaced = _BLOCK_END.sub(lambda m: m.group(0) + " ", fragment)
    text = nh3.clean(
        spaced,
        tags=set(),
        attributes={},
        strip_comments=True,
        clean_content_tags={"script", "style"},
    )
    return " ".join(_html.unescape(text).split())


def truncate(text: str, limit: int = SUMMARY_CHARS) -> str:
    """Cut at ``limit`` characters (never inside a character), marking the cut with …."""
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + "…"


def render_entry(post: Post) -> EntryContent:
    """The feed HTML and the summary of one post."""
    body_html = render_markdown(post.body) if post.markup == "markdown" else post.body
    more = _MORE.search(body_html)
    clean = sanitize(body_html, post.url)
    if post.excerpt:
        summary = plain_text(post.excerpt)
    elif more is not None:
        summary = plain_text(sanitize(body_html[: more.start()], post.url))
    else:
        summary = truncate(plain_text(clean))
    return EntryContent(html=clean.strip(), summary=summary)
