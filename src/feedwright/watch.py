"""Watch mode: rebuild when a post or the config changes.

watchfiles (Rust ``notify``) watches the source folder and the config file; changes are
grouped (``step_ms`` of quiet, at most ``debounce_ms``) so an editor's save or a
``git pull`` of many files is one build. The output folder is ignored even when it
lies inside the source, so a build never triggers itself. Every build reads
``config.yaml`` and the site's ``_config.yml`` afresh (:class:`~feedwright.reloader.Reloader`,
shared with ``serve``): a config that fails to load is reported once and the last good
one keeps building every change until it is fixed; a change of ``source``/``output``
moves the watch. Reports go to callbacks: this module
prints nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import watchfiles

from .config import Config, load_config
from .engine import build
from .errors import FeedwrightError
from .hooks import HookResult, HookRunner
from .model import BuildReport
from .reloader import Reloader


class StopEvent(Protocol):
    def is_set(self) -> bool: ...


def _under(path: str, folder: Path) -> bool:
    folder_s = str(folder)
    return path == folder_s or path.startswith(folder_s.rstrip(os.sep) + os.sep)


class _Filter(watchfiles.DefaultFilter):
    """The config file, and files under the source that are not under the output."""

    def __init__(self, config_file: Path, config: Config | None) -> None:
        super().__init__()
        self.config_file = str(config_file)
        self.source = config.source if config else None
        self.output = config.output if config else None

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        if path == self.config_file:
            return True
        if self.output is not None and _under(path, self.output):
            return False
        if self.source is None or not _under(path, self.source):
            return False
        return super().__call__(change, path)


def _watched(config_file: Path, config: Config | None, missing_ok: bool) -> list[Path]:
    """The config file (or its folder while it is missing), and the source folder.

    A config file that may be missing (the site's ``_config.yml`` stands in for it) is not
    waited for in its folder, which may be as big as a home directory.
    """
    paths = []
    if config_file.exists():
        paths.append(config_file)
    elif not missing_ok or config is None:
        paths.append(config_file.parent)
    if config is not None and config.source.is_dir():
        paths.append(config.source)
    return paths


def watch(
    config_path: str | os.PathLike[str],
    *,
    source: str | None = None,
    output: str | None = None,
    on_report: Callable[[BuildReport], None],
    on_error: Callable[[str], None],
    stop_event: StopEvent | None = None,
    debounce_ms: int = 1600,
    step_ms: int = 200,
    force_polling: bool | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    missing_ok: bool = False,
    on_hook: Callable[[HookResult], None] | None = None,
) -> None:
    """Build once, then after every change, until ``stop_event`` is set (or Ctrl-C).

    ``missing_ok``: the config file may be missing when the site's ``_config.yml`` stands
    in for it (see :func:`~feedwright.config.load_config`). After each build that changed
    a file, ``hooks.after_build`` runs in the background (``on_hook`` hears how it went);
    a hook still running when watching stops is stopped.
    """
    hooks = HookRunner(on_hook)
    try:
        _watch(
            Path(config_path).resolve(),
            source,
            output,
            on_report,
            on_error,
            stop_event,
            debounce_ms,
            step_ms,
            force_polling,
            clock,
            missing_ok,
            hooks,
        )
    finally:
        hooks.close()


def _watch(
    config_file: Path,
    source: str | None,
    output: str | None,
    on_report: Callable[[BuildReport], None],
    on_error: Callable[[str], None],
    stop_event: StopEvent | None,
    debounce_ms: int,
    step_ms: int,
    force_polling: bool | None,
    clock: Callable[[], datetime],
    missing_ok: bool,
    hooks: HookRunner,
) -> None:
    reloader = Reloader(
        lambda: load_config(config_file, source=source, output=output, missing_ok=missing_ok)
    )

    def load() -> Config | None:
        """The config read afresh, or the last good one if it no longer loads."""
        had = reloader.config
        found = reloader.reload()
        if found.error is not None and found.news:  # once per mistake, not once per change
            kept = "; building with the last good config until it is fixed" if had else ""
            on_error(f"{found.error}{kept}")
        return found.config

    def run(config: Config) -> None:
        if not config.source.is_dir():  # never build an empty site over the feeds
            on_error(f"{config.source}: the source folder does not exist; nothing was built")
            return
        try:
            report = build(config, now=clock())
            on_report(report)
            hooks.submit(config, report)
        except FeedwrightError as e:
            on_error(str(e))
        except OSError as e:
            on_error(f"{e.filename or config.output}: {e.strerror or e}")

    config = load()
    if config is not None:
        run(config)
    while stop_event is None or not stop_event.is_set():
        paths = _watched(config_file, config, missing_ok)
        for changes in watchfiles.watch(
            *paths,
            watch_filter=_Filter(config_file, config),
            debounce=debounce_ms,
            step=step_ms,
            stop_event=stop_event,
            force_polling=force_polling,
            raise_interrupt=False,
        ):
            new = load()
            if new is None:
                continue
            moved = config is None or (new.source, new.output) != (config.source, config.output)
            config = new
            run(config)
            # An editor that saves by renaming replaces the config's inode: watch the new one.
            if moved or any(path == str(config_file) for _, path in changes):
                break
        else:
            return  # stopped (stop_event set or interrupted)
