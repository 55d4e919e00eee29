"""Front matter + body → :class:`Post`, following Jekyll's rules for each key."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

from .config import HTML_EXT, Config
from .dates import DateError, Reading, in_zone, name_date, read_date, zone_offsets
from .errors import PostError
from .frontmatter import XML_ILLEGAL, Split, decode, split
from .language import language_tag
from .model import COUNTED, Author, Post, RawPost
from .permalink import fill, post_url, unknown_placeholders
from .urls import absolute, iri_to_uri

#: Longest title kept; longer ones are cut (with a warning) so one post cannot bloat every feed.
MAX_TITLE = 2000
# Ruby's String#split: ASCII whitespace only (not U+3000 or U+00A0).
_RUBY_SPACE = re.compile(r"[ \t\n\v\f\r]+")
#: Said by every post with a date read in the default zone: the same words each time, so
#: that a build reports it once (see :attr:`BuildReport.distinct_warnings`).
NAIVE_DATE_WARNING = (
    "dates without a UTC offset are read as UTC because no time zone is set: "
    "set site.timezone in config.yaml (or timezone in _config.yml), e.g. Asia/Shanghai"
)
_DATE_KEYS = ("date", "updated", "last_modified_at")


def naive_timestamp_warning(tz: str) -> str:
    """Said by every post with a YAML timestamp without an offset that the site's zone
    reads otherwise, in the same words: a report says it once, counted (``{posts}``)."""
    shown = in_zone(datetime(2024, 4, 5, 23, 30, tzinfo=UTC), tz).strftime("%Y-%m-%d %H:%M %z")
    offsets = zone_offsets(tz)
    return (
        f"{COUNTED} with a date and time but no UTC offset (a YAML timestamp, such as "
        f"2024-04-05 23:30:00): read as UTC, as Jekyll reads them, so shown and linked as "
        f"{shown} in {tz}; to mean {tz} time, write the offset "
        f"(2024-04-05 23:30:00 {offsets[0]}"
        + (f", or {offsets[1]} in summer time" if len(offsets) > 1 else "")
        + ")"
    )


class Skip(Exception):
    """A valid post that is not published (``published: false``)."""


def clean_text(text: str) -> str:
    """Remove characters XML 1.0 cannot carry."""
    return XML_ILLEGAL.sub("", text)


def _scalar(value: Any) -> str | None:
    if type(value) is str:  # the common case, first
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _names(doc: Split, path: str, singular: str, plural: str) -> list[str]:
    """Jekyll's ``Utils.pluralized_array_from_hash``: the singular key wins, unsplit."""
    meta = doc.meta
    if meta.get(singular) is not None:
        key, value, splittable = singular, meta[singular], False
    elif meta.get(plural) is not None:
        key, value, splittable = plural, meta[plural], True
    else:
        return []
    if type(value) is str:  # the common case: one line that many posts repeat
        return list(_names_in(value, splittable))
    if isinstance(value, list):
        items = value
    elif _scalar(value) is not None:
        text = _scalar(value) or ""
        items = [p for p in _RUBY_SPACE.split(text) if p] if splittable else [text]
    else:
        raise PostError(path, doc.line_of(key), f"{key}: expected a list of names or a string")
    names: list[str] = []
    for item in items:
        if item is None:
            continue
        name = _scalar(item)
        if name is None:
            raise PostError(
                path,
                doc.line_of(key),
                f"{key}: expected names, got a nested "
                f"{'list' if isinstance(item, list) else 'mapping'}",
            )
        name = clean_text(name).strip()
        if name:
            names.append(name)
    return names


#: The names a string gives (:func:`_names_in`), by the string and whether it is split:
#: a site's posts repeat a few category and tag lines (short ones kept; emptied when full).
_NAMES_IN: dict[tuple[str, bool], tuple[str, ...]] = {}


def _names_in(text: str, splittable: bool) -> tuple[str, ...]:
    """The names of a string value: split on ASCII white space (a plural key) or whole."""
    key = (text, splittable)
    found = _NAMES_IN.get(key)
    if found is None:
        items = [p for p in _RUBY_SPACE.split(text) if p] if splittable else [text]
        found = tuple(name for item in items if (name := clean_text(item).strip()))
        if len(text) <= 500:
            if len(_NAMES_IN) >= 4096:
                _NAMES_IN.clear()
            _NAMES_IN[key] = found
    return found


