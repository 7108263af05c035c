"""The PostgreSQL store's tables, created and migrated by the project itself.

``qa_schema`` holds the schema version; :data:`MIGRATIONS` is the ordered list
of steps from an empty database, step ``n`` taking the schema to version
``n + 1``. The writer applies the missing steps under its advisory lock, in
one transaction; readers never change the schema, and refuse one newer than
they know.

Versioning: a passage row is visible to the index versions ``v`` with
``added_in <= v`` and (``removed_in`` null or ``removed_in > v``), inside its
``build`` (one build per full rebuild: its own HNSW index, created over its
rows once they are loaded). ``qa_current`` names the version in use; a commit
inserts rows for the next version and flips that one row in the same
transaction, so readers see a whole version or the previous one.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

from .base import IndexCorrupt, IndexMismatch, StoreUnavailable

log = logging.getLogger(__name__)

EXTENSION = "vector"
TABLES = ("qa_schema", "qa_versions", "qa_current", "qa_documents", "qa_passages", "qa_term_groups")
REBUILD = "`qa index --full` rebuilds the index"  # the one way back from tables dropped by hand

# Step n takes the schema from version n to n + 1 (never edit a released step: append one).
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE qa_schema (version integer NOT NULL);
    INSERT INTO qa_schema VALUES (0);
    CREATE TABLE qa_versions (
        version bigint PRIMARY KEY,
        build bigint NOT NULL,
        settings jsonb NOT NULL,
        created double precision NOT NULL,
        passages bigint NOT NULL,
        piece_df bytea NOT NULL  -- int32 per token id: live passages holding it
    );
    CREATE TABLE qa_current (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        version bigint NOT NULL REFERENCES qa_versions
    );
    CREATE TABLE qa_documents (
        build bigint NOT NULL,
        doc_id text NOT NULL,
        content_hash text NOT NULL,
        title text NOT NULL,
        added_in bigint NOT NULL,
        removed_in bigint,
        PRIMARY KEY (build, doc_id, added_in)
    );
    CREATE TABLE qa_passages (
        build bigint NOT NULL,
        key bigint NOT NULL,
        added_in bigint NOT NULL,
        removed_in bigint,
        passage_id text NOT NULL,
        doc_id text NOT NULL,
        title text NOT NULL,
        body text NOT NULL,
        position integer NOT NULL,
        start_char integer NOT NULL,
        end_char integer NOT NULL,
        line_start integer NOT NULL,
        line_end integer NOT NULL,
        sentences integer[] NOT NULL,  -- flat (start, end) pairs
        embedding vector NOT NULL,  -- indexed per build: qa_passages_hnsw_<build>
        sentence_vectors bytea NOT NULL,  -- float16 (sentences, dim)
        piece_ids bytea NOT NULL,  -- int32 (pieces,)
        piece_ends bytea NOT NULL,  -- int32 (pieces,)
        piece_vectors bytea NOT NULL,  -- int8 (pieces, dim)
        piece_scales bytea NOT NULL,  -- float32 (pieces,)
        PRIMARY KEY (build, key, added_in)
    );
    -- the vector stays in the row (exact distances without a TOAST fetch); the other arrays are
    -- compact binary, stored out of line without a compression attempt
    ALTER TABLE qa_passages ALTER COLUMN embedding SET STORAGE PLAIN,
        ALTER COLUMN sentence_vectors SET STORAGE EXTERNAL, ALTER COLUMN piece_vectors SET STORAGE EXTERNAL;
    CREATE INDEX qa_passages_by_doc ON qa_passages (build, doc_id) WHERE removed_in IS NULL;
    CREATE INDEX qa_passages_by_commit ON qa_passages (build, added_in);
    CREATE INDEX qa_passages_by_removal ON qa_passages (removed_in) WHERE removed_in IS NOT NULL;
    CREATE TABLE qa_term_groups (  -- keyword counts (qa.lexical.TermCounts) of the rows one commit added
        build bigint NOT NULL,
        version bigint NOT NULL,
        keys bytea NOT NULL,  -- int64 passage keys, in the order of the counts' rows
        counts bytea NOT NULL,  -- TermCounts.save
        PRIMARY KEY (build, version)
    );
    """,
    # what citations need beyond the offsets; NULL in rows stored before (qa_passages_missing_citations)
    """
    ALTER TABLE qa_passages
        ADD COLUMN breaks integer[],  -- flat (index in body, offset in the original) pairs: Passage.breaks
        ADD COLUMN line_offsets integer[],  -- original offsets where the passage's 2nd, 3rd… lines start
        ADD COLUMN page integer;  -- PDFs: the page where the passage starts
    """,
    # articles' dates, and passages read by OCR; NULL in rows stored before (no date; not OCR)
    """
    ALTER TABLE qa_documents ADD COLUMN IF NOT EXISTS date text;  -- ISO YYYY-MM-DD: DocumentEntry.date
    ALTER TABLE qa_passages ADD COLUMN IF NOT EXISTS ocr boolean;  -- Passage.ocr
    """,
    # where each page a PDF passage touches starts (Passage.page_starts); NULL in rows stored before: one page
    """
    ALTER TABLE qa_passages ADD COLUMN IF NOT EXISTS page_starts integer[];
    """,
    # the format of piece_vectors (qa.store.piece_formats); NULL in rows stored before: int8 with piece_scales.
    # A format that codes sentence vectors too (pq16s64) keeps their codes in sentence_vectors, not float16.
    """
    ALTER TABLE qa_passages ADD COLUMN IF NOT EXISTS piece_format text;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def missing_tables(conn: psycopg.Connection) -> list[str]:
    """The index's tables that the database does not hold (in the schema the connection uses). One query."""
    rows = conn.execute(
        "SELECT t FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, n) WHERE to_regclass(quote_ident(t)) IS NULL "
        "ORDER BY n",
        (list(TABLES),),
    ).fetchall()
    return [name for (name,) in rows]


