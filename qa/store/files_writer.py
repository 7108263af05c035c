"""Writing a new generation of the files store (:mod:`qa.store.faiss`), under its lock.

A run adds one segment with the articles it embedded and their vectors,
then writes a new generation folder (manifest, word-piece counts) aside, and
only then names it in ``CURRENT``. Only what changes is read: the base
generation's piece counts, and the piece ids of the passages that leave; no
stored vector is copied, and no vector index is rewritten: readers search
each segment's vectors where they lie (qa.store.vector_search). The run whose
segment brings the flat segments to ``ANN_THRESHOLD`` live passages builds
an IVF index over them, once, into its own segment.

Before anything, the base is checked as a reader checks it: its own files
and every file of its segments against their sha256. A segment file that no
longer matches (a flipped byte, an edit) takes its articles out of the base:
the run embeds them again (:class:`~qa.store.base.Repair`), the rest is kept.
A file is hashed again only when its size, inode, modification or change
time differ from those recorded when it was last hashed (as git does for its
index: any write changes the change time), so an update of a large index
does not read every stored byte.

A ``CURRENT`` that leads to no generation (empty, binary, a folder, a name
leaving the folder, a generation that is not there) is replaced: the run
continues from the newest intact generation this store made, if any, and
says so; a folder in its place is moved aside, not deleted.

A write that fails (a full disk above all) ends the run with one line
saying so and that the index in use is unchanged; what the run wrote, staged
or already in place, is removed.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .base import (
    DocumentEntry,
    EncodedPassage,
    IndexCorrupt,
    IndexSettings,
    IndexUnusable,
    Manifest,
    Repair,
    StoreUnavailable,
)
from .documents import DocumentTable, passage_counts
from .folder import GENERATION_NAME, POINTER, SEGMENTS, made_here, make_folder, remove_if_made_here
from .generations import (
    MANIFEST,
    PIECE_DF,
    Pointer,
    array_bytes,
    check_generation,
    fsync_folder,
    live_counts,
    mount_point,
    no_space,
    placement,
    placement_columns,
    read_manifest,
    read_pointer,
    write_file,
    write_pointer,
)
from .scoring import counted
from .segments import SegmentBuilder, segment_piece_ids, sha256, stamps, verify_segment
from .vector_search import Group, build_group, groups_of, needs_group
from .vectors import IVF_FILE

log = logging.getLogger(__name__)


class FilesWriter:
    def __init__(self, folder: Path, settings: IndexSettings, rebuild: bool):
        self.folder, self.settings = folder, settings
        self._pointer_aside: Path | None = None  # where a folder found in place of CURRENT goes
        pointer, lost_pointer = self._pointer()
        if lost_pointer is not None:
            self._base_version = None if rebuild else self._newest_intact()
            lost_pointer += "; replaced"
            if self._base_version is not None:
                lost_pointer += f", the index continues from {self._base_version}"
        else:
            self._base_version = pointer.generation if pointer else None
        self.base, self.rebuilt_because = self._usable_base(rebuild, pointer.checksum if pointer else None)
        self._documents = DocumentTable.of(self.base.documents if self.base else {})  # a copy, changed by the run
        self._placement: dict[str, tuple[str, int]] = placement(self.base) if self.base else {}
        self._segments: dict[str, dict[str, str]] = dict(self.base.extra["segments"]) if self.base else {}
        self._groups: list[Group] = groups_of(self.base.extra) if self.base else []
        self._stamps: dict[str, dict[str, list[int]]] = {}  # segment -> file -> stamp when last hashed
        self._dropped: list[tuple[str, int, int]] = []  # (segment, first row, rows) of passages that leave
        self._recount = False  # piece counts made again from the segments (a damaged one cannot be read)
        self._new_df = np.zeros(0, dtype=np.int32)  # piece document frequencies of the new passages
        self._segment_name = f"seg-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self._builder: SegmentBuilder | None = None
        self._staging: list[Path] = []  # folders being written: removed by close()
        self._placed: list[Path] = []  # in place but not yet named in CURRENT: removed by close() unless committed
        self.repair: Repair | None = self._drop_damaged() if self.base else None
        if lost_pointer is not None:
            log.warning("%s", lost_pointer)
            lost = self.repair.doc_ids if self.repair else frozenset()
            self.repair = Repair(lost, "; ".join([lost_pointer, *([self.repair.reason] if self.repair else [])]))

    def _pointer(self) -> tuple[Pointer | None, str | None]:
        """``CURRENT``, or why it leads to no generation (a folder in its place is to be moved aside)."""
        path = self.folder / POINTER
        if path.is_dir():
            self._pointer_aside = path.with_name(f"{POINTER}.{time.strftime('%Y%m%d-%H%M%S')}.moved")
            return None, f"{path} is a folder, moved to {self._pointer_aside.name}"
        try:
            pointer = read_pointer(self.folder)
        except IndexCorrupt as exc:
            return None, str(exc)
        if pointer is not None and not (self.folder / pointer.generation).is_dir():
            return None, f"{path} names {pointer.generation}, which is not there"
        return pointer, None

    def _newest_intact(self) -> str | None:
        """The newest generation this store made whose files match its manifest."""
        made = [p for p in self.folder.glob("gen-*") if GENERATION_NAME.fullmatch(p.name) and made_here(p)]
        for path in sorted(made, reverse=True):  # their names start with the time they were made
            try:
                check_generation(self.folder, path.name, read_manifest(self.folder, path.name))
            except IndexCorrupt:
                continue
            return path.name
        return None

    def _usable_base(self, rebuild: bool, checksum: str | None) -> tuple[Manifest | None, str | None]:
        if rebuild:
            return None, "a full rebuild was asked"
        if self._base_version is None:
            return None, None
        try:
            base = read_manifest(self.folder, self._base_version, checksum)
            check_generation(self.folder, self._base_version, base)
        except IndexUnusable as exc:
            log.warning("existing index unusable, rebuilding: %s", exc)
            return None, f"existing index unusable: {exc}"
        why = base.settings.incompatibility(self.settings)
        if why:
            log.warning("rebuilding the index: %s", why)
            return None, why
        return base, None

    def _drop_damaged(self) -> Repair | None:
        """Check the base's segments as a reader would; take the articles of damaged ones out of the
        base for this run to embed them again."""
        assert self.base is not None
        recorded = self.base.extra.get("stamps", {})
        damaged: dict[str, str] = {}
        for name, checksums in self._segments.items():
            try:
                self._stamps[name] = verify_segment(self.folder / SEGMENTS / name, checksums, recorded.get(name))
            except IndexCorrupt as exc:
                damaged[name] = str(exc)
        if not damaged:
            return None
        lost = frozenset(d for d, (segment, _) in self._placement.items() if segment in damaged)
        for doc_id in lost:
            del self._documents[doc_id], self._placement[doc_id]
        self._segments = {s: c for s, c in self._segments.items() if s not in damaged}
        self._recount = True
        self.base = Manifest(self.base.settings, self._documents.copy(), self.base.created, self.base.extra)
        reason = "; ".join(damaged.values())
        log.warning("%s: embedding its %d articles again", reason, len(lost))
        return Repair(lost, reason)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """A failed write becomes one line saying why; close() then removes what this run wrote."""
        try:
            yield
        except OSError as exc:
            if no_space(exc):
                where = f"{mount_point(self.folder)} (the disk holding {self.folder})"
                raise StoreUnavailable(f"no space left on {where}; the index in use is unchanged") from exc
            raise StoreUnavailable(
                f"cannot write the index in {self.folder}: {exc}; the index in use is unchanged"
            ) from exc

    def add(
        self,
        doc_id: str,
        content_hash: str,
        title: str,
        passages: Sequence[EncodedPassage],
        date: str | None = None,
    ) -> None:
        self.remove([doc_id])
        if self._builder is None:
            folder = self.folder / SEGMENTS / f".{self._segment_name}.tmp"
            self._staging.append(folder)
            with self._writing():
                self._builder = SegmentBuilder(make_folder(folder), self.settings.dim, self.settings.pieces)
        self._placement[doc_id] = (self._segment_name, len(self._builder))
        for encoded in passages:
            with self._writing():
                self._builder.add(encoded)
            self._new_df = counted(self._new_df, encoded.pieces.ids)
        self._documents[doc_id] = DocumentEntry(
            content_hash, title, tuple(e.passage.passage_id for e in passages), date
        )

    def remove(self, doc_ids: Iterable[str]) -> None:
        for doc_id in doc_ids:
            entry = self._documents.pop(doc_id, None)
            place = self._placement.pop(doc_id, None)
            if place is not None and place[0] == self._segment_name:
                raise ValueError(f"{doc_id} was added twice in one indexing run")
            if entry is not None and place is not None:
                self._dropped.append((place[0], int(place[1]), len(entry.passage_ids)))

    def commit(self) -> str:
        name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        staging = self.folder / f".{name}.tmp"
        self._staging.append(staging)
        with self._writing():
            self._keep_used_segments()
            if self._builder is not None:
                self._seal(self._builder)
                self._builder = None
            make_folder(staging)
            piece_df = self._piece_df()
            write_file(staging / PIECE_DF, array_bytes(piece_df))
            extra = {
                "segments": self._segments,
                "groups": [group.as_json() for group in self._groups],
                "stamps": {s: self._stamps[s] for s in self._segments if s in self._stamps},
                "placement": placement_columns(self._placement, self._documents),
                "files": {PIECE_DF: sha256(staging / PIECE_DF)},
            }
            manifest = Manifest(self.settings, self._documents, time.time(), extra)
            manifest_bytes = manifest.to_json().encode("utf-8")
            write_file(staging / MANIFEST, manifest_bytes)
            fsync_folder(staging)
            os.replace(staging, self.folder / name)
            self._placed.append(self.folder / name)
            if self._pointer_aside is not None:
                os.replace(self.folder / POINTER, self._pointer_aside)
            write_pointer(self.folder, name, manifest_bytes)
        self._placed.clear()  # in use now
        self._prune(name, self._base_version)
        return name

    def _seal(self, builder: SegmentBuilder) -> None:
        """Finish this run's segment (with an IVF index over the flat segments when they reach the
        threshold with it) and move it into place."""
        checksums = builder.finish()
        grouped = {name for group in self._groups for name in group.segments}
        flat = sorted(name for name in self._segments if name not in grouped)  # used ones (oldest first)
        live = self._live_counts(flat)  # the rows themselves only when a group is built
        if needs_group({**live, self._segment_name: len(builder)}):
            rows = self._live_rows({*flat, self._segment_name})
            empty = np.zeros(0, dtype=np.int64)
            mine = rows.get(self._segment_name, empty)
            members = [(name, self.folder / SEGMENTS / name, rows.get(name, empty)) for name in flat]
            group = build_group(builder.folder, [*members, (self._segment_name, builder.folder, mine)])
            self._groups.append(group)
            checksums[IVF_FILE] = sha256(builder.folder / IVF_FILE)
            log.info("vectors of %d segments now searched through one IVF index", len(group.segments))
        self._segments[self._segment_name] = checksums
        sealed = self.folder / SEGMENTS / self._segment_name
        os.replace(builder.folder, sealed)
        self._placed.append(sealed)
        self._stamps[self._segment_name] = stamps(sealed, checksums)

    def _live_counts(self, segments: list[str]) -> dict[str, int]:
        """How many rows of each of the base's ``segments`` the articles now held use: the base's
        counts (from its columns) less the rows of the passages that left."""
        if self.base is None or self._recount or "segments" not in self.base.extra["placement"]:
            rows = self._live_rows(set(segments))  # counted article by article
            return {name: len(rows.get(name, ())) for name in segments}
        live = live_counts(self.base)
        for segment, _first, count in self._dropped:
            live[segment] -= count
        return {name: live.get(name, 0) for name in segments}

    def _live_rows(self, segments: set[str]) -> dict[str, np.ndarray]:
        """The rows of each of ``segments`` that the articles now held use."""
        rows: dict[str, list[int]] = {}
        for doc_id, passages in passage_counts(self._documents):
            segment, first = self._placement[doc_id]
            if segment in segments:
                rows.setdefault(segment, []).extend(range(first, first + passages))
        return {segment: np.array(r, dtype=np.int64) for segment, r in rows.items()}

    def _keep_used_segments(self) -> None:
        """Forget the segments no article uses and the groups none of whose segments is used; a group's
        host segment stays while its group does (it holds the group's IVF index)."""
        used = {segment for segment, _ in self._placement.values()}
        self._groups = [g for g in self._groups if g.host in self._segments and used & set(g.segments)]
        hosts = {group.host for group in self._groups}
        self._segments = {s: c for s, c in self._segments.items() if s in used or s in hosts}

    def _piece_df(self) -> np.ndarray:
        """The base generation's piece counts, without the dropped passages, with the new ones."""
        if self.base is not None and self._base_version is not None:
            if self._recount:
                piece_df = self._kept_piece_df()
            else:
                piece_df = np.load(self.folder / self._base_version / PIECE_DF, allow_pickle=False).astype(np.int32)
                for segment, first, count in self._dropped:
                    for ids in segment_piece_ids(self.folder / SEGMENTS / segment, range(first, first + count)):
                        piece_df = counted(piece_df, ids, -1)
        else:
            piece_df = np.zeros(0, dtype=np.int32)
        size = max(len(piece_df), len(self._new_df))
        piece_df = np.pad(piece_df, (0, size - len(piece_df))) + np.pad(self._new_df, (0, size - len(self._new_df)))
        return piece_df.astype(np.int32)

    def _kept_piece_df(self) -> np.ndarray:
        """Piece counts of the passages kept from the base, counted again from their segments."""
        rows = self._live_rows(set(self._segments) - {self._segment_name})
        df = np.zeros(0, dtype=np.int32)
        for segment, segment_rows in rows.items():
            for ids in segment_piece_ids(self.folder / SEGMENTS / segment, segment_rows.tolist()):
                df = counted(df, ids)
        return df

    def close(self) -> None:
        """Remove what an interrupted or failed run left (the committed version is untouched)."""
        if self._builder is not None:
            self._builder.abandon()
        for path in [*self._staging, *self._placed]:
            shutil.rmtree(path, ignore_errors=True)

    def _prune(self, new: str, previous: str | None) -> None:
        """Remove older generations, the segments that neither the new generation nor the previous
        one uses, and leftovers of killed runs: only what this store made. The previous generation
        is kept: a reader may still be loading it."""
        for path in self.folder.glob("gen-*"):
            if path.name not in (new, previous):
                remove_if_made_here(path)
        used = set(self._segments) | (self._segments_of(previous) if previous else set())
        for path in (self.folder / SEGMENTS).glob("*"):
            if path.name not in used:
                remove_if_made_here(path)
        for path in self.folder.glob(".gen-*.tmp"):
            remove_if_made_here(path)

    def _segments_of(self, generation: str) -> set[str]:
        """The segments a generation uses; from the manifest already read when it is this run's base
        (at 147k articles, parsing a manifest again takes about a second)."""
        if self.base is not None and generation == self._base_version:
            return set(self.base.extra.get("segments", {}))
        try:
            manifest = read_manifest(self.folder, generation)
        except IndexCorrupt:
            return set()
        return set(manifest.extra.get("segments", {}))
