"""One question in, one reply out: what the chat and the ``/ask`` API share.

Every input is checked here and every refusal says what is wrong (status
``empty``, ``too_long`` or ``invalid``, with a ``message``); only a failure of
the program itself is the generic ``error``, logged with its traceback.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, cast

from ..answer import Answer, Hit
from ..ingest.dates import DateRange
from ..library import StoreUnavailable, corpus_file
from ..limits import (
    DEFAULT_CHAT_SOURCES,
    MAX_CHAT_HISTORY,
    MAX_CHAT_SOURCES,
    MAX_QUESTION_CHARS,
    QuestionError,
    check_question,
)
from ..retrieval import Retriever
from .format import NOTHING_FOUND, format_answer, message

log = logging.getLogger(__name__)

MAX_UI_QUESTION_CHARS = MAX_QUESTION_CHARS
Status = Literal["answered", "nothing_found", "empty", "too_long", "invalid", "unavailable", "error"]
ERROR_TEXT = "Sorry, something went wrong while searching the articles. The error was logged; please try again."


class AskResult(TypedDict):
    """What ``/ask`` returns beside the reply's HTML (docs/api.md)."""

    status: Status
    message: str | None  # what the reply says, for every status but "answered"
    question: str
    searched: str  # a follow-up is searched together with the previous question
    found: bool
    short_answer: dict[str, Any] | None  # text, kind, hit, and its citation
    why_not: str | None
    hits: list[dict[str, Any]]  # best first: rank, score, title, doc_id, file, lines, text, answer, …
    older_differs: dict[str, Any] | None  # an older dated article's other answer, as short_answer is given


class BadRequest(ValueError):
    """An input that cannot be used as given; the message says what is wrong."""


def printable(text: str) -> str:
    """``text`` as valid Unicode (lone surrogates become "?"), safe to send back as JSON."""
    return text.encode("utf-8", errors="replace").decode("utf-8")


def parse_k(k: object) -> int:
    """The number of passages: a whole number, brought within 1…MAX_CHAT_SOURCES."""
    if isinstance(k, bool):
        raise BadRequest(f"k, the number of passages, must be a whole number from 1 to {MAX_CHAT_SOURCES}, not {k!r}")
    if isinstance(k, str):
        k = k.strip()
    try:
        value = float(k)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int too big for a float (10**400)
        value = math.nan
    if not math.isfinite(value) or value != int(value):
        shown = printable(repr(k))[:40]
        raise BadRequest(f"k, the number of passages, must be a whole number from 1 to {MAX_CHAT_SOURCES}, not {shown}")
    return max(1, min(MAX_CHAT_SOURCES, int(value)))


def parse_history(history: object) -> list[str]:
    """The earlier questions, oldest first: a list of texts (or one text, a question per line)."""
    if history is None:
        return []
    if isinstance(history, str):
        history = history.splitlines()
    if not isinstance(history, list | tuple):
        raise BadRequest(f"history must be a list of the earlier questions (texts), not {type(history).__name__}")
    questions = []
    for number, item in enumerate(history, start=1):
        if not isinstance(item, str):
            shown = "null" if item is None else type(item).__name__
            raise BadRequest(f"history must hold the earlier questions as texts; item {number} is {shown}")
        if not item.strip():
            continue
        try:
            questions.append(check_question(item))
        except QuestionError as exc:
            raise BadRequest(f"earlier question {number} cannot be used: {exc}") from None
    return questions[-MAX_CHAT_HISTORY:]


def hit_record(hit: Hit, corpus_dir) -> dict[str, Any]:
    """A hit as the API returns it: ``file`` relative to the corpus folder (never the server's path)."""
    record = hit.as_dict()
    # "file", not "path": gradio_client downloads any dict with a "path" key as a file.
    record.pop("path", None)
    record["file"] = corpus_file(corpus_dir, hit.doc_id)
    return record


def answer_record(answer: Answer, corpus_dir) -> dict[str, Any]:
    """The API's record of an answer: `qa ask --json`'s, with a status and message, and files named as
    seen from the corpus folder rather than the working directory."""
    record = answer.as_dict()
    for key, short in (("short_answer", answer.short_answer), ("older_differs", answer.older_differs)):
        if short is not None:
            cited = {name: value for name, value in short.as_dict().items() if name != "path"}
            record[key] = cited | {"file": corpus_file(corpus_dir, short.citation.doc_id)}
    return record | {
        "status": "answered" if answer.found else "nothing_found",
        "message": None if answer.found else " ".join(filter(None, [NOTHING_FOUND, answer.why_not])),
        "hits": [hit_record(h, corpus_dir) for h in answer.hits],
    }


