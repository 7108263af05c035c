"""The page: chat on the left; on the right the article of a citation, and the articles of the index.

How the pieces talk:

- A reply is HTML (:mod:`qa.ui.format`). Its citation numbers and titles are
  links ``#qa:cite:…`` (``#qa:near:…`` when nothing answered), the titles of the
  article list links ``#qa:doc:…`` and its Remove buttons ``#qa:remove:…``. One
  click listener for the page (``panel.js``), installed by the article panel (a
  ``gr.HTML`` with ``js_on_load``), turns a click on such a link into an event
  of that panel (``click``, or ``qa_remove`` after the person confirms),
  handled in Python (:mod:`qa.ui.handlers`).
- The same listener serves each reply's Copy button: it copies the reply's
  plain-text version, kept hidden in the reply (the Chatbot's own copy button,
  which copies the HTML, is switched off).
- The conversation is kept in the browser (``gr.BrowserState``): a reload
  brings it back; Clear chat, or the chat's own trash icon, empties it all.
- Changes to the articles run one at a time, in the order asked for: a file
  chosen while another is being indexed waits its turn (``trigger_mode``
  "multiple": Gradio's default would drop it without a word).
- Each reply has "Right" and "Wrong" buttons, links ``#qa:right:…`` and ``#qa:wrong:…`` that the
  same listener sends as the panel's clicks; :mod:`qa.ui.marks` keeps the marks beside the index
  and exports the conversation as Markdown.

The styles (``page.css``; ``marks.css`` for the marks, the export and the date filter) and
scripts (``panel.js``, ``scroll_chat.js``) are files beside this one, read once at start.
"""

from __future__ import annotations

import inspect
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ..library import CHANGES_OFF, Library
from ..limits import DEFAULT_CHAT_SOURCES, MAX_CHAT_SOURCES, max_upload_bytes
from ..retrieval import Retriever
from ..uploads import accepted_suffixes, size_text
from .article import PLACEHOLDER
from .backend import AskResult, ChatBackend
from .handlers import EMPTY_SAVED, UPLOAD_LABEL, Handlers, restore
from .marks import Marks
from .uploads import LANGUAGES, articles_html, header_html

HERE = Path(__file__).parent
CSS = "\n".join((HERE / name).read_text(encoding="utf-8") for name in ("page.css", "marks.css"))
PANEL_JS = (HERE / "panel.js").read_text(encoding="utf-8")
SCROLL_CHAT = (HERE / "scroll_chat.js").read_text(encoding="utf-8")

# Example questions, each shown only when an article of the index has these words in its title.
EXAMPLES = {
    "Who leads IOM Mongolia?": "Mongolie",
    "What is the phone number of IOM Mongolia?": "Mongolie",
    "Qui est le chef de mission de l'OIM en Mongolie ?": "Mongolie",
    "Où s'est tenue la 5ème réunion mondiale des PCR ?": "processus consultatifs régionaux",
}
CHAT_PLACEHOLDER = (
    f"**Ask a question about the articles**, in {LANGUAGES}.\n\n"
    "Each answer quotes the articles, with numbered citations. Click a citation to read the article at that place."
)
DATES_NOTE = "Leave empty to search every article; with a date, articles without one are left out."
UPLOADS_REFUSED = "This server takes no files: adding articles is off (app.py --allow-uploads turns it on)."
API_RETURNS = ("reply_html", "result")  # what /ask returns, as docs/api.md names them
_UPLOADS_ON: weakref.WeakSet[gr.Blocks] = weakref.WeakSet()  # pages built to take files from the browser


@dataclass(frozen=True)
class ChatParts:
    chatbot: gr.Chatbot
    box: gr.Textbox
    send: gr.Button
    k: gr.Slider
    clear: gr.Button
    since: gr.Textbox
    until: gr.Textbox


@dataclass(frozen=True)
class KeepParts:
    """The marks on replies (the right answer asked for after "wrong") and the export."""

    correction_box: gr.Group
    correction: gr.Textbox
    save: gr.Button
    cancel: gr.Button
    status: gr.HTML
    export: gr.Button
    exported: gr.File


@dataclass(frozen=True)
class SideParts:
    viewer: gr.HTML
    original: gr.Checkbox
    download: gr.DownloadButton
    upload: gr.UploadButton | None
    status: gr.HTML
    listing: gr.HTML


def examples_for(titles: list[str]) -> list[str]:
    """The example questions whose article is in the index."""
    lowered = [title.casefold() for title in titles]
    return [q for q, words in EXAMPLES.items() if any(words.casefold() in title for title in lowered)]


