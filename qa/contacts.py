"""Contact questions, read from a press release's own structure.

The reader model answers every other question; it was never taught contact blocks ("Pour plus
d'informations, veuillez contacter X, Tel: …, Email: …"), where the answer is not the words most like
the question but the email or phone number of the right person. Here: the contact block answers
contact questions; an email, a phone number or a position belongs to the person named just before it
(or, for a position, just after it: "le Directeur, X"); among several people, the one whose place or
office the question names is nearer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .lexical import fold
from .question import CONTACT_SPANS, OWNED, Question
from .rerank import TokenMatch, late_interaction
from .spans import Span, find_spans

_CONTACT_SENTENCE = re.compile(
    r"^(?:pour (?:plus d|toute)|for (?:more|further) information|contact\b|press contact|media contact)"
    r"|\b(?:tel|tél|téléphone|phone|e-?mail|courriel|fax)\s*[:.]|@[\w-]+\.\w",
    re.IGNORECASE,
)
WINDOW = 60  # characters on each side of a span that say what it is about


@dataclass(frozen=True)
class Evidence:
    """One passage as the ranking saw it."""

    text: str
    sentences: tuple[tuple[int, int], ...]
    relevance: np.ndarray  # per sentence: how well it matches the question
    match: TokenMatch | None  # the question's word pieces against the passage's (None when not reranked)


def is_contact(sentence: str) -> bool:
    return bool(_CONTACT_SENTENCE.search(sentence))


def answered_here(question: Question, referent: str | None = None) -> bool:
    """Whether the contact block answers ``question``: an email or phone number, whom to contact, or
    something of a given person's ("What is his position?" after "Who leads IOM Mongolia?")."""
    if question.expects in CONTACT_SPANS:
        return True
    return (question.contact and question.expects == "person") or bool(referent and question.owned)


def read_contacts(question: Question, evidence: Evidence, referent: str | None = None) -> Span | None:
    """The email, phone number, contact person or position in one passage that answers ``question``;
    ``referent``: the person it must belong to ("his email" after "Who leads IOM Mongolia?"). None when
    there is none. No weights: among the candidates, the one standing by more of the names the question
    gives wins, then one of a contact block, then the one whose sentence (then surroundings) best
    matches the question."""
    kinds = CONTACT_SPANS.get(question.expects) or (question.expects,)
    text = evidence.text
    best: tuple[tuple, Span] | None = None
    for i, (s, e) in enumerate(evidence.sentences):
        contact = is_contact(text[s:e])
        if question.expects == "person" and not contact:
            continue  # "Whom should I contact?": the people of the contact block
        spans = find_spans(text[s:e])
        for span in spans:
            if span.kind not in kinds:
                continue
            if referent and span.kind in OWNED and not _belongs_to(referent, span, spans, text[s:e]):
                continue
            placed = Span(s + span.start, s + span.end, span.kind, span.cue)
            rank = (
                _names_nearby(question, text, placed),
                contact,
                round(float(evidence.relevance[i]), 2),
                _near(evidence, placed),
            )
            if best is None or rank > best[0]:
                best = (rank, placed)
    return best[1] if best else None


def _pieces_in(evidence: Evidence, start: int, end: int) -> np.ndarray:
    assert evidence.match is not None
    return (evidence.match.ends > start) & (evidence.match.ends <= end)


def _near(evidence: Evidence, span: Span) -> float:
    """How well the question's words match the text around the span (the span itself left out)."""
    if evidence.match is None:
        return 0.0
    start, end = _segment(evidence.text, span)
    window = _pieces_in(evidence, max(start, span.start - WINDOW), span.start)
    window |= _pieces_in(evidence, span.end, min(end, span.end + WINDOW))
    return late_interaction(evidence.match.similarities[:, window], evidence.match.weights) if window.any() else 0.0


def _names_nearby(question: Question, text: str, span: Span) -> int:
    """How many words of the names the question gives are written near the span (in its part of a contact
    block): "IOM Mongolia" is nearer "OIM Mongolie" than "OIM Beijing"."""
    start, end = _segment(text, span)
    around = _stems(text[max(start, span.start - WINDOW) : min(end, span.end + WINDOW)])
    return len(set().union(*(_stems(e) for e in question.entities)) & around) if question.entities else 0


_CONTACT_SEPARATOR = re.compile(r"\s(?:ou|or|o|oder)\s|;")


def _segment(text: str, span: Span) -> tuple[int, int]:
    """The part of a contact block that holds the span: "X, Genève, Email: … ou Y, LEA Caire, …" lists
    several people, and what is near one of them is not the other's."""
    sentence_start = text.rfind("\n", 0, span.start) + 1
    sentence_end = text.find("\n", span.end)
    sentence_end = len(text) if sentence_end < 0 else sentence_end
    if not is_contact(text[sentence_start:sentence_end]):
        return 0, len(text)
    cuts = [m for m in _CONTACT_SEPARATOR.finditer(text, sentence_start, sentence_end)]
    start = max([m.end() for m in cuts if m.end() <= span.start], default=0)
    end = min([m.start() for m in cuts if m.start() >= span.end], default=len(text))
    return start, end


def _stems(text: str, shortest: int = 3) -> set[str]:
    """Folded word stems (5 letters) of a text; acronyms also by their sorted letters (IOM = OIM)."""
    stems = {w[:5] for w in re.findall(r"\w+", fold(text)) if len(w) >= shortest}
    return stems | {"".join(sorted(w)) for w in re.findall(r"\b[A-Z]{2,6}\b", text)}


def _belongs_to(referent: str, span: Span, spans: list[Span], sentence: str) -> bool:
    """An email, phone or role belongs to the person named just before it in the sentence (a contact
    block lists "Name, place, Tel: …, Email: …"), or just after it for a role ("le Directeur, X")."""
    people = [p for p in spans if p.kind == "person"]
    before = [p for p in people if p.end <= span.start]
    owners = before[-1:] if before else []
    if span.kind == "role":
        owners += [p for p in people if p.start >= span.end and not sentence[span.end : p.start].strip(" ,")]
    wanted = _stems(referent) - _stems("M Mme Mr Mrs Dr")
    return any(wanted & _stems(sentence[p.start : p.end]) for p in owners)
