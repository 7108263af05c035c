"""The chat in the browser: a Gradio Blocks app over a :class:`~qa.retrieval.Retriever`.

Replies are HTML built here from corpus text that is escaped first (see
:func:`escape`), so an article can never inject markup, script or Markdown
into the page. The same reply, plus the hits as JSON, is served to programs
under the API name ``/ask`` (see docs/api.md).
"""

import html
import logging
from pathlib import Path
from typing import Any

import gradio as gr

from .ingest import path_in_corpus, read_text_file
from .limits import MAX_QUESTION_CHARS
from .retrieval import Answer, Hit, Retriever

log = logging.getLogger(__name__)

MAX_UI_QUESTION_CHARS = MAX_QUESTION_CHARS
DEFAULT_SOURCES = 3
CONTEXT_CHARS = 220  # characters kept on each side of the answer sentence in a chat snippet
EXAMPLES = [
    "Who leads IOM Mongolia?",
    "What is the phone number of IOM Mongolia?",
    "Qui est le chef de mission de l'OIM en Mongolie ?",
    "Où s'est tenue la 5ème réunion mondiale des PCR ?",
]
NOTHING_FOUND = "I found nothing in the articles that answers this."

# gr.Chatbot renders Markdown (and $$ LaTeX) before sanitising HTML: besides the
# HTML specials, every character Markdown gives a meaning to becomes a numeric
# entity, so "[click](javascript:…)" or "**x**" in an article stays literal text.
_MARKDOWN_ENTITIES = str.maketrans(
    {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-!|~$:@=\"'"} | {"\n": "<br>", "\r": ""}
)


def escape(text: str) -> str:
    """Corpus or user text as HTML that neither HTML nor Markdown re-interprets."""
    return html.escape(text.replace("\n\n", "\n"), quote=False).translate(_MARKDOWN_ENTITIES)


def highlight(text: str, span: tuple[int, int], start: int = 0, end: int | None = None) -> str:
    """``text[start:end]`` escaped, with the part inside ``span`` wrapped in <mark>."""
    end = len(text) if end is None else end
    s, e = max(start, min(span[0], end)), max(start, min(span[1], end))
    if s >= e:
        return escape(text[start:end])
    return escape(text[start:s]) + "<mark>" + escape(text[s:e]) + "</mark>" + escape(text[e:end])


def snippet_bounds(text: str, span: tuple[int, int], context: int = CONTEXT_CHARS) -> tuple[int, int]:
    """A window of ``text`` around ``span``, cut at spaces, so long passages stay short in the chat."""
    start, end = max(0, span[0] - context), min(len(text), span[1] + context)
    if start > 0:
        space = text.find(" ", start, span[0])
        start = space + 1 if space >= 0 else start
    if end < len(text):
        space = text.rfind(" ", span[1], end)
        end = space if space >= 0 else end
    return start, end


def line_range(lines: tuple[int, int] | list[int]) -> str:
    return f"line {lines[0]}" if lines[0] == lines[1] else f"lines {lines[0]}–{lines[1]}"


def format_hit(hit: Hit, closest_only: bool = False) -> str:
    """One numbered citation: title, file, lines, score, the passage with its answer marked."""
    c = hit.citation
    start, end = snippet_bounds(hit.text, hit.answer_span)
    body = highlight(hit.text, hit.answer_span, start, end)
    body = ("… " if start else "") + body + (" …" if end < len(hit.text) else "")
    full = ""
    if (start, end) != (0, len(hit.text)):
        full = f"<details><summary>Whole passage</summary><p>{highlight(hit.text, hit.answer_span)}</p></details>"
    kind = " qa-closest" if closest_only else ""
    return (
        f'<div class="qa-cite{kind}"><div class="qa-cite-head"><span class="qa-num">[{hit.rank}]</span> '
        f'<span class="qa-title">{escape(c.title)}</span></div>'
        f'<div class="qa-meta">{escape(c.path)} · {line_range(c.lines)} · score {hit.score:.3f}</div>'
        f'<p class="qa-passage">{body}</p>{full}</div>'
    )


def format_answer(answer: Answer) -> str:
    """The reply to one question: the answer sentence first, then the citations.

    One single-line HTML block: Markdown leaves a block that starts with <div>
    alone up to the next blank line, and there is none.
    """
    parts = ['<div class="qa-reply">']
    best = answer.best
    if answer.found and best is not None:
        lead = escape(best.answer.strip())
        parts.append(f'<p class="qa-lead"><strong>{lead}</strong> <span class="qa-num">[1]</span></p>')
    else:
        parts.append(
            f'<p class="qa-lead qa-nothing">{NOTHING_FOUND} Try other words, or ask about another topic.</p>'
        )
    if answer.searched != answer.question:
        searched = escape(answer.searched)
        parts.append(f'<p class="qa-note">Follow-up: searched together with your previous question, as “{searched}”.</p>')
    if answer.hits:
        label = "Sources" if answer.found else "Closest passages — these are <em>not</em> answers"
        parts.append(f'<p class="qa-sources-label">{label}</p>')
        parts.extend(format_hit(h, closest_only=not answer.found) for h in answer.hits)
    parts.append("</div>")
    return "".join(parts)


