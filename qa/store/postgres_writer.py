"""Writing a new version of the PostgreSQL store: rows staged in one transaction, made visible by its commit.

Rows of the next version ``v`` are copied in (binary COPY, a few hundred at a
time) with ``added_in = v``; an article written again or removed gets
``removed_in = v`` on its old rows. None of it is visible before the
transaction commits, and the commit also names ``v`` in ``qa_current``: a
reader sees the whole of ``v`` or the whole of ``v - 1``. Rows that neither
the new nor the previous version shows are deleted in the same transaction
(a reader may still be answering from the previous one), so the tables hold
at most two versions.

A full rebuild (other settings, or ``--full``) starts a new *build*: its
rows are loaded first, then its HNSW index is built over them in one pass
(much faster than inserting into a graph row by row), as a partial index
that readers of the previous build do not see and do not wait for.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict

import numpy as np
import psycopg
from psycopg import sql

from .base import EncodedPassage, IndexSettings, Manifest, Repair, passage_key
from .piece_formats import named
from .postgres_keywords import counts_bytes
from .postgres_versions import VersionRow, read_current, visible
from .scoring import counted, quantise

log = logging.getLogger(__name__)

HNSW_M, HNSW_EF_CONSTRUCTION = 32, 200  # above pgvector's defaults (16, 64): see bench/bench_store.py
BUILD_MEMORY = "512MB"  # maintenance_work_mem while an HNSW index is built: the graph should fit
FLUSH_ROWS = 256

PASSAGE_COLUMNS = {  # column -> type for binary COPY
    "build": "int8",
    "key": "int8",
    "added_in": "int8",
    "passage_id": "text",
    "doc_id": "text",
    "title": "text",
    "body": "text",
    "position": "int4",
    "start_char": "int4",
    "end_char": "int4",
    "line_start": "int4",
    "line_end": "int4",
    "sentences": "int4[]",
    "breaks": "int4[]",
    "line_offsets": "int4[]",
    "page": "int4",
    "ocr": "bool",
    "page_starts": "int4[]",
    "embedding": "vector",
    "sentence_vectors": "bytea",
    "piece_ids": "bytea",
    "piece_ends": "bytea",
    "piece_vectors": "bytea",
    "piece_scales": "bytea",
    "piece_format": "text",
}
DOCUMENT_COLUMNS = {
    "build": "int8",
    "doc_id": "text",
    "content_hash": "text",
    "title": "text",
    "added_in": "int8",
    "date": "text",
}


def hnsw_index(build: int) -> sql.Identifier:
    return sql.Identifier(f"qa_passages_hnsw_{int(build)}")


class PostgresWriter:
    def __init__(self, conn: psycopg.Connection, location: str, settings: IndexSettings, rebuild: bool):
        """``conn``: the writer's own session, holding the writers' lock."""
        self.conn, self.location, self.settings = conn, location, settings
        self.base: Manifest | None = None
        self.rebuilt_because: str | None = "a full rebuild was asked" if rebuild else None
        self._previous: VersionRow | None = None
        found = None
        try:
            found = read_current(conn, location)
        except (KeyError, TypeError, ValueError) as exc:
            self.rebuilt_because = f"existing index unusable: {exc}"
            log.warning("existing index unusable, rebuilding: %s", exc)
        if found is not None:
            self._previous = found.row
            why = found.manifest.settings.incompatibility(settings)
            if why and not rebuild:
                log.warning("rebuilding the index: %s", why)
                self.rebuilt_because = why
            elif not rebuild:
                self.base = found.manifest
        row = conn.execute("SELECT max(version) FROM qa_versions").fetchone()
        self.version = int(row[0] or 0) + 1 if row else 1
        if self.base is not None and self._previous is not None:
            self.build = self._previous.build
        else:
            row = conn.execute(
                "SELECT greatest((SELECT max(build) FROM qa_versions), (SELECT max(build) FROM qa_passages))"
            ).fetchone()
            self.build = int(row[0] or 0) + 1 if row else 1
        self._known = set(self.base.documents) if self.base else set()
        self._added: set[str] = set()
        self._passages: list[tuple] = []
        self._documents: list[tuple] = []
        self._texts: list[str] = []  # keyword counts are made at commit, as the files store does
        self._keys: list[int] = []
        self._piece_df = np.zeros(0, dtype=np.int32)
        self._removed = 0
        conn.autocommit = False  # from here on, one transaction: the first write opens it, commit() ends it
        self.repair: Repair | None = self._drop_incomplete()

    def _drop_incomplete(self) -> Repair | None:
        """Drop the articles stored before breaks, line offsets and pages were kept (schema 1), for
        this run to write them again: their citations would point at the wrong characters and lines."""
        if self.base is None or self._previous is None:
            return None
        rows = self.conn.execute(
            sql.SQL("SELECT DISTINCT doc_id FROM qa_passages WHERE {} AND breaks IS NULL").format(visible(self.build)),
            {"v": self._previous.version},
        ).fetchall()
        incomplete = frozenset(doc_id for (doc_id,) in rows)
        if not incomplete:
            return None
        self.remove(incomplete)
        kept = {d: entry for d, entry in self.base.documents.items() if d not in incomplete}
        self.base = Manifest(self.base.settings, kept, self.base.created, self.base.extra)
        reason = "stored before sentence breaks, line offsets and pages were kept"
        log.warning("%s: %d articles were %s; embedding them again", self.location, len(incomplete), reason)
        return Repair(incomplete, reason)

    def add(
        self,
        doc_id: str,
        content_hash: str,
        title: str,
        passages: Sequence[EncodedPassage],
        date: str | None = None,
    ) -> None:
        self.remove([doc_id])
        self._added.add(doc_id)
        self._documents.append((self.build, doc_id, content_hash, title, self.version, date))
        for encoded in passages:
            p = encoded.passage
            key = passage_key(p.passage_id)
            row = {
                "build": self.build,
                "key": key,
                "added_in": self.version,
                "passage_id": p.passage_id,
                "doc_id": p.doc_id,
                "title": p.title,
                "body": p.text,
                "position": p.position,
                "start_char": p.start,
                "end_char": p.end,
                "line_start": p.line_start,
                "line_end": p.line_end,
                "sentences": [x for span in p.sentences for x in span],
                "breaks": [x for pair in p.breaks for x in pair],
                "line_offsets": list(p.line_offsets),
                "page": p.page,
                "ocr": p.ocr,
                "page_starts": list(p.page_starts),
                "embedding": np.asarray(encoded.vector, dtype=np.float32),
                "sentence_vectors": self._sentence_vectors(encoded.sentence_vectors),
                "piece_ids": encoded.pieces.ids.astype("<i4").tobytes(),
                "piece_ends": encoded.pieces.ends.astype("<i4").tobytes(),
                **self._piece_vectors(encoded.pieces.vectors),
            }
            self._passages.append(tuple(row[column] for column in PASSAGE_COLUMNS))
            self._texts.append(p.titled_text)
            self._keys.append(key)
            self._piece_df = counted(self._piece_df, encoded.pieces.ids)
        if len(self._passages) >= FLUSH_ROWS:
            self._flush()

    def _sentence_vectors(self, vectors: np.ndarray) -> bytes:
        """float16, or the codes of the settings' format when it codes sentence vectors (``pq16s64``): the
        row's ``piece_format`` says which."""
        stored = named(self.settings.pieces)
        if stored.sentence_code_size(self.settings.dim):
            return stored.encode_sentences(vectors).tobytes()
        return vectors.astype("<f2").tobytes()

    def _piece_vectors(self, vectors: np.ndarray) -> dict:
        """The piece columns of a row, in the settings' format (int8 keeps a scale a piece beside)."""
        if self.settings.pieces == "int8":
            codes, scales = quantise(vectors)
            return {
                "piece_vectors": codes.tobytes(),
                "piece_scales": scales.astype("<f4").tobytes(),
                "piece_format": "int8",
            }
        codes = named(self.settings.pieces).encode(vectors)
        return {"piece_vectors": codes.tobytes(), "piece_scales": b"", "piece_format": self.settings.pieces}

    def remove(self, doc_ids: Iterable[str]) -> None:
        doc_ids = list(doc_ids)
        for doc_id in doc_ids:
            if doc_id in self._added:
                raise ValueError(f"{doc_id} was added twice in one indexing run")
        gone = [d for d in doc_ids if d in self._known]
        if not gone:
            return
        self._known -= set(gone)
        params = {"v": self.version, "build": self.build, "docs": gone}
        for table in ("qa_passages", "qa_documents"):
            cursor = self.conn.execute(
                sql.SQL(
                    "UPDATE {} SET removed_in = %(v)s WHERE build = %(build)s AND doc_id = ANY(%(docs)s) "
                    "AND removed_in IS NULL"
                ).format(sql.Identifier(table)),
                params,
            )
            if table == "qa_passages":
                self._removed += cursor.rowcount

    def _flush(self) -> None:
        for table, columns, rows in (
            ("qa_passages", PASSAGE_COLUMNS, self._passages),
            ("qa_documents", DOCUMENT_COLUMNS, self._documents),
        ):
            if not rows:
                continue
            statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with self.conn.cursor().copy(statement) as copy:
                copy.set_types(list(columns.values()))
                for row in rows:
                    copy.write_row(row)
        self._passages, self._documents = [], []

    def commit(self) -> str:
        conn, version, build = self.conn, self.version, self.build
        self._flush()
        if self.base is None:  # a new build: its vector index, over all its rows at once
            conn.execute(sql.SQL("SET LOCAL maintenance_work_mem = {}").format(sql.Literal(BUILD_MEMORY)))
            conn.execute(
                sql.SQL(
                    "CREATE INDEX {name} ON qa_passages USING hnsw ((embedding::vector({dim})) vector_ip_ops) "
                    "WITH (m = {m}, ef_construction = {ef}) WHERE build = {build}"
                ).format(
                    name=hnsw_index(build),
                    dim=sql.Literal(int(self.settings.dim)),
                    m=sql.Literal(HNSW_M),
                    ef=sql.Literal(HNSW_EF_CONSTRUCTION),
                    build=sql.Literal(int(build)),
                )
            )
        piece_df, passages = self._piece_df, len(self._keys)
        if self.base is not None and self._previous is not None:
            row = conn.execute(
                "SELECT piece_df FROM qa_versions WHERE version = %s", (self._previous.version,)
            ).fetchone()
            base_df = np.frombuffer(row[0], dtype="<i4").astype(np.int32) if row else np.zeros(0, dtype=np.int32)
            for (ids,) in conn.execute(
                "SELECT piece_ids FROM qa_passages WHERE build = %s AND removed_in = %s", (build, version)
            ):
                base_df = counted(base_df, np.frombuffer(ids, dtype="<i4"), -1)
            piece_df = np.zeros(max(len(base_df), len(self._piece_df)), dtype=np.int32)
            piece_df[: len(base_df)] += base_df
            piece_df[: len(self._piece_df)] += self._piece_df
            passages += self._previous.passages - self._removed
        if self._keys:
            conn.execute(
                "INSERT INTO qa_term_groups (build, version, keys, counts) VALUES (%s, %s, %s, %s)",
                (build, version, np.array(self._keys, dtype="<i8").tobytes(), counts_bytes(self._texts)),
            )
        conn.execute(
            "INSERT INTO qa_versions (version, build, settings, created, passages, piece_df) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (
                version,
                build,
                json.dumps(asdict(self.settings), sort_keys=True),
                time.time(),
                passages,
                piece_df.astype("<i4").tobytes(),
            ),
        )
        conn.execute(
            "INSERT INTO qa_current (version) VALUES (%s) "
            "ON CONFLICT (only_row) DO UPDATE SET version = excluded.version",
            (version,),
        )
        if self.base is None or len(self._keys) > passages // 10:  # the planner must know the new rows
            conn.execute("ANALYZE qa_passages, qa_documents")
        kept = {build} | ({self._previous.build} if self._previous else set())
        self._purge(version - 1, min(kept))
        conn.commit()
        conn.autocommit = True
        drop_stale_indexes(conn, kept)
        return str(version)

    def _purge(self, previous: int, oldest_build: int) -> None:
        """Delete what neither the new version nor the previous one shows."""
        conn = self.conn
        emptied = conn.execute(
            "DELETE FROM qa_passages WHERE removed_in <= %s RETURNING build, added_in", (previous,)
        ).fetchall()
        conn.execute("DELETE FROM qa_documents WHERE removed_in <= %s", (previous,))
        for table in ("qa_passages", "qa_documents", "qa_term_groups", "qa_versions"):
            conn.execute(sql.SQL("DELETE FROM {} WHERE build < %s").format(sql.Identifier(table)), (oldest_build,))
        conn.execute("DELETE FROM qa_versions WHERE version < %s", (previous,))
        for group_build, added_in in set(emptied):
            conn.execute(
                "DELETE FROM qa_term_groups g WHERE build = %(b)s AND version = %(a)s AND NOT EXISTS "
                "(SELECT 1 FROM qa_passages p WHERE p.build = %(b)s AND p.added_in = %(a)s)",
                {"b": group_build, "a": added_in},
            )


def drop_stale_indexes(conn: psycopg.Connection, kept: set[int]) -> None:
    """The vector indexes of builds no kept version uses (also those a killed run left behind)."""
    names = conn.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'qa_passages' "
        "AND indexname LIKE 'qa\\_passages\\_hnsw\\_%'"
    ).fetchall()
    for (name,) in names:
        if name.rsplit("_", 1)[1].isdigit() and int(name.rsplit("_", 1)[1]) not in kept:
            conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(name)))
