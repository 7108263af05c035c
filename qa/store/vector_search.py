"""The passage vectors of a files-store generation, searched where each segment keeps them.

A segment holds the vectors of the passages it was written with
(``vectors.f32``); those of articles changed or removed since stay in it,
no longer *live*. An update writes its own segment and no other vector file:
searching is what brings the segments together.

- A *flat* segment is searched by comparing the question with all its
  vectors, the dead ones left out: exact.
- Once the flat segments hold :data:`~qa.store.vectors.ANN_THRESHOLD` live
  passages in all, the run that crosses it builds one IVF index over their
  vectors (qa.store.vectors) and keeps it in its own new segment, the
  *host*; from then on these segments are a *group*, searched through that
  index, and later segments are flat again until they cross the threshold
  in their turn. A group is never rewritten: passages removed from it are
  left out of its search by a bitmap of the live ones. Its index numbers
  the vectors of its segments one after the other, row by row.

The best of every part, all scored with the full vectors, are merged: the
top k of the flat segments is exact, and a group finds what its IVF index
finds (recall 0.985 at 1M, docs/benchmarks.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .segments import SEGMENT_JSON, Segment
from .vectors import ANN_THRESHOLD, IVF_FILE, REFINED, best_first, build_ivf, search_ivf, write_ivf


@dataclass(frozen=True)
class Group:
    """Segments searched through one IVF index, kept in the folder of the ``host`` segment."""

    host: str
    segments: tuple[str, ...]
    rows: tuple[int, ...]  # passages of each segment: its vectors' ids start where the previous segment's end

    @property
    def starts(self) -> np.ndarray:
        """The id of the first vector of each segment, and one past the last."""
        return np.concatenate([[0], np.cumsum(self.rows, dtype=np.int64)])

    def as_json(self) -> dict:
        return {"host": self.host, "segments": list(self.segments), "rows": list(self.rows)}

    @classmethod
    def from_json(cls, data: dict) -> Group:
        """Raises KeyError, TypeError or ValueError on anything else."""
        group = cls(str(data["host"]), tuple(map(str, data["segments"])), tuple(int(r) for r in data["rows"]))
        if len(group.segments) != len(group.rows) or group.host not in group.segments:
            raise ValueError(f"group {group.host}: {len(group.segments)} segments, {len(group.rows)} row counts")
        return group


def groups_of(extra: Mapping) -> list[Group]:
    """The groups a manifest's ``extra`` names (none in indexes written before groups)."""
    return [Group.from_json(g) for g in extra.get("groups", [])]


def needs_group(live_in_flat: Mapping[str, int]) -> bool:
    """Whether flat segments holding these live passages are to be grouped under one IVF index."""
    return sum(live_in_flat.values()) >= ANN_THRESHOLD


def build_group(host: Path, members: Sequence[tuple[str, Path, np.ndarray]]) -> Group:
    """An IVF index over the live vectors of ``members`` (segment name, folder, live rows), oldest
    first, written into ``host``: the folder of the last member, the segment being written."""
    counts = [_counts(folder) for _, folder, _ in members]
    rows = tuple(int(c["passages"]) for c in counts)
    group = Group(members[-1][0], tuple(name for name, _, _ in members), rows)
    vectors, ids = [], []
    for (_, folder, live), start, count in zip(members, group.starts, counts, strict=False):
        shape = (int(count["passages"]), int(count["dim"]))
        mapped = np.memmap(folder / "vectors.f32", dtype="<f4", mode="r", shape=shape) if shape[0] else np.zeros(shape)
        vectors.append(np.asarray(mapped[live], dtype=np.float32))
        ids.append(start + np.asarray(live, dtype=np.int64))
    write_ivf(build_ivf(np.concatenate(vectors), np.concatenate(ids)), host / IVF_FILE)
    return group


def _counts(folder: Path) -> dict:
    """A segment's counts (passages, dimension …), from its segment.json."""
    return json.loads((folder / SEGMENT_JSON).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class _Flat:
    segment: Segment
    live: np.ndarray | None  # rows to search (None: every row)


@dataclass(frozen=True)
class _Grouped:
    index: Any  # the IVF index
    members: tuple[Segment | None, ...]  # None: a segment no longer kept (none of its rows is live)
    starts: np.ndarray
    live: np.ndarray  # bitmap of the live ids (np.packbits, little-endian)


class PassageVectors:
    """Nearest passages over the segments of one generation."""

    def __init__(self, segments: Mapping[str, Segment], live: Mapping[str, Iterable[int]], groups: Sequence[Group]):
        """``live``: the rows of each segment that the generation uses. Raises ValueError when the
        groups disagree with the segments."""
        self._flat: list[_Flat] = []
        self._groups: list[_Grouped] = []
        grouped = {name for group in groups for name in group.segments}
        live_rows = {name: np.fromiter(rows, dtype=np.int64) for name, rows in live.items()}
        for group in groups:
            self._groups.append(self._grouped(group, segments, live_rows))
        for name, rows in live_rows.items():
            if name not in grouped and len(rows):
                segment = segments[name]
                self._flat.append(_Flat(segment, None if len(rows) == len(segment.passages) else np.sort(rows)))

    @staticmethod
    def _grouped(group: Group, segments: Mapping[str, Segment], live_rows: Mapping[str, np.ndarray]) -> _Grouped:
        if group.host not in segments:
            raise ValueError(f"group {group.host}: its segment is not in the generation")
        members = tuple(segments.get(name) for name in group.segments)
        for name, segment, rows in zip(group.segments, members, group.rows, strict=True):
            if segment is not None and len(segment.passages) != rows:
                raise ValueError(f"group {group.host}: {name} holds {len(segment.passages)} passages, not {rows}")
        starts = group.starts
        mask = np.zeros(int(starts[-1]), dtype=bool)
        for name, start in zip(group.segments, starts, strict=False):
            mask[start + live_rows.get(name, np.zeros(0, dtype=np.int64))] = True
        index = segments[group.host].ivf
        if index.ntotal > len(mask):
            raise ValueError(f"group {group.host}: {index.ntotal} vectors for {len(mask)} passages")
        return _Grouped(index, members, starts, np.packbits(mask, bitorder="little"))

    @property
    def group_count(self) -> int:
        return len(self._groups)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest passages as (key, cosine), nearest first."""
        query = np.asarray(query, dtype=np.float32)
        keys: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        for flat in self._flat:
            every = np.asarray(flat.segment.vectors @ query)
            rows = best_first(every if flat.live is None else every[flat.live], k)
            rows = rows if flat.live is None else flat.live[rows]
            keys.append(flat.segment.keys[rows])
            scores.append(every[rows])
        for group in self._groups:
            ids = search_ivf(group.index, query, k * REFINED, group.live)
            member = np.searchsorted(group.starts, ids, side="right") - 1
            for m in np.unique(member):
                segment = group.members[m]
                assert segment is not None  # its live bits are set only when it is kept
                rows = ids[member == m] - group.starts[m]
                keys.append(segment.keys[rows])
                scores.append(np.asarray(segment.vectors[rows] @ query))  # scored again, exactly
        if not keys:
            return []
        all_keys, all_scores = np.concatenate(keys), np.concatenate(scores)
        best = best_first(all_scores, k)
        return [(int(all_keys[i]), float(all_scores[i])) for i in best]
