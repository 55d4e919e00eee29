"""Jekyll permalink templates → absolute, percent-encoded post URLs.

The date parts are those of the post's instant in ``site.timezone`` (Jekyll's
``Time#localtime``): ``2024-04-01 21:00:00 -0500`` on an ``Asia/Shanghai`` site is
``/2024/04/02/``. Placeholders are read as Jekyll 4.3's ``URL#generate_url_from_drop`` reads
them: ``:word`` (lower-case letters and ``_``), or the word without one trailing ``_``
(``:month_:day``); any other word is one Jekyll stops on (:func:`unknown_placeholders`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache

from .slug import slugify, slugify_pretty
from .urls import escape_path, iri_to_uri

_PLACEHOLDER = re.compile(r":([a-z_]+)")
_SLASHES = re.compile(r"/{2,}")
_SHORT_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LONG_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class _Drop:
    """What the placeholders are computed from (each only when a template uses it)."""

    __slots__ = ("d", "categories", "slug", "ext", "relpath")

    def __init__(
        self, d: datetime, categories: tuple[str, ...], slug: str, ext: str, relpath: str
    ) -> None:
        self.d, self.categories, self.slug, self.ext = d, categories, slug, ext
        self.relpath = relpath


def _categories(drop: _Drop) -> str:
    return "/".join(dict.fromkeys(c.lower() for c in drop.categories))


def _stem(drop: _Drop) -> str:
    """The file's name without its extension (``2024-04-05-slug``)."""
    return drop.relpath.rpartition("/")[2].rpartition(".")[0]


def _path(drop: _Drop) -> str:
    """Jekyll's ``cleaned_relative_path``: the path without extension and ``_posts``."""
    return drop.relpath.rpartition(".")[0].replace("_posts", "", 1).rstrip(".")


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
    "w_day": lambda p: str(p.d.isoweekday()),
    "w_year": lambda p: str(p.d.isocalendar()[0]),
    "short_day": lambda p: _SHORT_DAYS[p.d.weekday()],
    "long_day": lambda p: _LONG_DAYS[p.d.weekday()],
    "title": lambda p: slugify_pretty(p.slug),
    "slug": lambda p: slugify(p.slug),  # Jekyll's UrlDrop#slug: default mode, lower-cased
    "categories": _categories,
    "slugified_categories": lambda p: "/".join(dict.fromkeys(map(slugify, p.categories))),
    "collection": lambda p: "posts",
    "name": lambda p: slugify(_stem(p)),
    "path": _path,
    "output_ext": lambda p: ".htm" if p.ext == "htm" else ".html",
}


def placeholders(
    *,
    published: datetime,
    categories: tuple[str, ...],
    slug: str,
    ext: str,
    relpath: str = "",
    keys: Iterable[str] | None = None,
) -> dict[str, str]:
    """Jekyll's URL drop for a post. ``published`` is the post's instant as wall time in
    the site's zone (:func:`feedwright.dates.in_zone`): the date parts are its own.

    ``keys``: only these placeholders (see :func:`template_keys`); all by default.
    """
    drop = _Drop(published, categories, slug, ext, relpath)
    return {key: _VALUES[key](drop) for key in (_VALUES if keys is None else keys)}


def _key(word: str) -> str | None:
    """The placeholder ``:word`` names (Jekyll: the word, or it without one trailing ``_``)."""
    key = word[:-1] if word.endswith("_") else word
    return key if key in _VALUES else None


@lru_cache(maxsize=256)
def template_keys(template: str) -> tuple[str, ...]:
    """The placeholders :func:`expand` reads for ``template``."""
    keys = (_key(word) for word in _PLACEHOLDER.findall(template))
    return tuple(dict.fromkeys(k for k in keys if k is not None))


def unknown_placeholders(template: str) -> list[str]:
    """Each ``:word`` of ``template`` that is no placeholder (Jekyll stops on it; feedwright
    leaves it as text), with the nearest known one: ``[":categorys (did you mean
    :categories?)"]``."""
    found = []
    for word in dict.fromkeys(_PLACEHOLDER.findall(template)):
        if _key(word) is None:
            near = difflib.get_close_matches(word, list(_VALUES), n=1, cutoff=0.6)
            found.append(f":{word}" + (f" (did you mean :{near[0]}?)" if near else ""))
    return found


@lru_cache(maxsize=256)
def _parts(template: str) -> tuple[tuple[str, str | None], ...]:
    """``template`` as (text, placeholder) pairs: the text before each placeholder, and the
    placeholder (``:month_`` is ``:month`` then ``_``); an unknown ``:word`` is text."""
    parts: list[tuple[str, str | None]] = []
    text = ""
    start = 0
    for m in _PLACEHOLDER.finditer(template):
        text += template[start : m.start()]
        start = m.end()
        word = m.group(1)
        key = _key(word)
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
    # URL#sanitize_url: "/" + path, every ".." a "/", every "./" gone, "//" squeezed.
    path = ("/" + path).replace("..", "/").replace("./", "")
    return _SLASHES.sub("/", path)


#: Placeholders whose values are only ASCII letters, digits and dots: nothing to escape.
_PLAIN_KEYS = frozenset(
    "year short_year month i_month day i_day y_day hour minute second week w_day w_year "
    "short_day long_day collection output_ext".split()
)
#: Values of the other placeholders as :func:`escape_path` leaves them, by value: most
#: posts repeat a few categories (short ones kept; emptied when full, so it stays small).
_ESCAPED: dict[str, str] = {}


def _escaped(value: str) -> str:
    found = _ESCAPED.get(value)
    if found is None:
        found = escape_path(value)
        if len(value) <= 200:
            if len(_ESCAPED) >= 4096:
                _ESCAPED.clear()
            _ESCAPED[value] = found
    return found


def fill(
    template: str,
    *,
    published: datetime,
    categories: tuple[str, ...],
    slug: str,
    ext: str,
    relpath: str = "",
) -> str:
    """``expand(template, placeholders(...))`` in one step (the same path), computing
    only the placeholders ``template`` reads."""
    drop = _Drop(published, categories, slug, ext, relpath)
    path = "".join(
        text
        if key is None
        else text + _VALUES[key](drop)
        if key in _PLAIN_KEYS
        else text + _escaped(_VALUES[key](drop))
        for text, key in _parts(template)
    )
    path = ("/" + path).replace("..", "/").replace("./", "")
    return _SLASHES.sub("/", path)


def post_url(site_url: str, path: str) -> str:
    """The absolute URL of a site path, as a URI."""
    return iri_to_uri(site_url.rstrip("/") + path)
