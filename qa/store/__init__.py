"""Where passages and vectors are kept, behind one :class:`Store` protocol.

- a folder (the default, ``embeddings/``): FAISS and plain files, :mod:`qa.store.faiss`;
- ``postgresql://…``, or libpq's ``host=… dbname=…``: PostgreSQL with pgvector, :mod:`qa.store.postgres`
  (:mod:`qa.store.location` tells them apart and masks passwords in messages).

``--store`` on the command line, or the ``QA_STORE`` environment variable, picks one.
"""

from __future__ import annotations

import os
from pathlib import Path

from .base import (
    Candidate,
    DocumentEntry,
    EncodedPassage,
    IndexBusy,
    IndexCorrupt,
    IndexMismatch,
    IndexMissing,
    IndexSettings,
    IndexUnusable,
    KeywordHits,
    Manifest,
    Repair,
    Store,
    StoreLocationError,
    StoreReader,
    StoreUnavailable,
    StoreWriter,
    passage_key,
)
from .location import is_database, public_location

DEFAULT_STORE = os.environ.get("QA_STORE", "embeddings")

__all__ = [
    "DEFAULT_STORE",
    "Candidate",
    "DocumentEntry",
    "EncodedPassage",
    "IndexBusy",
    "IndexCorrupt",
    "IndexMismatch",
    "IndexMissing",
    "IndexSettings",
    "IndexUnusable",
    "KeywordHits",
    "Manifest",
    "Repair",
    "Store",
    "StoreLocationError",
    "StoreReader",
    "StoreUnavailable",
    "StoreWriter",
    "open_store",
    "passage_key",
    "public_location",
]


def open_store(location: str | Path | Store = DEFAULT_STORE) -> Store:
    """The store at ``location``: a PostgreSQL URI or connection string, or a folder for the files store.
    Raises StoreLocationError for an empty location, or a folder that holds other things than an index."""
    if not isinstance(location, str | Path):
        return location
    if not str(location).strip():
        raise StoreLocationError(
            "no index location given (an empty --store or QA_STORE): name a folder or a postgresql:// URI"
        )
    if is_database(location):
        from .postgres import PostgresStore

        return PostgresStore(str(location))
    from .faiss import FilesStore

    return FilesStore(Path(location))
