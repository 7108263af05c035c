"""What the page's events do, in Python: answer, open an article, show its original, clear,
add and remove articles. The page itself, and which event calls what, is :mod:`qa.ui.app`.

The conversation is kept in the browser (``gr.BrowserState``), which anyone can
edit: only its plain shape is taken back (:func:`restore`).
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import gradio as gr
from gradio.utils import get_upload_folder

from ..library import Change, IndexProgress, Library, Received
from ..limits import MAX_CHAT_HISTORY, MAX_SAVED_MESSAGES, MAX_SHOWN_QUESTION_CHARS
from ..retrieval import Retriever
from .article import PLACEHOLDER, Opened, Originals, Reference, is_text_file, open_reference, original_view
from .backend import ChatBackend
from .format import escape
from .marks import MAX_TURNS, new_reference, saved_turns, turn_of
from .uploads import library_page, run_change

EMPTY_SAVED: dict[str, list] = {"chat": [], "questions": [], "turns": []}
UPLOAD_LABEL = "Add articles"
INDEXING_LABEL = "Indexing… (more files wait their turn)"
MAX_RECENT_CHANGES = 5  # outcomes of earlier changes still shown under the one under way
_CITE = re.compile(r"^([0-9a-f]{1,32}):(\d{1,7})-(\d{1,7})$")
_PAGE = re.compile(r"^([0-9a-f]{1,32}):(\d{1,7})-(\d{1,7}):(\d{1,5})$")  # a passage on a page of its PDF


def message_text(content: Any) -> str:
    """The text of a Chatbot message's content (a string, or Gradio's list of content blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "")
    if isinstance(content, list):
        return "".join(message_text(part) for part in content)
    return ""


def plain_messages(chat: Any) -> list[dict[str, str]]:
    """A conversation as [{"role", "content"}] with text content; anything else is dropped.

    Used both ways: what the Chatbot holds, and what the browser gives back (which
    anyone can edit, so only this shape is kept; the Chatbot sanitises its HTML).
    """
    if not isinstance(chat, list):
        return []
    kept = []
    for item in chat:
        if isinstance(item, dict) and item.get("role") in ("user", "assistant"):
            kept.append({"role": str(item["role"]), "content": message_text(item.get("content"))})
    return kept[-MAX_SAVED_MESSAGES:]


def restore(saved: Any) -> tuple[list[dict[str, str]], list[str], list[dict[str, Any]]]:
    """The conversation kept in the browser: (chat, questions, turns)."""
    if not isinstance(saved, dict):
        return [], [], []
    questions = [q for q in saved.get("questions") or [] if isinstance(q, str)][-MAX_CHAT_HISTORY:]
    return plain_messages(saved.get("chat")), questions, saved_turns(saved.get("turns"))


def parse_action(data: Any) -> Reference | None:
    """A click on a citation (``cite``; ``near`` for a passage that is not an answer), a page of
    one (``page``, ``nearpage``) or an article title (``doc``): the reference to open, or None."""
    if not isinstance(data, dict):
        return None
    act, ref = data.get("act"), data.get("ref")
    if not isinstance(ref, str) or len(ref) > 4000:
        return None
    if act in ("cite", "near"):
        match = _CITE.match(ref)
        if match:
            return Reference(passage_id=match[1], span=(int(match[2]), int(match[3])), closest=act == "near")
    if act in ("page", "nearpage"):
        match = _PAGE.match(ref)
        if match:
            span, closest = (int(match[2]), int(match[3])), act == "nearpage"
            return Reference(passage_id=match[1], span=span, closest=closest, page=int(match[4]))
    if act == "doc":
        return Reference(doc_id=unquote(ref))
    return None


def first_reference(record: dict[str, Any]) -> Reference | None:
    """The passage a reply opens by itself: its first hit, as an answer or, when nothing answers,
    as the closest passage."""
    hits = record.get("hits") or []
    if not hits:
        return None
    span = hits[0]["answer_span"]
    return Reference(passage_id=hits[0]["passage_id"], span=(span[0], span[1]), closest=not record.get("found"))


def event_data(evt: gr.EventData) -> Any:
    return getattr(evt, "_data", None)


