"""The page: chat on the left; on the right the article of a citation, and the articles of the index.

How the pieces talk:

- A reply is HTML (:mod:`qa.ui.format`). Its citation numbers and titles are
  links ``#qa:cite:…``, the titles of the article list links ``#qa:doc:…`` and
  its Remove buttons ``#qa:remove:…``. One click listener for the page,
  installed by the article panel (a ``gr.HTML`` with ``js_on_load``), turns a
  click on such a link into an event of that panel (``click``, or
  ``qa_remove`` after the person confirms), handled here in Python.
- The same listener serves each reply's Copy button: it copies the reply's
  plain-text version, kept hidden in the reply (the Chatbot's own copy button,
  which copies the HTML, is switched off).
- The conversation is kept in the browser (``gr.BrowserState``): a reload
  brings it back; Clear chat, or the chat's own trash icon, empties it all.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import gradio as gr

from ..limits import MAX_UPLOAD_BYTES
from ..retrieval import Retriever
from .article import PLACEHOLDER, Originals, is_text_file, open_reference, original_html
from .backend import DEFAULT_SOURCES, MAX_HISTORY, MAX_SOURCES, ChatBackend
from .format import escape
from .sources import corpus_file
from .uploads import CHANGES_OFF, Library, accepted_suffixes, articles_html, header_html, size_text

log = logging.getLogger(__name__)

# Example questions, each shown only when the article it asks about is in the index.
EXAMPLES = {
    "Who leads IOM Mongolia?": "000_709937aa28120cef.txt",
    "What is the phone number of IOM Mongolia?": "000_709937aa28120cef.txt",
    "Qui est le chef de mission de l'OIM en Mongolie ?": "000_709937aa28120cef.txt",
    "Où s'est tenue la 5ème réunion mondiale des PCR ?": "003_ee8f677726f9b71d.txt",
}
MAX_SAVED_MESSAGES = 100  # messages kept in the browser (50 questions and their replies)
MAX_SHOWN_QUESTION = 300
EMPTY_SAVED: dict[str, list] = {"chat": [], "questions": []}
CHAT_PLACEHOLDER = (
    "**Ask a question about the articles** — in English or French.\n\n"
    "Each answer quotes the articles, with numbered citations. Click a citation to read the article at that place."
)
_CITE = re.compile(r"^([0-9a-f]{1,32}):(\d{1,7})-(\d{1,7})$")

CSS = """
.qa-header h1 { font-size: 1.6em; margin: 0 0 .2em; }
.qa-header p { margin: 0 0 .2em; }
.qa-searching { font-size: .95em; }
.qa-how { font-size: .9em; opacity: .8; }
.qa-reply { line-height: 1.5; }
.qa-reply p { margin: 0 0 .45em; }
.qa-tools { float: right; margin: 0 0 .3em .6em; }
.qa-copy { font-size: .8em; padding: .1em .6em; border: 1px solid rgba(127,127,127,.45); border-radius: 4px;
  background: transparent; color: inherit; cursor: pointer; }
