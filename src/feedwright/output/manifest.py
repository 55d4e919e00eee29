"""The manifest: every file feedwright wrote in the output folder, and what is in it.

Only files in the manifest are ever removed. Archive files' entries (``feeds.archives``)
are kept in a file of their own: a site's archives are most of its files, and a build
reads them only when it may decide an archive. Reading returns the entries and whether
the file was damaged as a value (:class:`Loaded`); a damaged manifest is rebuilt by the
engine from what its cache knows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..layout import is_archive_path
from ..model import ManifestEntry

MANIFEST = "manifest"
#: The manifest's entries for archive files, kept apart.
ARCHIVE_MANIFEST = "manifest-archives"


@dataclass(frozen=True, slots=True)
class Loaded:
    """A manifest file as read."""

    entries: dict[str, ManifestEntry] = field(default_factory=dict)
    #: It existed but could not be read (``entries`` is empty; ``warning`` says why).
    damaged: bool = False
    #: It holds archive files' entries (it was written before they were kept apart).
    mixed: bool = False
    warning: str | None = None


def load(path: Path) -> Loaded:
    """Read a manifest file (none: no entries)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Loaded()
    except OSError as e:
        return Loaded(damaged=True, warning=f"{path}: cannot read ({e.strerror}); it is rebuilt")
    try:
        files = json.loads(raw)["files"]
        entries = {
            str(k): ManifestEntry(
                sources=tuple(map(str, v.get("sources", ()))),  # map: ~3x faster
                name=str(v.get("name", "")),
                count=int(v.get("count", 0)),
                newest=str(v.get("newest", "")),
            )
            for k, v in files.items()
        }
    except (ValueError, KeyError, TypeError, AttributeError):
        return Loaded(damaged=True, warning=f"{path}: unreadable manifest; it is rebuilt")
    return Loaded(entries, mixed=any(is_archive_path(p) for p in entries))


def encode(entries: Mapping[str, ManifestEntry]) -> bytes:
    """A manifest file's bytes."""
    files = {
        k: {"sources": v.sources, "name": v.name, "count": v.count, "newest": v.newest}
        for k, v in sorted(entries.items())
    }
    return json.dumps({"version": 1, "files": files}, ensure_ascii=False, indent=1).encode()


def split(
    entries: Mapping[str, ManifestEntry],
) -> tuple[dict[str, ManifestEntry], dict[str, ManifestEntry]]:
    """The entries of the main manifest, and those of archive files."""
    main: dict[str, ManifestEntry] = {}
    archives: dict[str, ManifestEntry] = {}
    for path, entry in entries.items():
        (archives if is_archive_path(path) else main)[path] = entry
    return main, archives
