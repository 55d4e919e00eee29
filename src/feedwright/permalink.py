"""Jekyll permalink templates → absolute, percent-encoded post URLs."""

from __future__ import annotations

import re
from datetime import datetime

from .slug import slugify, slugify_pretty
from .urls import escape_path, iri_to_uri

_PLACEHOLDER = re.compile(r":([a-z_]+)")


def placeholders(
    *, published: datetime, categories: tuple[str, ...], slug: str, ext: str
) -> dict[str, str]:
    """Jekyll's URL drop for a post. Date parts are in the offset written in the post."""
    d = published
    iso_year, iso_week, _ = d.isocalendar()
    cats: list[str] = []
    for c in categories:
        low = c.lower()
        if low not in cats:
            cats.append(low)
    return {
        "year": f"{d.year:04d}",
        "short_year": f"{d.year % 100:02d}",
        "month": f"{d.month:02d}",
        "i_month": str(d.month),
        "short_month": d.strftime("%b") if d.year >= 1000 else "",
        "long_month": d.strftime("%B") if d.year >= 1000 else "",
        "day": f"{d.day:02d}",
        "i_day": str(d.day),
        "y_day": f"{d.timetuple().tm_yday:03d}",
        "hour": f"{d.hour:02d}",
        "minute": f"{d.minute:02d}",
        "second": f"{d.second:02d}",
        "week": f"{iso_week:02d}",
        "w_year": str(iso_year),
        "short_day": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[d.weekday()],
        "long_day": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[
            d.weekday()
        ],
        "title": slugify_pretty(slug),
        "slug": slugify(slug),  # Jekyll's UrlDrop#slug: default mode, lower-cased
        "categories": "/".join(cats),
        "output_ext": ".htm" if ext == "htm" else ".html",
    }


def expand(template: str, values: dict[str, str]) -> str:
    """Fill ``template`` and clean the path the way Jekyll's ``URL#sanitize_url`` does."""

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        # Longest known placeholder that prefixes the word (":title.html" style is rare,
        # but ":output_ext" must not be read as ":output" + "_ext").
        if key in values:
            return escape_path(values[key])
        for i in range(len(key) - 1, 0, -1):
            if key[:i] in values:
                return escape_path(values[key[:i]]) + key[i:]
        return m.group(0)

    path = _PLACEHOLDER.sub(sub, template)
    path = "/" + path
    path = re.sub(r"/\.{1,2}(?=/|$)", "", path)
    path = re.sub(r"/{2,}", "/", path)
    return path


def post_url(site_url: str, path: str) -> str:
    """The absolute URL of a site path, as a URI."""
    return iri_to_uri(site_url.rstrip("/") + path)
