"""The articles of a manifest kept as its columns, an entry made only when one is asked for.

A manifest lists every article with its content hash, title, passage ids and
date (qa.store.base.Manifest). At 10^5 articles, making a ``DocumentEntry`` of
each whenever an index is opened or updated cost more than reading the file:
an update that changes one article asks for a handful of entries and for the
content hashes of all. :class:`DocumentTable` holds the columns as read (one
list per field, shared, never changed) and the changes made since (entries
set or removed, as a writer makes them), and behaves as a dict of entries in
every other way: same iteration order, same answers.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, Mapping, MutableMapping, Sequence, ValuesView
from dataclasses import dataclass
from typing import NamedTuple

COLUMNS = ("ids", "hashes", "titles", "passages", "dates")


class DocumentEntry(NamedTuple):
    """One article in a manifest (a tuple: it is made each time one is asked for)."""

    content_hash: str
    title: str
    passage_ids: tuple[str, ...]
    date: str | None = None  # the article's date, ISO YYYY-MM-DD (qa.ingest.dates); None when it gives none


@dataclass(frozen=True)
class Columns:
    """One list per field, in the articles' order; ``passages``: each article's passage ids joined by spaces."""

    ids: Sequence[str]
    hashes: Sequence[str]
    titles: Sequence[str]
    passages: Sequence[str]
    dates: Sequence[str | None]

    def as_dict(self) -> dict[str, list]:
        return {name: list(getattr(self, name)) for name in COLUMNS}


class DocumentTable(MutableMapping[str, DocumentEntry]):
    """doc_id → DocumentEntry over the columns of a manifest (see the module docstring)."""

    def __init__(self, columns: Columns):
        if not len(columns.ids) == len(columns.hashes) == len(columns.titles) == len(columns.passages):
            raise ValueError("the manifest's document columns differ in length")
        if len(columns.dates) != len(columns.ids):
            raise ValueError("the manifest's dates differ in length from its articles")
        self._columns = columns
        self._rows = dict(zip(columns.ids, range(len(columns.ids)), strict=True))  # the rows still held
        if len(self._rows) != len(columns.ids):
            raise ValueError("an article is listed twice in the manifest")
        self._changed: dict[str, DocumentEntry] = {}  # articles of ``_rows`` set since, in their place
        self._added: dict[str, DocumentEntry] = {}  # articles not in the columns, after them
        self._made: dict[str, DocumentEntry] = {}  # entries made from the columns: made once (a reader asks often)

    @classmethod
    def of(cls, documents: Mapping[str, DocumentEntry]) -> DocumentTable:
        """A table holding ``documents`` (a copy: changing one leaves the other as it was)."""
        if isinstance(documents, DocumentTable):
            return documents.copy()
        table = cls(Columns((), (), (), (), ()))
        table._added = dict(documents)
        return table

    def copy(self) -> DocumentTable:
        table = DocumentTable.__new__(DocumentTable)
        table._columns, table._rows = self._columns, dict(self._rows)
        table._changed, table._added, table._made = dict(self._changed), dict(self._added), {}
        return table

    def __getitem__(self, doc_id: str) -> DocumentEntry:
        entry = self._made.get(doc_id)
        if entry is not None:
            return entry
        if doc_id in self._changed or doc_id in self._added:
            return self._changed.get(doc_id) or self._added[doc_id]
        entry = self._made[doc_id] = self._entry(self._rows[doc_id])
        return entry

    def _as_read(self) -> bool:
        """Whether the table holds the columns as read, nothing set or removed since."""
        return not self._changed and not self._added and len(self._rows) == len(self._columns.ids)

    def _entry(self, row: int) -> DocumentEntry:
        c = self._columns
        return DocumentEntry(c.hashes[row], c.titles[row], tuple(c.passages[row].split()), c.dates[row])

    def __setitem__(self, doc_id: str, entry: DocumentEntry) -> None:
        self._made.pop(doc_id, None)
        if doc_id in self._rows:
            self._changed[doc_id] = entry
        else:
            self._added[doc_id] = entry

    def __delitem__(self, doc_id: str) -> None:
        self._made.pop(doc_id, None)
        if doc_id in self._rows:
            del self._rows[doc_id]
            self._changed.pop(doc_id, None)
        else:
            del self._added[doc_id]

    def items(self) -> ItemsView[str, DocumentEntry]:
        return _Items(self)

    def values(self) -> ValuesView[DocumentEntry]:
        return _Values(self)

    def made(self) -> Iterator[tuple[str, DocumentEntry]]:
        """Every (doc_id, entry) in order, the entries not made yet made at once: a reader walks them all."""
        c, made, changed = self._columns, self._made, self._changed
        if not made and self._as_read():  # a manifest as read: in one sweep
            columns = zip(c.ids, c.hashes, c.titles, c.passages, c.dates, strict=True)
            self._made = made = {d: DocumentEntry(h, t, tuple(p.split()), day) for d, h, t, p, day in columns}
        elif len(made) + len(changed) < len(self._rows):  # (an entry set since is never among those made)
            rows = ((d, row) for d, row in self._rows.items() if d not in made and d not in changed)
            made.update((doc_id, self._entry(row)) for doc_id, row in rows)
        for doc_id in self._rows:
            yield doc_id, changed.get(doc_id) or made[doc_id]
        yield from self._added.items()

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._rows or doc_id in self._added

    def __iter__(self) -> Iterator[str]:
        yield from self._rows
        yield from self._added

    def __len__(self) -> int:
        return len(self._rows) + len(self._added)

    def content_hashes(self) -> dict[str, str]:
        """doc_id → content hash of every article, without making their entries."""
        hashes = self._columns.hashes
        found = {doc_id: hashes[row] for doc_id, row in self._rows.items()}
        found.update((doc_id, entry.content_hash) for doc_id, entry in (self._changed | self._added).items())
        return found

    def passage_count_column(self) -> list[int] | None:
        """The number of passages of each article, in order, counted in the columns (None once changed)."""
        return [_passage_count(ids) for ids in self._columns.passages] if self._as_read() else None

    def passage_counts(self) -> Iterator[tuple[str, int]]:
        """(doc_id, number of passages) of every article, in order, without making their entries."""
        passages = self._columns.passages
        for doc_id, row in self._rows.items():
            entry = self._changed.get(doc_id)
            ids = passages[row]
            yield doc_id, len(entry.passage_ids) if entry is not None else _passage_count(ids)
        for doc_id, entry in self._added.items():
            yield doc_id, len(entry.passage_ids)

    def columns(self) -> Columns:
        """The articles as columns, in order (the columns read when nothing has changed)."""
        c = self._columns
        if self._as_read():
            return c
        rows = list(self._rows.values())
        ids, hashes = list(self._rows), [c.hashes[r] for r in rows]
        titles, passages = [c.titles[r] for r in rows], [c.passages[r] for r in rows]
        dates = [c.dates[r] for r in rows]
        if self._changed:
            position = {doc_id: i for i, doc_id in enumerate(ids) if doc_id in self._changed}
            for doc_id, entry in self._changed.items():
                i = position[doc_id]
                hashes[i], titles[i], passages[i], dates[i] = _fields(entry)
        for doc_id, entry in self._added.items():
            content_hash, title, passage_ids, date = _fields(entry)
            ids.append(doc_id)
            hashes.append(content_hash)
            titles.append(title)
            passages.append(passage_ids)
            dates.append(date)
        return Columns(ids, hashes, titles, passages, dates)


class _Items(ItemsView[str, DocumentEntry]):
    _mapping: DocumentTable

    def __iter__(self) -> Iterator[tuple[str, DocumentEntry]]:
        return self._mapping.made()


class _Values(ValuesView[DocumentEntry]):
    _mapping: DocumentTable

    def __iter__(self) -> Iterator[DocumentEntry]:
        return (entry for _, entry in self._mapping.made())


def _passage_count(ids: str) -> int:
    """How many passage ids a column cell (ids joined by spaces) holds."""
    return ids.count(" ") + 1 if ids else 0


def _fields(entry: DocumentEntry) -> tuple[str, str, str, str | None]:
    return entry.content_hash, entry.title, " ".join(entry.passage_ids), entry.date


def content_hashes(documents: Mapping[str, DocumentEntry]) -> dict[str, str]:
    """doc_id → content hash of ``documents`` (a table's without making its entries)."""
    if isinstance(documents, DocumentTable):
        return documents.content_hashes()
    return {doc_id: entry.content_hash for doc_id, entry in documents.items()}


def passage_counts(documents: Mapping[str, DocumentEntry]) -> Iterator[tuple[str, int]]:
    """(doc_id, number of passages) of ``documents``, in order (a table's without making its entries)."""
    if isinstance(documents, DocumentTable):
        return documents.passage_counts()
    return ((doc_id, len(entry.passage_ids)) for doc_id, entry in documents.items())


def columns_of(documents: Mapping[str, DocumentEntry]) -> Columns:
    """``documents`` as columns, in order."""
    if isinstance(documents, DocumentTable):
        return documents.columns()
    entries = list(documents.values())
    return Columns(
        list(documents),
        [e.content_hash for e in entries],
        [e.title for e in entries],
        [" ".join(e.passage_ids) for e in entries],
        [e.date for e in entries],
    )