def _author(doc: Split, path: str) -> Author | None:
    value = doc.meta.get("author")
    if value is None:
        return None
    if isinstance(value, Mapping):
        name = _scalar(value.get("name"))
        if not name:
            raise PostError(path, doc.line_of("author"), "author: a mapping needs a 'name'")
        email = _scalar(value.get("email"))
        uri = _scalar(value.get("uri") or value.get("url"))
        return Author(
            name=clean_text(name), email=email or None, uri=iri_to_uri(uri) if uri else None
        )
    name = _scalar(value)
    if name is None:
        raise PostError(path, doc.line_of("author"), "author: expected a name or a mapping")
    name = clean_text(name).strip()
    return Author(name=name) if name else None


def _image(doc: Split, path: str, site_url: str) -> str | None:
    """The post's ``image`` as jekyll-feed reads it (a URL, or a mapping with ``path``) →
    an absolute, percent-encoded http(s) URL. A path is relative to the site (``site.url``
    with its ``baseurl``), as Jekyll's ``absolute_url`` makes it; ``//host/x`` takes the
    site's scheme."""
    value = doc.meta.get("image")
    if value is None:
        return None
    key = "image"
    if isinstance(value, Mapping):
        key, value = "image.path", value.get("path")
    if not isinstance(value, str):
        got = "nothing" if value is None else f"a {_kind(value)}"
        raise PostError(path, doc.line_of("image"), f"{key}: expected a URL or a path, got {got}")
    text = clean_text(value).strip()
    if not text:
        return None
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", text)
    if scheme is not None and scheme.group(1).lower() not in ("http", "https"):
        raise PostError(
            path, doc.line_of("image"), f"{key}: expected an http(s) URL or a path, got {text!r}"
        )
    if scheme is None and not text.startswith("//"):
        text = site_url + "/" + text.lstrip("/")
    return absolute(site_url + "/", text)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, Mapping):
        return "mapping"
    return type(value).__name__


def _date(doc: Split, path: str, key: str, tz: str) -> Reading | None:
    value = doc.meta.get(key)
    if value is None:
        return None
    try:
        return read_date(value, tz)
    except DateError as e:
        raise PostError(path, doc.line_of(key), f"{key}: {e}") from e


def _date_warnings(
    doc: Split, path: str, readings: dict[str, Reading], config: Config, warnings: list[str]
) -> None:
    """What a post's dates make worth saying: read in a zone nobody chose, read as UTC
    where the site's zone reads otherwise (YAML timestamps), an offset Jekyll ignores."""
    site = config.site
    if not site.timezone_configured and (
        "date" not in readings or any(r.how == "wall" for r in readings.values())
    ):
        warnings.append(NAIVE_DATE_WARNING)
    if any(r.how == "utc" and r.when.utcoffset() for r in readings.values()):
        warnings.append(naive_timestamp_warning(site.timezone))
    for key, r in readings.items():
        if r.ignored is not None:
            warnings.append(
                f"{path}:{doc.line_of(key)}: {key}: Jekyll does not read {r.ignored!r} as an "
                f"offset there, nor does feedwright: the time is {site.timezone} time (write "
                "a time of day, then +HH, +HHMM or +HH:MM)"
            )


def _lang(doc: Split, path: str, warnings: list[str] | None) -> str | None:
    """The post's ``lang`` as a BCP 47 tag (``zh_CN`` → ``zh-CN``); one that is not a tag
    is left out (the entry has the feed's language), with a warning."""
    value = _scalar(doc.meta.get("lang"))
    if value is None or not value.strip():
        return None
    tag = language_tag(value.strip())
    if tag is None and warnings is not None:
        warnings.append(
            f"{path}:{doc.line_of('lang')}: lang: {value[:40]!r} is not a BCP 47 language tag "
            "(such as zh-CN); left out"
        )
    return tag


def _markup(ext: str, config: Config) -> Literal["markdown", "html"]:
    """``.html``/``.htm`` posts are HTML (unless ``markdown_ext`` names them); others Markdown."""
    return "html" if ext in HTML_EXT and ext not in config.site.markdown_ext else "markdown"


def _entry_id(own: str, site_url: str) -> str:
    """A post's own ``id``: kept if it is absolute, else resolved against the site URL."""
    if not own:
        return ""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", own):
        return iri_to_uri(own)
    return absolute(site_url + "/", own)


def site_title(text: str) -> str:
    """A title as the site shows it: Jekyll writes it into HTML unescaped, so character
    references (``Fish &amp; Chips``, ``&#x4E2D;``) read as what they stand for; anything
    else (``1 < 2 & R&D``, ``a </b> c``) is text as written. XML-illegal characters and
    ASCII whitespace runs (jekyll-feed's ``normalize_whitespace``) are cleaned after."""
    if "&" in text:
        text = html.unescape(text)
    return _RUBY_SPACE.sub(" ", clean_text(text)).strip(" ")


