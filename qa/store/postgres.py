"""PostgreSQL with pgvector behind the :class:`~qa.store.base.Store` protocol.

``--store postgresql://user@host/db`` (or ``QA_STORE``) selects it; the tables
are described in :mod:`qa.store.postgres_schema`, the connections in
:mod:`qa.store.postgres_connect`, keyword search in
:mod:`qa.store.postgres_keywords`.

What one question costs: ``current_version()`` (one primary-key read), one
round trip for :meth:`PostgresReader.search` (HNSW top-k and the keyword
candidates, with their passages and sentence vectors) and one for
:meth:`PostgresReader.pieces`. BM25 runs in the reader's memory.

Writing: one writer at a time, under a session-level advisory lock on its
own connection, and one transaction from its first row to :meth:`commit`.
Session-level, because the lock must cover reading the base version and
every staged row; on its own connection, so that a killed ``qa index`` frees
it with its session: the server aborts the transaction (nothing was
visible) and releases the lock as soon as the connection drops.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import psycopg
from psycopg import sql

from ..chunking import Passage
from ..embed import Pieces
from ..lexical import BM25
from .base import (
    Candidate,
    IndexBusy,
    IndexMissing,
    IndexSettings,
    KeywordHits,
    Manifest,
    StoreUnavailable,
)
from .piece_formats import named
from .postgres_connect import Connections, Target, register_vector
from .postgres_keywords import Group, bm25_of, load_groups
from .postgres_schema import migrate, one_line
from .postgres_versions import VersionRow, read_current, visible
from .postgres_writer import PostgresWriter
from .scoring import dequantise, keyword_hits, piece_idf

log = logging.getLogger(__name__)

# HNSW candidates per question: recall@10 >= 0.98 against exact search at 147k passages (bench/bench_store.py).
# The URI can say otherwise: ?options=-c%20hnsw.ef_search%3D200
EF_SEARCH = 400
LOCK_CLASS = 0x7161  # first half of the writer's advisory lock key; the second is the schema's hash
PAGE = 2_000  # passages per round trip when every passage is read

_PASSAGE = (
    "key, passage_id, doc_id, title, body, position, start_char, end_char, line_start, line_end, sentences, "
    "breaks, line_offsets, page, ocr, page_starts"
)
_PASSAGE_FIELDS = _PASSAGE.count(",") + 1  # what follows them in a row is the query's own


def _reader_setup(conn: psycopg.Connection) -> None:
    if "hnsw.ef_search" not in (conn.info.options or ""):
        conn.execute(sql.SQL("SET hnsw.ef_search = {}").format(sql.Literal(int(EF_SEARCH))))
    conn.execute("SET hnsw.iterative_scan = strict_order")  # keep scanning past rows of other versions


class PostgresStore:
    def __init__(self, uri: str):
        self.target = Target.parse(uri)
        self.location = self.target.location
        self.connections = Connections(self.target, setup=_reader_setup)
        self._groups: dict[tuple[int, int], Group] = {}  # (build, version) -> keyword counts, loaded once

    def __repr__(self) -> str:
        return f"PostgresStore({self.location!r})"

    def close(self) -> None:
        self.connections.close()

    def current_version(self) -> str | None:
        def work(conn: psycopg.Connection) -> str | None:
            try:
                row = conn.execute("SELECT version FROM qa_current").fetchone()
            except psycopg.errors.UndefinedTable:
                return None
            return str(row[0]) if row else None

        return self.connections.read(work)

    def read_manifest(self) -> Manifest | None:
        found = self.connections.read(lambda conn: read_current(conn, self.location))
        return found.manifest if found else None

    def open_reader(self) -> PostgresReader:
        with self.connections.session() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # one snapshot for all that follows
            found = read_current(conn, self.location)
            if found is None:
                raise IndexMissing(f"no index in {self.location} (run `qa index` to build it)")
            manifest, current = found.manifest, found.row
            piece_df = conn.execute(
                "SELECT piece_df FROM qa_versions WHERE version = %s", (current.version,)
            ).fetchone()
            keyed = conn.execute(
                sql.SQL("SELECT key, added_in FROM qa_passages WHERE {}").format(visible(current.build)),
                {"v": current.version},
            ).fetchall()
            keys = np.array([k for k, _ in keyed], dtype=np.int64)
            added = np.array([a for _, a in keyed], dtype=np.int64)
            # keyword counts: only the commits this process has not loaded yet
            needed = {(current.build, int(v)) for v in np.unique(added)}
            missing = {v for _, v in needed - set(self._groups)}
            loaded = load_groups(conn, current.build, missing) if missing else {}
            self._groups = {key: self._groups[key] for key in needed & set(self._groups)}
            self._groups.update({(current.build, v): group for v, group in loaded.items()})
            keywords = bm25_of({v: g for (_, v), g in self._groups.items()}, keys, added)
        if len(keys) != current.passages:
            log.warning(
                "%s: version %s holds %d passages, its record says %d",
                self.location,
                current.version,
                len(keys),
                current.passages,
            )
        df = np.frombuffer(piece_df[0], dtype="<i4") if piece_df else np.zeros(0, dtype=np.int32)
        return PostgresReader(self, manifest, current, keys, df, keywords)

    @contextmanager
    def writer(
        self, settings: IndexSettings, rebuild: bool = False, wait_seconds: float = 600.0
    ) -> Iterator[PostgresWriter]:
        conn = self.connections.connect(application="qa index")
        try:
            self._lock(conn, wait_seconds)
            conn.execute("SET idle_in_transaction_session_timeout = 0")  # embedding between writes takes a while
            conn.execute("SET statement_timeout = 0")  # building a vector index too
            migrate(conn, self.location, rebuild)
            register_vector(conn)  # the extension may have just been created
            yield PostgresWriter(conn, self.location, settings, rebuild)
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(
                f"lost the connection to {self.location}: {one_line(exc)}; the index in use was not changed"
            ) from None
        except psycopg.Error as exc:  # no right to create tables, a full disk, …
            raise StoreUnavailable(
                f"cannot write the index in {self.location}: {one_line(exc)}; the index in use was not changed"
            ) from None
        finally:
            conn.close()  # rolls back an uncommitted run and frees the lock

    def _lock(self, conn: psycopg.Connection, wait_seconds: float) -> None:
        """The writers' advisory lock: a second writer waits up to ``wait_seconds`` for the server to grant it."""
        row = conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(current_schema()))", (LOCK_CLASS,)).fetchone()
        if row and row[0]:
            return
        log.warning("another `qa index` is writing %s; waiting for it", self.location)
        try:
            conn.execute("SELECT set_config('lock_timeout', %s, false)", (f"{max(1, int(wait_seconds * 1000))}ms",))
            conn.execute("SELECT pg_advisory_lock(%s, hashtext(current_schema()))", (LOCK_CLASS,))
        except psycopg.errors.LockNotAvailable:
            raise IndexBusy(
                f"{self.location} is being written by another `qa index` run; gave up after {wait_seconds:.0f} s"
            ) from None
        conn.execute("RESET lock_timeout")


