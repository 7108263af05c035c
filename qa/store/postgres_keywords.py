"""Keyword search for the PostgreSQL store, two ways (``?keywords=`` in the URI picks one).

- ``bm25`` (default): :class:`qa.lexical.BM25`, the files store's ranking, kept
  in the reader's memory. Each commit stores the keyword counts of the
  passages it added (``qa_term_groups``); opening a version loads only the
  groups this process has not loaded yet, so a new version costs the counts
  of its new passages, not a recount of the corpus.
- ``fts``: PostgreSQL full-text search over the generated ``tsv`` column
  (``qa_news`` configuration: accents folded, French stemming, French and
  English stop words), ranked by ``ts_rank_cd``; nothing in memory.

Measured on PIAF dev (docs/scaling.md): BM25 ranks better, hence the default.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
import psycopg
from psycopg import sql

from ..lexical import BM25, TermCounts, fold
from .base import KeywordHits

KEYWORD_MODES = ("bm25", "fts")
DEFAULT_KEYWORDS = "bm25"

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


def bm25_search(keywords: BM25, question: str, k: int) -> KeywordHits:
    keys, scores, coverage = keywords.scores(question)
    top = np.argsort(-scores, kind="stable")[:k]
    best = float(scores[top[0]]) if len(top) else 0.0
    relative = scores[top] / best * coverage if best > 0 else scores[top]
    return KeywordHits(keys[top], relative.astype(np.float32), coverage)


# The question's words as lexemes; those found in some live passage; the passages holding any
# of them, best first; the coverage (found / asked) comes with every row.
_FTS = """
WITH words AS (
    SELECT DISTINCT lexeme FROM unnest(to_tsvector('qa_news', %(question)s))
), known AS (
    SELECT lexeme FROM words w WHERE EXISTS (
        SELECT 1 FROM qa_passages WHERE {visible} AND tsv @@ quote_literal(w.lexeme)::tsquery)
), query AS (
    SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery AS q,
           count(*)::float8 / greatest((SELECT count(*) FROM words), 1) AS coverage
    FROM known
)
SELECT key, ts_rank_cd(tsv, query.q) AS rank, query.coverage
FROM qa_passages, query
WHERE query.q IS NOT NULL AND {visible} AND tsv @@ query.q
ORDER BY rank DESC, key
LIMIT %(k)s
"""


def fts_search(conn: psycopg.Connection, visible: sql.Composable, version: int, question: str, k: int) -> KeywordHits:
    query = sql.SQL(_FTS).format(visible=visible)
    rows = conn.execute(query, {"question": fold(question), "k": k, "v": version}).fetchall()
    if not rows:
        return KeywordHits(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), 0.0)
    keys = np.array([r[0] for r in rows], dtype=np.int64)
    ranks = np.array([r[1] for r in rows], dtype=np.float32)
    coverage = float(rows[0][2])
    best = float(ranks[0])
    return KeywordHits(keys, (ranks / best * coverage if best > 0 else ranks).astype(np.float32), coverage)