.qa-copy:hover { background: rgba(127,127,127,.15); }
.qa-lead { font-size: 1.1em; }
.qa-lead strong { background: #fff3b0; color: #1f1f1f; padding: 0 .15em; border-radius: 3px; }
.qa-sentence { font-size: .97em; }
.qa-nothing, .qa-error, .qa-refused { font-weight: 600; color: #c2410c; }
.qa-why { font-style: italic; }
.qa-note { font-size: .9em; font-style: italic; opacity: .85; }
.qa-sources-label { font-size: .8em; text-transform: uppercase; letter-spacing: .05em; opacity: .7;
  margin-top: .8em !important; }
.qa-cite { border-left: 4px solid #2563eb; background: rgba(37, 99, 235, .06); padding: .45em .8em; margin: .5em 0;
  border-radius: 0 6px 6px 0; }
.qa-cite.qa-closest { border-left-color: #9ca3af; background: rgba(156, 163, 175, .08); }
a.qa-act { text-decoration: none; cursor: pointer; }
a.qa-act:hover, a.qa-act:focus { text-decoration: underline; }
.qa-num { font-weight: 700; color: #2563eb !important; }
.dark .qa-num { color: #60a5fa !important; }
.qa-title { font-weight: 600; color: inherit !important; }
.qa-meta { font-family: ui-monospace, monospace; font-size: .8em; opacity: .75; margin-bottom: .25em;
  overflow-wrap: anywhere; }
.qa-passage { font-size: .93em; }
.qa-reply mark, .qa-article-body mark, .qa-mark { background: #ffe066; color: #1f1f1f; padding: 0 .1em;
  border-radius: 2px; }
.qa-reply mark b { font-weight: 700; text-decoration: underline; }
.qa-closest mark { background: #e5e7eb; }
.qa-reply details summary { cursor: pointer; font-size: .85em; opacity: .8; }
.qa-article-head { margin-bottom: .4em; }
.qa-article-title { font-size: 1.05em; font-weight: 700; margin: 0 0 .2em; }
.qa-article-body { position: relative; max-height: 460px; overflow: auto; line-height: 1.55; font-size: .92em;
  padding: .5em .7em; border: 1px solid rgba(127, 127, 127, .3); border-radius: 6px; overflow-wrap: anywhere; }
.qa-dateline { font-weight: 700; }
.qa-cited { background: rgba(37, 99, 235, .10); border-radius: 2px; }
.qa-cited.qa-mark { background: #ffe066; color: #1f1f1f; }
.qa-plain { display: none !important; }
.qa-badge { display: inline-block; font-family: ui-monospace, monospace; font-size: .75em; font-weight: 600;
  background: #2563eb; color: #fff; border-radius: 3px; padding: 0 .35em; margin-right: .3em; }
.qa-original .qa-article-body { font-family: ui-monospace, monospace; font-size: .8em; padding: 0; }
.qa-line { display: flex; white-space: pre-wrap; }
.qa-line.qa-cited { background: rgba(255, 224, 102, .25); }
.qa-ln { flex: none; width: 3em; text-align: right; padding-right: .7em; opacity: .5; user-select: none; }
#qa-list-box table.qa-list { width: 100%; border-collapse: collapse; font-size: .9em; margin: 0; border: none; }
#qa-list-box .qa-list th { text-align: left; font-size: .75em; text-transform: uppercase; opacity: .7;
  padding: .2em .3em; border: none !important; background: none; }
#qa-list-box .qa-list td { border: none !important; border-top: 1px solid rgba(127,127,127,.25) !important;
  padding: .4em .3em !important; vertical-align: top; background: none; }
#qa-list-box .qa-list a.qa-act:not(.qa-remove) { color: var(--link-text-color, #2563eb); }
.qa-list-n { text-align: right; width: 4em; }
.qa-list-act { width: 5.5em; text-align: right; }
a.qa-remove { font-size: .85em; padding: .1em .5em; border: 1px solid rgba(194, 65, 12, .6); border-radius: 4px;
  color: #c2410c !important; }
.qa-status ul { margin: .3em 0; padding-left: 1.2em; }
.qa-status progress { width: 100%; }
#qa-list-box { max-height: 420px; overflow: auto; }
/* a one-line question box, the height of the Ask button */
#qa-ask-row { align-items: stretch; gap: .5em; }
#qa-question textarea { min-height: 0; }
/* the chat's scroll-down arrow: in the corner, not over the citations */
#qa-chat .scroll-down-button-container { left: auto !important; right: 6px; transform: none !important; opacity: .85; }
#qa-chat .message-wrap { padding-bottom: 2.5em; }
#qa-chat .qa-reply { padding-right: 22px; }
"""

# The article panel's script (gr.HTML js_on_load): run once when the page loads. It scrolls the
# panel to the cited passage whenever the panel changes, and listens to clicks on the page.
PANEL_JS = r"""
window.__qaTrigger = trigger;
const toCited = () => setTimeout(() => {
  const box = element.querySelector('.qa-article-body');
  const cited = box && box.querySelector('.qa-badge, .qa-line.qa-cited');
  if (box) box.scrollTop = cited ? Math.max(0, cited.offsetTop - 48) : 0;
  if (window.__qaClicked) {  // opened by a click: bring the panel into view (below the chat on a phone)
    window.__qaClicked = false;
    const top = element.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight - 120) element.scrollIntoView({block: 'start'});
  }
}, 60);
watch('value', toCited);
if (!window.__qaListening) {
  window.__qaListening = true;
  const copyText = async (text, button) => {
    window.__qaLastCopy = text;
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {  // not a secure context (http on another address): the old way
      const area = document.createElement('textarea');
      area.value = text; area.style.position = 'fixed'; area.style.opacity = '0';
      document.body.appendChild(area); area.select();
      try { document.execCommand('copy'); } finally { area.remove(); }
    }
    button.textContent = 'Copied';
    setTimeout(() => { button.textContent = 'Copy'; }, 1500);
  };
  document.addEventListener('click', (event) => {
    const copy = event.target.closest('.qa-copy');
    if (copy) {
      event.preventDefault();
      const plain = copy.closest('.qa-reply')?.querySelector('.qa-plain');
      if (plain) copyText(plain.textContent, copy);
      return;
    }
    const link = event.target.closest('a.qa-act');
    const href = link ? link.getAttribute('href') || '' : '';
    if (!href.startsWith('#qa:')) return;
    event.preventDefault();
    event.stopPropagation();
    const rest = href.slice(4);
    const act = rest.split(':', 1)[0];
    const ref = rest.slice(act.length + 1);
    if (act === 'remove') {
      if (window.confirm(link.title + '?')) window.__qaTrigger('qa_remove', {ref});
    } else {
      window.__qaClicked = true;
      window.__qaTrigger('click', {act, ref});
    }
  }, true);
}
"""

# After a reply has rendered: scroll the chat (not the page) to the newest question, so
# its answer is read first rather than its last citation.
SCROLL_CHAT = """() => { setTimeout(() => {
  const last = [...document.querySelectorAll('#qa-chat .user-row, #qa-chat .qa-reply')].at(-2);
  let chat = last && last.parentElement;
  while (chat && !(chat.scrollHeight > chat.clientHeight + 1 && getComputedStyle(chat).overflowY !== 'visible'))
    chat = chat.parentElement;
  if (chat && chat !== document.documentElement && chat !== document.body)
    chat.scrollTop += last.getBoundingClientRect().top - chat.getBoundingClientRect().top - 8;
}, 150); }"""


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


def restore(saved: Any) -> tuple[list[dict[str, str]], list[str]]:
    """The conversation kept in the browser: (chat, questions)."""
    if not isinstance(saved, dict):
        return [], []
    questions = [q for q in saved.get("questions") or [] if isinstance(q, str)][-MAX_HISTORY:]
    return plain_messages(saved.get("chat")), questions


def parse_action(data: Any) -> dict[str, Any] | None:
    """A click on a citation or an article title: the reference to open, or None."""
    if not isinstance(data, dict):
        return None
    act, ref = data.get("act"), data.get("ref")
    if not isinstance(ref, str) or len(ref) > 4000:
        return None
    if act == "cite":
        match = _CITE.match(ref)
        if match:
            return {"passage_id": match[1], "span": [int(match[2]), int(match[3])]}
    if act == "doc":
        return {"doc_id": unquote(ref)}
    return None


def build_app(retriever: Retriever, allow_uploads: bool = False) -> gr.Blocks:
    """The page: chat, article panel, article list (with uploads when ``allow_uploads``), ``/ask`` for programs."""
    backend = ChatBackend(retriever)
    library = Library(retriever, allow_uploads)
    originals = Originals()
    corpus_dir = retriever.corpus_dir

    def panel(ref: dict[str, Any] | None, show_original: bool = False) -> tuple[Any, ...]:
        """The article panel for a reference: (html, reference, original checkbox, download button)."""
        if not ref:
            return PLACEHOLDER, None, gr.Checkbox(visible=False, value=False), gr.DownloadButton(visible=False)
        retriever.refresh()
        shown, article, passage = open_reference(retriever.reader, corpus_dir, ref)
        if article is None:
            return shown, None, gr.Checkbox(visible=False, value=False), gr.DownloadButton(visible=False)
        file = corpus_file(corpus_dir, article.doc_id)
        if show_original and is_text_file(file):
            shown = original_html(corpus_dir, article.doc_id, passage)
        copy = originals.copy(corpus_dir, article.doc_id)
        download = gr.DownloadButton(value=str(copy) if copy else None, visible=copy is not None)
        return shown, ref, gr.Checkbox(visible=is_text_file(file), value=show_original), download

    def respond(question: str, chat: list, questions: list[str], k: float):
        reply, record = backend.ask(question, questions, round(k))
        text = record["question"] or (question.strip() if isinstance(question, str) else "")
        text = text if len(text) <= MAX_SHOWN_QUESTION else text[:MAX_SHOWN_QUESTION] + " …"
        turn = [{"role": "user", "content": escape(text) or "…"}, {"role": "assistant", "content": reply}]
        chat = plain_messages(chat) + turn
        if record["status"] in ("answered", "nothing_found"):
            questions = (questions + [record["question"]])[-MAX_HISTORY:]
        hits = record["hits"]
        first = {"passage_id": hits[0]["passage_id"], "span": hits[0]["answer_span"]} if hits else None
        shown = panel(first) if first else (gr.skip(),) * 4
        return chat, "", questions, *shown, {"chat": chat[-MAX_SAVED_MESSAGES:], "questions": questions}

    def open_clicked(evt: gr.EventData):
        ref = parse_action(getattr(evt, "_data", None))
        return panel(ref) if ref else (gr.skip(),) * 4

    def toggle_original(show: bool, ref: dict[str, Any] | None):
        return panel(ref, bool(show))

    def clear():
        return [], "", [], *panel(None), dict(EMPTY_SAVED)

    def page_info():
        manifest = library.manifest()
        return header_html(manifest, corpus_dir), articles_html(manifest, corpus_dir, allow_uploads)

    def after_change(statuses):
        status = ""
        for status in statuses:
            yield status, gr.skip(), gr.skip()
        yield status, *page_info()

    def add_files(files: list[str] | None):
        received = [(Path(f), Path(f).name) for f in files or []]
        yield from after_change(library.add(received))

    def remove_clicked(evt: gr.EventData):
        data = getattr(evt, "_data", None)
        ref = data.get("ref") if isinstance(data, dict) else None
        if not isinstance(ref, str):
            yield gr.skip(), gr.skip(), gr.skip()
            return
        yield from after_change(library.remove(unquote(ref)))

    manifest = library.manifest()
    examples = [q for q, doc in EXAMPLES.items() if doc in manifest.documents]
    suffixes = accepted_suffixes()
    with gr.Blocks(title="Ask the news articles") as app:
        header = gr.HTML(header_html(manifest, corpus_dir), elem_id="qa-header")
        saved = gr.BrowserState(dict(EMPTY_SAVED), storage_key="qa-conversation")
        questions = gr.State([])  # the user's answered questions, oldest first: the follow-up history
        current = gr.State(None)  # the reference of the article in the panel
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=340):
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
                        autofocus=True,
                        elem_id="qa-question",
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="qa-ask")
                with gr.Row():
                    k = gr.Slider(1, MAX_SOURCES, value=DEFAULT_SOURCES, step=1, label="Number of sources", scale=3)
                    clear_btn = gr.Button("Clear chat", scale=1, elem_id="qa-clear")
                if examples:
                    gr.Examples(examples, inputs=[box], label="Example questions (click one, then Ask)")
            with gr.Column(scale=2, min_width=320):
                viewer = gr.HTML(PLACEHOLDER, elem_id="qa-article", js_on_load=PANEL_JS)
                with gr.Row():
                    original = gr.Checkbox(
                        label="Show the original file", value=False, visible=False, elem_id="qa-original"
                    )
                    download = gr.DownloadButton(
                        "Download the original", visible=False, size="sm", elem_id="qa-download"
                    )
                with gr.Accordion("Articles in the index", open=False, elem_id="qa-articles"):
                    if allow_uploads:
                        gr.Markdown(
                            f"Add {', '.join(suffixes)} files of up to {size_text(MAX_UPLOAD_BYTES)} each: they are "
                            "saved into the corpus folder and indexed, ready for the next question."
                        )
                        upload = gr.UploadButton(
                            "Add articles",
                            file_types=list(suffixes),
                            file_count="multiple",
                            size="sm",
                            variant="primary",
                            elem_id="qa-upload",
                        )
                    else:
                        gr.Markdown(CHANGES_OFF)
                    status = gr.HTML("", elem_id="qa-status")
                    listing = gr.HTML(
                        articles_html(manifest, corpus_dir, allow_uploads),
                        elem_id="qa-list-box",
                        js_on_load=None,
                        apply_default_css=False,
                    )

        panel_out = [viewer, current, original, download]
        gr.on(
            [box.submit, send.click],
            respond,
            [box, chatbot, questions, k],
            [chatbot, box, questions, *panel_out, saved],
            api_visibility="private",
        ).then(None, js=SCROLL_CHAT, api_visibility="private")
        viewer.click(open_clicked, None, panel_out, api_visibility="private")
        original.input(toggle_original, [original, current], panel_out, api_visibility="private")
        clear_out = [chatbot, box, questions, *panel_out, saved]
        clear_btn.click(clear, None, clear_out, api_visibility="private")
        chatbot.clear(clear, None, clear_out, api_visibility="private")
        app.load(restore, saved, [chatbot, questions], api_visibility="private")
        app.load(page_info, None, [header, listing], api_visibility="private")
        changes = [status, header, listing]
        if allow_uploads:
            upload.upload(
                add_files, upload, changes, api_visibility="private", concurrency_id="qa-index", concurrency_limit=1
            )
            viewer.qa_remove(
                remove_clicked, None, changes, api_visibility="private", concurrency_id="qa-index", concurrency_limit=1
            )
        gr.api(backend.ask, api_name="ask")
    return app


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int | None = 7860, share: bool = False, **kwargs: Any):
    """Start the server (Gradio 6 takes theme and CSS at launch). Local only unless ``share``."""
    # System fonts: the default theme would fetch Google Fonts, and the app must work offline.
    theme = gr.themes.Default(
        primary_hue="blue", font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
    )
    kwargs.setdefault("max_file_size", MAX_UPLOAD_BYTES)
    kwargs.setdefault("footer_links", ["api", "settings"])
    return app.launch(server_name=host, server_port=port, share=share, css=CSS, theme=theme, **kwargs)
