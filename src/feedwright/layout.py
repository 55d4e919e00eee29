"""Pure: where every output file lives and what it is called. The one place for file names,
media types, format labels, group folders, feed URLs, group titles and pages.

Everything that names an output file (the engine, the OPML, the server, the CLI) asks here.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal
from urllib.parse import unquote, urlsplit

from .config import Config
from .model import Format, GroupKey, GroupKind
from .urls import escape_path, iri_to_uri

#: The OPML list of every feed, at the top of the output folder.
OPML = "feeds.opml"
#: The page for people in each group's folder (``feeds.pages``); the site's, at the top,
#: also lists every group.
PAGE = "index.html"
PAGE_MEDIA_TYPE = "text/html"
#: feedwright's own bookkeeping inside the output folder (manifest, id ledger, cache, lock).
STATE_DIR = ".feedwright"
#: The id ledger inside :data:`STATE_DIR`: the entry id each post was first published with.
IDS = "ids"
#: Each format's file name inside a group's folder.
FILENAMES: dict[Format, str] = {"atom": "atom.xml", "rss": "rss.xml", "json": "feed.json"}
#: Each format's media type (without parameters).
MEDIA_TYPES: dict[Format, str] = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}
OPML_MEDIA_TYPE = "text/x-opml"
#: Each format's name for people.
LABELS: dict[Format, str] = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}
#: The format of each feed file name.
FORMAT_OF_NAME: dict[str, Format] = {name: fmt for fmt, name in FILENAMES.items()}
#: The folder of each kind of group (the site's feeds are at the top).
KIND_FOLDERS: dict[GroupKind, str] = {"category": "categories", "tag": "tags"}
_KIND_OF_FOLDER: dict[str, GroupKind] = {v: k for k, v in KIND_FOLDERS.items()}
_KIND_ORDER: dict[str, int] = {"site": 0, "category": 1, "tag": 2}


@lru_cache(maxsize=4)
def project_home(distribution: str = "feedwright") -> str | None:
    """The project's home page, from the installed distribution's metadata (``Project-URL:
    Homepage, …``, from ``[project.urls]`` in pyproject.toml), or ``None`` if it has none:
    the Atom ``generator`` URI, written only when there is a real home to point to. Read on
    first use (reading metadata costs a no-op build time)."""
    from importlib import metadata

    try:
        meta = metadata.metadata(distribution)
    except metadata.PackageNotFoundError:
        return None
    urls = {}
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        urls[label.strip().lower()] = url.strip()
    # ``meta[key]`` of a missing key is deprecated (a KeyError from Python 3.14): ask first.
    legacy = meta["Home-page"] if "Home-page" in meta else None
    return urls.get("homepage") or urls.get("home") or legacy or None


SITE = GroupKey("site", "")


def group_order(key: tuple[str, str]) -> tuple[int, str]:
    """The site first, then categories, then tags, each by slug."""
    return (_KIND_ORDER[key[0]], key[1])


def group_dir(key: tuple[str, str]) -> str:
    """A group's folder under the output folder (``""`` for the site), ending in ``/``."""
    kind, slug = key
    if kind == "site":
        return ""
    return f"{KIND_FOLDERS[kind]}/{slug}/"  # type: ignore[index]


def feed_relpath(key: tuple[str, str], fmt: Format) -> str:
    return group_dir(key) + FILENAMES[fmt]


def page_relpath(key: tuple[str, str]) -> str:
    """A group's page for people: ``index.html`` in its folder."""
    return group_dir(key) + PAGE


def page_url(config: Config, key: tuple[str, str]) -> str:
    """The public URL of a group's folder (which serves its page), ending in ``/``."""
    return feed_url(config, group_dir(key))


def group_paths(config: Config, key: tuple[str, str]) -> list[str]:
    """The files of one group: its feeds in the configured formats' order, then its page
    when ``feeds.pages`` is on."""
    paths = [feed_relpath(key, fmt) for fmt in config.feeds.formats]
    if config.feeds.pages:
        paths.append(page_relpath(key))
    return paths


def group_of_path(relpath: str) -> GroupKey | None:
    """The group a feed or page belongs to (``None`` for the OPML and foreign paths)."""
    parts = relpath.split("/")
    if len(parts) == 1:
        return SITE if relpath in FORMAT_OF_NAME or relpath == PAGE else None
    if len(parts) == 3 and parts[0] in _KIND_OF_FOLDER and _is_group_file(parts[2]):
        return GroupKey(_KIND_OF_FOLDER[parts[0]], parts[1])
    return None


def _is_group_file(name: str) -> bool:
    return name in FORMAT_OF_NAME or name == PAGE


def output_url(config: Config, relpath: str) -> str:
    """The public URL of any file feedwright writes: a page's is its folder's."""
    key = group_of_path(relpath)
    if key is not None and relpath.rsplit("/", 1)[-1] == PAGE:
        return page_url(config, key)
    return feed_url(config, relpath)


def is_page(relpath: str) -> bool:
    """Whether an output path is a group's page (``index.html`` at the top or in a group
    folder)."""
    return relpath.rsplit("/", 1)[-1] == PAGE and group_of_path(relpath) is not None


