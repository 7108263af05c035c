"""Keyword search for the PostgreSQL store: :class:`qa.lexical.BM25`, the files store's ranking, in the reader's memory.

Each commit stores the keyword counts of the passages it added
(``qa_term_groups``); opening a version loads only the groups this process
has not loaded yet, so following a new version costs the counts of its new
passages, not a recount of the corpus.

PostgreSQL's own full-text search (``tsvector`` + GIN, ``ts_rank_cd``) was
measured against it on PIAF dev and ranked worse while slowing every write
(docs/scaling.md), so it is not offered.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
import psycopg

from ..lexical import BM25, TermCounts

Group = tuple[TermCounts, np.ndarray]  # counts and the passage key of each of their rows


def counts_bytes(texts: list[str]) -> bytes:
    buffer = io.BytesIO()
    TermCounts.of(texts).save(buffer)
    return buffer.getvalue()


def load_groups(conn: psycopg.Connection, build: int, versions: Iterable[int]) -> dict[int, Group]:
    """The stored keyword counts of the passages added by these commits of ``build``."""
    rows = conn.execute(
        "SELECT version, keys, counts FROM qa_term_groups WHERE build = %s AND version = ANY(%s::bigint[])",
        (build, list(versions)),
    ).fetchall()
    return {int(v): (TermCounts.load(io.BytesIO(counts)), np.frombuffer(keys, dtype="<i8")) for v, keys, counts in rows}


def bm25_of(groups: dict[int, Group], live_keys: np.ndarray, live_groups: np.ndarray) -> BM25:
    """BM25 over the live passages (``live_keys``, each added by the commit ``live_groups`` names)."""
    parts = []
    for version, (counts, keys) in groups.items():
        live = np.sort(live_keys[live_groups == version])
        rows = np.flatnonzero(np.isin(keys, live))
        parts.append((counts, rows, keys[rows]))
    return BM25(parts)