class PostgresReader:
    """One version: its manifest, its keyword index and piece frequencies in memory, passages in the database."""

    def __init__(
        self,
        store: PostgresStore,
        manifest: Manifest,
        current: VersionRow,
        keys: np.ndarray,
        piece_df: np.ndarray,
        keywords: BM25,
    ):
        self.store, self.manifest, self.current = store, manifest, current
        self.version = str(current.version)
        self._count = len(keys)
        self._piece_df = piece_df
        self.keywords = keywords
        self._visible = visible(current.build)
        dim = sql.Literal(int(current.dim))
        self._distance = sql.SQL("embedding::vector({dim}) <#> %(q)s::vector({dim})").format(dim=dim)

    def __len__(self) -> int:
        return self._count

    def search(self, query: np.ndarray, k: int, also: Sequence[int] = ()) -> list[Candidate]:
        statement = sql.SQL(
            "WITH nearest AS MATERIALIZED (SELECT key FROM qa_passages WHERE {visible} ORDER BY {distance} LIMIT {k}) "
            "SELECT " + _PASSAGE + ", -({distance}) AS dense, sentence_vectors, piece_format FROM qa_passages "
            "WHERE {visible} AND key = ANY(ARRAY(SELECT key FROM nearest) || %(also)s::bigint[])"
        ).format(visible=self._visible, distance=self._distance, k=sql.Literal(max(0, int(k))))
        params = {"q": np.asarray(query, dtype=np.float32), "v": self.current.version, "also": [int(a) for a in also]}
        rows = self.store.connections.read(lambda conn: conn.execute(statement, params).fetchall())
        dim = self.current.dim
        candidates = [
            Candidate(
                int(r[0]),
                _passage(r),
                float(r[_PASSAGE_FIELDS]),
                _sentence_vectors(r[_PASSAGE_FIELDS + 1], r[_PASSAGE_FIELDS + 2] or "int8", dim),
            )
            for r in rows
        ]
        return sorted(candidates, key=lambda c: -c.dense)

    def keyword_search(self, question: str, k: int) -> KeywordHits:
        return keyword_hits(self.keywords, question, k)

    def pieces(self, keys: Sequence[int]) -> list[Pieces]:
        statement = sql.SQL(
            "SELECT key, piece_ids, piece_ends, piece_vectors, piece_scales, piece_format FROM qa_passages "
            "WHERE {visible} AND key = ANY(%(keys)s::bigint[])"
        ).format(visible=self._visible)
        params = {"v": self.current.version, "keys": [int(k) for k in keys]}
        rows = self.store.connections.read(lambda conn: conn.execute(statement, params).fetchall())
        dim = self.current.dim
        found = {}
        for key, ids, ends, vectors, scales, piece_format in rows:
            found[int(key)] = Pieces(
                ids=np.frombuffer(ids, dtype="<i4").copy(),
                vectors=_piece_vectors(vectors, scales, piece_format or "int8", dim),
                ends=np.frombuffer(ends, dtype="<i4").copy(),
                coarse=named(piece_format or "int8").coarse,
            )
        missing = [k for k in keys if int(k) not in found]
        if missing:
            raise KeyError(f"passages {missing[:3]} are not in version {self.version} of {self.store.location}")
        return [found[int(k)] for k in keys]

    def piece_idf(self) -> np.ndarray:
        return piece_idf(self._piece_df, len(self))

    def passages(self, keys: Sequence[int] | None = None) -> Iterator[Passage]:
        if keys is not None:
            yield from self._passages_by_key([int(k) for k in keys])
            return
        statement = sql.SQL(
            "SELECT " + _PASSAGE + " FROM qa_passages WHERE {visible} AND key > %(after)s ORDER BY key LIMIT {page}"
        ).format(visible=self._visible, page=sql.Literal(PAGE))
        last = -1  # keys are positive

        def page(conn: psycopg.Connection) -> list[tuple]:
            return conn.execute(statement, {"v": self.current.version, "after": last}).fetchall()

        while True:  # a page per round trip: every passage is never held at once
            rows = self.store.connections.read(page)
            yield from (_passage(r) for r in rows)
            if len(rows) < PAGE:
                return
            last = int(rows[-1][0])

    def _passages_by_key(self, keys: list[int]) -> Iterable[Passage]:
        statement = sql.SQL(
            "SELECT " + _PASSAGE + " FROM qa_passages WHERE {visible} AND key = ANY(%(keys)s::bigint[])"
        ).format(visible=self._visible)
        rows = self.store.connections.read(
            lambda conn: conn.execute(statement, {"v": self.current.version, "keys": keys}).fetchall()
        )
        by_key = {int(r[0]): _passage(r) for r in rows}
        return [by_key[k] for k in keys]


