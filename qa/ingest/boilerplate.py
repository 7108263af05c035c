"""Site boilerplate (navigation menus, headers, footers) learned from the articles.

Scraped .txt pages of one site open with the same navigation block and may end
with the same footer. What tells boilerplate from content:

- it is a *block*: several consecutive lines that other files hold too;
- it sits at the *edges* of the file (before the title, after the article):
  a quote two articles share, or a contact line ("Pour plus d'informations,
  veuillez contacter"), stands in the body and is never removed;
- it is counted in files, not as a share of the corpus: five press releases
  mixed with any number of notes from elsewhere still lose their menus, and
  a footer common to several sites does not dilute each site's menu.

So: lines are compared normalised; every run of ``SHINGLE_LINES`` consecutive
non-blank lines is hashed; a line is *shared* when one of the runs covering it
occurs in another file. A file's header is its longest prefix of shared lines,
its footer its longest suffix. A line of a header (footer) is boilerplate when
it stands in the header or footer of at least ``MIN_FILES`` files, or of two
when nothing in that header (footer) is more widespread (a site of two files).
The second condition keeps an article saved twice in a bigger site: its two
copies share the article, but the site's menu is in more files.

A lone file, or identical copies of one file, lose nothing; a file made only
of shared lines (a near-copy of others) does not count. The header stops at
the first line no other file has (the title): letting it run on over a line
or two would let three articles that open with the same paragraph lose it.
The price: when one line in the middle of a menu differs, the menu lines after
it stay in that file; and a one- or two-line header is not a block, so it stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .text import normalise_line

SHINGLE_LINES = 3  # a shared block is at least this many consecutive lines
MIN_FILES = 3  # a header/footer line in this many files is boilerplate (2 for a site of two files)

_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))


@dataclass(frozen=True)
class BoilerplateReport:
    """What was removed as site boilerplate."""

    lines: int = 0  # distinct lines (normalised) removed
    files: int = 0  # files they were removed from
    groups: int = 0  # groups of files sharing a header block (sites) they were removed from

    def summary(self) -> str:
        if not self.lines:
            return "no site boilerplate found"
        line = f"removed {self.lines} boilerplate lines from {self.files} files"
        if self.groups:
            line += f" ({self.groups} site" + ("s)" if self.groups != 1 else ")")
        return line


@dataclass(frozen=True)
class _File:
    lines: np.ndarray  # index in text.splitlines() of each non-blank line
    hashes: np.ndarray  # int64 hash of each non-blank line, normalised


def find_boilerplate(texts: Sequence[str]) -> tuple[list[frozenset[int]], BoilerplateReport]:
    """For each text, the indices (in ``text.splitlines()``) of its boilerplate lines."""
    if len(texts) < 2:  # nothing to compare with
        return [frozenset() for _ in texts], BoilerplateReport()
    files = [_describe(text) for text in texts]
    first_copy: dict[bytes, int] = {}
    copy_of = [first_copy.setdefault(f.hashes.tobytes(), i) for i, f in enumerate(files)]
    distinct = sorted(set(copy_of))  # identical files count once: a copy is not a site
    shingles = {i: _shingles(files[i].hashes) for i in distinct}
    shared = _shared(list(shingles.values()))
    edges = {i: _edges(_covered(shingles[i], shared, len(files[i].hashes))) for i in distinct}

    counts: dict[int, int] = {}  # line hash -> in the header or footer of how many files
    for i in distinct:
        n, (head, tail) = len(files[i].hashes), edges[i]
        if head + tail >= n:  # only shared lines: a (near-)copy of other files does not count
            continue
        for h in set(files[i].hashes[:head].tolist()) | set(files[i].hashes[n - tail :].tolist()):
            counts[h] = counts.get(h, 0) + 1

    removed_by_distinct: dict[int, np.ndarray] = {}
    for i in distinct:
        n, (head, tail) = len(files[i].hashes), edges[i]
        positions: list[int] = []
        for edge in (range(head), range(max(head, n - tail), n)):
            seen = [counts.get(h, 0) for h in files[i].hashes[edge.start : edge.stop].tolist()]
            if seen:
                floor = MIN_FILES if max(seen) >= MIN_FILES else 2
                positions += [p for p, count in zip(edge, seen, strict=True) if count >= floor]
        removed_by_distinct[i] = np.array(positions, dtype=np.int64)

    removed: list[frozenset[int]] = []
    names: set[str] = set()
    for i, text in enumerate(texts):
        indices = frozenset(files[i].lines[removed_by_distinct[copy_of[i]]].tolist())
        removed.append(indices)
        if indices:
            lines = text.splitlines()
            names.update(normalise_line(lines[j]) for j in indices)
    cleaned = [i for i in distinct if len(removed_by_distinct[i])]
    report = BoilerplateReport(
        lines=len(names),
        files=sum(1 for r in removed if r),
        groups=_count_sites(cleaned, shingles, shared, {i: edges[i][0] for i in cleaned}),
    )
    return removed, report


def _describe(text: str) -> _File:
    indices, hashes = [], []
    for i, line in enumerate(text.splitlines()):
        norm = normalise_line(line)
        if norm:
            indices.append(i)
            hashes.append(hash(norm))
    return _File(np.array(indices, dtype=np.int64), np.array(hashes, dtype=np.int64))


def _shingles(hashes: np.ndarray) -> np.ndarray:
    """One uint64 per run of SHINGLE_LINES consecutive lines."""
    n = len(hashes) - SHINGLE_LINES + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    h = hashes.view(np.uint64)
    value = h[:n].copy()
    for k in range(1, SHINGLE_LINES):
        value = value * _MIX[(k - 1) % 2] ^ h[k : k + n]  # wraps around: a hash, not a number
    return value


def _shared(per_file: list[np.ndarray]) -> np.ndarray:
    """Sorted shingles that occur in at least two files."""
    if not per_file:
        return np.zeros(0, dtype=np.uint64)
    values, counts = np.unique(np.concatenate([np.unique(s) for s in per_file]), return_counts=True)
    return values[counts >= 2]


def _is_shared(shingles: np.ndarray, shared: np.ndarray) -> np.ndarray:
    if not len(shared) or not len(shingles):
        return np.zeros(len(shingles), dtype=bool)
    pos = np.minimum(np.searchsorted(shared, shingles), len(shared) - 1)
    return shared[pos] == shingles


def _covered(shingles: np.ndarray, shared: np.ndarray, n_lines: int) -> np.ndarray:
    """Lines covered by a shingle that another file holds too."""
    hit = _is_shared(shingles, shared)
    covered = np.zeros(n_lines, dtype=bool)
    for k in range(SHINGLE_LINES):
        covered[k : k + len(hit)] |= hit
    return covered


def _edges(covered: np.ndarray) -> tuple[int, int]:
    """Lengths of the header and the footer: the shared prefix and suffix."""
    return _edge_length(covered), _edge_length(covered[::-1])


def _edge_length(covered: np.ndarray) -> int:
    """How many lines from the start are all covered."""
    uncovered = np.flatnonzero(~covered)
    return int(uncovered[0]) if len(uncovered) else len(covered)


def _count_sites(files: list[int], shingles: dict[int, np.ndarray], shared: np.ndarray, heads: dict[int, int]) -> int:
    """How many groups of at least two files are linked by a run of their headers (for the report)."""
    parent = {i: i for i in files}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    values, owners = [], []
    for i in files:
        runs = shingles[i][: max(0, heads[i] - SHINGLE_LINES + 1)]  # runs lying wholly in the header
        picked = np.unique(runs[_is_shared(runs, shared)])
        values.append(picked)
        owners.append(np.full(len(picked), i, dtype=np.int64))
    if values:
        value, owner = np.concatenate(values), np.concatenate(owners)
        order = np.argsort(value, kind="stable")
        value, owner = value[order], owner[order]
        for j in np.flatnonzero(value[1:] == value[:-1]).tolist():
            a, b = find(int(owner[j])), find(int(owner[j + 1]))
            if a != b:
                parent[max(a, b)] = min(a, b)
    sizes: dict[int, int] = {}
    for i in files:
        sizes[find(i)] = sizes.get(find(i), 0) + 1
    return sum(1 for size in sizes.values() if size >= 2)
