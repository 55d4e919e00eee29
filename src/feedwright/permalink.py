"""Jekyll permalink templates → absolute, percent-encoded post URLs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache

from .slug import slugify, slugify_pretty
from .urls import escape_path, iri_to_uri

_PLACEHOLDER = re.compile(r":([a-z_]+)")
_DOTS = re.compile(r"/\.{1,2}(?=/|$)")
_SLASHES = re.compile(r"/{2,}")
_SHORT_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LONG_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class _Drop:
    """What the placeholders are computed from (each only when a template uses it)."""

    __slots__ = ("d", "categories", "slug", "ext")

    def __init__(self, d: datetime, categories: tuple[str, ...], slug: str, ext: str) -> None:
        self.d, self.categories, self.slug, self.ext = d, categories, slug, ext


def _categories(drop: _Drop) -> str:
    cats: list[str] = []
    for c in drop.categories:
        low = c.lower()
        if low not in cats:
            cats.append(low)
    return "/".join(cats)


_VALUES: dict[str, Callable[[_Drop], str]] = {
    "year": lambda p: f"{p.d.year:04d}",
    "short_year": lambda p: f"{p.d.year % 100:02d}",
    "month": lambda p: f"{p.d.month:02d}",
    "i_month": lambda p: str(p.d.month),
    "short_month": lambda p: p.d.strftime("%b") if p.d.year >= 1000 else "",
    "long_month": lambda p: p.d.strftime("%B") if p.d.year >= 1000 else "",
    "day": lambda p: f"{p.d.day:02d}",
    "i_day": lambda p: str(p.d.day),
    "y_day": lambda p: f"{p.d.timetuple().tm_yday:03d}",
    "hour": lambda p: f"{p.d.hour:02d}",
    "minute": lambda p: f"{p.d.minute:02d}",
    "second": lambda p: f"{p.d.second:02d}",
    "week": lambda p: f"{p.d.isocalendar()[1]:02d}",
    "w_year": lambda p: str(p.d.isocalendar()[0]),
    "short_day": lambda p: _SHORT_DAYS[p.d.weekday()],
    "long_day": lambda p: _LONG_DAYS[p.d.weekday()],
    "title": lambda p: slugify_pretty(p.slug),
    "slug": lambda p: slugify(p.slug),  # Jekyll's UrlDrop#slug: default mode, lower-cased
    "categories": _categories,
    "output_ext": lambda p: ".htm" if p.ext == "htm" else ".html",
}


def placeholders(
    *,
    published: datetime,
    categories: tuple[str, ...],
    slug: str,
    ext: str,
    keys: Iterable[str] | None = None,
) -> dict[str, str]:
    """Jekyll's URL drop for a post. Date parts are in the offset written in the post.

    ``keys``: only these placeholders (see :func:`template_keys`); all by default.
    """
    drop = _Drop(published, categories, slug, ext)
    return {key: _VALUES[key](drop) for key in (_VALUES if keys is None else keys)}


@lru_cache(maxsize=256)
def template_keys(template: str) -> tuple[str, ...]:
    """The placeholders :func:`expand` reads for ``template``: for each ``:word``, the
    longest placeholder name that prefixes it."""
    keys: dict[str, None] = {}
    for word in _PLACEHOLDER.findall(template):
        for i in range(len(word), 0, -1):
            if word[:i] in _VALUES:
                keys[word[:i]] = None
                break
    return tuple(keys)


@lru_cache(maxsize=256)
def _parts(template: str) -> tuple[tuple[str, str | None], ...]:
    """``template`` as (text, placeholder) pairs: the text before each placeholder, and
    the longest known placeholder that prefixes the word (``:output_ext`` is not
    ``:output`` + ``_ext``); what follows it in the word is text again."""
    parts: list[tuple[str, str | None]] = []
    text = ""
    start = 0
    for m in _PLACEHOLDER.finditer(template):
        text += template[start : m.start()]
        start = m.end()
        word = m.group(1)
        key = next((word[:i] for i in range(len(word), 0, -1) if word[:i] in _VALUES), None)
        if key is None:
            text += m.group(0)
            continue
        parts.append((text, key))
        text = word[len(key) :]
    parts.append((text + template[start:], None))
    return tuple(parts)


def expand(template: str, values: dict[str, str]) -> str:
    """Fill ``template`` (``values`` holds every :func:`template_keys` of it) and clean the
    path the way Jekyll's ``URL#sanitize_url`` does."""
    path = "".join(
        text + escape_path(values[key]) if key is not None else text
        for text, key in _parts(template)
    )
    path = "/" + path
    path = _DOTS.sub("", path)
    path = _SLASHES.sub("/", path)
    return path


def post_url(site_url: str, path: str) -> str:
    """The absolute URL of a site path, as a URI."""
    return iri_to_uri(site_url.rstrip("/") + path)
