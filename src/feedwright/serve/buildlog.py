"""What ``feedwright serve`` logs when a build or an ``after_build`` hook ends: one line
each, with structured fields for ``--log-format json``."""

from __future__ import annotations

import logging
from typing import Any

from ..changes import summary_line
from ..hooks import HookResult
from ..model import BuildReport

log = logging.getLogger("feedwright.serve")
#: The counts of a build's record (:mod:`.rebuild`) that its log line carries.
COUNTS = ("posts", "rejected", "written", "unchanged", "removed")


def log_build(record: dict[str, Any], report: BuildReport | None) -> None:
    """One line for a finished build (and one per rejected post and warning)."""
    fields: dict[str, Any] = {
        "event": "build",
        "trigger": record["trigger"],
        "result": record["result"],
        "seconds": record["seconds"],
    }
    if report is not None:
        for line in report.errors:
            log.warning("%s", line, extra={"event": "rejected"})
        for line in report.distinct_warnings:
            log.warning("warning: %s", line, extra={"event": "warning"})
        fields.update({key: record[key] for key in COUNTS})
        words = summary_line(report, seconds=record["seconds"])
        log.info("%s: %s", record["trigger"], words, extra=fields)
    else:
        for line in record["errors"]:
            log.error("%s", line, extra={"event": "build_error"})
        stopped = record["result"] == "build stopped"
        log.error(
            "%s: %s; %s (%.2f s)",
            record["trigger"],
            record["result"],
            "every file it wrote is whole; the next build does the rest"
            if stopped
            else "feeds left as they were",
            record["seconds"],
            extra=fields,
        )


def log_hook(result: HookResult) -> None:
    """One line for an ``after_build`` hook that ran."""
    fields = {
        "event": "hook",
        "result": "ok" if result.ok else "failed",
        "command": result.command,
        "seconds": round(result.seconds, 3),
        "returncode": result.returncode,
        "error": result.message,
    }
    if result.ok:
        log.info(
            "hooks.after_build: `%s` ran (%.2f s)", result.command, result.seconds, extra=fields
        )
    else:
        log.error("hooks.after_build failed: %s", result.message, extra=fields)
