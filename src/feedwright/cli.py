"""The command line: a thin adapter. Exit codes are decided in one place (:func:`_run`)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from . import __version__
from .build import build, read_posts
from .config import Config, load_config
from .errors import ConfigError, FeedwrightError
from .group import group_posts
from .model import BuildReport
from .render import feed_relpath, feed_url, group_title

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
        raise click.ClickException(f"{e.filename or ''}: {e.strerror or e}") from e


def _load(config: str, source: str | None = None, output: str | None = None) -> Config:
    return _run(lambda: load_config(config, source=source, output=output))


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
        for line in report.warnings:
            click.echo(f"warning: {line}", err=True)


def summary(report: BuildReport) -> str:
    return (
        f"{report.posts} posts, {report.rejected} rejected, {len(report.written)} feeds "
        f"written, {len(report.unchanged)} unchanged, {report.seconds:.2f} s"
    )


@cli.command("build")
@config_option
@source_option
@click.option(
    "--output",
    type=click.Path(file_okay=False),
    help="The output folder (overrides 'output' in the config).",
)
@click.option("--full", is_flag=True, help="Rebuild everything, ignoring any cache.")
@click.option("--strict", is_flag=True, help="Exit 1 if any post was rejected.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("-v", "--verbose", is_flag=True, help="Also list ignored files and each change.")
def build_command(
    config_path: str,
    source: str | None,
    output: str | None,
    full: bool,
    strict: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Write every feed (site, categories, tags) and feeds.opml."""
    config = _load(config_path, source, output)
    show_bar = not quiet and sys.stderr.isatty() and not _in_ci()
    with _progress(show_bar) as progress:
        report = _run(lambda: build(config, now=datetime.now(UTC), progress=progress))
    _show_problems(report, quiet)
    if verbose:
        for path in report.written:
            click.echo(f"wrote {path}", err=True)
        for path in report.removed:
            click.echo(f"removed {path}", err=True)
    if not quiet:
        click.echo(summary(report))
    if strict and report.rejected:
        sys.exit(1)


def _in_ci() -> bool:
    import os

    return bool(os.environ.get("CI"))


@cli.command("check")
@config_option
@source_option
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def check_command(config_path: str, source: str | None, quiet: bool) -> None:
    """Validate the config and every post; write nothing. Exit 1 if anything is wrong."""
    config = _load(config_path, source)
    report = _run(lambda: build(config, now=datetime.now(UTC), dry_run=True))
    _show_problems(report, quiet)
    if not quiet:
        click.echo(f"{report.posts} posts, {report.rejected} rejected")
    if report.rejected:
        sys.exit(1)


@cli.command("feeds")
@config_option
@source_option
def feeds_command(config_path: str, source: str | None) -> None:
    """List every feed: kind, name, format and public URL."""
    config = _load(config_path, source)

    def collect() -> list[str]:
        parsed = read_posts(config, now=datetime.now(UTC))
        groups, _ = group_posts(parsed.posts, config)
        lines = []
        for group in groups:
            for fmt in config.feeds.formats:
                url = feed_url(config, feed_relpath(group, fmt))
                lines.append(f"{group.kind}\t{group_title(config, group)}\t{fmt}\t{url}")
        return lines

    for line in _run(collect):
        click.echo(line)


def main() -> None:
    cli(prog_name="feedwright")