def message(text: str, kind: str = "notice") -> str:
    """A short reply of our own (``text`` is trusted markup-free prose, escaped anyway)."""
    return f'<div class="qa-reply"><p class="qa-{kind}">{escape(text)}</p></div>'


def hit_record(hit: Hit) -> dict[str, Any]:
    record = hit.as_dict()
    # "file", not "path": gradio_client downloads any dict with a "path" key as a file.
    record["file"] = record.pop("path")
    return record


class ChatBackend:
    """Turns a question (plus the earlier questions) into a reply; never raises."""

    def __init__(self, retriever: Retriever):
        self.retriever = retriever

    def ask(self, question: str, history: list[str] | None = None, k: int = DEFAULT_SOURCES) -> tuple[str, dict]:
        """Answer ``question`` with ``k`` cited passages (1-10).

        ``history``: the earlier questions of the conversation, oldest first.
        Returns the reply (HTML) and a record: status (answered, nothing_found,
        empty, too_long, error), question, searched, found, hits.
        """
        question = (question or "").strip()
        record: dict[str, Any] = {"question": question, "searched": question, "found": False, "hits": []}
        if not question:
            return message("Please type a question about the articles.", "notice"), record | {"status": "empty"}
        if len(question) > MAX_UI_QUESTION_CHARS:
            text = (
                f"Your question is {len(question):,} characters long; "
                f"please keep it under {MAX_UI_QUESTION_CHARS:,} characters."
            )
            return message(text), record | {"status": "too_long"}
        if isinstance(history, str):  # tolerated: one earlier question per line
            history = history.splitlines()
        try:
            k = max(1, min(10, int(k)))
            answer = self.retriever.answer(question, k=k, history=[q for q in history or [] if q.strip()])
        except Exception:
            log.exception("answering %r failed", question[:200])
            text = "Sorry, something went wrong while searching the articles. The error was logged; please try again."
            return message(text, "error"), record | {"status": "error"}
        record.update(
            status="answered" if answer.found else "nothing_found", searched=answer.searched,
            found=answer.found, hits=[hit_record(h) for h in answer.hits],
        )
        return format_answer(answer), record


def article_html(corpus_dir: Path, hit: dict[str, Any]) -> str:
    """The whole original file of a cited article, numbered, with the cited lines and span marked."""
    try:
        text = read_text_file(path_in_corpus(corpus_dir, hit["doc_id"]))
    except Exception:
        log.exception("cannot show article %r", hit.get("doc_id"))
        text = None
    if text is None:
        why = "moved or removed since it was indexed?"
        return message(f"The article {hit.get('doc_id')} cannot be opened ({why}).", "error")
    first, last = hit["lines"]
    start, end = hit["start"], hit["end"]
    rows, offset = [], 0
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        body = line.rstrip("\r\n")
        cls = " qa-cited" if first <= number <= last else ""
        rows.append(
            f'<div class="qa-line{cls}"><span class="qa-ln">{number}</span>'
            f'<span class="qa-tx">{highlight(body, (start - offset, end - offset)) or "&nbsp;"}</span></div>'
        )
        offset += len(line)
    where = f'{escape(hit["file"])}, {line_range((first, last))}'
    head = f'<div class="qa-article-head"><b>{escape(hit["title"])}</b><br>{where}</div>'
    return f'{head}<div class="qa-article-body">{"".join(rows)}</div>'


ARTICLE_PLACEHOLDER = '<p class="qa-note">Ask a question: the article of the first citation opens here, the cited lines highlighted.</p>'


