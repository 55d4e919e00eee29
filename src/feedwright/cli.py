"""The command line: a thin adapter. Exit codes are decided in one place (:func:`_run`)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from . import __version__
from .changes import NOUNS, change_report_json, file_counts, plural, summary_line
from .config import Config, load_config
from .discover import skipped_files
from .engine import build, list_feeds, stop_on_signals
from .errors import NO_SPACE, ConfigError, FeedwrightError, OptionError, disk_full
from .hooks import HookResult, run_after_build
from .layout import FILENAMES, OPML
from .model import BuildReport

T = TypeVar("T")


class ConfigUsageError(click.UsageError):
    """A config error: exit 2, with the key path, and no usage text."""

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


def _run(fn: Callable[[], T]) -> T:
    """Library errors → click exceptions (config: exit 2; anything else: exit 1)."""
    try:
        return fn()
    except ConfigError as e:
        raise ConfigUsageError(str(e)) from e
    except FeedwrightError as e:
        raise click.ClickException(str(e)) from e
    except OSError as e:
        problem = NO_SPACE if disk_full(e) else e.strerror or e
        raise click.ClickException(f"{e.filename or ''}: {problem}") from e


def _config_is_default() -> bool:
    """``--config`` was not given: a missing ``config.yaml`` may be stood in for by the
    site's ``_config.yml``."""
    ctx = click.get_current_context()
    return ctx.get_parameter_source("config_path") is ParameterSource.DEFAULT


def _load(config: str, source: str | None = None, output: str | None = None) -> Config:
    # Folders given on the command line are relative to the working directory (as in Jekyll).
    source = os.path.abspath(source) if source is not None else None
    output = os.path.abspath(output) if output is not None else None
    missing_ok = _config_is_default()
    return _run(lambda: load_config(config, source=source, output=output, missing_ok=missing_ok))


