"""Question answering over a folder of news articles, with cited passages.

import qa
hits = qa.retrieve("Who leads IOM Mongolia?", k=5)
hits[0].answer, hits[0].citation.path, hits[0].citation.lines
"""

from . import offline  # noqa: F401  (first: the libraries' calls home off before any of them loads)
from .answer import Answer, Citation, Hit, ShortAnswer, with_context
from .chunking import ChunkSettings, Passage
from .embed import Embedder, ModelError, get_embedder
from .indexer import UpdateReport, index_documents, update_index
from .ingest import CorpusError, Document
from .limits import QuestionError
from .ranking import Ranking, Weights
from .retrieval import Retriever, retrieve
from .store import (
    IndexBusy,
    IndexCorrupt,
    IndexMismatch,
    IndexMissing,
    IndexUnusable,
    Store,
    StoreUnavailable,
    open_store,
)

__all__ = [
    "Answer",
    "ChunkSettings",
    "Citation",
    "CorpusError",
    "Document",
    "Embedder",
    "Hit",
    "IndexBusy",
    "IndexCorrupt",
    "IndexMismatch",
    "IndexMissing",
    "IndexUnusable",
    "ModelError",
    "Passage",
    "QuestionError",
    "Ranking",
    "Retriever",
    "ShortAnswer",
    "Store",
    "StoreUnavailable",
    "UpdateReport",
    "Weights",
    "get_embedder",
    "index_documents",
    "open_store",
    "retrieve",
    "update_index",
    "with_context",
]