def _choices(hits: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [
        (f"[{h['rank']}] {h['doc_id']}, {line_range(h['lines'])} · {h['title']}", i) for i, h in enumerate(hits)
    ]


CSS = """
.qa-reply { line-height: 1.5; }
.qa-reply p { margin: 0 0 .45em; }
.qa-lead { font-size: 1.1em; }
.qa-lead strong { background: #fff3b0; color: #1f1f1f; padding: 0 .15em; border-radius: 3px; }
.qa-nothing, .qa-error { font-weight: 600; color: #9a3412; }
.qa-note { font-size: .9em; font-style: italic; opacity: .85; }
.qa-sources-label { font-size: .8em; text-transform: uppercase; letter-spacing: .05em; opacity: .7; margin-top: .8em !important; }
.qa-cite { border-left: 4px solid #2563eb; background: rgba(37, 99, 235, .05); padding: .45em .8em; margin: .5em 0; border-radius: 0 6px 6px 0; }
.qa-cite.qa-closest { border-left-color: #9ca3af; background: rgba(156, 163, 175, .08); }
.qa-num { font-weight: 700; color: #2563eb; }
.qa-title { font-weight: 600; }
.qa-meta { font-family: ui-monospace, monospace; font-size: .8em; opacity: .75; margin-bottom: .25em; }
.qa-passage { font-size: .93em; }
.qa-reply mark, .qa-article-body mark { background: #ffe066; color: #1f1f1f; padding: 0 .1em; border-radius: 2px; }
.qa-closest mark { background: #e5e7eb; }
.qa-reply details summary { cursor: pointer; font-size: .85em; opacity: .8; }
.qa-article-head { margin-bottom: .4em; font-size: .95em; }
.qa-article-body { position: relative; max-height: 430px; overflow: auto; font-family: ui-monospace, monospace; font-size: .8em; border: 1px solid rgba(127, 127, 127, .3); border-radius: 6px; }
.qa-line { display: flex; white-space: pre-wrap; overflow-wrap: anywhere; }
.qa-line.qa-cited { background: rgba(255, 224, 102, .25); }
.qa-ln { flex: none; width: 3em; text-align: right; padding-right: .7em; opacity: .5; user-select: none; }
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
# After an article has rendered: scroll its box to the cited lines.
SCROLL_ARTICLE = """() => { setTimeout(() => {
  const box = document.querySelector('#qa-article .qa-article-body');
  const line = box && box.querySelector('.qa-cited');
  if (line) box.scrollTop = Math.max(0, line.offsetTop - 60);
}, 150); }"""


def build_app(retriever: Retriever) -> gr.Blocks:
    """The page: chat on the left, the article of a citation on the right, ``/ask`` for programs."""
    backend = ChatBackend(retriever)

    def respond(question: str, chat: list, questions: list[str], k: float):
        reply, record = backend.ask(question, questions, int(k))
        shown = question.strip() if len(question.strip()) <= 300 else question.strip()[:300] + " …"
        chat = chat + [{"role": "user", "content": escape(shown) or "…"}, {"role": "assistant", "content": reply}]
        if record["status"] in ("answered", "nothing_found"):
            questions = questions + [record["question"]]
        hits = record["hits"]
        viewer = article_html(retriever.corpus_dir, hits[0]) if hits else gr.skip()
        picker = gr.Dropdown(choices=_choices(hits), value=0) if hits else gr.skip()
        return chat, "", questions, hits, picker, viewer

    def show_article(choice: int | None, hits: list[dict[str, Any]]) -> Any:
        if choice is None or not 0 <= int(choice) < len(hits):
            return gr.skip()
        return article_html(retriever.corpus_dir, hits[int(choice)])

    def clear():
        return [], "", [], [], gr.Dropdown(choices=[], value=None), ARTICLE_PLACEHOLDER

    with gr.Blocks(title="Ask the news articles") as app:
        gr.Markdown(
            "## Ask the news articles\nAsk in English or French. Every answer is quoted from the IOM press "
            "releases, with numbered citations; follow-up questions use your previous question."
        )
        questions = gr.State([])  # the user's answered questions, oldest first: the follow-up history
        hits = gr.State([])  # hit records of the latest answer, for the article viewer
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Conversation", show_label=False, height=600, autoscroll=False, layout="panel",
                    # our HTML is escaped already; sanitising again costs nothing; no $$ LaTeX
                    sanitize_html=True, render_markdown=True, latex_delimiters=[],
                    feedback_options=None, buttons=["copy"], elem_id="qa-chat",
                )
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="Ask a question…", show_label=False, scale=6, autofocus=True, elem_id="qa-question"
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="qa-ask")
                with gr.Row():
                    k = gr.Slider(1, 10, value=DEFAULT_SOURCES, step=1, label="Number of sources", scale=3)
                    clear_btn = gr.Button("Clear chat", scale=1, elem_id="qa-clear")
            with gr.Column(scale=2):
                gr.Examples(EXAMPLES, inputs=[box], label="Example questions (click one, then Ask)")
                picker = gr.Dropdown(label="Open the whole article of a citation", choices=[], value=None, interactive=True)
                viewer = gr.HTML(ARTICLE_PLACEHOLDER, elem_id="qa-article")
        outputs = [chatbot, box, questions, hits, picker, viewer]
        gr.on(
            [box.submit, send.click], respond, [box, chatbot, questions, k], outputs, api_visibility="private"
        ).then(None, js=f"() => {{ ({SCROLL_CHAT})(); ({SCROLL_ARTICLE})(); }}", api_visibility="private")
        picker.input(show_article, [picker, hits], viewer, api_visibility="private").then(
            None, js=SCROLL_ARTICLE, api_visibility="private"
        )
        clear_btn.click(clear, None, outputs, api_visibility="private")
        gr.api(backend.ask, api_name="ask")
    return app


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int | None = 7860, share: bool = False, **kwargs: Any):
    """Start the server (Gradio 6 takes theme and CSS at launch). Local only unless ``share``."""
    # System fonts: the default theme would fetch Google Fonts, and the app must work offline.
    fonts = {"font": ["ui-sans-serif", "system-ui", "sans-serif"], "font_mono": ["ui-monospace", "monospace"]}
    theme = gr.themes.Default(primary_hue="blue", **fonts)
    return app.launch(server_name=host, server_port=port, share=share, css=CSS, theme=theme, **kwargs)
