"""The manifest: every file feedwright wrote in the output folder, and what is in it.

Only files in the manifest are ever removed. Archive files' entries (``feeds.archives``)
are kept apart, one file per group in :data:`ARCHIVES_DIR` (:func:`archive_name`): a
site's archives are most of its files, and a build reads and saves only those of the
groups it may decide an archive of. (Builds before that kept them all in one file,
:data:`ARCHIVE_MANIFEST`: still read, and split when next saved.) Reading returns the
entries and whether the file was damaged as a value (:class:`Loaded`); a damaged
manifest is rebuilt by the engine from what its cache knows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..layout import archive_group, is_archive_path
from ..model import GroupKey, ManifestEntry

MANIFEST = "manifest"
#: The folder (in ``.feedwright/``) of the manifest's entries for archive files: one file
#: per group (:func:`archive_name`).
ARCHIVES_DIR = "archives"
#: The one file older builds kept every archive file's entries in.
ARCHIVE_MANIFEST = "manifest-archives"


def archive_name(key: GroupKey) -> str:
    """The file (in :data:`ARCHIVES_DIR`) of a group's archive entries: its kind and a hash
    of its slug (a slug may be long, or hold any character; a name stays short and safe)."""
    digest = hashlib.blake2b(key.slug.encode("utf-8"), digest_size=12).hexdigest()
    return f"{key.kind}-{digest}"


@dataclass(frozen=True, slots=True)
class Loaded:
    """A manifest file as read."""

    entries: dict[str, ManifestEntry] = field(default_factory=dict)
    #: It existed but could not be read (``entries`` is empty; ``warning`` says why).
    damaged: bool = False
    #: It holds archive files' entries (it was written before they were kept apart).
    mixed: bool = False
    warning: str | None = None


def load(path: Path, *, archives: bool = False) -> Loaded:
    """Read a manifest file (none: no entries); ``archives``: one that holds archive
    entries by design (never ``mixed``)."""
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
    return Loaded(entries, mixed=not archives and any(is_archive_path(p) for p in entries))


def encode(entries: Mapping[str, ManifestEntry]) -> bytes:
    """A manifest file's bytes."""
    files = {
        k: {"sources": v.sources, "name": v.name, "count": v.count, "newest": v.newest}
        for k, v in sorted(entries.items())
    }
    # compact: ``indent`` sends json to its pure-Python encoder, ~10x slower (seconds for
    # the 138,000 archive entries of a big site's cold build, twice: claimed, then written)
    data = {"version": 1, "files": files}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def split(
    entries: Mapping[str, ManifestEntry],
) -> tuple[dict[str, ManifestEntry], dict[GroupKey, dict[str, ManifestEntry]]]:
    """The entries of the main manifest, and those of archive files by group."""
    main: dict[str, ManifestEntry] = {}
    archives: dict[GroupKey, dict[str, ManifestEntry]] = {}
    for path, entry in entries.items():
        if is_archive_path(path):
            archives.setdefault(archive_group(path), {})[path] = entry
        else:
            main[path] = entry
    return main, archives
