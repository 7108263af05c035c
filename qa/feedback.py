"""What readers say about answers: "right", or "wrong" with the right answer, kept as JSONL beside the index.

Each mark is one line of ``feedback.jsonl`` in the index folder (for an index in PostgreSQL, a file of this
machine: ``~/.cache/qa-assistant/feedback/<database>.jsonl``, or ``$QA_CACHE_DIR``; ``$QA_FEEDBACK_FILE``
names another file for either). A line holds the question, the earlier questions of the conversation, the
answer as ``qa ask --json`` prints it (its citations included), the verdict, the right answer when one was
given, the index version and when (UTC). ``qa eval --feedback FILE`` turns the file into a question set
(:func:`load_feedback`).

Each mark is written with one ``write`` to a file opened for appending, then flushed to disk, so that two
servers (or two threads) writing at once never interleave their lines, and a crash leaves at most one
broken line, which the next mark starts after and the reader skips, naming it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .embed.base import default_cache_dir
from .store.location import is_database, public_location

if TYPE_CHECKING:  # the chat writes marks without loading the measuring code
    from .evaluation import Case

FEEDBACK_NAME = "feedback.jsonl"
FEEDBACK_SETTING = "QA_FEEDBACK_FILE"
VERDICTS = ("right", "wrong")
MAX_CORRECTION_CHARS = 2_000


class FeedbackError(RuntimeError):
    """A mark that could not be written; the message says why, naming the file (``why``: the reason alone)."""

    def __init__(self, path: Path, why: str):
        super().__init__(f"{path}: {why}")
        self.why = why


@dataclass(frozen=True)
class Feedback:
    verdict: str  # "right" or "wrong"
    answer: dict  # Answer.as_dict(): the question, the short answer, the hits with their citations
    index_version: str
    history: tuple[str, ...] = ()  # the earlier questions of the conversation, oldest first
    correction: str | None = None  # the right answer, given with "wrong"
    dates: tuple[str | None, str | None] = (None, None)  # the date filter the question was asked with
    at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"a verdict is one of {', '.join(VERDICTS)}, not {self.verdict!r}")
        if self.correction is not None and len(self.correction) > MAX_CORRECTION_CHARS:
            raise ValueError(
                f"the right answer is {len(self.correction):,} characters; at most {MAX_CORRECTION_CHARS:,}"
            )

    def as_dict(self) -> dict:
        return {
            "at": self.at,
            "verdict": self.verdict,
            "question": self.answer.get("question"),
            "history": list(self.history),
            "correction": self.correction,
            "since": self.dates[0],
            "until": self.dates[1],
            "index_version": self.index_version,
            "answer": self.answer,
        }


def feedback_file(store_location: str | Path) -> Path:
    """Where the marks on answers from this index are kept (see the module's documentation)."""
    chosen = os.environ.get(FEEDBACK_SETTING, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    if is_database(store_location):  # a file of this machine, named after the database, password never shown
        name = re.sub(r"[^A-Za-z0-9.]+", "-", public_location(store_location).split("://")[-1]).strip("-.")
        return default_cache_dir() / "feedback" / f"{name[:100] or 'postgresql'}.jsonl"
    return Path(store_location) / FEEDBACK_NAME


class FeedbackLog:
    """Appends marks to one file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def append(self, feedback: Feedback) -> None:
        """Write one mark as one line, flushed to disk; FeedbackError when it cannot be written."""
        line = json.dumps(feedback.as_dict(), ensure_ascii=False) + "\n"  # JSON escapes every line break
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)  # read: its last byte
                try:
                    data = (("\n" if _ends_mid_line(fd) else "") + line).encode("utf-8")
                    written = os.write(fd, data)
                    if written != len(data):
                        raise OSError(f"only {written} of {len(data)} bytes written")
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as exc:
                raise FeedbackError(self.path, str(exc.strerror or exc)) from exc


def _ends_mid_line(fd: int) -> bool:
    """Whether the file's last line was cut short (a crash while writing): the next mark starts a line."""
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


# ---------------------------------------------------------------- the marks as a question set


@dataclass(frozen=True)
class FeedbackSet:
    cases: list[Case]
    skipped: list[tuple[int, str]]  # (line number, why)


def load_feedback(path: Path) -> FeedbackSet:
    """The question set a feedback file gives: an answer marked right is the expected answer of its
    question, and so is the right answer given with "wrong"; the rest is skipped, with the reason. A
    question marked more than once (in the same conversation) counts once, as last marked."""
    by_question: dict[tuple[str, tuple[str, ...]], Case] = {}
    skipped: list[tuple[int, str]] = []
    with open(path, encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                case = _case(number, record)
            except (json.JSONDecodeError, TypeError, AttributeError):
                skipped.append((number, "not a feedback record"))
                continue
            except ValueError as exc:
                skipped.append((number, str(exc)))
                continue
            key = (case.question, case.history)
            by_question.pop(key, None)  # the latest mark of a question counts, in its own place
            by_question[key] = case
    return FeedbackSet(list(by_question.values()), skipped)


def _case(number: int, record: dict) -> Case:
    from .evaluation import Case

    question, verdict, answer = record["question"], record["verdict"], record.get("answer") or {}
    if not isinstance(question, str) or not question.strip():
        raise ValueError("no question")
    history = tuple(q for q in record.get("history") or () if isinstance(q, str))
    if verdict == "wrong":
        correction = (record.get("correction") or "").strip()
        if not correction:
            raise ValueError("marked wrong without the right answer")
        return Case(f"feedback-{number}", question, answers=(correction,), history=history)
    if verdict != "right":
        raise ValueError(f"an unknown verdict {verdict!r}")
    if not answer.get("found"):
        raise ValueError("a reply that found nothing, marked right: no answer to expect")
    short = answer.get("short_answer") or {}
    hits = answer.get("hits") or [{}]
    expected = short.get("text") or hits[0].get("answer")
    if not isinstance(expected, str) or not expected.strip():
        raise ValueError("marked right, but the record holds no answer")
    return Case(f"feedback-{number}", question, answers=(expected.strip(),), history=history)
