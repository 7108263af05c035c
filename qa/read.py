"""The reader stage: the best passages are read for the words that answer, and ranked again.

Two readers, each where it is measured to do best (docs/quality.md):
- the reader model (:mod:`qa.reader_model`) reads the question with each passage in one batch: its
  "answers" logit is weighed in beside every passage's score, for an open question (what, why, how)
  its words in a passage are that passage's short answer, and for a French or English question of a kind it chooses
  among the rule reader's spans of that kind (``ReadWeights.picks_typed``), or answers in its own words where
  there is none or it is far surer of them (``ReadWeights.own_words_margin``);
- the rule reader (:mod:`qa.rule_reader`) looks, for a question of a given kind (a person, a date, a
  number, an email…), for a span of that kind in a sentence that matches the question, using what a press
  release is made of (the contact block answers contact questions; an email belongs to the person named
  before it); what it finds reorders the passages and gives their short answers.
The answering sentence of each passage is the one holding its short answer.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .question import Question
from .ranking import ReadWeights
from .reader_model import ReaderModel, Reading
from .rule_reader import (
    Evidence,
    Found,
    QuestionParts,
    ReaderWeights,
    asks_by_role,
    candidate_spans,
    read_passage,
    sentence_scores,
)
from .search import Scored
from .spans import Span, listed_with

RULES = ReaderWeights()


def read(
    model: ReaderModel | None,
    question: Question,
    head: list[Scored],
    weights: ReadWeights,
    referent: str | None = None,
    searched: str | None = None,
    parts: QuestionParts = QuestionParts(),
    read_all: bool = True,
    rules: ReaderWeights = RULES,
) -> list[Scored]:
    """``head`` read and ranked again, best first, each with its short answer (``span``, None when its
    sentence is the answer). ``searched``: what the model reads as the question (qa.answer.read_as: some
    follow-ups with the question before them; by default the question); ``parts``: which of the
    question's word pieces name what a "how many" question counts, and the office a contact question asks
    about. The model reads every passage of the head when ``read_all`` (its score then weighs in, or the
    judge needs it); otherwise only the best one,
    for the words of the questions it reads for (``weights.model_reads``). For a question asking for
    several ("Which countries …"), a span of a kind takes in the others of its kind listed with it.
    Without a model (a broken install, the model-free test backend) the rule reader alone reads, with the
    weights ``rules``."""
    found = read_by_rule(question, [_evidence(s, parts) for s in head], referent, rules)
    by_rule = [
        dataclasses.replace(
            scored,
            found=rule,
            span=rule.span,
            best_sentence=rule.sentence,
            searched_score=scored.score,
            score=(scored.score + rules.reorder * rule.score) / (1 + rules.reorder),
        )
        for scored, rule in zip(head, found, strict=True)
    ]
    by_rule.sort(key=lambda s: -s.score)
    model_reads = weights.model_reads(question)
    if model is None or not by_rule or not (read_all or model_reads):
        return [_listed(question, s) for s in by_rule]
    chosen = by_rule if read_all else by_rule[: weights.depth_read(question)]
    readings = model.read(searched or question.text, [s.passage.text for s in chosen])
    read_head = [
        _with_reading(s, reading, weights, question, referent, model_reads, parts)
        for s, reading in zip(chosen, readings, strict=True)
    ]
    # the passages read are ordered again among themselves; those not read stay below them, as they were
    read_head.sort(key=lambda s: -s.score)
    return [_listed(question, s) for s in read_head + by_rule[len(chosen) :]]


def _listed(question: Question, scored: Scored) -> Scored:
    """For a question asking for several ("Which countries …"), the span of a kind extended over the others
    of its kind listed with it in its sentence."""
    span = scored.span
    if not question.plural or span is None or span.kind == "phrase":
        return scored
    holding = scored.passage.sentence_at(span.start)
    if holding is None:
        return scored
    begin, end = scored.passage.sentences[holding]
    inside = listed_with(scored.passage.text[begin:end], Span(span.start - begin, span.end - begin, span.kind))
    return dataclasses.replace(scored, span=Span(inside.start + begin, inside.end + begin, span.kind, span.cue))


def _evidence(scored: Scored, parts: QuestionParts) -> Evidence:
    passage = scored.passage
    return Evidence(passage.text, passage.sentences, scored.sentence_relevance, scored.match, parts)


def _with_reading(
    scored: Scored,
    reading: Reading,
    weights: ReadWeights,
    question: Question,
    referent: str | None,
    words: bool,
    parts: QuestionParts,
) -> Scored:
    """``scored`` with what the model read in it; ``words``: the model's words become its short answer (for a
    question of a kind, the span of that kind it scores best)."""
    span = scored.span
    if words and question.open and reading.has_span:
        span = Span(reading.start, reading.end, "phrase")
    elif words and not question.open:
        passage = scored.passage
        # a count: within the rule reader's answering sentence, which weighs what each number counts (the model
        # took "120 Etats membres" for how many countries are observers, where "17 pays" follows)
        sentences = passage.sentences[scored.best_sentence :][:1] if question.focus else passage.sentences
        spans = candidate_spans(question, _evidence(scored, parts), referent, sentences)
        scores = [reading.best_within(c.start, c.end) for c in spans]
        if scores and max(scores) > float("-inf"):
            span = spans[int(np.argmax(scores))]
            if _own_words_answer(question, reading, max(scores), weights):
                span = Span(reading.start, reading.end, "phrase")
        elif span is None and reading.has_span:
            # no span of the kind to choose from ("Qui est Laura ?" → "entremetteuse"): where the sentence
            # answers, its words are the model's; on the even half of PIAF dev F1 of those questions 0.19 → 0.52
            span = Span(reading.start, reading.end, "phrase")
    return dataclasses.replace(
        scored,
        reading=reading,
        span=span,
        best_sentence=_sentence_of(scored, span, scored.best_sentence),
        score=fused_score(scored.score, reading, weights.answers_weight(question)),
    )


def _own_words_answer(question: Question, reading: Reading, chosen: float, weights: ReadWeights) -> bool:
    """Whether the model's own best words answer a question of a kind rather than the span of that kind it
    scores ``chosen``: they score far more, and the question asks neither for what belongs to a person, nor
    for a count (whose words the judge checks against what is counted), nor for a person by role (whose role
    in the sentence the rule reader checks: the model took the chief of mission for who spoke on behalf of
    the Director General)."""
    if not reading.has_span or question.owned or question.focus or asks_by_role(question):
        return False
    return reading.span_score - chosen > weights.own_words_margin


def read_by_rule(
    question: Question, evidence: list[Evidence], referent: str | None, rules: ReaderWeights = RULES
) -> list[Found]:
    """The rule reader over the passages of the head. A span counts only in a sentence nearly as relevant as
    the best one of the head, and a span of a fallback kind (an organisation for "who") only when no
    passage holds one of the kind asked for."""
    floor = max((float(sentence_scores(question, e, rules).max()) for e in evidence if e.sentences), default=0.0)
    found = [read_passage(question, e, rules, referent, floor=floor - rules.slack) for e in evidence]
    kinds = question.answering_kinds
    if kinds and any(f.span is not None and f.span.kind == kinds[0] for f in found):
        found = [
            f
            if f.span is None or f.span.kind == kinds[0]
            else read_passage(question, e, rules, referent, kinds[:1], floor - rules.slack)
            for f, e in zip(found, evidence, strict=True)
        ]
    return found


def fused_score(searched: float, reading: Reading | None, weight: float) -> float:
    """A passage's score once read: its score so far, plus the reader model's "answers" logit weighed in."""
    return searched + weight * reading.answers if reading else searched


def _sentence_of(scored: Scored, span: Span | None, by_rule: int) -> int:
    """The sentence holding the span; without one, the rule reader's sentence."""
    if span is not None:
        holding = scored.passage.sentence_at(span.start)
        if holding is not None:
            return holding
    return by_rule