def check_schema(conn: psycopg.Connection, location: str) -> bool:
    """Whether the database holds the index's tables (False: none, no index yet). IndexCorrupt naming
    the tables that are gone when only some are there, IndexMismatch for a schema this qa cannot read."""
    missing = missing_tables(conn)
    if len(missing) == len(TABLES):
        return False
    if missing:
        raise IndexCorrupt(incomplete(location, missing))
    check_readable(schema_version(conn), location)
    return True


def incomplete(location: str, missing: list[str]) -> str:
    gone = f"table {missing[0]} is" if len(missing) == 1 else f"tables {', '.join(missing)} are"
    return f"{location}: the index's {gone} gone (dropped by hand?); {REBUILD}"


def schema_version(conn: psycopg.Connection) -> int | None:
    """The schema version of the database (None: no schema yet). One query."""
    try:
        with conn.transaction():
            row = conn.execute("SELECT version FROM qa_schema").fetchone()
    except psycopg.errors.UndefinedTable:
        return None
    return int(row[0]) if row else None


def check_readable(version: int | None, location: str) -> None:
    if version is not None and version > SCHEMA_VERSION:
        raise IndexMismatch(
            f"{location}: schema version {version} was written by a newer qa (this one reads {SCHEMA_VERSION})"
        )
    if version is not None and version < SCHEMA_VERSION:
        raise IndexMismatch(
            f"{location}: schema version {version} is older than {SCHEMA_VERSION}; run `qa index` to upgrade it"
        )


def migrate(conn: psycopg.Connection, location: str, rebuild: bool = False) -> None:
    """Bring the schema to :data:`SCHEMA_VERSION` (the caller holds the writer lock). When some of the
    index's tables are gone, only a ``rebuild`` goes on: it drops the others and starts afresh."""
    ensure_extension(conn, EXTENSION, location)
    missing = missing_tables(conn)
    if missing and len(missing) < len(TABLES):
        if not rebuild:
            raise IndexCorrupt(incomplete(location, missing))
        log.warning("%s: the tables %s are gone; dropping the others to rebuild the index", location, missing)
        with conn.transaction():
            for table in TABLES:
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(table)))
    current = schema_version(conn) or 0
    if current > SCHEMA_VERSION:
        check_readable(current, location)
    with conn.transaction():
        for version in range(current, SCHEMA_VERSION):
            conn.execute(MIGRATIONS[version].encode())  # several statements: the simple query protocol
            conn.execute("UPDATE qa_schema SET version = %s", (version + 1,))


def ensure_extension(conn: psycopg.Connection, name: str, location: str) -> None:
    """``CREATE EXTENSION IF NOT EXISTS``, with a message saying what to ask for when it fails."""
    try:
        with conn.transaction():
            conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(name)))
    except psycopg.errors.InsufficientPrivilege as exc:
        raise StoreUnavailable(
            f"{location}: the {name!r} extension (pgvector) is not installed in this database and this user may not "
            f"create it; ask an administrator to run `CREATE EXTENSION {name};` in it ({one_line(exc)})"
        ) from None
    except (psycopg.errors.UndefinedFile, psycopg.errors.FeatureNotSupported, psycopg.errors.UndefinedObject) as exc:
        raise StoreUnavailable(
            f"{location}: the PostgreSQL server has no {name!r} extension (pgvector); install pgvector on the "
            f"server, or use a managed PostgreSQL that offers it ({one_line(exc)})"
        ) from None


def one_line(exc: BaseException) -> str:
    """An error message from libpq or the server on one line (they never hold the password)."""
    text = str(exc).strip()
    for prefix in ("connection failed: ",):
        text = text.removeprefix(prefix)
    return " ".join(part.strip() for part in text.splitlines() if part.strip())