#: The folder of a group's RFC 5005 archives, inside the group's folder.
ARCHIVE_DIR = "archive"


def archive_dir(key: tuple[str, str], period: str) -> str:
    """An archive's folder: ``<group>/archive/YYYY/MM/`` or ``<group>/archive/YYYY/``."""
    return f"{group_dir(key)}{ARCHIVE_DIR}/{period}/"


def archive_relpath(key: tuple[str, str], period: str, fmt: Format) -> str:
    return archive_dir(key, period) + FILENAMES[fmt]


def archive_formats(config: Config, key: tuple[str, str]) -> tuple[Format, ...]:
    """The formats a group's archives are written in: ``feeds.archives_formats`` for the
    kinds of group ``feeds.archives_groups`` names, none for the others (or with
    ``feeds.archives`` off). The one rule for which archives exist."""
    if not config.feeds.archives or key[0] not in config.feeds.archives_groups:
        return ()
    return config.feeds.archives_formats


def archive_paths(config: Config, key: tuple[str, str], period: str) -> list[str]:
    """The files of one archive, in the configured formats' order (none for a group
    without archives)."""
    return [archive_relpath(key, period, fmt) for fmt in archive_formats(config, key)]


def _is_period(parts: list[str]) -> bool:
    if len(parts) == 1:
        return len(parts[0]) == 4 and parts[0].isascii() and parts[0].isdigit()
    return (
        len(parts) == 2
        and _is_period(parts[:1])
        and len(parts[1]) == 2
        and parts[1].isascii()
        and parts[1].isdigit()
    )


def is_archive_path(relpath: str) -> bool:
    """Whether a path lies in a group's archive folder (quick: no period check)."""
    parts = relpath.split("/", 3)
    return parts[0] == ARCHIVE_DIR or (
        len(parts) > 3 and parts[2] == ARCHIVE_DIR and parts[0] in _KIND_OF_FOLDER
    )


def archive_group(relpath: str) -> GroupKey:
    """The group whose archive folder holds a path (one :func:`is_archive_path` says is)."""
    parts = relpath.split("/", 2)
    if parts[0] == ARCHIVE_DIR:
        return SITE
    return GroupKey(_KIND_OF_FOLDER[parts[0]], parts[1])


def archive_of_path(relpath: str) -> tuple[GroupKey, str] | None:
    """The group and period of an archive file (``None`` for any other path)."""
    parts = relpath.split("/")
    if parts[-1] not in FORMAT_OF_NAME:
        return None
    if parts[0] == ARCHIVE_DIR:
        key, rest = SITE, parts[1:-1]
    elif len(parts) > 3 and parts[0] in _KIND_OF_FOLDER and parts[2] == ARCHIVE_DIR:
        key, rest = GroupKey(_KIND_OF_FOLDER[parts[0]], parts[1]), parts[3:-1]
    else:
        return None
    return (key, "/".join(rest)) if _is_period(rest) else None


#: What an output file is, for the words of a build's summary and its change report.
FileKind = Literal["feed", "opml", "page", "archive"]


def file_kind(relpath: str) -> FileKind:
    """What an output path feedwright writes is: a group's ``feed``, the ``opml`` list, a
    group's ``page`` for people, or a file of an RFC 5005 ``archive`` (quick: a build's
    report may name every one of a site's hundred thousand archive files)."""
    if relpath == OPML:
        return "opml"
    if is_archive_path(relpath):
        return "archive"
    if is_page(relpath):
        return "page"
    return "feed"


def is_feed_name(name: str) -> bool:
    """Whether a file name is one feedwright gives feeds (``atom.xml``, ``rss.xml``…)."""
    return name in FORMAT_OF_NAME


def feed_url(config: Config, relpath: str) -> str:
    """The public, percent-encoded URL of an output file."""
    return iri_to_uri(config.feeds_url + escape_path(relpath))


def feeds_prefix(config: Config) -> str:
    """The decoded URL path the output folder is served at, without a trailing slash."""
    return unquote(urlsplit(config.feeds_url).path).rstrip("/")


def group_title(config: Config, kind: str, name: str) -> str:
    """``<site title>`` for the site, ``<site title> · <name>`` for a category or tag."""
    return config.site.title if kind == "site" else f"{config.site.title} · {name}"


def group_page(config: Config, key: tuple[str, str]) -> str:
    """The alternate (HTML) page of a group on the site: the home page, unless
    ``feeds.category_page``/``feeds.tag_page`` gives a template (stock Jekyll has no such
    pages)."""
    kind, slug = key
    template = config.feeds.category_page if kind == "category" else config.feeds.tag_page
    if kind == "site" or template is None:
        return config.site.url + "/"
    path = template.replace(":slug", escape_path(slug))
    if path.startswith(("http://", "https://")):
        return iri_to_uri(path)
    return iri_to_uri(config.site.url + "/" + path.lstrip("/"))


def file_media_type(name: str) -> str | None:
    """The media type of a file feedwright writes, by its name (``None`` if not one)."""
    if name in FORMAT_OF_NAME:
        return MEDIA_TYPES[FORMAT_OF_NAME[name]]
    if name == OPML:
        return OPML_MEDIA_TYPE
    if name == PAGE:
        return PAGE_MEDIA_TYPE
    return None
