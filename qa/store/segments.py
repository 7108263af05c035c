"""Immutable groups of stored passages, the building blocks of the files store.

A segment is a folder written once by one indexing run and never changed::

    segment.json      counts, dimension and the format of the word pieces (and sentence vectors)
    passages.jsonl    one passage per line
    vectors.f32       passage vectors            (passages, dim)
    bounds.i64        first sentence and piece row of each passage (passages + 1, 2)
    terms.npz         keyword counts (qa.lexical.TermCounts)
    vectors.ivf       in some segments only: an IVF index over the vectors of a group of segments
                      (qa.store.vector_search), this one and earlier ones

and, for pieces in the ``pq16s64`` format (qa.store.piece_formats, ``QA_PIECES=pq16s64``), 5.8 KB a
passage of PIAF in all::

    sentence_codes.u8 sentence vector codes      (sentences, 64)
    piece_codes.u8    word-piece codes           (pieces, 16)
    piece_ids.i32     token id of each piece     (pieces,)
    piece_ends.u16    where it ends in the passage's titled text (pieces,)

or, in the ``pq16`` format (``QA_PIECES=pq16``), 6.7 KB, the same but for the sentence vectors::

    sentences.i8      sentence vectors, int8     (sentences, dim), with
    sentence_scales.f32                          (sentences,)

or, in the ``int8`` format (the default, and every segment written before the formats), 49 KB::

    sentences.f16     sentence vectors           (sentences, dim)
    pieces.i8         word-piece vectors, int8   (pieces, dim), with
    piece_scales.f32  one scale per piece        (pieces,)
    piece_meta.i32    token id and end offset    (pieces, 2)

Arrays are raw little-endian files, appended while the run embeds and read
back as memory maps, so neither side holds a whole archive in memory; the
passage vectors are searched where they lie (qa.store.vector_search).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..chunking import Passage
from ..embed import Pieces
from ..lexical import TermCounts
from .base import EncodedPassage, IndexCorrupt, passage_key
from .piece_formats import named
from .scoring import dequantise, quantise
from .vectors import IVF_FILE, read_ivf

SEGMENT_JSON = "segment.json"
# file -> (dtype, columns: "dim", "code" (bytes a piece) or a number), for each piece format
LAYOUTS: dict[str, dict[str, tuple[str, str | int]]] = {
    "int8": {
        "vectors.f32": ("<f4", "dim"),
        "sentences.f16": ("<f2", "dim"),
        "pieces.i8": ("i1", "dim"),
        "piece_scales.f32": ("<f4", 1),
        "piece_meta.i32": ("<i4", 2),
        "bounds.i64": ("<i8", 2),
    },
    "pq16": {
        "vectors.f32": ("<f4", "dim"),
        "sentences.i8": ("i1", "dim"),
        "sentence_scales.f32": ("<f4", 1),
        "piece_codes.u8": ("u1", "code"),
        "piece_ids.i32": ("<i4", 1),
        "piece_ends.u16": ("<u2", 1),
        "bounds.i64": ("<i8", 2),
    },
    "pq16s64": {
        "vectors.f32": ("<f4", "dim"),
        "sentence_codes.u8": ("u1", "sentence_code"),
        "piece_codes.u8": ("u1", "code"),
        "piece_ids.i32": ("<i4", 1),
        "piece_ends.u16": ("<u2", 1),
        "bounds.i64": ("<i8", 2),
    },
}
ROWS = {"vectors.f32": "passages", "bounds.i64": "passages", "sentences.f16": "sentences", "sentences.i8": "sentences"}
ROWS |= {"sentence_scales.f32": "sentences", "sentence_codes.u8": "sentences"}  # every other array: a row a piece
MAX_END = np.iinfo(np.uint16).max  # a piece ending further into a passage is kept as ending there


def layout_files(piece_format: str) -> tuple[str, ...]:
    return (SEGMENT_JSON, "passages.jsonl", *LAYOUTS[piece_format], "terms.npz")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stamp(path: Path) -> list[int]:
    """Size, inode, modification and change times (ns) of a file: any write changes the change time,
    which no program can set back."""
    info = path.stat()
    return [info.st_size, info.st_ino, info.st_mtime_ns, info.st_ctime_ns]


def files_of(checksums: dict[str, str]) -> tuple[str, ...]:
    """The files of a segment with these checksums: those of its layout, and its IVF index if it has one."""
    kind = "int8" if "pieces.i8" in checksums else "pq16s64" if "sentence_codes.u8" in checksums else "pq16"
    files = layout_files(kind)
    return files + tuple(name for name in checksums if name not in files)


def stamps(folder: Path, checksums: dict[str, str]) -> dict[str, list[int]]:
    """The stamps of a segment's files."""
    return {name: stamp(folder / name) for name in files_of(checksums)}


