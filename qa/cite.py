"""Citations: where each passage and each short answer stand in the article's own file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .answer import Citation, Hit, ShortAnswer
from .ingest import path_in_corpus
from .ingest.collection import split_doc_id
from .search import Scored
from .spans import Span


def cite(rank: int, scored: Scored, corpus_dir: Path, date: str | None = None) -> Hit:
    """The hit of one ranked passage, with its answering sentence and its citation; ``date``: its article's
    (the index keeps it: qa.store.Manifest.date_of)."""
    passage = scored.passage
    path_in_corpus(corpus_dir, passage.doc_id)  # refuses ids that leave the corpus
    span = passage.sentences[scored.best_sentence] if passage.sentences else (0, len(passage.text))
    return Hit(
        rank=rank,
        score=round(float(scored.score), 4),
        passage_id=passage.passage_id,
        text=passage.text,
        answer=passage.text[span[0] : span[1]],
        answer_span=span,
        citation=Citation(
            doc_id=passage.doc_id,
            title=passage.title,
            path=(corpus_dir / split_doc_id(passage.doc_id)[0]).as_posix(),
            start=passage.start,
            end=passage.end,
            lines=(passage.line_start, passage.line_end),
            page=passage.page,
            date=date,
            ocr=passage.ocr,
            pages=passage.pages,
        ),
    )


def cite_short_answer(span: Span, scored: Scored, hit: Hit) -> ShortAnswer:
    """The short answer's words, with a citation of their own lines and page."""
    passage = scored.passage
    start, end = passage.original_span(span.start, span.end)
    pages = passage.pages_of(start, end)
    citation = dataclasses.replace(
        hit.citation,
        start=start,
        end=end,
        lines=passage.lines_of(start, end),
        page=pages[0] if pages else None,
        pages=pages,
    )
    return ShortAnswer(passage.text[span.start : span.end], span.kind, hit.rank, citation)
