"""A reply as the chat shows it (HTML) and as its copy button gives it (plain text).

All corpus and user text goes through :func:`escape` (or :func:`escape_pre`)
before it becomes markup, so an article can never inject markup, script or
Markdown into the page.

A citation number or title in a reply is a link ``#qa:cite:<passage id>:<start>-<end>``
(``#qa:near:…`` for the closest passages of a reply that found no answer); the
page's script turns a click on it into a request to open that passage's article
beside the chat (see :mod:`qa.ui.app`). The Chatbot's sanitiser keeps
``href`` but drops ``data-*`` attributes, hence the reference in the link.
"""

from __future__ import annotations

import html
from urllib.parse import quote

from ..answer import Answer, Citation, Hit, ShortAnswer
from ..ingest.dates import DateRange

CONTEXT_CHARS = 220  # characters kept on each side of the answer sentence in a chat snippet
NOTHING_FOUND = "I found nothing in the articles that answers this."
WHOLE_SENTENCE = "No shorter answer could be picked out of this sentence with confidence, so it is given whole."
OPEN_TITLE = "Open the article at this passage"
RIGHT_TITLE = "This answer is right (kept beside the index, to measure answers with)"
WRONG_TITLE = "This answer is wrong: say what the right answer is"
COPY_BUTTON = (
    '<div class="qa-tools"><button type="button" class="qa-copy" '
    'title="Copy the answer and its sources as plain text">Copy</button></div>'
)

# gr.Chatbot renders Markdown (and $$ LaTeX) before sanitising HTML: besides the
# HTML specials, every character Markdown gives a meaning to becomes a numeric
# entity, so "[click](javascript:…)" or "**x**" in an article stays literal text.
# ``{``, ``}`` and ``$`` also keep gr.HTML's templates from reading article text.
_SPECIALS = {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-!|~$:@=\"'"}
_MARKDOWN_ENTITIES = str.maketrans(_SPECIALS | {"\n": "<br>", "\r": ""})
# The same for text kept verbatim in a <pre>: a newline stays a newline, written as
# an entity so that the reply stays one line and no blank line ends its HTML block.
_PRE_ENTITIES = str.maketrans(_SPECIALS | {"\n": "&#10;", "\r": ""})


def escape(text: str) -> str:
    """Corpus or user text as HTML that neither HTML nor Markdown re-interprets."""
    return html.escape(text.replace("\n\n", "\n"), quote=False).translate(_MARKDOWN_ENTITIES)


def escape_pre(text: str) -> str:
    """Text for a <pre>: escaped like :func:`escape`, every line break kept."""
    return html.escape(text, quote=False).translate(_PRE_ENTITIES)


def highlight(
    text: str, span: tuple[int, int], start: int = 0, end: int | None = None, inner: tuple[int, int] | None = None
) -> str:
    """``text[start:end]`` escaped, with the part inside ``span`` wrapped in <mark>
    (and the part inside ``inner``, within ``span``, in <b>)."""
    end = len(text) if end is None else end
    s, e = max(start, min(span[0], end)), max(start, min(span[1], end))
    if s >= e:
        return escape(text[start:end])
    marked = escape(text[s:e])
    if inner is not None and s <= inner[0] < inner[1] <= e:
        a, b = inner
        marked = escape(text[s:a]) + "<b>" + escape(text[a:b]) + "</b>" + escape(text[b:e])
    return escape(text[start:s]) + "<mark>" + marked + "</mark>" + escape(text[e:end])


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


def location(citation: Citation) -> str:
    """Where a citation points, as a person reads it: ``000_x.pdf · p. 2 · lines 37–42 · 2017-03-14``
    (``pp. 1–2`` for a passage that goes on over a page break; the article's date when it has one).

    The file is named relative to the corpus folder (its id), never as the server sees it.
    """
    pages = citation.pages if len(citation.pages) > 1 else ()
    page = f" · pp. {pages[0]}–{pages[-1]}" if pages else f" · p. {citation.page}" if citation.page is not None else ""
    date = f" · {citation.date}" if citation.date else ""
    ocr = " · read by OCR" if citation.ocr else ""
    return f"{citation.doc_id}{page} · {line_range(citation.lines)}{date}{ocr}"


