"""Lines of a byte stream, each held only up to a limit.

Iterating over a file object reads a whole line, however long: a 1 MB gzip file
can hold one line of 1 GiB, and a pasted page on stdin one line of megabytes.
Here a line over the limit is read on in fixed-size chunks that are dropped as
they come, and given as its first ``limit`` bytes with its full length, so the
caller can refuse it by its size and go on with the next line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Protocol

DRAIN_CHUNK = 1 << 20  # bytes read at a time from the part of an overlong line that is dropped
READ_BLOCK = 1 << 20  # bytes read at a time by block_lines


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Line:
    number: int  # 1-based
    data: bytes  # the line with its line break; only its first ``limit`` bytes when ``cut``
    length: int  # bytes in the whole line, its line break ("\n" or "\r\n") not counted
    cut: bool  # the line was over the limit and ``data`` holds only its start


def bounded_lines(stream: IO[bytes], limit: int) -> Iterator[Line]:
    """Every line of ``stream``; a line of more than ``limit`` bytes is given cut, never held whole
    (at most ``limit`` + 2 bytes of it are held, or ``DRAIN_CHUNK`` if that is more)."""
    for number, data, length, cut in line_parts(stream, limit):
        yield Line(number, data, length, cut)


def line_parts(stream: IO[bytes], limit: int) -> Iterator[tuple[int, bytes, int, bool]]:
    """:func:`bounded_lines` as plain tuples (number, data, length, cut): at 10^5 lines, making a
    ``Line`` of each costs more than reading them."""
    number = 0
    readline = stream.readline
    while True:
        data = readline(limit + 2)  # the line, its "\r\n" too when it is within the limit
        if not data:
            return
        number += 1
        if data.endswith(b"\n") or len(data) < limit + 2:  # whole (the last line may have no break)
            yield number, data, len(data) - _break_length(data), False
            continue
        length = len(data)
        while True:
            rest = readline(DRAIN_CHUNK)
            length += len(rest)
            if not rest or rest.endswith(b"\n"):
                tail = data[-1:] + rest  # a "\r\n" may straddle the two reads
                break
        yield number, data[:limit], length - _break_length(tail), True


def _break_length(line: bytes) -> int:
    if line.endswith(b"\r\n"):
        return 2
    return 1 if line.endswith(b"\n") else 0


def block_lines(stream: Readable, limit: int, first: int = 1) -> Iterator[tuple[int, bytes, int]]:
    """(number, from ``first`` on; line without its "\n" (a "\r" kept); its length without its break) of
    every line of ``stream``, read ``READ_BLOCK`` bytes at a time: at 10^5 lines, splitting blocks costs
    a fraction of :func:`line_parts`'s line by line. A line over ``limit`` bytes is given as b"" with its
    length, never held whole. No line is given before a block is read whole: for files, not a terminal."""
    number = first - 1
    head, head_length, head_last = b"", 0, b""  # a line begun in earlier blocks: its start, length, last byte
    while block := stream.read(READ_BLOCK):
        parts = block.split(b"\n")
        first = 0
        if head_length:  # parts[0] ends that line (or goes on with it into the next block)
            head_length += len(parts[0])
            head_last = parts[0][-1:] or head_last
            head = head + parts[0] if head_length <= limit + 1 else b""  # + 1: its "\r"
            if len(parts) == 1:
                continue
            number += 1
            yield number, head, head_length - (head_last == b"\r")
            first = 1
        rest = parts.pop()  # the start of a line that goes on into the next block
        for line in parts[first:] if first else parts:
            number += 1
            yield number, line, len(line) - (line[-1:] == b"\r")
        head, head_length, head_last = (rest if len(rest) <= limit + 1 else b""), len(rest), rest[-1:]
    if head_length:  # the last line, without a break
        yield number + 1, head, head_length
