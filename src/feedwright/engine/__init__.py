"""The build engine: scan → plan → apply. Its public face is :func:`build` and
:func:`list_feeds`; the CLI, the server and watch mode reach the engine only through them.

- :mod:`.scan` turns the source tree, the output tree and the cache into a snapshot of
  what changed (parsing changed posts, in worker processes when there are many);
- :mod:`.plan` turns the snapshot into decisions per group, with no I/O;
- :mod:`.apply` renders, writes and records them.

A build is incremental: only changed posts are parsed, only the groups they were or are
in are looked at, and only feeds whose entries changed are rendered and written. A cold
build (no cache, ``--full``, a new config or feedwright) is the same code with
everything changed.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from ..config import Config
from ..discover import require_source
from ..group import claim_order, collision_warning, visible_bound
from ..layout import feed_relpath, feed_url, group_dir, group_order, group_title, is_page
from ..ledger import Ledger
from ..model import BuildReport, ErrorRecord, Format, GroupKey, Post
from ..output import Output
from .apply import Applier
from .cache import CACHE_NAME, Cache, disk_full_error
from .codec import post_of
from .ids import Opened, StaleLedger, open_ledger, save_ledger
from .plan import plan
from .record import Applied
from .scan import Progress, Scanned, Scanner
from .stop import Checkpoints, SignalStop, Stopped, stop_on_signals
from .workers import Pool


def build(
    config: Config,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    full: bool = False,
    progress: Progress | None = None,
    jobs: int | None = None,
    on_wait: Callable[[str], None] | None = None,
    explain: bool = False,
    durable: bool = True,
    adopt: bool = False,
) -> BuildReport:
    """Build every feed of the site. ``now`` decides which posts are in the future.

    ``dry_run`` parses and plans but writes nothing (the cache is left as it was);
    ``full`` ignores the cache. ``jobs`` worker processes parse and render big batches
    (default: every core); ``on_wait`` hears when another build holds the output folder.
    ``explain`` fills the report's ``excluded``, ``moved`` and ``claimed``. ``progress``
    hears how many posts were read, and is called again at every safe point of the
    build: it may raise to stop it there (:mod:`.stop`). ``durable``
    (the default) puts every file on the disk before it is published and before the
    build ends; without it a power cut may lose or tear files (tests, benchmarks).
    ``adopt`` takes over the files feedwright did not write that are where it writes (a
    build without it leaves them alone and warns).
    """
    start = time.monotonic()
    run = _execute(config, now, dry_run, full, progress, jobs, on_wait, explain, durable, adopt)
    return _report(run, time.monotonic() - start)


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """One feed file that a build publishes."""

    kind: str
    #: The feed's title.
    title: str
    format: Format
    #: Its public URL.
    url: str
    #: Its group's slug (``""`` for the site) and display name.
    slug: str = ""
    name: str = ""


def list_feeds(config: Config, *, now: datetime | None = None) -> list[FeedInfo]:
    """Every feed file the build publishes, in every format of every group (feeds kept as
    they were included; a file someone else put in the place of one is not feedwright's,
    and is left out): a dry run, which is quick when the cache is fresh."""
    run = _execute(config, now, True, False, None, None, None, False, True, False)
    return [
        FeedInfo(
            key.kind,
            group_title(config, key.kind, name),
            fmt,
            _url(config, key, fmt),
            slug=key.slug,
            name=name,
        )
        for key, name in sorted(run.applied.published.items(), key=lambda i: group_order(i[0]))
        for fmt in config.feeds.formats
        if feed_relpath(key, fmt) not in run.applied.foreign
    ]


def _url(config: Config, key: GroupKey, fmt: Format) -> str:
    return feed_url(config, feed_relpath(key, fmt))


@dataclass(frozen=True, slots=True)
class _Run:
    scanned: Scanned
    applied: Applied
    warnings: tuple[str, ...]
    explained: Explained | None = None


def _execute(
    config: Config,
    now: datetime | None,
    dry_run: bool,
    full: bool,
    progress: Progress | None,
    jobs: int | None,
    on_wait: Callable[[str], None] | None,
    explain: bool,
    durable: bool,
    adopt: bool,
) -> _Run:
    now = now or datetime.now(UTC)
    require_source(config)
    out = Output(config.output, durable=durable)
    checkpoints = Checkpoints(progress)
    with ExitStack() as stack:
        if not dry_run:
            out.prepare()
            stack.enter_context(out.lock(on_wait=on_wait, waiting=checkpoints.check))
            out.clean_temporary()
        pool = Pool(jobs if jobs is not None else (os.cpu_count() or 1))
        stack.callback(pool.close)
        path = out.state / CACHE_NAME
        reread = False  # the id ledger is read whole (its rows are not where the cache says)
        for attempt in range(2):
            cache = Cache(path, config, dry_run=dry_run)
            try:
                if (full and attempt == 0) or reread:
                    cache.reset(config)
                with ExitStack() as files:
                    opened = open_ledger(config, cache, out, files)
                    run = _steps(
                        config, cache, out, now, pool, checkpoints, dry_run, opened, explain, adopt
                    )
                if not dry_run:
                    out.finish()
                return run
            except StaleLedger:
                if attempt:
                    raise
                reread = True
            except sqlite3.DatabaseError as e:
                if (no_space := disk_full_error(e, path)) is not None:
                    raise no_space from e
                if attempt or dry_run:
                    raise
                cache.discard()
                out.warnings.append(f"{path}: the build cache failed ({e}); it is rebuilt")
            finally:
                cache.close()
    raise AssertionError("unreachable")


def _steps(
    config: Config,
    cache: Cache,
    out: Output,
    now: datetime,
    pool: Pool,
    checkpoints: Checkpoints,
    dry_run: bool,
    opened: Opened,
    explain: bool,
    adopt: bool,
) -> _Run:
    cache.begin()
    ledger = opened.ledger
    try:
        scanner = Scanner(
            config, cache, out, now, pool, checkpoints, ledger, explain, checkpoints.check
        )
        scanned = scanner.run()
        checkpoints.check()  # nothing written yet
        save_ledger(cache, out, opened, dry_run)
        explained = _explain(scanned, cache, ledger, now) if explain else None
        decided = plan(scanned.snapshot, config, adopt=adopt)
        applier = Applier(config, cache, out, pool, dry_run=dry_run, checkpoint=checkpoints.check)
        applied = applier.run(decided, scanned.snapshot)
        collisions = [
            collision_warning(g.kind, g.slug, g.spellings)
            for g in sorted(
                cache.groups.rows().values(), key=lambda g: group_order((g.kind, g.slug))
            )
            if g.published is not None and len(g.spellings) > 1
        ]
    except BaseException:
        cache.rollback()
        raise
    if dry_run:
        cache.rollback()
    else:
        cache.commit()
    kept = [
        f"{path}: kept as it was, because a post it held was rejected"
        for path in sorted(applied.kept)
    ]
    warnings = (*config.warnings, *cache.warnings, *scanned.warnings, *collisions, *kept)
    warnings += (*foreign_warnings(applied.foreign, applied.adopted), *out.warnings)
    return _Run(scanned, applied, warnings, explained)


#: How many files in the way a build names one by one (it counts the others).
SHOWN_FOREIGN = 10


def foreign_warnings(foreign: Iterable[str], adopted: Sequence[str]) -> list[str]:
    """What a build says about files feedwright did not write where it writes: each one
    it left alone and how to allow it, each one it took over (``--adopt``); the first
    few by name, then how many more."""
    left = sorted(foreign)
    out = [
        f"{path}: not written: a file feedwright did not write is in its place (remove it"
        f"{', set feeds.pages: false' if is_page(path) else ''}, or let feedwright overwrite "
        "it from now on: feedwright build --adopt)"
        for path in left[:SHOWN_FOREIGN]
    ]
    if len(left) > SHOWN_FOREIGN:
        out.append(
            f"… and {len(left) - SHOWN_FOREIGN} more files feedwright did not write are "
            "where it writes: not written (feedwright build --adopt takes them over)"
        )
    out += [
        f"{path}: taken over (--adopt): feedwright did not write it; overwritten, and "
        "feedwright's from now on"
        for path in adopted[:SHOWN_FOREIGN]
    ]
    if len(adopted) > SHOWN_FOREIGN:
        out.append(f"… and {len(adopted) - SHOWN_FOREIGN} more files taken over (--adopt)")
    return out


@dataclass(frozen=True, slots=True)
class Explained:
    excluded: tuple[str, ...]
    moved: tuple[str, ...]
    claimed: tuple[str, ...]


def _explain(scanned: Scanned, cache: Cache, ledger: Ledger, now: datetime) -> Explained:
    """Why groups have no feed, which permalinks moved away from their ids, which ids
    more than one post claims."""
    excluded = [
        f"{group_dir(key).rstrip('/')}: no feed: {why}"
        for key, why in sorted(scanned.snapshot.excluded.items(), key=lambda i: group_order(i[0]))
    ]
    moved = [
        f"{path}: the permalink moved to {url}; the entry id stays {entry_id}"
        for path, url, entry_id in cache.posts.other_ids()
        if ledger.moved(path, entry_id, url)
    ]
    by_id: dict[str, list[Post]] = {}
    for c in cache.posts.shared_ids(visible_bound(now)):
        post = post_of(c)
        by_id.setdefault(post.id, []).append(post)
    claimed = [
        f"{entry_id}: claimed by {', '.join(p.relpath for p in sorted(posts, key=claim_order))}"
        for entry_id, posts in sorted(by_id.items())
        if len(posts) > 1
    ]
    return Explained(tuple(excluded), tuple(moved), tuple(claimed))


def _report(run: _Run, seconds: float) -> BuildReport:
    scanned, applied = run.scanned, run.applied
    errors = sorted([(e.path, str(e)) for e in applied.errors] + list(scanned.errors))
    return BuildReport(
        posts=scanned.posts - len(applied.errors),
        errors=tuple(line for _path, line in errors),
        warnings=run.warnings,
        written=tuple(applied.written),
        unchanged=tuple(applied.unchanged),
        unlisted=applied.unlisted,
        removed=tuple(applied.removed),
        kept=tuple(sorted(applied.kept)),
        seconds=seconds,
        written_urls=tuple(applied.written_urls),
        cold=scanned.snapshot.cold,
        error_records=tuple(error_record(path, line) for path, line in errors),
        groups=tuple(applied.groups),
        **({} if run.explained is None else asdict(run.explained)),
    )


def error_record(path: str, line: str) -> ErrorRecord:
    """``path:line: message`` (the form of every post error) → its parts."""
    rest = line[len(path) + 1 :] if line.startswith(path + ":") else line
    number, sep, message = rest.partition(": ")
    if sep and number.isdigit():
        return ErrorRecord(path, int(number), message)
    return ErrorRecord(path, None, rest.strip())


__all__ = [
    "FeedInfo",
    "Progress",
    "SignalStop",
    "Stopped",
    "build",
    "list_feeds",
    "stop_on_signals",
]
