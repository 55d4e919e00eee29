"""Pure: a :class:`BuildReport` in words and in JSON: the one summary line that ``build``,
``watch`` and ``serve`` print, and the change report (``feedwright build --json``, and what
``hooks.after_build`` reads on its standard input). The README documents both."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, get_args

from . import __version__
from .config import Config
from .layout import OPML, FileKind, file_kind, group_title, output_url
from .model import BuildReport, EntryRef

#: Bumped when a key changes meaning or goes away (new keys may appear at any time).
SCHEMA = 1
#: The change report's name of each kind of file in ``by_kind``.
_PLURALS: dict[FileKind, str] = {
    "feed": "feeds",
    "opml": "opml",
    "page": "pages",
    "archive": "archive_files",
}


@dataclass(frozen=True, slots=True)
class FileCounts:
    """What a build did to the output files of one kind (:data:`~feedwright.layout.FileKind`)."""

    #: Files written (new, or changed bytes).
    written: int = 0
    #: Files whose bytes would not change, left alone.
    unchanged: int = 0
    #: Files removed (their group or period has no post any more, or is turned off).
    removed: int = 0
    #: Files kept as they were because a post they held was rejected.
    kept: int = 0

    @property
    def total(self) -> int:
        return self.written + self.unchanged + self.removed + self.kept


def file_counts(report: BuildReport) -> dict[FileKind, FileCounts]:
    """The report's files counted by kind: feeds apart from the OPML, pages and archives."""
    tally = {kind: [0, 0, 0, 0] for kind in get_args(FileKind)}
    lists = (report.written, report.unchanged, report.removed, report.kept)
    for column, paths in enumerate(lists):
        for path in paths:
            tally[file_kind(path)][column] += 1
    tally["archive"][1] += report.unlisted
    return {kind: FileCounts(*numbers) for kind, numbers in tally.items()}


def plural(count: int, noun: str) -> str:
    """``1 post``, ``0 posts``, ``2 archive files``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _written(counts: FileCounts, noun: str, also: str = "") -> str:
    kept = f", {counts.kept} kept as they were" if counts.kept else ""
    return (
        f"{plural(counts.written, noun)}{also} written "
        f"({counts.unchanged} unchanged{kept}, {counts.removed} removed)"
    )


#: The kinds of files a summary counts apart, and their nouns (the OPML is named).
NOUNS: tuple[tuple[FileKind, str], ...] = (
    ("feed", "feed"),
    ("page", "page"),
    ("archive", "archive file"),
)


def summary_line(report: BuildReport, seconds: float | None = None) -> str:
    """The one line a build prints: posts and rejections, then feeds, pages and archive
    files apart, each written (unchanged, removed), then the seconds, e.g.
    ``14 posts, 0 rejected, 3 feeds written (63 unchanged, 0 removed); 4 pages written
    (18 unchanged, 0 removed); 0.09 s``. The feeds are the files ``feedwright feeds``
    lists (``and feeds.opml`` when the OPML was written too); pages and archive files are
    said only when the build has some (or removed some). ``seconds``: a caller's own
    measure of the build's time (default the report's)."""
    counts = file_counts(report)
    also = f" and {OPML}" if counts["opml"].written else ""
    words = [
        f"{plural(report.posts, 'post')}, {report.rejected} rejected, "
        + _written(counts["feed"], "feed", also)
    ]
    for kind, noun in NOUNS[1:]:
        if counts[kind].total:
            words.append(_written(counts[kind], noun))
    words.append(f"{report.seconds if seconds is None else seconds:.2f} s")
    return "; ".join(words)


def _entry(ref: EntryRef) -> dict[str, str]:
    out = {"path": ref.path}
    if ref.url is not None:
        out["url"] = ref.url
    if ref.title is not None:
        out["title"] = ref.title
    return out


def change_report(config: Config, report: BuildReport) -> dict[str, Any]:
    """The report as a JSON-ready mapping."""
    files = [
        {"path": path, "url": url, "change": "written", "kind": file_kind(path)}
        for path, url in zip(report.written, report.written_urls, strict=True)
    ]
    files += [
        {
            "path": path,
            "url": output_url(config, path),
            "change": "removed",
            "kind": file_kind(path),
        }
        for path in report.removed
    ]
    groups = [
        {
            "kind": g.kind,
            "slug": g.slug,
            "name": g.name,
            "title": group_title(config, g.kind, g.name),
            "removed": g.removed,
            "entered": [_entry(e) for e in g.entered],
            "left": [_entry(e) for e in g.left],
        }
        for g in report.groups
    ]
    return {
        "schema": SCHEMA,
        "generator": f"feedwright {__version__}",
        "feeds_url": config.feeds_url,
        "changed": report.changed,
        "cold": report.cold,
        "posts": report.posts,
        "rejected": report.rejected,
        "written": len(report.written),
        "unchanged": report.unchanged_count,
        "removed": len(report.removed),
        "kept": len(report.kept),
        "by_kind": {
            _PLURALS[kind]: {
                "written": c.written,
                "unchanged": c.unchanged,
                "removed": c.removed,
                "kept": c.kept,
            }
            for kind, c in file_counts(report).items()
        },
        "seconds": round(report.seconds, 3),
        "errors": [
            {"path": e.path, "line": e.line, "message": e.message} for e in report.error_records
        ],
        "warnings": list(report.distinct_warnings),
        "files": files,
        "groups": groups,
    }


def change_report_json(config: Config, report: BuildReport) -> str:
    """:func:`change_report` as one JSON document (UTF-8 text, CJK as it is), no newline."""
    return json.dumps(change_report(config, report), ensure_ascii=False, indent=2)
