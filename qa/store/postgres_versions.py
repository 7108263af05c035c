"""Which version of the PostgreSQL store is in use, read the same way by readers and the writer.

A passage or document row belongs to version ``v`` of its build when
``added_in <= v`` and (``removed_in`` is null or ``removed_in > v``):
:func:`visible` says so in SQL; :func:`read_current` reads the version that
``qa_current`` names, with its manifest.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from .base import DocumentEntry, IndexSettings, Manifest
from .postgres_schema import check_schema


@dataclass(frozen=True)
class VersionRow:
    version: int
    build: int
    dim: int
    passages: int


@dataclass(frozen=True)
class CurrentVersion:
    """The version in use and what it holds."""

    manifest: Manifest
    row: VersionRow


def visible(build: int, alias: str | None = None) -> sql.Composed:
    """The rows of ``build`` that version ``%(v)s`` shows."""

    def column(name: str) -> sql.Identifier:
        return sql.Identifier(alias, name) if alias else sql.Identifier(name)

    return sql.SQL("{b} = {build} AND {a} <= %(v)s AND ({r} IS NULL OR {r} > %(v)s)").format(
        b=column("build"), build=sql.Literal(int(build)), a=column("added_in"), r=column("removed_in")
    )


def read_current(conn: psycopg.Connection, location: str) -> CurrentVersion | None:
    """The version ``qa_current`` names, with its manifest (None: no index yet). IndexCorrupt when
    tables of the index are gone."""
    if not check_schema(conn, location):
        return None
    row = conn.execute(
        "SELECT v.version, v.build, v.settings, v.created, v.passages "
        "FROM qa_current c JOIN qa_versions v USING (version)"
    ).fetchone()
    if row is None:
        return None
    current = VersionRow(version=row[0], build=row[1], dim=int(row[2]["dim"]), passages=row[4])
    documents = conn.execute(
        sql.SQL(
            "SELECT d.doc_id, d.content_hash, d.title, "
            "array_remove(array_agg(p.passage_id ORDER BY p.position), NULL), d.date "
            "FROM qa_documents d LEFT JOIN qa_passages p ON p.doc_id = d.doc_id AND {passages} "
            "WHERE {documents} GROUP BY d.doc_id, d.content_hash, d.title, d.date"
        ).format(passages=visible(current.build, "p"), documents=visible(current.build, "d")),
        {"v": current.version},
    ).fetchall()
    manifest = Manifest(
        settings=IndexSettings.from_dict(row[2]),
        documents={d: DocumentEntry(h, t, tuple(ids), date) for d, h, t, ids, date in documents},
        created=float(row[3]),
        extra={"build": current.build},
    )
    return CurrentVersion(manifest, current)
