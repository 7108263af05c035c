"""The generations of the files store: the pointer naming the one in use, their manifests and files.

Read by the store's readers and its writer alike (:mod:`qa.store.faiss`,
:mod:`qa.store.files_writer`). A generation folder holds::

    manifest.json   Manifest: settings, articles, and in ``extra`` the segments with their
                    checksums, where each article's passages are, the groups of segments searched
                    through one IVF index (qa.store.vector_search), the checksum below
    piece_df.npy    how many passages hold each word-piece id

Generations written before vectors were searched per segment also hold a
``vectors.faiss`` of every passage vector; it is no longer read.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .base import IndexCorrupt, Manifest
from .documents import DocumentTable, passage_counts
from .folder import POINTER
from .segments import sha256

MANIFEST = "manifest.json"
PIECE_DF = "piece_df.npy"


@dataclass(frozen=True)
class Pointer:
    """What ``CURRENT`` says: the generation in use and its manifest's checksum."""

    generation: str
    checksum: str | None  # None: written by a version that did not record it


def read_pointer(folder: Path) -> Pointer | None:
    """``CURRENT`` of the index in ``folder`` (None: no index yet); IndexCorrupt when it names no generation."""
    path = folder / POINTER
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorrupt(f"{path}: unreadable ({exc})") from exc
    name, _, checksum = text.strip().partition(" ")
    if not name.startswith("gen-") or "/" in name or "\\" in name or ".." in name:
        raise IndexCorrupt(f"{path}: does not name a generation")
    return Pointer(name, checksum or None)


def write_pointer(folder: Path, generation: str, manifest_bytes: bytes) -> None:
    """Name ``generation`` in ``CURRENT`` with its manifest's checksum, atomically."""
    text = f"{generation} {hashlib.sha256(manifest_bytes).hexdigest()}\n"
    path = folder / POINTER
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_manifest(folder: Path, generation: str, checksum: str | None = None) -> Manifest:
    """The manifest of ``generation``, checked against ``checksum`` when given (``CURRENT``'s: a
    manifest edited by hand is refused)."""
    path = folder / generation / MANIFEST
    try:
        data = path.read_bytes()
        if checksum is not None and hashlib.sha256(data).hexdigest() != checksum:
            raise IndexCorrupt(f"{path}: content does not match its checksum in {POINTER} (damaged or edited)")
        return Manifest.from_json(data.decode("utf-8"))
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise IndexCorrupt(f"{path}: missing") from exc
    except IsADirectoryError as exc:
        raise IndexCorrupt(f"{path}: a folder, not a manifest") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"{path}: not a valid manifest ({exc})") from exc


def check_generation(folder: Path, generation: str, manifest: Manifest) -> None:
    """The generation's own files against the manifest's checksums (its segments are checked apart)."""
    for name in (PIECE_DF,):
        path = folder / generation / name
        if not path.is_file():
            raise IndexCorrupt(f"{path}: missing")
        if manifest.extra.get("files", {}).get(name) != sha256(path):
            raise IndexCorrupt(f"{path}: content does not match the manifest (damaged or edited)")


def placement(manifest: Manifest) -> dict[str, tuple[str, int]]:
    """doc_id → (segment, first row of its passages), from the manifest's columns."""
    where = manifest.extra["placement"]
    if "segments" not in where:  # written before the columns: {doc_id: [segment, row]}
        return {doc_id: (str(name), int(row)) for doc_id, (name, row) in where.items()}
    names, segments, rows = where["segments"], where["segment"], where["row"]
    if len(segments) != len(manifest.documents) or len(rows) != len(segments):
        raise ValueError("the manifest's placement columns differ in length from its articles")
    if not set(map(type, rows)) <= {int}:
        raise TypeError("the manifest's rows hold something other than numbers")
    # built by zip and map, without a Python step per article (10^5 of them)
    return dict(zip(manifest.documents, zip(map(names.__getitem__, segments), rows, strict=True), strict=True))


def live_counts(manifest: Manifest) -> dict[str, int]:
    """How many passages of each segment the manifest's articles use, from its columns."""
    names, segments = manifest.extra["placement"]["segments"], manifest.extra["placement"]["segment"]
    documents = manifest.documents
    counts = documents.passage_count_column() if isinstance(documents, DocumentTable) else None
    if counts is None:
        counts = [count for _, count in passage_counts(documents)]
    totals = np.bincount(np.asarray(segments, dtype=np.int64), weights=counts, minlength=len(names))
    return {name: int(total) for name, total in zip(names, totals, strict=True)}


def placement_columns(where: dict[str, tuple[str, int]], order: Iterable[str]) -> dict:
    """``where`` as columns in the manifest's order of articles (see Manifest.to_json)."""
    names = sorted({name for name, _ in where.values()})
    number = {name: i for i, name in enumerate(names)}
    ids = list(order)
    return {"segments": names, "segment": [number[where[d][0]] for d in ids], "row": [where[d][1] for d in ids]}


def write_file(path: Path, data: bytes) -> None:
    """``data`` into a new file (numpy's own writer reports a full disk as "N requested and M written",
    without ENOSPC: arrays are made into bytes first and written here)."""
    with open(path, "wb") as f:
        f.write(data)


def array_bytes(array: np.ndarray) -> bytes:
    """``array`` as an ``.npy`` file."""
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def no_space(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


def mount_point(path: Path) -> Path:
    """The mount point of the file system holding ``path``: what a person frees space on."""
    path = path.resolve()
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def fsync_folder(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as f:
            os.fsync(f.fileno())