def titleize(slug: str) -> str:
    """Jekyll's ``Utils.titleize_slug``: ``hello-world`` → ``Hello World``."""
    return " ".join(part.capitalize() for part in slug.split("-"))


def parse_post(
    raw: RawPost,
    data: bytes,
    config: Config,
    *,
    warnings: list[str] | None = None,
    keep_body: bool = True,
) -> Post:
    """Build a :class:`Post`; raise :class:`PostError` if it is bad, :class:`Skip` if it
    says ``published: false``. Whether it is dated in the future is not decided here
    (see :func:`feedwright.group.is_visible`). Without ``keep_body`` the body is dropped
    (load it later with :func:`with_body`)."""
    path = raw.relpath
    doc = split(path, data, keep_body=keep_body)
    meta = doc.meta
    tz = config.site.timezone

    published_flag = meta.get("published", True)
    if published_flag is False:
        raise Skip(f"{path}: published: false")

    title_value = meta.get("title")
    if title_value is None:
        title = titleize(raw.slug)
    else:
        title = _scalar(title_value)  # type: ignore[assignment]
        if title is None:
            raise PostError(
                path,
                doc.line_of("title"),
                "title: expected text, "
                f"got a {'list' if isinstance(title_value, list) else 'mapping'}",
            )
    title = site_title(title)
    if len(title) > MAX_TITLE:
        title = title[: MAX_TITLE - 1] + "…"
        if warnings is not None:
            warnings.append(f"{path}:{doc.line_of('title')}: title cut to {MAX_TITLE} characters")
    if not title:
        title = titleize(raw.slug)

    readings = {k: r for k in _DATE_KEYS if (r := _date(doc, path, k, tz)) is not None}
    if "date" in readings:
        date = readings["date"].when
    else:
        try:
            date = name_date(*raw.name_date, tz)
        except ValueError as e:
            raise PostError(path, 1, f"the file name's date is not a real date: {e}") from e
    future = meta.get("future") is True
    later = readings.get("updated") or readings.get("last_modified_at")
    updated = later.when if later is not None else date
    if warnings is not None:
        _date_warnings(doc, path, readings, config, warnings)

    categories = list(
        dict.fromkeys([*raw.dir_categories, *_names(doc, path, "category", "categories")])
    )
    tags = list(dict.fromkeys(_names(doc, path, "tag", "tags")))

    own = meta.get("permalink")
    if own is not None and (_scalar(own) is None or not str(own).strip()):
        raise PostError(path, doc.line_of("permalink"), "permalink: expected a path")
    slug_value = _scalar(meta.get("slug")) or raw.slug
    template = str(own).strip() if own else config.permalink
    if own and warnings is not None:
        for word in unknown_placeholders(template):
            line = doc.line_of("permalink")
            warnings.append(f"{path}:{line}: permalink: {word} is no placeholder; left as text")
    site_path = fill(
        template,
        published=in_zone(date, tz),
        categories=tuple(categories),
        slug=slug_value,
        ext=raw.ext,
        relpath=path,
    )
    url = post_url(config.site.url, site_path)

    own_id = _scalar(meta.get("id"))
    entry_id = (_entry_id(clean_text(own_id).strip(), config.site.url) if own_id else "") or url

    excerpt = _scalar(meta.get("excerpt")) or _scalar(meta.get("description"))
    image_url = _image(doc, path, config.site.url)
    lang = _lang(doc, path, warnings)

    return Post(
        relpath=path,
        title=title,
        published=date,
        updated=updated,
        url=url,
        id=entry_id,
        categories=tuple(categories),
        tags=tuple(tags),
        author=_author(doc, path),
        excerpt=clean_text(excerpt) if excerpt else None,
        markup=_markup(raw.ext, config),
        lang=lang,
        image=image_url,
        future=future,
        body_offset=doc.body_offset,
        body=clean_text(doc.body) if keep_body else "",
    )


def dup_message(winner: str, entry_id: str) -> str:
    """Why a post whose entry id another post already has is rejected."""
    return (
        f"has the same entry id as {winner} ({entry_id}); skipped: to publish both, "
        "add an id: line to the newer post's front matter"
    )


def with_body(post: Post, data: bytes) -> Post:
    """``post`` with its body taken from the file's bytes ``data``."""
    text = decode(post.relpath, data)
    return replace(post, body=clean_text(text[post.body_offset :]))