def parse_dates(since: object, until: object) -> DateRange | None:
    """The date filter: two days ``YYYY-MM-DD`` (either may be empty), checked as `qa ask --since --until`
    checks them (qa.ingest.dates); None when neither is given."""
    days = []
    for name, value in (("since", since), ("until", until)):
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"{name} must be a date YYYY-MM-DD (text), not {type(value).__name__}")
        days.append(value.strip() or None if isinstance(value, str) else None)
    try:
        return DateRange.of(days[0], days[1])
    except ValueError as exc:
        raise BadRequest(f"the date filter cannot be used: {printable(str(exc))}") from None


@dataclass(frozen=True)
class Reply:
    html: str  # the reply as the chat shows it
    record: AskResult  # the API's record of it
    answer: Answer | None  # what the retriever answered; None when the question was refused before it
    dates: DateRange | None = None  # the date filter it was asked with


class ChatBackend:
    """Turns a question (plus the earlier questions) into a reply; never raises."""

    def __init__(self, retriever: Retriever):
        self.retriever = retriever

    def ask(
        self,
        question: str,
        history: list[str] | None = None,
        k: int = DEFAULT_CHAT_SOURCES,
        since: str | None = None,
        until: str | None = None,
    ) -> tuple[str, AskResult]:
        """Answer ``question`` with ``k`` cited passages (1-10).

        ``history``: the earlier questions of the conversation, oldest first; ``since``, ``until``: only
        articles dated in that range (``YYYY-MM-DD``, both days included; an article without a date is
        then left out). Returns the reply (HTML) and a record: status (one of ``Status``), message,
        question, searched, found, short_answer, why_not, hits, older_differs (docs/api.md).
        """
        reply = self.reply(question, history, k, since, until)
        return reply.html, reply.record

    def reply(
        self,
        question: str,
        history: list[str] | None = None,
        k: int = DEFAULT_CHAT_SOURCES,
        since: str | None = None,
        until: str | None = None,
        feedback: str | None = None,
    ) -> Reply:
        """:meth:`ask`, with the answer itself; ``feedback``: the reply's reference for its right and
        wrong buttons (the chat's; the API's replies have none)."""
        shown = printable(question).strip() if isinstance(question, str) else ""
        record: dict[str, Any] = {
            "status": "",
            "message": None,
            "question": shown,
            "searched": shown,
            "found": False,
            "short_answer": None,
            "why_not": None,
            "hits": [],
            "older_differs": None,
        }

        def refuse(status: Status, text: str, kind: str = "notice") -> Reply:
            return Reply(message(text, kind), cast(AskResult, record | {"status": status, "message": text}), None)

        if question is None or (isinstance(question, str) and not question.strip()):
            return refuse("empty", "Please type a question about the articles.")
        if not isinstance(question, str):
            return refuse("invalid", f"The question must be text, not {type(question).__name__}.")
        if len(question.strip()) > MAX_UI_QUESTION_CHARS:
            return refuse(
                "too_long",
                f"Your question is {len(question.strip()):,} characters long; "
                f"please keep it under {MAX_UI_QUESTION_CHARS:,} characters.",
            )
        try:
            question = check_question(question)
            k = parse_k(k)
            earlier = parse_history(history)
            dates = parse_dates(since, until)
        except (QuestionError, BadRequest) as exc:
            return refuse("invalid", f"This request cannot be answered: {exc}.")
        try:
            span = (dates.since, dates.until) if dates else (None, None)
            answer = self.retriever.answer(question, k=k, history=earlier, since=span[0], until=span[1])
        except StoreUnavailable as exc:  # a database that is down: say so, it is not our error
            log.warning("the index cannot be reached: %s", exc)
            return refuse("unavailable", f"The index cannot be reached right now ({exc}). Please try again.", "error")
        except Exception:
            log.exception("answering %r failed", shown[:200])
            return refuse("error", ERROR_TEXT, "error")
        shown = format_answer(answer, dates, feedback)
        return Reply(shown, cast(AskResult, record | answer_record(answer, self.retriever.corpus_dir)), answer, dates)
