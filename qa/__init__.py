"""Question answering over a folder of news articles, with cited passages.

import qa
hits = qa.retrieve("Who leads IOM Mongolia?", k=5)
hits[0].answer, hits[0].citation.path, hits[0].citation.lines
"""

from importlib import import_module
from typing import TYPE_CHECKING

from . import offline  # noqa: F401  (first: the libraries' calls home off before any of them loads)

if TYPE_CHECKING:
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

# Each name is imported when first used: `qa index` (python -m qa) needs neither the question
# pipeline nor its libraries, and at 10^5 articles an update takes about a second in all.
_HOMES = {
    **dict.fromkeys(["Answer", "Citation", "Hit", "ShortAnswer", "with_context"], "answer"),
    **dict.fromkeys(["ChunkSettings", "Passage"], "chunking"),
    **dict.fromkeys(["Embedder", "ModelError", "get_embedder"], "embed"),
    **dict.fromkeys(["UpdateReport", "index_documents", "update_index"], "indexer"),
    **dict.fromkeys(["CorpusError", "Document"], "ingest"),
    "QuestionError": "limits",
    **dict.fromkeys(["Ranking", "Weights"], "ranking"),
    **dict.fromkeys(["Retriever", "retrieve"], "retrieval"),
    **dict.fromkeys(
        [
            "IndexBusy",
            "IndexCorrupt",
            "IndexMismatch",
            "IndexMissing",
            "IndexUnusable",
            "Store",
            "StoreUnavailable",
            "open_store",
        ],
        "store",
    ),
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


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