config_option = click.option(
    "--config",
    "config_path",
    default="config.yaml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The config file.",
)
source_option = click.option(
    "--source",
    type=click.Path(file_okay=False),
    help="The site folder (overrides 'source' in the config).",
)
output_option = click.option(
    "--output",
    type=click.Path(file_okay=False),
    help="The output folder (overrides 'output' in the config).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="feedwright")
def cli() -> None:
    """Publish Atom, RSS and JSON feeds for a Jekyll-style archive of posts."""


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled:
        yield None
        return
    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            if total < 2000:
                return
            bar = click.progressbar(length=total, label="reading posts", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        yield update
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def _show_problems(report: BuildReport, quiet: bool) -> None:
    for line in report.errors:
        click.echo(line, err=True)
    if not quiet:
        for line in report.distinct_warnings:
            click.echo(f"warning: {line}", err=True)


def _shown(path: os.PathLike[str] | str) -> str:
    """A folder as the user would type it: relative to the working directory if inside it."""
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else os.fspath(path)


def first_build_note(config: Config, report: BuildReport) -> str:
    """After a first build into an output folder that already held the feeds (a fresh clone
    of a repository that commits them): ``0 feeds written`` is success, so say so."""
    out = _shown(config.output)
    counts = file_counts(report)
    files = [plural(counts[kind].unchanged, noun) for kind, noun in NOUNS if counts[kind].unchanged]
    files += [OPML] if counts["opml"].unchanged else []
    listed = ", ".join(files[:-1]) + " and " + files[-1] if len(files) > 1 else "".join(files)
    fmt = config.feeds.opml_format
    site = f"subscribe to {out}/{FILENAMES[fmt]} (the whole site), or " if fmt else ""
    return (
        f"{out}/ is up to date: its {listed} for {plural(report.posts, 'post')} were already "
        f"current, so none was rewritten; {site}import {out}/{OPML} (the site, each category "
        "and each tag)"
    )


#: How many groups without feeds ``-v`` names (``--explain`` names every one).
SHOWN_EXCLUDED = 10


def _show_changes(config: Config, report: BuildReport, explain: bool) -> None:
    """``-v``: files under ``_posts`` that are not posts (and why), then each change, then
    the groups the feed policy leaves without feeds: the first few, or all with
    ``--explain``."""
    for path, reason in skipped_files(config):
        click.echo(f"skipped {path}: {reason}", err=True)
    for path in report.written:
        click.echo(f"wrote {path}", err=True)
    for path in report.removed:
        click.echo(f"removed {path}", err=True)
    _show_excluded(report, explain)


def _show_excluded(report: BuildReport, explain: bool) -> None:
    """Each group the feed policy leaves without feeds, and why: every one with
    ``--explain``; else a count and the first :data:`SHOWN_EXCLUDED` (a big archive's
    policy may leave out tens of thousands of tags)."""
    excluded = report.excluded
    if explain or len(excluded) <= SHOWN_EXCLUDED:
        for line in excluded:
            click.echo(line, err=True)
        return
    click.echo(
        f"the feed policy leaves {len(excluded)} categories and tags without feeds; "
        f"the first {SHOWN_EXCLUDED}, and why:",
        err=True,
    )
    for line in excluded[:SHOWN_EXCLUDED]:
        click.echo(f"  {line}", err=True)
    more = len(excluded) - SHOWN_EXCLUDED
    click.echo(f"  … and {more} more: `feedwright build --explain` lists every one", err=True)


@cli.command("build")
@config_option
@source_option
@output_option
@click.option("--full", is_flag=True, help="Rebuild everything, ignoring any cache.")
@click.option(
    "--adopt",
    is_flag=True,
    help="Overwrite files feedwright did not write where it writes (and own them from now on).",
)
@click.option("--strict", is_flag=True, help="Exit 1 if any post was rejected.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Also list skipped files, each change, and the first groups without feeds (and why).",
)
@click.option(
    "--explain",
    is_flag=True,
    help="List every category and tag the feed policy leaves without feeds, and why.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the change report (JSON) instead of the summary line.",
)
def build_command(
    config_path: str,
    source: str | None,
    output: str | None,
    full: bool,
    adopt: bool,
    strict: bool,
    quiet: bool,
    verbose: bool,
    explain: bool,
    as_json: bool,
) -> None:
    """Write every feed (site, categories, tags) and feeds.opml."""
    config = _load(config_path, source, output)
    show_bar = not quiet and sys.stderr.isatty() and not _in_ci()
    # Ctrl-C and SIGTERM stop the build at its next safe point (nothing half-written, no
    # temporary file left), then end the process as they would have.
    with _progress(show_bar) as progress, stop_on_signals() as stop:
        report = _run(
            lambda: build(
                config,
                now=datetime.now(UTC),
                full=full,
                adopt=adopt,
                progress=stop.progress(progress),
                on_wait=lambda message: click.echo(message, err=True),
                explain=verbose or explain,
            )
        )
    _show_problems(report, quiet)
    if verbose:
        _run(lambda: _show_changes(config, report, explain))
    elif explain:
        _show_excluded(report, explain)
    if as_json:
        click.echo(change_report_json(config, report))
    elif not quiet:
        click.echo(summary_line(report))
        if report.cold and not full and not report.written and report.unchanged:
            click.echo(first_build_note(config, report))
    show_hook(run_after_build(config, report))
    if strict and report.rejected:
        sys.exit(1)


def show_hook(result: HookResult | None) -> None:
    """A hook that failed is one line on stderr (it never changes the exit status)."""
    if result is not None and not result.ok:
        click.echo(f"hooks.after_build failed: {result.message}", err=True)


def _in_ci() -> bool:
    import os

    return bool(os.environ.get("CI"))


@cli.command("check")
@config_option
@source_option
@output_option
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def check_command(config_path: str, source: str | None, output: str | None, quiet: bool) -> None:
    """Validate the config and every post; write nothing. Exit 1 if anything is wrong.

    Also lists posts whose permalink moved away from their entry id (the id ledger in the
    output folder keeps the id) and entry ids that more than one post claims."""
    config = _load(config_path, source, output)
    report = _run(lambda: build(config, now=datetime.now(UTC), dry_run=True, explain=True))
    _show_problems(report, quiet)
    if not quiet:
        for line in report.moved:
            click.echo(f"moved: {line}")
        for line in report.claimed:
            click.echo(f"claimed twice: {line}")
        click.echo(f"{plural(report.posts, 'post')}, {report.rejected} rejected")
    if report.rejected:
        sys.exit(1)


@cli.command("feeds")
@config_option
@source_option
@output_option
@click.option(
    "--html",
    "as_html",
    is_flag=True,
    help='Print the <link rel="alternate"> tags a site template pastes into <head>.',
)
@click.option(
    "--group",
    metavar="KIND/NAME",
    help="With --html: the tags of one group (category/NAME or tag/NAME; default: the site).",
)
def feeds_command(
    config_path: str, source: str | None, output: str | None, as_html: bool, group: str | None
) -> None:
    """List every feed: kind, name, format and public URL."""
    config = _load(config_path, source, output)
    if group is not None and not as_html:
        raise ConfigUsageError("--group: only with --html")
    if as_html:
        click.echo(_run(lambda: _snippet(config, group)), nl=False)
        return

    def collect() -> list[str]:
        return [
            f"{f.kind}\t{f.title}\t{f.format}\t{f.url}"
            for f in list_feeds(config, now=datetime.now(UTC))
        ]

    for line in _run(collect):
        click.echo(line)


def _snippet(config: Config, group: str | None) -> str:
    """The autodiscovery tags of the site or of one published group (``kind/NAME``)."""
    from .pages import snippet
    from .slug import slugify

    if group is None or group == "site":
        return snippet(config, ("site", ""), "")
    kind, _, name = group.partition("/")
    if kind not in ("category", "tag") or not name:
        raise OptionError("--group", f"expected site, category/NAME or tag/NAME, got {group!r}")
    slug = slugify(name)
    found = {(f.kind, f.slug): f.name for f in list_feeds(config, now=datetime.now(UTC))}
    if (kind, slug) not in found:
        plural = "categories" if kind == "category" else "tags"
        known = sorted(n for (k, _s), n in found.items() if k == kind)
        listed = ", ".join(known[:10]) + (", …" if len(known) > 10 else "") or "none"
        raise OptionError("--group", f"no {kind} {name!r} is published ({plural}: {listed})")
    return snippet(config, (kind, slug), found[(kind, slug)])


def _abspath(path: str | None) -> str | None:
    return os.path.abspath(path) if path is not None else None


@cli.command("serve")
@config_option
@source_option
@output_option
@click.option(
    "--host", default=None, help="Address to listen on (default: server.host, 127.0.0.1)."
)
@click.option(
    "--port",
    default=None,
    type=click.IntRange(0, 65535),
    help="Port to listen on (default: server.port, 8000).",
)
@click.option("--no-build", is_flag=True, help="Do not build at startup; serve what is there.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines as text, or as one JSON object a line (for log collectors).",
)
def serve_command(
    config_path: str,
    source: str | None,
    output: str | None,
    host: str | None,
    port: int | None,
    no_build: bool,
    log_format: str,
) -> None:
    """Serve the feeds over HTTP; a signed webhook rebuilds them and pings WebSub hubs.

    SIGTERM or SIGINT stops it gracefully (exit 0); SIGHUP reloads the config file.
    """
    from .serve import logs
    from .serve.app import webhook_enabled
    from .serve.runner import serve

    config = _load(config_path, source, output)
    logs.setup("json" if log_format == "json" else "text")
    environ = dict(os.environ)
    hook = config.webhook
    if webhook_enabled(config, environ):
        logs.log.info("webhook: POST %s (secret from $%s)", hook.path, hook.secret_env)
    else:
        logs.log.info("webhook: off (set $%s to turn it on)", hook.secret_env)
    missing_ok = _config_is_default()
    source, output = _abspath(source), _abspath(output)

    def reload() -> Config:
        return load_config(config_path, source=source, output=output, missing_ok=missing_ok)

    stopped = _run(
        lambda: serve(
            config,
            load=reload,
            host=host,
            port=port,
            cwd=os.path.dirname(os.path.abspath(config_path)),
            environ=environ,
            build_first=not no_build,
        )
    )
    if not stopped:
        # A build still runs past server.shutdown_timeout: leave without waiting for its
        # thread (interpreter shutdown would join its worker pool). Its files are whole.
        logging.shutdown()
        os._exit(0)


@cli.command("watch")
@config_option
@source_option
@output_option
@click.option("--poll", is_flag=True, help="Poll for changes (file systems without inotify).")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def watch_command(
    config_path: str, source: str | None, output: str | None, poll: bool, quiet: bool
) -> None:
    """Build, then rebuild whenever a post or the config changes (Ctrl-C stops)."""
    from .watch import watch

    _load(config_path, source, output)  # a bad config at startup is a usage error (exit 2)
    missing_ok = _config_is_default()

    def report(r: BuildReport) -> None:
        _show_problems(r, quiet)
        if not quiet:
            click.echo(summary_line(r))

    watch(
        config_path,
        source=_abspath(source),
        output=_abspath(output),
        on_report=report,
        on_error=lambda message: click.echo(message, err=True),
        on_hook=show_hook,
        force_polling=True if poll else None,
        missing_ok=missing_ok,
    )


def main() -> None:
    cli(prog_name="feedwright")
