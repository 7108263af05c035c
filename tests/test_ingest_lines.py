"""Lines held only up to a limit: an overlong line is read on in chunks and given cut, with its length."""

import io

from qa.ingest.lines import DRAIN_CHUNK, bounded_lines


class Recording(io.BytesIO):
    """A stream that remembers the largest line read asked of it."""

    largest = 0

    def readline(self, size=-1):
        self.largest = max(self.largest, size if size is not None and size >= 0 else len(self.getbuffer()))
        return super().readline(size)


def read(data: bytes, limit: int) -> list[tuple]:
    return [(x.number, x.data, x.length, x.cut) for x in bounded_lines(io.BytesIO(data), limit)]


def test_lines_within_the_limit_come_whole_with_their_length():
    assert read(b"abc\n\ndefg\r\nlast", limit=4) == [
        (1, b"abc\n", 3, False),
        (2, b"\n", 0, False),
        (3, b"defg\r\n", 4, False),  # the line break does not count
        (4, b"last", 4, False),
    ]


def test_a_line_over_the_limit_is_cut_and_the_next_lines_are_read():
    assert read(b"abcde\nok\n" + b"x" * 50 + b"\r\nend", limit=4) == [
        (1, b"abcde\n", 5, False),  # just over: held whole anyway (limit + 2 bytes)
        (2, b"ok\n", 2, False),
        (3, b"xxxx", 50, True),
        (4, b"end", 3, False),
    ]
    assert read(b"x" * 10, limit=4) == [(1, b"xxxx", 10, True)]  # the last line, without a break


def test_a_long_line_is_never_asked_for_whole():
    stream = Recording(b"a" * (5 * DRAIN_CHUNK) + b"\nnext\n")
    lines = list(bounded_lines(stream, limit=1000))
    assert [(x.length, x.cut) for x in lines] == [(5 * DRAIN_CHUNK, True), (4, False)]
    assert stream.largest == DRAIN_CHUNK