class Handlers:
    """The page's events over one retriever and its library."""

    def __init__(self, retriever: Retriever, library: Library):
        self.backend = ChatBackend(retriever)
        self.library = library
        self.originals = Originals()
        # Every opening is numbered in the panel's HTML: opening the passage already shown still
        # changes it, and the page scrolls to the passage and flashes it again.
        self._openings = itertools.count(1)

    # ---- the article panel: (html, reference, original checkbox, download button)

    def panel(self, ref: Reference | None, show_original: bool = False) -> tuple[Any, ...]:
        hidden = gr.Checkbox(visible=False, value=False), gr.DownloadButton(visible=False)
        if ref is None:
            return PLACEHOLDER, None, *hidden
        opened: Opened = open_reference(self.library, ref)
        if opened.article is None:
            return self._numbered(opened.html), None, *hidden
        shown = opened.html
        text_file = is_text_file(opened.article.file)
        if show_original and text_file:
            shown = original_view(self.library, opened.article, opened.passage, ref.closest)
        copy = self.originals.copy(self.library, opened.article)
        download = gr.DownloadButton(value=str(copy) if copy else None, visible=copy is not None)
        return self._numbered(shown), ref.as_state(), gr.Checkbox(visible=text_file, value=show_original), download

    def _numbered(self, shown: str) -> str:
        return f'<div class="qa-panel" data-opening="{next(self._openings)}">{shown}</div>'

    def open_clicked(self, evt: gr.EventData) -> tuple[Any, ...]:
        ref = parse_action(event_data(evt))
        return self.panel(ref) if ref else (gr.skip(),) * 4

    def toggle_original(self, show: bool, state: Any) -> tuple[Any, ...]:
        return self.panel(Reference.from_state(state), bool(show))

    # ---- the conversation

    def respond(
        self, question: str, chat: list, questions: list[str], k: float, since: str, until: str, turns: list[dict]
    ) -> tuple[Any, ...]:
        """One question: the reply in the chat (with its right and wrong buttons), its turn kept for the
        marks and the export, the cited article in the panel; ``since``, ``until``: the date filter."""
        reference = new_reference()
        reply = self.backend.reply(question, questions, round(k), since, until, feedback=reference)
        record = reply.record
        text = record["question"] or (question.strip() if isinstance(question, str) else "")
        if len(text) > MAX_SHOWN_QUESTION_CHARS:
            text = text[:MAX_SHOWN_QUESTION_CHARS] + " …"
        turn = [{"role": "user", "content": escape(text) or "…"}, {"role": "assistant", "content": reply.html}]
        chat = plain_messages(chat) + turn
        history = list(questions)
        if record["status"] in ("answered", "nothing_found"):
            questions = (questions + [record["question"]])[-MAX_CHAT_HISTORY:]
        turns = saved_turns(turns) + [turn_of(reply, reference, history, self.backend.retriever.reader.version)]
        turns = turns[-MAX_TURNS:]
        first = first_reference(dict(record))
        shown = self.panel(first) if first else (gr.skip(),) * 4
        saved = {"chat": chat[-MAX_SAVED_MESSAGES:], "questions": questions, "turns": turns}
        return chat, "", questions, turns, *shown, saved

    def clear(self) -> tuple[Any, ...]:
        return [], "", [], [], *self.panel(None), dict(EMPTY_SAVED)

    # ---- the articles of the index: (status, recent changes, header, list, upload button)

    def page_info(self) -> tuple[str, str]:
        return library_page(self.library)

    def add_files(self, paths: Sequence[str] | None, recent: list[str]) -> Iterator[tuple[Any, ...]]:
        files = [Received(Path(p), Path(p).name) for p in paths or [] if isinstance(p, str)]
        try:
            yield from self._change(lambda progress: self.library.add(files, progress), recent)
        finally:
            _remove_upload_folders(files)

    def remove_clicked(self, evt: gr.EventData, recent: list[str]) -> Iterator[tuple[Any, ...]]:
        data = event_data(evt)
        ref = data.get("ref") if isinstance(data, dict) else None
        if not isinstance(ref, str):
            yield (gr.skip(),) * 5
            return
        file = unquote(ref)
        yield from self._change(lambda progress: self.library.remove(file, progress), recent)

    def _change(
        self, change: Callable[[Callable[[IndexProgress], None]], Change], recent: list[str]
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one change's status above the outcomes of the earlier ones; the button says
        "Indexing…" meanwhile."""
        earlier = "".join(recent or [])
        indexing = gr.UploadButton(label=INDEXING_LABEL)
        status = ""
        for status in run_change(change, self.library.busy):
            yield status + earlier, gr.skip(), gr.skip(), gr.skip(), indexing
        recent = ([status] + list(recent or []))[:MAX_RECENT_CHANGES]
        yield "".join(recent), recent, *self.page_info(), gr.UploadButton(label=UPLOAD_LABEL)


def _remove_upload_folders(files: Sequence[Received]) -> None:
    """Gradio gives each upload a folder of its own in its upload folder: left empty once the
    library took the file."""
    uploads = Path(get_upload_folder()).resolve()
    for received in files:
        folder = received.path.parent.resolve()
        if folder.parent == uploads:
            with contextlib.suppress(OSError):  # not empty (the same content sent again meanwhile), or gone
                folder.rmdir()
