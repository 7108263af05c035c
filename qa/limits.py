"""Every size limit of the program, in one place, with the check that enforces it."""

from __future__ import annotations

import os

# A question longer than this is refused everywhere (CLI, library, chat): the model
# reads about 512 tokens anyway, and a pasted page is not a question.
MAX_QUESTION_CHARS = 2_000

# Article files larger than this are skipped with a warning naming the file and the
# limit (QA_MAX_FILE_MB or `qa index --max-file-mb` change it): embedding a 50 MB
# file would hold the index lock for hours. In a collection (.jsonl) the limit
# applies to each record, an article of its own.
MAX_FILE_BYTES = int(float(os.environ.get("QA_MAX_FILE_MB", "20")) * 1024 * 1024)

# Passages per question that callers may ask for.
MAX_K = 50

# Files added from the browser: each at most this size (QA_MAX_UPLOAD_MB changes it, never above
# MAX_FILE_BYTES, which the indexer would skip), and at most this many files at once.
MAX_UPLOAD_BYTES = min(MAX_FILE_BYTES, int(float(os.environ.get("QA_MAX_UPLOAD_MB", "10")) * 1024 * 1024))
MAX_UPLOAD_FILES = 20


class QuestionError(ValueError):
    """A question that cannot be answered as asked (empty, too long, not text)."""


def check_question(question: object) -> str:
    """The question, stripped; raises QuestionError with a message for the person who asked."""
    if isinstance(question, bytes):
        try:
            question = question.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise QuestionError(f"the question is not valid UTF-8 text (byte {exc.start})") from None
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text, not {type(question).__name__}")
    try:
        question.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: undecodable bytes smuggled in by the terminal or a client
        raise QuestionError("the question holds bytes that are not valid UTF-8 text") from None
    question = question.strip()
    if not question:
        raise QuestionError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is {len(question):,} characters long; the limit is {MAX_QUESTION_CHARS:,}")
    return question


def check_k(k: object) -> int:
    try:
        value = int(k)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise QuestionError(f"the number of passages must be a whole number, not {k!r}") from None
    if not 1 <= value <= MAX_K:
        raise QuestionError(f"the number of passages must be between 1 and {MAX_K}, not {value}")
    return value