def verify_segment(
    folder: Path, checksums: dict[str, str], known: dict[str, list[int]] | None = None
) -> dict[str, list[int]]:
    """Every file of a segment against its sha256 in ``checksums``, naming the first that differs
    (IndexCorrupt). A file whose stamp is in ``known`` (taken when it was last hashed) is not hashed
    again. Returns the files' stamps."""
    now = {}
    for name in files_of(checksums):
        path = folder / name
        if not path.is_file():
            raise IndexCorrupt(f"{path}: missing")
        now[name] = stamp(path)
        if (known or {}).get(name) != now[name] and checksums.get(name) != sha256(path):
            raise IndexCorrupt(f"{path}: content does not match the manifest (damaged or edited)")
    return now


class SegmentBuilder:
    """Appends encoded passages to a new segment folder; :meth:`finish` seals it."""

    def __init__(self, folder: Path, dim: int, piece_format: str = "int8"):
        """``folder``: made for it (see qa.store.folder.make_folder); ``piece_format``: one of
        qa.store.piece_formats.FORMATS."""
        self.folder, self.dim = folder, dim
        self.piece_format = named(piece_format)
        self.layout = LAYOUTS[piece_format]
        # held open while the run embeds, closed by finish() or abandon()
        self._files = {name: open(folder / name, "wb") for name in ("passages.jsonl", *self.layout)}  # noqa: SIM115
        self._texts: list[str] = []
        self._sentences = self._pieces = 0
        self._files["bounds.i64"].write(np.zeros((1, 2), dtype="<i8").tobytes())

    def __len__(self) -> int:
        return len(self._texts)

    def add(self, encoded: EncodedPassage) -> None:
        p = encoded.passage
        self._sentences += len(p.sentences)
        self._pieces += len(encoded.pieces.ids)
        writes = {
            "passages.jsonl": (json.dumps(p.as_dict(), ensure_ascii=False) + "\n").encode("utf-8"),
            "vectors.f32": encoded.vector.astype("<f4").tobytes(),
            "bounds.i64": np.array([self._sentences, self._pieces], dtype="<i8").tobytes(),
        }
        if self.piece_format.name == "int8":
            pieces, scales = quantise(encoded.pieces.vectors)
            meta = np.stack([encoded.pieces.ids, encoded.pieces.ends], axis=1).astype("<i4")
            writes |= {
                "sentences.f16": encoded.sentence_vectors.astype("<f2").tobytes(),
                "pieces.i8": pieces.tobytes(),
                "piece_scales.f32": scales.astype("<f4").tobytes(),
                "piece_meta.i32": meta.tobytes(),
            }
        else:
            if self.piece_format.sentence_code_size(self.dim):
                writes["sentence_codes.u8"] = self.piece_format.encode_sentences(encoded.sentence_vectors).tobytes()
            else:
                sentences, sentence_scales = quantise(encoded.sentence_vectors)
                writes["sentences.i8"] = sentences.tobytes()
                writes["sentence_scales.f32"] = sentence_scales.astype("<f4").tobytes()
            writes |= {
                "piece_codes.u8": self.piece_format.encode(encoded.pieces.vectors).tobytes(),
                "piece_ids.i32": encoded.pieces.ids.astype("<i4").tobytes(),
                "piece_ends.u16": np.minimum(encoded.pieces.ends, MAX_END).astype("<u2").tobytes(),
            }
        for name, data in writes.items():
            self._files[name].write(data)
        self._texts.append(p.titled_text)

    def finish(self) -> dict[str, str]:
        """Write the keyword counts and the counts file, flush to disk; returns file checksums."""
        for f in self._files.values():
            f.flush()
            os.fsync(f.fileno())
            f.close()
        TermCounts.of(self._texts).save(self.folder / "terms.npz")
        info: dict[str, int | str] = {
            "passages": len(self._texts),
            "sentences": self._sentences,
            "pieces": self._pieces,
            "dim": self.dim,
        }
        if self.piece_format.name != "int8":  # segments written before the formats have none: int8
            info |= {"piece_format": self.piece_format.name, "code": self.piece_format.code_size(self.dim)}
            if sentence_code := self.piece_format.sentence_code_size(self.dim):
                info["sentence_code"] = sentence_code
        (self.folder / SEGMENT_JSON).write_text(json.dumps(info), encoding="utf-8")
        return {name: sha256(self.folder / name) for name in layout_files(self.piece_format.name)}

    def abandon(self) -> None:
        """Close the files of a segment that will not be used; what they could not write is lost."""
        for f in self._files.values():
            with contextlib.suppress(OSError):  # a full disk fails again as the buffer is flushed
                f.close()


