"""What in a folder belongs to the files store, so that a writer removes only what it made.

An index folder holds :data:`MARKER`, written when the folder is first used
for an index; a folder that is not empty and holds no marker is refused
(``--store ~/Documents`` must not become an index, nor have its ``gen-*``
folders pruned). Each generation and segment folder the store makes holds
:data:`MADE`, written as the folder is created: a later run prunes only
folders with a name the store gives *and* that file (or empty ones: a run
killed between the two steps), so a ``segments/holiday_photos`` or a
``gen-2024-report`` put there by hand stays.

An index folder written before the marker existed (``CURRENT``, ``gen-*``
and ``segments/``) is still opened, and adopted by the next writer: it gets
the marker, and its generations and segments, recognised by their names and
contents, get theirs.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

from .base import StoreLocationError

log = logging.getLogger(__name__)

MARKER = ".qa-index"
MADE = ".qa-made"
POINTER = "CURRENT"
SEGMENTS = "segments"
LOCK_FILE = ".lock"
MARKER_TEXT = (
    "This folder is an index written by `qa index`. It removes the gen-* and segments/seg-* folders it made\n"
    "once they are no longer used (those holding a .qa-made file); nothing else here is touched.\n"
)

_STAMP = r"\d{8}-\d{6}-[0-9a-f]{6}"
GENERATION_NAME = re.compile(rf"gen-{_STAMP}")
SEGMENT_NAME = re.compile(rf"seg-{_STAMP}")
STAGING_NAME = re.compile(rf"\.(?:gen|seg)-{_STAMP}\.tmp")
_LEFTOVER_FILE = re.compile(r"\.CURRENT\.[0-9a-f]{6}\.tmp")  # a pointer being replaced when a run was killed


def check_folder(folder: Path) -> None:
    """Raise :class:`StoreLocationError` unless ``folder`` may hold an index: it does not exist yet, is
    empty, is an index folder, or holds only other index folders (``qa eval`` keeps its own below one)."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise StoreLocationError(f"{folder} is a file, not an index folder")
    if not _is_index(folder) and not _holds_only_indexes(folder):
        raise StoreLocationError(
            f"{folder} is not empty and holds no index (no {MARKER} file in it): `qa index` writes only into a "
            "new or empty folder, or an index folder it made; give --store another folder"
        )


def claim(folder: Path) -> None:
    """Make ``folder`` (checked again: the caller holds the writer's lock) an index folder: write the
    marker into a new or empty one, and adopt one written before the marker existed."""
    check_folder(folder)
    if (folder / MARKER).is_file():
        return
    if _is_earlier_index(folder):
        adopted = _adopt(folder)
        log.info("%s: index folder of an earlier version; marked its %d folders as the index's own", folder, adopted)
    (folder / MARKER).write_text(MARKER_TEXT, encoding="utf-8")


def make_folder(path: Path) -> Path:
    """Create ``path`` (a generation or segment folder, or its staging folder), marked as made here."""
    path.mkdir(parents=True)
    (path / MADE).touch()
    return path


def made_here(path: Path) -> bool:
    """Whether ``path`` is a generation or segment folder this store made (and may remove)."""
    if not path.is_dir() or path.is_symlink():
        return False
    if not any(pattern.fullmatch(path.name) for pattern in (GENERATION_NAME, SEGMENT_NAME, STAGING_NAME)):
        return False
    return (path / MADE).is_file() or not any(path.iterdir())


def remove_if_made_here(path: Path) -> None:
    if made_here(path):
        shutil.rmtree(path, ignore_errors=True)


def _is_index(folder: Path) -> bool:
    return (folder / MARKER).is_file() or _is_earlier_index(folder) or _is_empty(folder)


def _is_empty(folder: Path) -> bool:
    return not _contents(folder)


def _contents(folder: Path) -> list[Path]:
    """What ``folder`` holds, but for what taking the lock or a killed run leaves."""
    return [p for p in folder.iterdir() if p.name != LOCK_FILE and not _LEFTOVER_FILE.fullmatch(p.name)]


def _is_earlier_index(folder: Path) -> bool:
    """The layout every version wrote: a pointer, a segments folder, a generation with its manifest."""
    if not (folder / POINTER).is_file() or not (folder / SEGMENTS).is_dir():
        return False
    return any(GENERATION_NAME.fullmatch(p.name) and (p / "manifest.json").is_file() for p in folder.glob("gen-*"))


def _holds_only_indexes(folder: Path, depth: int = 2) -> bool:
    """Whether every entry of ``folder`` is an index folder, or a folder of them (``depth`` levels down)."""
    entries = _contents(folder)
    if not entries or depth == 0:
        return False
    return all(
        p.is_dir() and not p.is_symlink() and (_is_index(p) and not _is_empty(p) or _holds_only_indexes(p, depth - 1))
        for p in entries
    )


def _adopt(folder: Path) -> int:
    """Mark the generations and segments of an index written before the marker existed: those with the
    names the store gives and the file each holds (a staging folder: any)."""
    found = [p for p in folder.glob("gen-*") if GENERATION_NAME.fullmatch(p.name) and (p / "manifest.json").is_file()]
    found += [
        p
        for p in (folder / SEGMENTS).glob("seg-*")
        if SEGMENT_NAME.fullmatch(p.name) and (p / "segment.json").is_file()
    ]
    found += [
        p for p in (*folder.glob(".gen-*"), *(folder / SEGMENTS).glob(".seg-*")) if STAGING_NAME.fullmatch(p.name)
    ]
    for path in found:
        if path.is_dir() and not path.is_symlink():
            (path / MADE).touch()
    return len(found)
