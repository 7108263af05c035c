"""Question answering over a folder of news articles, with cited passages.

    import qa
    hits = qa.retrieve("Who leads IOM Mongolia?", k=5)
    hits[0].answer, hits[0].citation.path, hits[0].citation.lines
"""

from .chunking import ChunkSettings, Passage
from .corpus import Document
from .index import Index, IndexCorrupt, IndexMismatch, IndexMissing, IndexUnusable
from .indexer import UpdateReport, update_index
from .retrieval import Answer, Citation, Hit, Ranking, Retriever, retrieve, with_context

__all__ = [
    "Answer",
    "Ranking",
    "with_context",
    "ChunkSettings",
    "Citation",
    "Document",
    "Hit",
    "Index",
    "IndexCorrupt",
    "IndexMismatch",
    "IndexMissing",
    "IndexUnusable",
    "Passage",
    "Retriever",
    "UpdateReport",
    "retrieve",
    "update_index",
]