def _chat_column(examples: list[str]) -> ChatParts:
    chatbot = gr.Chatbot(
        label="Conversation",
        show_label=False,
        height=600,
        autoscroll=False,
        layout="panel",
        # our HTML is escaped already; sanitising again costs nothing; no $$ LaTeX
        sanitize_html=True,
        render_markdown=True,
        latex_delimiters=[],
        feedback_options=None,
        buttons=[],
        elem_id="qa-chat",
        placeholder=CHAT_PLACEHOLDER,
    )
    with gr.Row(elem_id="qa-ask-row"):
        box = gr.Textbox(
            placeholder="Ask a question…",
            show_label=False,
            container=False,
            lines=1,
            max_lines=6,
            scale=6,
            elem_id="qa-question",  # focused by panel.js, on a wide screen only
        )
        send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="qa-ask")
    with gr.Row(elem_id="qa-dates", equal_height=True):
        since = gr.Textbox(label="Articles dated from", placeholder="YYYY-MM-DD", max_lines=1, elem_id="qa-since")
        until = gr.Textbox(label="to (both days included)", placeholder="YYYY-MM-DD", max_lines=1, elem_id="qa-until")
        gr.Markdown(DATES_NOTE, elem_id="qa-dates-note")
    with gr.Row():
        k = gr.Slider(1, MAX_CHAT_SOURCES, value=DEFAULT_CHAT_SOURCES, step=1, label="Number of sources", scale=3)
        clear = gr.Button("Clear chat", scale=1, elem_id="qa-clear")
    if examples:
        gr.Examples(examples, inputs=[box], label="Example questions (click one, then Ask)")
    return ChatParts(chatbot, box, send, k, clear, since, until)


def _keep_parts() -> KeepParts:
    with gr.Group(visible=False, elem_id="qa-correction") as correction_box:
        correction = gr.Textbox(
            label="The right answer (optional)", max_lines=3, elem_id="qa-correction-text", max_length=2_000
        )
        with gr.Row():
            save = gr.Button("Save the mark", variant="primary", size="sm", elem_id="qa-correction-save")
            cancel = gr.Button("Cancel", size="sm", elem_id="qa-correction-cancel")
    status = gr.HTML("", elem_id="qa-marks")
    with gr.Row():
        export = gr.Button("Export the conversation (Markdown)", size="sm", elem_id="qa-export")
        exported = gr.File(label="Conversation", visible=False, interactive=False, elem_id="qa-exported")
    return KeepParts(correction_box, correction, save, cancel, status, export, exported)


def _side_column(library: Library, listing_html: str) -> SideParts:
    viewer = gr.HTML(PLACEHOLDER, elem_id="qa-article", js_on_load=PANEL_JS)
    with gr.Row():
        original = gr.Checkbox(label="Show the original file", value=False, visible=False, elem_id="qa-original")
        download = gr.DownloadButton("Download the original", visible=False, size="sm", elem_id="qa-download")
    upload = None
    with gr.Accordion("Articles in the index", open=False, elem_id="qa-articles"):
        if library.allow_changes:
            suffixes = accepted_suffixes()
            gr.Markdown(
                f"Add {', '.join(suffixes)} files of up to {size_text(max_upload_bytes())} each: they are "
                "saved into the corpus folder and indexed, ready for the next question."
            )
            upload = gr.UploadButton(
                UPLOAD_LABEL,
                file_types=list(suffixes),
                file_count="multiple",
                size="sm",
                variant="primary",
                elem_id="qa-upload",
            )
        else:
            gr.Markdown(CHANGES_OFF)
        status = gr.HTML("", elem_id="qa-status")
        listing = gr.HTML(listing_html, elem_id="qa-list-box", js_on_load=None, apply_default_css=False)
    return SideParts(viewer, original, download, upload, status, listing)


def _wire_keep(marks: Marks, keep: KeepParts, chat: ChatParts, side: SideParts, turns: gr.State) -> None:
    """Right and wrong (clicks on a reply's buttons reach the server as the panel's clicks), and export;
    clearing the chat clears them too."""
    pending = gr.State(None)  # the reply marked wrong, whose right answer is asked for
    out = [keep.correction_box, pending, keep.status, keep.correction]
    side.viewer.click(marks.clicked, [turns], out, api_visibility="private")
    gr.on(
        [keep.save.click, keep.correction.submit],
        marks.save_correction,
        [pending, keep.correction, turns],
        out,
        api_visibility="private",
    )
    keep.cancel.click(marks.cancel, None, out, api_visibility="private")
    keep.export.click(marks.export, [turns], [keep.exported], api_visibility="private")
    for cleared in (chat.clear.click, chat.chatbot.clear):
        cleared(marks.cleared, None, [*out, keep.exported], api_visibility="private")