def cite_href(hit: Hit, closest: bool = False) -> str:
    """The link that opens ``hit``'s article at its passage, with its answer sentence marked;
    ``closest``: a passage closest to a question nothing answers (``near``: opened as not an answer)."""
    a, b = hit.answer_span
    return f"#qa:{'near' if closest else 'cite'}:{quote(hit.passage_id, safe='')}:{int(a)}-{int(b)}"


def _num(hit: Hit, closest: bool = False) -> str:
    return f'<a class="qa-act qa-num" href="{cite_href(hit, closest)}" title="{OPEN_TITLE}">[{hit.rank}]</a>'


def _short_span(hit: Hit, short: ShortAnswer) -> tuple[int, int] | None:
    """Where the short answer stands in the passage: inside the answer sentence if it is there."""
    a, b = hit.answer_span
    at = hit.text.find(short.text, a, b)
    if at < 0:
        at = hit.text.find(short.text)
    return (at, at + len(short.text)) if at >= 0 and short.text else None


def format_hit(hit: Hit, closest_only: bool = False, short: ShortAnswer | None = None) -> str:
    """One numbered citation: title, file, page, lines, score, the passage with its answer marked."""
    c = hit.citation
    inner = _short_span(hit, short) if short is not None and short.hit_rank == hit.rank else None
    start, end = snippet_bounds(hit.text, hit.answer_span)
    body = highlight(hit.text, hit.answer_span, start, end, inner)
    body = ("… " if start else "") + body + (" …" if end < len(hit.text) else "")
    full = ""
    if (start, end) != (0, len(hit.text)):
        whole = highlight(hit.text, hit.answer_span, inner=inner)
        full = f"<details><summary>Whole passage</summary><p>{whole}</p></details>"
    kind = " qa-closest" if closest_only else ""
    href = cite_href(hit, closest_only)
    title = f'<a class="qa-act qa-title" href="{href}" title="{OPEN_TITLE}">{escape(c.title)}</a>'
    return (
        f'<div class="qa-cite{kind}"><div class="qa-cite-head">{_num(hit, closest_only)} {title}</div>'
        f'<div class="qa-meta">{escape(location(c))} · score {hit.score:.3f}</div>'
        f'<p class="qa-passage">{body}</p>{full}</div>'
    )


def _cited(answer: Answer) -> tuple[ShortAnswer | None, Hit | None]:
    """The short answer (if any) and the hit that holds the answer."""
    short = answer.short_answer
    if short is not None:
        hit = next((h for h in answer.hits if h.rank == short.hit_rank), None)
        if hit is not None:
            return short, hit
    return None, answer.best


def feedback_buttons(reference: str) -> str:
    """A reply's "right" and "wrong" buttons: links ``#qa:right:<reference>`` that the page's script
    sends to the server (qa.ui.marks), like a citation's."""
    ref = quote(reference, safe="")
    return (
        f'<a class="qa-act qa-fb" role="button" href="#qa:right:{ref}" title="{RIGHT_TITLE}">Right</a>'
        f'<a class="qa-act qa-fb" role="button" href="#qa:wrong:{ref}" title="{WRONG_TITLE}">Wrong</a>'
    )


def dates_words(dates: DateRange) -> str:
    if dates.since and dates.until:
        return f"from {dates.since} to {dates.until}"
    return f"from {dates.since} on" if dates.since else f"up to {dates.until}"


def older_words(older: ShortAnswer) -> str:
    return f"An older article ({older.citation.date}) says otherwise: {_one_line(older.text)} [{older.hit_rank}]."


