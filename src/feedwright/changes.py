"""Pure: a :class:`BuildReport` → the change report (``feedwright build --json``, and what
``hooks.after_build`` reads on its standard input). The README documents its schema."""

from __future__ import annotations

import json
from typing import Any

from . import __version__
from .config import Config
from .layout import group_title, output_url
from .model import BuildReport, EntryRef

#: Bumped when a key changes meaning or goes away (new keys may appear at any time).
SCHEMA = 1


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
        {"path": path, "url": url, "change": "written"}
        for path, url in zip(report.written, report.written_urls, strict=True)
    ]
    files += [
        {"path": path, "url": output_url(config, path), "change": "removed"}
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
        "unchanged": len(report.unchanged),
        "removed": len(report.removed),
        "kept": len(report.kept),
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
