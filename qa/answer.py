"""What a question gets back: hits with their citations, the short answer, the whole answer;
and how a follow-up is understood."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .question import Question


@dataclass(frozen=True)
class Citation:
    """Where a passage (or a span of it) stands in the original article file."""

    doc_id: str  # the article's id: its file relative to the corpus folder (+ "#record" in a collection)
    title: str
    path: str  # the file as seen from the working directory, e.g. "corpus/000_x.txt"
    start: int  # character offsets in the original text
    end: int
    lines: tuple[int, int]  # first and last line, 1-based (a Word file: its paragraphs, see qa.ingest.word)
    page: int | None = None  # 1-based page of a PDF (the first, when the text spans pages); None for other files
    date: str | None = None  # the article's date, ISO YYYY-MM-DD (qa.ingest.dates); None when it gives none
    ocr: bool = False  # the passage was read by OCR from a scanned page or an image: its text may hold misreadings
    pages: tuple[int, ...] = ()  # every page the cited text lies on, first to last (``page`` is the first)

    def as_dict(self) -> dict:
        record = {
            "doc_id": self.doc_id,
            "title": self.title,
            "path": self.path,
            "start": self.start,
            "end": self.end,
            "lines": list(self.lines),
        }
        if self.page is not None:
            record["page"] = self.page
        if len(self.pages) > 1:  # the text goes on over a page break: every page it lies on
            record["pages"] = list(self.pages)
        if self.date is not None:
            record["date"] = self.date
        if self.ocr:
            record["ocr"] = True
        return record


@dataclass(frozen=True)
class ShortAnswer:
    """The words that answer, a span of the article's own text, with their own citation."""

    text: str
    kind: str  # what was asked for and found: "person", "date", "number", "place", "email", "phone", "phrase"
    hit_rank: int  # the hit whose passage holds it
    citation: Citation

    def as_dict(self) -> dict:
        return {"text": self.text, "kind": self.kind, "hit": self.hit_rank} | self.citation.as_dict()


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    passage_id: str
    text: str
    answer: str  # the sentence of the passage that best answers the question
    answer_span: tuple[int, int]  # where ``answer`` is in ``text``
    citation: Citation

    @property
    def doc_id(self) -> str:
        return self.citation.doc_id

    @property
    def title(self) -> str:
        return self.citation.title

    def as_dict(self) -> dict:
        """A flat, JSON-ready record (the shape `qa ask --json` prints)."""
        return {
            "rank": self.rank,
            "score": self.score,
            "text": self.text,
            "answer": self.answer,
            "answer_span": list(self.answer_span),
            "passage_id": self.passage_id,
        } | self.citation.as_dict()


@dataclass(frozen=True)
class Answer:
    """The reply to one turn of a conversation.

    ``found`` False: nothing in the articles answers; ``hits`` are then the closest
    passages, which are not answers, and ``why_not`` says why. ``found`` True with no
    ``short_answer``: the first hit's sentence answers, but no span of it was good
    enough to stand alone.
    """

    question: str
    searched: str  # what was searched: the question, with the previous turn for a follow-up
    hits: list[Hit]
    found: bool
    short_answer: ShortAnswer | None = None
    why_not: str | None = None
    # A dated article among the hits whose short answer differs from the first hit's, which is newer
    # (qa.recency): "an older article says otherwise". None: no dated article answers otherwise.
    older_differs: ShortAnswer | None = None

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None

    def as_dict(self) -> dict:
        """A JSON-ready record (the object `qa ask --json` prints for one question)."""
        return {
            "question": self.question,
            "searched": self.searched,
            "found": self.found,
            "short_answer": self.short_answer.as_dict() if self.short_answer else None,
            "why_not": self.why_not,
            "hits": [h.as_dict() for h in self.hits],
            "older_differs": self.older_differs.as_dict() if self.older_differs else None,
        }


# Words that point back to an earlier turn ("What is his email?", "Et son numéro ?").
_REFERRING = re.compile(
    r"\b(?:he|him|his|she|her|hers|it|its|they|them|their|this|that|these|those|there|"
    r"il|elle|ils|elles|lui|leur|leurs|son|sa|ses|ce|cet|cette|ces|celui|celle|ceux|y|en|là)\b",
    re.IGNORECASE,
)


SHORT_QUESTION_WORDS = 3  # a follow-up this short is searched with the question before it

# Possessives and personal pronouns always point back; the other words above may not ("en", "y" and "la"
# are also Spanish prepositions and articles: "¿Quién dirige la OIM en Mongolia?").
_PERSONAL = re.compile(
    r"\b(?:he|him|his|she|her|hers|they|them|their|il|elle|ils|elles|lui|leur|leurs|son|sa|ses)\b", re.IGNORECASE
)
_NAMED = re.compile(r"(?<=\s)[A-ZÀ-Ý][\w'’-]+")


def refers_back(question: str) -> bool:
    """The question points to an earlier turn ("What is his email?"). One that names what it is about
    ("¿Quién dirige la OIM en Mongolia?") and has no personal pronoun stands alone."""
    if _PERSONAL.search(question):
        return True
    return bool(_REFERRING.search(question)) and not _NAMED.search(question)


def with_context(question: str, history: list[str]) -> str:
    """The text to search for a question asked after ``history`` (earlier questions, oldest first).

    No generative model: a follow-up that refers back (a pronoun, "there", "son",
    "ce"…) or is very short is searched together with the previous question, so
    "What is his email?" after "Who leads IOM Mongolia?" looks for the email in
    the passages about the head of IOM Mongolia. A self-contained question is
    searched alone.
    """
    if not history:
        return question
    if refers_back(question) or is_short(question):
        return f"{history[-1]} {question}"
    return question


def is_short(question: str) -> bool:
    """Too few words to be read alone ("And in Cairo?")."""
    return len(question.split()) <= SHORT_QUESTION_WORDS


def read_as(asked: Question, searched: str) -> str:
    """What the reader model reads as the question: an open follow-up that says what it asks ("According
    to him, what will the workshop help officials do?") alone, as the model was fitted on single
    questions; read after the previous one ("Who is the Director General …?"), it answered with that
    person. Other follow-ups keep the previous question: their spans are of a kind, and it says whose."""
    return asked.text if asked.open and not is_short(asked.text) else searched
