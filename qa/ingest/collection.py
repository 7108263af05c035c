"""Collections: many articles in one JSON Lines file (.jsonl, or gzipped .jsonl.gz).

Each line is a record ``{"_id" or "id": str, "title"?: str, "text": str, "date"?: str}``
(the BEIR ``corpus.jsonl`` shape; other keys are ignored). Each record is one
Document: doc_id ``"<file>#<id>"``, its original text the record's ``"text"``,
``line_base`` the record's line in the file minus 1, so a citation names the
file, the record and the line it is on. A bad line (invalid JSON, no id, no
text, an id seen before in the file) is reported and the rest is read.

The file is streamed: a collection of 10^5 records is not held as bytes, and a
record whose text needs no cleaning shares one offsets array with all others.
The size limit applies to each record, not to the file (a record is an article).

A record's hash is the hash of its line as written, not of its line number:
inserting or deleting a line would otherwise re-embed every record after it.
The cost: the line cited for an unchanged record may be off after such an edit
until ``qa index --full``. A line with a ``"date"`` key is hashed apart from the
others, so that records indexed before dates were read are read again for
their date; a record dated by its dateline alone gets its date in an index
built before that on ``qa index --full``. Hashing the raw line lets an update skip what it
already holds: a line whose hash the index knows is neither parsed nor cleaned.
Rewriting a line without changing its meaning (other key order, other spacing)
re-embeds it. A plain (not gzipped) collection read before is not even split
into lines where it did not change: its blocks are compared with the map the
last run made of them (qa.ingest.line_map), and only the lines between the
unchanged ones are hashed, at 147k records a block of lines instead of all.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, cast

from .dates import article_date
from .document import Document, Unusable, identity_offsets
from .line_map import BlockHasher, Fed, LineMap, Region, compare
from .lines import block_lines, line_parts
from .text import clean_line, clean_lines, clean_title

log = logging.getLogger(__name__)

COLLECTION_SUFFIXES = (".jsonl", ".jsonl.gz")
_LOGGED_PER_FILE = 10  # bad lines logged one by one; the rest are counted (all are in ``skipped``)


def is_collection(name: str) -> bool:
    return name.lower().endswith(COLLECTION_SUFFIXES)


def split_doc_id(doc_id: str) -> tuple[str, str | None]:
    """("dir/file.jsonl", "record id") of a record's id; (doc_id, None) for a file's."""
    head, sep, record_id = doc_id.partition("#")
    if sep and head.lower().endswith(COLLECTION_SUFFIXES):  # the usual case, without a regular expression
        return head, record_id  # (an update splits every id the index holds: 10^5 of them)
    match = re.match(r"(.*?\.jsonl(?:\.gz)?)#(.*)\Z", doc_id, re.IGNORECASE | re.DOTALL)
    return (match.group(1), match.group(2)) if match else (doc_id, None)


@dataclass
class CollectionRecords:
    """What ``read_collection`` found in one file."""

    documents: list[Document] = field(default_factory=list)  # records read and cleaned
    unchanged: dict[str, str] = field(default_factory=dict)  # doc_id → hash of records known by their hash
    bad: list[tuple[str, str]] = field(default_factory=list)  # ("<rel> line N", why)
    line_map: LineMap | None = None  # where its records lie (a plain file without bad lines): see .line_map
    lines_read: int = 0  # lines read, parsed or recognised by their hash (the others: by their block's)


def read_collection(
    path: Path,
    rel: str,
    max_record_bytes: int,
    known: Mapping[str, str] | None = None,
    held: Mapping[str, str] | None = None,
    line_map: LineMap | None = None,
) -> CollectionRecords:
    """The records of the collection at ``path`` (``rel``: its name in the corpus).

    ``known`` maps content hashes to record ids for records an index already
    holds: a line with one of those hashes is not parsed, only listed in
    ``unchanged`` (an id seen twice is still refused, wherever it is).
    ``held`` (doc_id → content hash of the articles the index holds, this
    file's records among them) says the same, when ``known`` is not given. With ``line_map``, the
    map the run that last read the file made of it, only the part of the file
    that changed is read (qa.ingest.line_map).
    """
    found: CollectionRecords | None = None
    if line_map is not None and held is not None and not _gzipped(path):
        try:
            found = _read_changes(path, rel, max_record_bytes, held, line_map)
        except OSError:
            found = None  # read whole below, which says why
    if found is None:
        if known is None:
            prefix = f"{rel}#"
            held_here = ((doc_id, digest) for doc_id, digest in (held or {}).items() if doc_id.startswith(prefix))
            known = {digest: doc_id[len(prefix) :] for doc_id, digest in held_here}
        found = CollectionRecords()
        record_lines: dict[int, str] = {}
        hasher = BlockHasher(0)  # the map of a plain file, from the bytes read
        try:
            with _open(path) as f:
                lines = _lines(f, path, max_record_bytes, hasher)
                _read_lines(lines, rel, max_record_bytes, known, found, record_lines)
                if not found.bad and not _gzipped(path):
                    found.line_map = LineMap(tuple(hasher.blocks(1, record_lines)))
        except (OSError, EOFError, zlib.error) as exc:  # a truncated or damaged gzip file: keep what was read
            read = len(found.documents) + len(found.unchanged) + len(found.bad)
            found.bad.append((rel, f"cannot read past record {read} ({exc})"))
            found.line_map = None
    for where, why in found.bad[:_LOGGED_PER_FILE]:
        log.warning("skipping %s: %s", where, why)
    if len(found.bad) > _LOGGED_PER_FILE:
        log.warning("skipping %d more bad lines of %s", len(found.bad) - _LOGGED_PER_FILE, rel)
    return found


def _read_changes(
    path: Path, rel: str, max_record_bytes: int, held: Mapping[str, str], line_map: LineMap
) -> CollectionRecords | None:
    """The records of a plain collection read only between the blocks of ``line_map`` it still holds;
    None when the map cannot say (it names a record the index does not hold, or a record read has the
    id of one kept: the file is then read whole, as without a map). A line read is recognised by its
    hash among the records of the blocks it replaces (any other known one would have a kept id)."""
    found = CollectionRecords()
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        same = compare(f, size, line_map)
        blocks = line_map.blocks
        head, tail = blocks[: same.head], blocks[len(blocks) - same.tail :]
        middle = blocks[same.head : len(blocks) - same.tail]
        ids = [f"{rel}#{record_id}" for block in head + tail for record_id in block.records]
        digests = list(map(held.get, ids))  # (10^5 records: no Python step each)
        if None in digests:
            return None
        kept = dict(zip(ids, cast(list[str], digests), strict=True))
        known: dict[str, str] = {}  # content hash → id of the records of the blocks read again
        for record_id in (record_id for block in middle for record_id in block.records):
            digest = held.get(f"{rel}#{record_id}")
            if digest is None:
                return None
            known[digest] = record_id
        record_lines: dict[int, str] = {}
        hasher = BlockHasher(same.start)
        lines = block_lines(Fed(Region(f, same.start, same.end), hasher), max_record_bytes, same.first_line)
        _read_lines(lines, rel, max_record_bytes, known, found, record_lines)
        if any(f"{rel}#{record_id}" in kept for record_id in record_lines.values()):
            return None
        found.unchanged = kept | found.unchanged
        if not found.bad:
            shift = size - line_map.size
            moved = tuple(replace(block, start=block.start + shift) for block in tail)
            read = hasher.blocks(same.first_line, record_lines)
            found.line_map = LineMap((*head, *read, *moved))
    return found


def _read_lines(
    lines: Iterator[tuple[int, bytes, int]],
    rel: str,
    max_record_bytes: int,
    known: Mapping[str, str],
    found: CollectionRecords,
    record_lines: dict[int, str],
) -> None:
    """Read ``lines`` (number, line, length) into ``found``; ``record_lines`` gets the id of each record."""
    first_line: dict[str, int] = {}
    for number, record, length in _records(lines, max_record_bytes):
        found.lines_read += 1
        try:
            if length > max_record_bytes:
                size, limit = length / 2**20, max_record_bytes / 2**20
                raise Unusable(f"record of {size:.1f} MB, over the {limit:g} MB limit (--max-file-mb)")
            digest = record_hash(record)
            known_id = known.get(digest)
            parsed = _parse(record) if known_id is None else None
            record_id = parsed[0] if parsed else str(known_id)
            if record_id in first_line:
                raise Unusable(f"duplicate id {record_id!r} (first at line {first_line[record_id]})")
            first_line[record_id] = number
            record_lines[number] = record_id
            if parsed is None:
                found.unchanged[f"{rel}#{record_id}"] = digest
            else:
                record_id, title, text, date = parsed
                found.documents.append(record_document(rel, record_id, title, text, number, digest, date))
        except Unusable as exc:
            found.bad.append((f"{rel} line {number}", str(exc)))


def record_hash(line: bytes) -> str:
    """The content hash of a record: its line as written, without the surrounding blanks (marked
    when it may hold a date: see the module docstring)."""
    kind = b"dated record\0" if b'"date"' in line else b"record\0"
    return hashlib.sha256(kind + line.strip()).hexdigest()


def record_document(
    rel: str, record_id: str, title: str, text: str, line: int, content_hash: str, date: object = None
) -> Document:
    """The Document of one record; ``date``: its "date" value, the date when its text has no dateline."""
    fast = clean_line(text)
    if fast is not None:
        body, offsets = fast
    else:
        cleaned = clean_lines(text, title_lines=0)
        body, offsets = (cleaned.text, cleaned.offsets) if cleaned else ("", identity_offsets(0))
    if not body:
        raise Unusable("no text left after cleaning")
    return Document(
        doc_id=f"{rel}#{record_id}",
        title=title,
        text=body,
        offsets=offsets,
        source=text,
        content_hash=content_hash,
        path=rel,
        line_base=line - 1,
        date=article_date(body, date),
    )


def record_text(path: Path, record_id: str, max_record_bytes: int) -> str:
    """The original text (the "text" value) of one record; raises Unusable when not found
    (a record over ``max_record_bytes`` was never indexed: it is not looked into)."""
    with _open(path) as f:
        for _number, record, length in _records(_lines(f, path, max_record_bytes), max_record_bytes):
            if length > max_record_bytes:
                continue
            try:
                found_id, _title, text, _date = _parse(record)
            except Unusable:
                continue
            if found_id == record_id:
                return text
    raise Unusable(f"no record {record_id!r} in {path.name}")


def _open(path: Path) -> IO[bytes]:
    if _gzipped(path):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return open(path, "rb")


def _gzipped(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def _lines(
    f: IO[bytes], path: Path, max_record_bytes: int, hasher: BlockHasher | None = None
) -> Iterator[tuple[int, bytes, int]]:
    """(line number, line, its length in bytes) of every line of the collection ``f`` (at ``path``); a
    plain file's bytes are fed to ``hasher`` as they are read."""
    if _gzipped(path):  # line by line: a damaged file keeps every line before the damage
        return ((n, d, k) for n, d, k, _ in line_parts(f, max_record_bytes))
    return block_lines(f if hasher is None else Fed(f, hasher), max_record_bytes)


def _records(lines: Iterator[tuple[int, bytes, int]], max_record_bytes: int) -> Iterator[tuple[int, bytes, int]]:
    """The lines that are not blank; a line over ``max_record_bytes`` is never held whole (see
    qa.ingest.lines): its length says it is too long, and the next line is read."""
    for number, data, length in lines:
        if length > max_record_bytes:
            yield number, b"", length
        elif data.strip():
            yield number, data, length


def _parse(line: bytes) -> tuple[str, str, str, object]:
    try:
        record = json.loads(line)
    except ValueError as exc:  # also UnicodeDecodeError
        raise Unusable(f"invalid JSON ({exc})") from None
    if not isinstance(record, dict):
        raise Unusable("not a JSON object")
    record_id = record.get("_id", record.get("id"))
    if isinstance(record_id, bool) or not isinstance(record_id, str | int) or str(record_id) == "":
        raise Unusable('no "_id" or "id" (a string)')
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise Unusable('no "text" (a non-empty string)')
    title = record.get("title")
    return str(record_id), clean_title(title) if isinstance(title, str) else "", text, record.get("date")