def _passage(row: tuple) -> Passage:
    """A passage from the ``_PASSAGE`` columns. Rows stored before breaks, line offsets and pages
    were kept have NULL there: read as none (the next ``qa index`` writes them again)."""
    spans, breaks, line_offsets = row[10], row[11] or [], row[12] or []
    return Passage(
        passage_id=row[1],
        doc_id=row[2],
        title=row[3],
        text=row[4],
        position=row[5],
        start=row[6],
        end=row[7],
        line_start=row[8],
        line_end=row[9],
        sentences=tuple((spans[i], spans[i + 1]) for i in range(0, len(spans), 2)),
        breaks=tuple((breaks[i], breaks[i + 1]) for i in range(0, len(breaks), 2)),
        line_offsets=tuple(line_offsets),
        page=row[13],
        ocr=bool(row[14]),
        page_starts=tuple(row[15] or ()),
    )


def _sentence_vectors(stored: bytes, piece_format: str, dim: int) -> np.ndarray:
    """A row's sentence vectors: float16, or codes when its format codes them (qa.store.piece_formats)."""
    coded = named(piece_format)
    if size := coded.sentence_code_size(dim):
        return coded.decode_sentences(np.frombuffer(stored, dtype=np.uint8).reshape(-1, size), dim)
    return np.frombuffer(stored, dtype="<f2").reshape(-1, dim).astype(np.float32)


def _piece_vectors(vectors: bytes, scales: bytes, piece_format: str, dim: int) -> np.ndarray:
    """A row's piece vectors from its stored bytes, in the format the row names (NULL before formats: int8)."""
    if piece_format == "int8":
        return dequantise(np.frombuffer(vectors, dtype=np.int8).reshape(-1, dim), np.frombuffer(scales, dtype="<f4"))
    stored = named(piece_format)
    return stored.decode(np.frombuffer(vectors, dtype=np.uint8).reshape(-1, stored.code_size(dim)), dim)