def _wire(handlers: Handlers, header: gr.HTML, chat: ChatParts, side: SideParts, app: gr.Blocks) -> gr.State:
    saved = gr.BrowserState(dict(EMPTY_SAVED), storage_key="qa-conversation")
    questions = gr.State([])  # the user's answered questions, oldest first: the follow-up history
    turns = gr.State([])  # each reply's turn (qa.ui.marks): what its marks and the export are made of
    current = gr.State(None)  # the reference of the article in the panel
    recent = gr.State([])  # the outcomes of this page's latest changes to the articles
    panel_out = [side.viewer, current, side.original, side.download]
    gr.on(
        [chat.box.submit, chat.send.click],
        handlers.respond,
        [chat.box, chat.chatbot, questions, chat.k, chat.since, chat.until, turns],
        [chat.chatbot, chat.box, questions, turns, *panel_out, saved],
        api_visibility="private",
    ).then(None, js=SCROLL_CHAT, api_visibility="private")
    side.viewer.click(handlers.open_clicked, None, panel_out, api_visibility="private")
    side.original.input(handlers.toggle_original, [side.original, current], panel_out, api_visibility="private")
    clear_out = [chat.chatbot, chat.box, questions, turns, *panel_out, saved]
    chat.clear.click(handlers.clear, None, clear_out, api_visibility="private")
    chat.chatbot.clear(handlers.clear, None, clear_out, api_visibility="private")
    app.load(restore, saved, [chat.chatbot, questions, turns], api_visibility="private")
    app.load(handlers.page_info, None, [header, side.listing], api_visibility="private")
    if side.upload is not None:
        changes = [side.status, recent, header, side.listing, side.upload]
        one_at_a_time: dict[str, Any] = {
            "api_visibility": "private",
            "concurrency_id": "qa-index",
            "concurrency_limit": 1,
            "trigger_mode": "multiple",
        }
        side.upload.upload(handlers.add_files, [side.upload, recent], changes, **one_at_a_time)
        side.viewer.qa_remove(handlers.remove_clicked, [recent], changes, **one_at_a_time)
    return turns


def api_function(backend: ChatBackend):
    """``backend.ask`` as the ``/ask`` endpoint, its parameters and returns typed for ``view_api()``."""

    def ask(
        question: str,
        history: list[str] | None = None,
        k: int = DEFAULT_CHAT_SOURCES,
        since: str | None = None,
        until: str | None = None,
    ) -> tuple[str, AskResult]:
        """Answer ``question`` with ``k`` cited passages (1-10), ``history`` the earlier questions, oldest first;
        ``since``, ``until`` (YYYY-MM-DD, either may be left out): only articles dated in that range.
        Returns the reply as the chat shows it (HTML) and the result as data (docs/api.md)."""
        return backend.ask(question, history, k, since, until)

    # Gradio reads the return's annotation unevaluated: give it the type, not its text.
    ask.__signature__ = inspect.signature(ask, eval_str=True)  # type: ignore[attr-defined]
    return ask


def build_app(retriever: Retriever, allow_uploads: bool = False) -> gr.Blocks:
    """The page: chat, article panel, article list (with uploads when ``allow_uploads``), ``/ask`` for programs."""
    library = Library(retriever, allow_uploads)
    handlers = Handlers(retriever, library)
    articles = library.articles()
    with gr.Blocks(title="Ask the news articles") as app:
        header = gr.HTML(header_html(library.status()), elem_id="qa-header")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=340):
                chat = _chat_column(examples_for([a.title for a in articles]))
                keep = _keep_parts()
            with gr.Column(scale=2, min_width=320):
                side = _side_column(library, articles_html(articles, allow_uploads))
        turns = _wire(handlers, header, chat, side, app)
        _wire_keep(Marks(retriever), keep, chat, side, turns)
        endpoint = gr.api(api_function(handlers.backend), api_name="ask")
        for output, name in zip(endpoint["outputs"], API_RETURNS, strict=True):  # named in view_api()
            app.blocks[output].label = name
    if allow_uploads:
        _UPLOADS_ON.add(app)
    return app


class RefuseUploads:
    """Refuses files sent to Gradio's upload route: a page without uploads never sends one, and
    anything else sent there would only fill the server's disk."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") == "POST" and _is_upload_route(scope.get("path", "")):
            await PlainTextResponse(UPLOADS_REFUSED, status_code=403)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _is_upload_route(path: str) -> bool:
    return path.rstrip("/").endswith("/gradio_api/upload")


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int | None = 7860, share: bool = False, **kwargs: Any):
    """Start the server (Gradio 6 takes theme and CSS at launch). Local only unless ``share``.
    A page built without uploads refuses files sent to the server."""
    # System fonts: the default theme would fetch Google Fonts, and the app must work offline.
    theme = gr.themes.Default(
        primary_hue="blue", font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
    )
    kwargs.setdefault("max_file_size", max_upload_bytes())
    kwargs.setdefault("footer_links", ["api", "settings"])
    if app not in _UPLOADS_ON:
        app_kwargs = dict(kwargs.pop("app_kwargs", None) or {})
        app_kwargs["middleware"] = [*app_kwargs.get("middleware", []), Middleware(RefuseUploads)]
        kwargs["app_kwargs"] = app_kwargs
    return app.launch(server_name=host, server_port=port, share=share, css=CSS, theme=theme, **kwargs)
