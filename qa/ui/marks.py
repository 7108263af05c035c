"""What is kept of a conversation: each reply's turn (for its marks and the export), the "right" and "wrong"
marks (:mod:`qa.feedback`), and the export as Markdown (:mod:`qa.export`).

Each reply of the chat has a reference of its own (random, so that a reply brought back from the browser
after a restart never points at another one). Its turn, kept by reference in the page's state and in the
browser beside the messages, holds the answer as ``qa ask --json`` gives it: what a mark and the export
are made of. The browser's copy can be edited by anyone who has the page; it serves the marks and export
of that page only, each a few kilobytes, and is taken back in its plain shape only (:func:`saved_turns`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from ..export import Turn, conversation_markdown
from ..feedback import MAX_CORRECTION_CHARS, Feedback, FeedbackError, FeedbackLog, feedback_file
from ..limits import MAX_SAVED_MESSAGES
from ..retrieval import Retriever
from .backend import Reply
from .format import escape

log = logging.getLogger(__name__)

_REFERENCE = re.compile(r"^[0-9a-f]{16}$")
MAX_TURNS = MAX_SAVED_MESSAGES // 2  # a turn is two messages: as many turns as the browser keeps messages for
SAVED_BESIDE = "kept beside the index, for `qa eval --feedback`"


def new_reference() -> str:
    return secrets.token_hex(8)


def turn_of(reply: Reply, reference: str, history: list[str], version: str) -> dict[str, Any]:
    """What is kept of one reply: the question, the answer (or the message of a refusal), the earlier
    questions, the date filter and the index version that answered."""
    dates = reply.dates
    return {
        "ref": reference,
        "question": reply.record["question"],
        "answer": reply.answer.as_dict() if reply.answer is not None else None,
        "message": reply.record["message"] if reply.answer is None else None,
        "history": list(history),
        "since": dates.since if dates else None,
        "until": dates.until if dates else None,
        "version": version,
    }


def saved_turns(saved: Any) -> list[dict[str, Any]]:
    """The turns the browser gave back, in their plain shape; anything else is dropped."""
    kept = []
    for turn in saved if isinstance(saved, list) else []:
        if not isinstance(turn, dict) or not isinstance(turn.get("ref"), str) or not _REFERENCE.match(turn["ref"]):
            continue
        if not isinstance(turn.get("question"), str) or not isinstance(turn.get("answer"), dict | None):
            continue
        history = [q for q in turn.get("history") or [] if isinstance(q, str)]
        texts = {key: turn.get(key) if isinstance(turn.get(key), str) else None for key in ("since", "until")}
        message = turn.get("message") if isinstance(turn.get("message"), str) else None
        version = turn.get("version") if isinstance(turn.get("version"), str) else ""
        kept.append(turn | texts | {"history": history, "message": message, "version": version})
    return kept[-MAX_TURNS:]


def _notice(text: str, kind: str = "qa-saved") -> str:
    return f'<div class="qa-marks {kind}"><p>{escape(text)}</p></div>'


class Marks:
    """The marks on replies and the export, for one retriever's index."""

    def __init__(self, retriever: Retriever):
        self.retriever = retriever
        self.log = FeedbackLog(feedback_file(retriever.store.location))
        self.exports = Path(tempfile.mkdtemp(prefix="qa-exports-"))

    # ---- marks: (correction box, the reply being corrected, status, correction text)

    def clicked(self, evt: gr.EventData, turns: list[dict]) -> tuple[Any, ...]:
        """A click on a reply's "right" (saved at once) or "wrong" (asks for the right answer first)."""
        data = getattr(evt, "_data", None)
        act, ref = (data.get("act"), data.get("ref")) if isinstance(data, dict) else (None, None)
        if act not in ("right", "wrong") or not isinstance(ref, str):
            return (gr.skip(),) * 4
        turn = self._turn(turns, ref)
        if turn is None:
            return (
                gr.Group(visible=False),
                None,
                _notice("This reply is no longer in the conversation.", "qa-refused"),
                "",
            )
        if act == "right":
            return gr.Group(visible=False), None, self._save(turn, "right"), ""
        asked = f"Wrong answer to “{' '.join(turn['question'].split())[:200]}”: what is the right one? (optional)"
        return gr.Group(visible=True), ref, _notice(asked, "qa-asking"), ""

    def save_correction(self, pending: Any, correction: Any, turns: list[dict]) -> tuple[Any, ...]:
        turn = self._turn(turns, pending) if isinstance(pending, str) else None
        if turn is None:
            return gr.Group(visible=False), None, _notice("No reply is being marked.", "qa-refused"), ""
        text = " ".join(correction.split()) if isinstance(correction, str) else ""
        if len(text) > MAX_CORRECTION_CHARS:
            why = f"The right answer is {len(text):,} characters long; please keep it under {MAX_CORRECTION_CHARS:,}."
            return gr.skip(), gr.skip(), _notice(why, "qa-refused"), gr.skip()
        return gr.Group(visible=False), None, self._save(turn, "wrong", text or None), ""

    def cancel(self) -> tuple[Any, ...]:
        return gr.Group(visible=False), None, "", ""

    def cleared(self) -> tuple[Any, ...]:
        """The chat was cleared: no reply is being marked, nothing exported is offered."""
        return *self.cancel(), gr.File(value=None, visible=False)

    def _turn(self, turns: list[dict], ref: str) -> dict | None:
        return next((t for t in turns or [] if t.get("ref") == ref), None)

    def _save(self, turn: dict, verdict: str, correction: str | None = None) -> str:
        answer = turn["answer"] or {"question": turn["question"], "found": False, "message": turn["message"]}
        mark = Feedback(
            verdict,
            answer,
            turn["version"] or self.retriever.reader.version,
            tuple(turn["history"]),
            correction,
            (turn["since"], turn["until"]),
        )
        try:
            self.log.append(mark)
        except FeedbackError as exc:  # said on the page, not swallowed; the full path is in the log only
            log.error("feedback not saved: %s", exc)
            return _notice(f"The mark could not be saved ({exc.why}). Please try again.", "qa-refused")
        question = " ".join(turn["question"].split())[:200]
        said = f", the right answer being “{correction}”" if correction else ""
        return _notice(f"Marked {verdict}: “{question}”{said}; {SAVED_BESIDE}.")

    # ---- export

    def export(self, turns: list[dict]) -> Any:
        """The conversation as a Markdown file to download."""
        now = dt.datetime.now(dt.UTC)
        shown = [Turn(t["question"], t["answer"], t["message"]) for t in turns or []]
        status = self.retriever.reader
        searched = f"corpus folder {self.retriever.corpus_dir.resolve().name} · index version {status.version}"
        markdown = conversation_markdown(shown, now.strftime("%Y-%m-%d %H:%M UTC"), searched)
        folder = self.exports / new_reference()
        folder.mkdir()
        path = folder / f"conversation-{now.strftime('%Y%m%d-%H%M%S')}.md"
        path.write_text(markdown, encoding="utf-8")
        return gr.File(value=str(path), visible=True)
