"""What the chat needs from the corpus reader, imported in this one place.

The rest of :mod:`qa.ui` imports these names from here, so moving the reader
(``qa.ingest``) changes this file only.
"""

from __future__ import annotations

from pathlib import Path

from ..ingest import SUFFIXES, CorpusError, path_in_corpus

__all__ = ["SUFFIXES", "CorpusError", "corpus_file", "path_in_corpus"]


def corpus_file(corpus_dir: Path, doc_id: str) -> str:
    """The file of an article, relative to the corpus folder (posix).

    An article is a file, or one record of a collection file (``news.jsonl#12``);
    a file whose own name holds a ``#`` is still itself.
    """
    if "#" in doc_id and not path_in_corpus(corpus_dir, doc_id).is_file():
        return doc_id.rsplit("#", 1)[0]
    return doc_id
