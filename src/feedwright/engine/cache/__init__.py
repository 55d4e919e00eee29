"""The build cache: an SQLite file beside the output (``<output>/.feedwright/cache.sqlite``).

It remembers what every post file parsed to (keyed by path, size, mtime and a content
hash), which groups each post is in, what each group's feeds were last rendered from,
and the files it wrote. It only stores and looks up: every rule (order, visibility,
duplicates, names) is computed in Python (:mod:`feedwright.group`) and kept here as
plain numbers. It is only an optimisation: a build with it writes the same bytes as
``--full``; a cache from another feedwright or another config is emptied; a corrupt one
is deleted and rebuilt.

Split by what it stores, one module each: :mod:`.schema` (the tables, their version,
opening and transactions), :mod:`.posts` (post files, buckets, duplicate ids),
:mod:`.groups` (groups, their members, archives), :mod:`.files` (files and folders
written, and the id ledger's lines).
"""

from __future__ import annotations

from pathlib import Path

from ...config import Config
from .files import Files, LedgerLines
from .groups import Groups
from .posts import Posts
from .schema import BAD, CACHE_NAME, GOOD, SKIPPED, Store, config_key, disk_full_error


class Cache:
    """A connection to the cache database, by what it stores: ``posts``, ``groups``,
    ``files`` and ``ledger``; ``store`` is the database itself.

    ``dry_run``: the file is used only if it exists and belongs to this config, and is
    never emptied or rebuilt (an in-memory cache stands in); the build rolls back.
    """

    def __init__(self, path: Path, config: Config, *, dry_run: bool = False) -> None:
        self.store = Store(path, config, dry_run=dry_run)
        self.groups = Groups(self.store)
        self.posts = Posts(self.store, self.groups)
        self.files = Files(self.store)
        self.ledger = LedgerLines(self.store)

    @property
    def empty(self) -> bool:
        """The cache knew nothing (new, emptied or rebuilt): every post is new."""
        return self.store.empty

    @property
    def warnings(self) -> list[str]:
        return self.store.warnings

    def reset(self, config: Config) -> None:
        """Forget everything (``--full``, a changed id ledger)."""
        self.store.reset(config)
        self.groups.reload()

    def discard(self) -> None:
        self.store.discard()

    def close(self) -> None:
        self.store.close()

    def begin(self) -> None:
        self.store.begin()

    def commit(self) -> None:
        self.store.commit()

    def rollback(self) -> None:
        self.store.rollback()

    def get_meta(self, key: str) -> str | None:
        return self.store.get_meta(key)

    def set_meta(self, key: str, value: str) -> None:
        self.store.set_meta(key, value)


__all__ = ["BAD", "CACHE_NAME", "GOOD", "SKIPPED", "Cache", "config_key", "disk_full_error"]