class Segment:
    """A sealed segment, read through memory maps."""

    def __init__(self, folder: Path, checksums: dict[str, str]):
        self.folder = folder
        verify_segment(folder, checksums)
        try:
            self.info = json.loads((folder / SEGMENT_JSON).read_text(encoding="utf-8"))
            with open(folder / "passages.jsonl", encoding="utf-8") as f:
                self.passages = [_passage_from_json(line) for line in f]
            self.piece_format = named(self.info.get("piece_format", "int8"))
            self.arrays = {name: self._map(name) for name in LAYOUTS[self.piece_format.name]}
        except (ValueError, KeyError, TypeError, OSError) as exc:
            raise IndexCorrupt(f"{folder}: unreadable ({exc})") from exc
        bounds = self.arrays["bounds.i64"]
        if len(self.passages) != self.info["passages"] or len(bounds) != len(self.passages) + 1:
            raise IndexCorrupt(f"{folder}: {len(self.passages)} passages, {self.info['passages']} expected")
        if [len(p.sentences) for p in self.passages] != np.diff(bounds[:, 0]).tolist():
            raise IndexCorrupt(f"{folder / 'bounds.i64'}: sentence counts disagree with the passages")

    def _map(self, name: str) -> np.ndarray:
        dtype, cols = LAYOUTS[self.piece_format.name][name]
        shape = _shape(self.info, name, cols)
        path = self.folder / name
        if path.stat().st_size != shape[0] * shape[1] * np.dtype(dtype).itemsize:
            raise ValueError(f"{name} holds {path.stat().st_size} bytes, not {shape} of {dtype}")
        if shape[0] == 0:
            return np.zeros(shape, dtype=dtype)
        array = np.memmap(path, dtype=dtype, mode="r", shape=shape)
        return array[:, 0] if cols == 1 else array

    @cached_property
    def terms(self) -> TermCounts:
        return TermCounts.load(self.folder / "terms.npz")

    @property
    def vectors(self) -> np.ndarray:
        """The passage vectors, one row per passage (a memory map)."""
        return self.arrays["vectors.f32"]

    @cached_property
    def keys(self) -> np.ndarray:
        """The store's handle (``passage_key``) of each passage, by row."""
        return np.array([passage_key(p.passage_id) for p in self.passages], dtype=np.int64)

    @cached_property
    def ivf(self) -> Any:
        """The IVF index this segment holds (see qa.store.vector_search); IndexCorrupt when it has none."""
        try:
            return read_ivf(self.folder / IVF_FILE)
        except (ValueError, OSError) as exc:
            raise IndexCorrupt(f"{self.folder / IVF_FILE}: unreadable ({exc})") from exc

    def sentence_vectors(self, row: int) -> np.ndarray:
        start, end = self.arrays["bounds.i64"][row : row + 2, 0]
        if "sentences.f16" in self.arrays:
            return np.asarray(self.arrays["sentences.f16"][start:end], dtype=np.float32)
        if "sentence_codes.u8" in self.arrays:
            return self.piece_format.decode_sentences(
                self.arrays["sentence_codes.u8"][start:end], int(self.info["dim"])
            )
        return dequantise(self.arrays["sentences.i8"][start:end], self.arrays["sentence_scales.f32"][start:end])

    def pieces(self, row: int) -> Pieces:
        start, end = self.arrays["bounds.i64"][row : row + 2, 1]
        if "pieces.i8" in self.arrays:
            vectors = dequantise(self.arrays["pieces.i8"][start:end], self.arrays["piece_scales.f32"][start:end])
            meta = self.arrays["piece_meta.i32"][start:end]
            return Pieces(ids=np.asarray(meta[:, 0]), vectors=vectors, ends=np.asarray(meta[:, 1]))
        return Pieces(
            ids=np.asarray(self.arrays["piece_ids.i32"][start:end]),
            vectors=self.piece_format.decode(self.arrays["piece_codes.u8"][start:end], int(self.info["dim"])),
            ends=np.asarray(self.arrays["piece_ends.u16"][start:end], dtype=np.int32),
            coarse=self.piece_format.coarse,
        )


def _shape(info: dict, name: str, cols: str | int) -> tuple[int, int]:
    """Rows and columns of a segment's array, from the counts in its segment.json."""
    rows = ROWS.get(name, "pieces")
    widths = {"dim": info["dim"], "code": info.get("code", 0), "sentence_code": info.get("sentence_code", 0)}
    width = widths[cols] if isinstance(cols, str) else cols
    return int(info[rows]) + (name == "bounds.i64"), int(width)


def segment_piece_ids(folder: Path, rows: Sequence[int]) -> list[np.ndarray]:
    """The word-piece token ids of some passages of a segment, read without loading the rest."""
    info = json.loads((folder / SEGMENT_JSON).read_text(encoding="utf-8"))
    bounds = np.memmap(folder / "bounds.i64", dtype="<i8", mode="r", shape=(info["passages"] + 1, 2))
    if not info["pieces"]:
        return [np.zeros(0, dtype=np.int32) for _ in rows]
    ids: np.ndarray
    if "piece_format" in info:
        ids = np.memmap(folder / "piece_ids.i32", dtype="<i4", mode="r", shape=(info["pieces"],))
    else:
        ids = np.memmap(folder / "piece_meta.i32", dtype="<i4", mode="r", shape=(info["pieces"], 2))[:, 0]
    return [np.asarray(ids[bounds[r, 1] : bounds[r + 1, 1]]) for r in rows]


def _passage_from_json(line: str) -> Passage:
    return Passage.from_dict(json.loads(line))
