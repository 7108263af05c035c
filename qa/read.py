"""The reader stage: the reader model reads the question with each of the best passages.

What it reads reorders them (its "answers" score fused with the search score), and gives each its
short answer and its answering sentence: the sentence that holds the model's words. Contact questions
(an email, a phone number, whom to contact) keep the press release's own structure instead, which the
model was never taught: the contact block answers them, and an email or a phone number there belongs
to the person named just before it (:mod:`qa.contacts`).
"""

from __future__ import annotations

import dataclasses

from .contacts import Evidence, answered_here, read_contacts
from .question import Question
from .ranking import ReadWeights
from .reader_model import ReaderModel, Reading
from .search import Scored
from .spans import Span


def read(
    model: ReaderModel | None,
    question: Question,
    head: list[Scored],
    weights: ReadWeights,
    referent: str | None = None,
    searched: str | None = None,
) -> list[Scored]:
    """``head`` read by ``model`` and ranked again, best first, each with its short answer (``span``).
    ``searched``: what the model reads as the question (a follow-up with the question before it; by
    default the question). Without a model (a broken install, the model-free test backend) only contact
    questions get a short answer."""
    texts = [s.passage.text for s in head]
    readings = model.read(searched or question.text, texts) if model else [None] * len(head)
    by_contacts = answered_here(question, referent)
    read_head = []
    for scored, reading in zip(head, readings, strict=True):
        span = Span(reading.start, reading.end, question.expects) if reading and reading.has_span else None
        if by_contacts:
            evidence = Evidence(scored.passage.text, scored.passage.sentences, scored.sentence_relevance, scored.match)
            span = read_contacts(question, evidence, referent)
        score = fused_score(scored.score, reading, weights)
        read_head.append(
            dataclasses.replace(
                scored,
                reading=reading,
                span=span,
                best_sentence=_sentence_of(scored, span),
                searched_score=scored.score,
                score=score,
            )
        )
    return sorted(read_head, key=lambda s: -s.score)


def fused_score(searched: float, reading: Reading | None, weights: ReadWeights) -> float:
    """A passage's score once read: its search score, plus the reader's "answers" logit weighed in."""
    return searched + weights.answers * reading.answers if reading else searched


def _sentence_of(scored: Scored, span: Span | None) -> int:
    """The sentence holding the span; without one, the sentence that best matches the question."""
    if span is not None:
        holding = scored.passage.sentence_at(span.start)
        if holding is not None:
            return holding
    return scored.best_sentence
