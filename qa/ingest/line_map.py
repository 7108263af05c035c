"""Where each record of a plain collection lies, so that an edited collection is read only where it changed.

A collection of 10^5 records edited in one line used to be read whole: every
line split and hashed to find the one record that changed. A :class:`LineMap`
cuts the file, as the run that read it found it, into blocks of whole lines of
about :data:`MAP_BLOCK` bytes, each with the sha256 of its bytes, its number
of lines and the ids of its records. The next run compares blocks, not lines:

- from the start, the blocks whose bytes are still there at the same offset
  (their records unchanged, by their bytes);
- from the end, the blocks whose bytes are still there as far from the end,
  preceded by a line break;
- only what lies between is read, parsed and hashed line by line, as without
  a map (a record moved into it is still recognised by its hash).

A map is kept with the file's stamp (qa.file_stamps) and trusted as the stamp
is: for the file whose bytes the stamp names, while the index holds exactly
the articles it held after the run that made both; a file with a line that
could not be used keeps neither (it is read whole each time, to say why).
Gzipped collections have no map: they are read whole.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import IO

MAP_BLOCK = 1 << 18  # bytes a block holds at least (but its last line, and the file's last block)
_READ = 1 << 20  # bytes read at a time


@dataclass(frozen=True)
class Block:
    """Whole lines of a collection, from byte ``start`` on."""

    start: int
    size: int  # bytes
    sha256: str  # of those bytes
    lines: int  # lines it holds (a last line without a break counts)
    records: tuple[str, ...]  # the ids of its records, in order (blank lines hold none)

    def as_json(self) -> list:
        return [self.start, self.size, self.sha256, self.lines, list(self.records)]

    @classmethod
    def from_json(cls, data: list) -> Block:
        start, size, digest, lines, records = data
        if not all(type(x) is int for x in (start, size, lines)) or type(digest) is not str:
            raise TypeError("not a block of a line map")
        if not all(type(r) is str for r in records):
            raise TypeError("a record id of a line map is not a string")
        return cls(start, size, digest, lines, tuple(records))


@dataclass(frozen=True)
class LineMap:
    """A collection's blocks, one after the other from byte 0 to its end."""

    blocks: tuple[Block, ...]

    @property
    def size(self) -> int:
        return self.blocks[-1].start + self.blocks[-1].size if self.blocks else 0

    def as_json(self) -> list:
        return [block.as_json() for block in self.blocks]

    @classmethod
    def from_json(cls, data: list) -> LineMap:
        """Raises TypeError or ValueError on anything that is not a map."""
        blocks = tuple(Block.from_json(b) for b in data)
        if any(b.start != a.start + a.size for a, b in zip(blocks, blocks[1:], strict=False)):
            raise ValueError("the blocks of a line map do not follow one another")
        if blocks and blocks[0].start != 0:
            raise ValueError("a line map that does not start at byte 0")
        return cls(blocks)


@dataclass(frozen=True)
class Unchanged:
    """What a map says of a file as it is now: its first ``head`` blocks and last ``tail`` blocks hold the
    same bytes; between them lie bytes ``start`` to ``end`` (of the file now), from line ``first_line``."""

    head: int
    tail: int
    start: int
    end: int
    first_line: int  # 1-based number of the first line between them


def compare(f: IO[bytes], size: int, line_map: LineMap) -> Unchanged:
    """Which blocks of ``line_map`` the file ``f`` (of ``size`` bytes now) still holds, at its start and end."""
    blocks = line_map.blocks
    head = 0
    for block in blocks:
        end = block.start + block.size
        if end > size or _sha256(f, block.start, block.size) != block.sha256:
            break
        if end == line_map.size and end != size and _last_byte(f, block) != b"\n":  # its last line goes on
            break
        head += 1
    start = blocks[head - 1].start + blocks[head - 1].size if head else 0
    shift = size - line_map.size
    tail = 0
    for block in reversed(blocks[head:]):
        moved = block.start + shift
        if moved < start or _sha256(f, moved, block.size) != block.sha256:
            break
        if moved > start and _byte(f, moved - 1) != b"\n":  # the line before it goes on into it
            break
        tail += 1
    end = blocks[len(blocks) - tail].start + shift if tail else size
    return Unchanged(head, tail, start, end, 1 + sum(b.lines for b in blocks[:head]))


class BlockHasher:
    """Cuts the bytes fed to it, from byte ``start`` of a file (the start of a line), into blocks of
    whole lines, each ending at the first line break :data:`MAP_BLOCK` bytes or more into it. It is fed
    the very bytes that are parsed, as they are read: a file written meanwhile cannot give a block the
    hash of other bytes than those its records were read from."""

    def __init__(self, start: int):
        self.spans: list[tuple[int, int, str, int]] = []  # (start, size, sha256, lines)
        self._start, self._pos, self._lines, self._last = start, start, 0, b""
        self._digest = hashlib.sha256()

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._last, i = chunk[-1:], 0
        while i < len(chunk):
            cut = chunk.find(b"\n", max(i, self._start + MAP_BLOCK - 1 - self._pos))
            if cut == -1:
                self._digest.update(chunk[i:])
                self._lines += chunk.count(b"\n", i)
                break
            self._digest.update(chunk[i : cut + 1])
            lines = self._lines + chunk.count(b"\n", i, cut + 1)
            self.spans.append((self._start, self._pos + cut + 1 - self._start, self._digest.hexdigest(), lines))
            self._start, self._digest, self._lines, i = self._pos + cut + 1, hashlib.sha256(), 0, cut + 1
        self._pos += len(chunk)

    def blocks(self, first_line: int, record_lines: dict[int, str]) -> list[Block]:
        """The blocks of what was fed (the last one shorter, its last line perhaps without a break), whose
        first line is ``first_line``; the records they hold from ``record_lines`` (line number → id)."""
        spans = list(self.spans)
        if self._pos > self._start:
            lines = self._lines + (self._last != b"\n")
            spans.append((self._start, self._pos - self._start, self._digest.hexdigest(), lines))
        blocks, line = [], first_line
        for block_start, size, digest, lines in spans:
            records = tuple(record_lines[n] for n in range(line, line + lines) if n in record_lines)
            blocks.append(Block(block_start, size, digest, lines, records))
            line += lines
        return blocks


class Fed:
    """A stream whose bytes, as they are read, are fed to a :class:`BlockHasher`."""

    def __init__(self, stream: IO[bytes] | Region, hasher: BlockHasher):
        self._stream, self._hasher = stream, hasher

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._hasher.feed(data)
        return data


class Region:
    """Bytes ``start`` to ``end`` of ``f``, read as a stream (what lies between a map's unchanged blocks)."""

    def __init__(self, f: IO[bytes], start: int, end: int):
        self._f, self._left = f, end - start
        f.seek(start)

    def read(self, size: int = -1) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        data = self._f.read(size) if size else b""
        self._left -= len(data)
        return data


def _sha256(f: IO[bytes], start: int, size: int) -> str:
    f.seek(start)
    digest, left = hashlib.sha256(), size
    while left > 0:
        chunk = f.read(min(_READ, left))
        if not chunk:
            return ""  # the file is shorter now
        digest.update(chunk)
        left -= len(chunk)
    return digest.hexdigest()


def _byte(f: IO[bytes], at: int) -> bytes:
    f.seek(at)
    return f.read(1)


def _last_byte(f: IO[bytes], block: Block) -> bytes:
    return _byte(f, block.start + block.size - 1) if block.size else b""