def format_answer(answer: Answer, dates: DateRange | None = None, feedback: str | None = None) -> str:
    """The reply to one question: the short answer in bold with its citation number, the
    sentence that answers, then the numbered sources; or, when nothing answers, that plainly,
    and the closest passages labelled as not answers. ``dates``: the date filter it was asked
    with, said; ``feedback``: the reply's reference for its right and wrong buttons.

    One single-line HTML block: Markdown leaves a block that starts with <div>
    alone up to the next blank line, and there is none. Its last element is the
    plain-text version (hidden) that the Copy button copies.
    """
    tools = COPY_BUTTON if feedback is None else COPY_BUTTON.replace("</div>", feedback_buttons(feedback) + "</div>")
    parts = ['<div class="qa-reply">', tools]
    short, hit = _cited(answer)
    if answer.found and hit is not None:
        if short is not None:
            page = _answer_page(hit, short)
            where = f' <span class="qa-where">({escape(page)})</span>' if page else ""
            parts.append(f'<p class="qa-lead"><strong>{escape(_one_line(short.text))}</strong> {_num(hit)}{where}</p>')
            parts.append(f'<p class="qa-sentence">“{escape(hit.answer.strip())}” {_num(hit)}</p>')
        else:
            parts.append(f'<p class="qa-lead"><strong>{escape(hit.answer.strip())}</strong> {_num(hit)}</p>')
            parts.append(f'<p class="qa-note">{WHOLE_SENTENCE}</p>')
    else:
        parts.append(f'<p class="qa-lead qa-nothing">{NOTHING_FOUND}</p>')
        if answer.why_not:
            parts.append(f'<p class="qa-why">{escape(answer.why_not)}</p>')
        parts.append('<p class="qa-note">Try other words, or ask about another topic.</p>')
    older = answer.older_differs
    if older is not None:
        other = next((h for h in answer.hits if h.rank == older.hit_rank), None)
        number = _num(other) if other is not None else f"[{older.hit_rank}]"
        said = f"<strong>{escape(_one_line(older.text))}</strong> {number}"
        note = f"An older article ({escape(older.citation.date or '')}) says otherwise: {said}."
        parts.append(f'<p class="qa-note qa-older">{note}</p>')
    if dates is not None:
        parts.append(f'<p class="qa-note qa-dates">Only articles dated {escape(dates_words(dates))} were searched.</p>')
    if answer.searched != answer.question:
        searched = escape(answer.searched)
        note = f"Follow-up: searched together with your previous question, as “{searched}”."
        parts.append(f'<p class="qa-note">{note}</p>')
    if answer.hits:
        label = "Sources" if answer.found else "Closest passages — these are <em>not</em> answers"
        parts.append(f'<p class="qa-sources-label">{label}</p>')
        parts.extend(format_hit(h, closest_only=not answer.found, short=short) for h in answer.hits)
    parts.append(f'<pre class="qa-plain" hidden>{escape_pre(plain_answer(answer))}</pre></div>')
    return "".join(parts)


def _answer_page(hit: Hit, short: ShortAnswer) -> str:
    """ "p. 2": the page of the short answer's words, when its passage goes on over a page break (the
    sources then give both pages); else nothing."""
    page = short.citation.page
    return f"p. {page}" if page is not None and len(hit.citation.pages) > 1 else ""


def plain_answer(answer: Answer) -> str:
    """The reply as plain text, as the Copy button gives it: the answer, then its citations."""
    lines = []
    short, hit = _cited(answer)
    if answer.found and hit is not None:
        sentence = _one_line(hit.answer)
        if short is not None:
            page = _answer_page(hit, short)
            lines += [
                f"{_one_line(short.text)} [{hit.rank}{', ' + page if page else ''}]",
                f"“{sentence}” [{hit.rank}]",
            ]
        else:
            lines += [f"{sentence} [{hit.rank}]"]
    else:
        lines.append(NOTHING_FOUND + (f" {_one_line(answer.why_not)}" if answer.why_not else ""))
    if answer.older_differs is not None:
        lines.append(older_words(answer.older_differs))
    if answer.hits:
        lines += ["", "Sources:" if answer.found else "Closest passages (not answers):"]
        lines += [f"[{h.rank}] {_one_line(h.title)} — {location(h.citation)}" for h in answer.hits]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    """The text with its line breaks and runs of spaces as single spaces."""
    return " ".join(text.split())


def message(text: str, kind: str = "notice") -> str:
    """A short reply of our own (``text`` is trusted markup-free prose, escaped anyway)."""
    return f'<div class="qa-reply"><p class="qa-{kind}">{escape(text)}</p></div>'
