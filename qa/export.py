"""A conversation as Markdown: each question, its answer, and the sources cited (title, file, page,
lines, date), for keeping or sending on.

It is Markdown, not HTML: nothing is escaped into entities. But article text is not trusted to keep the
document's shape: every text from the articles or the person is put on one line, its Markdown signs
(``*``, ``_``, ``[``, ``<``, a ``#`` or ``>`` opening a line…) escaped with a backslash, and passages are
quoted as blockquotes, so that an article holding "# Title", "</details>" or "[link](…)" stays words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

TITLE = "Conversation with the news articles"
NOTHING_FOUND = "Nothing in the articles answers this."
# Signs with a meaning anywhere in a line, escaped wherever they are; those with a meaning at the start of
# a line only (a heading, a quote, a list item) are escaped there.
_INLINE = re.compile(r"([\\`*_{}\[\]<>!|~&$])")
_LINE_START = re.compile(r"^(\s*)([#>+\-=]|\d+[.)])")


@dataclass(frozen=True)
class Turn:
    """One question of the conversation and what it got: an answer record (``Answer.as_dict()``), or
    the message of a question that was not answered (empty, too long, the index unreachable)."""

    question: str
    answer: dict | None = None
    message: str | None = None


def inline(text: object) -> str:
    """Any text as one line of Markdown that reads as the words it holds."""
    words = " ".join(str(text or "").split())
    escaped = _INLINE.sub(r"\\\1", words)
    # a backslash escapes punctuation only: "1." is kept from being a list as "1\."
    return _LINE_START.sub(lambda m: m[1] + m[2][:-1] + "\\" + m[2][-1], escaped)


def quoted(text: object) -> str:
    return "> " + inline(text)


def where(record: dict) -> str:
    """Where a citation points: ``file``, page, lines, date (what the record holds of them)."""
    parts = [f"file {inline(record.get('doc_id') or record.get('file') or '?')}"]
    pages = record.get("pages") or ([record["page"]] if record.get("page") is not None else [])
    if pages:
        parts.append(f"page {pages[0]}" if len(pages) == 1 else f"pages {pages[0]}–{pages[-1]}")
    lines = record.get("lines") or []
    if len(lines) == 2:
        parts.append(f"line {lines[0]}" if lines[0] == lines[1] else f"lines {lines[0]}–{lines[1]}")
    if record.get("date"):
        parts.append(f"dated {inline(record['date'])}")
    if record.get("ocr"):
        parts.append("read by OCR")
    return ", ".join(parts)


def turn_markdown(number: int, turn: Turn) -> list[str]:
    out = [f"## {number}. {inline(turn.question)}", ""]
    answer = turn.answer
    if answer is None:
        return out + [inline(turn.message or "Not answered."), ""]
    hits = answer.get("hits") or []
    short = answer.get("short_answer")
    if answer.get("found") and hits:
        if short:
            out += [f"**{inline(short.get('text'))}** [{short.get('hit', 1)}]", ""]
            cited = next((h for h in hits if h.get("rank") == short.get("hit")), hits[0])
        else:
            cited = hits[0]
        out += [quoted(cited.get("answer")), ""]
        older = answer.get("older_differs")
        if older:
            out += [
                f"An older article says otherwise: **{inline(older.get('text'))}** [{older.get('hit')}] "
                f"({where(older)}).",
                "",
            ]
        out += ["Sources:", ""]
    else:
        out += [inline(" ".join(filter(None, [NOTHING_FOUND, answer.get("why_not")]))), ""]
        if hits:
            out += ["The closest passages, which are not answers:", ""]
    if answer.get("searched") and answer.get("searched") != answer.get("question"):
        out[2:2] = [f"(A follow-up: searched as “{inline(answer['searched'])}”.)", ""]
    for hit in hits:
        out += [f"{hit.get('rank')}. **{inline(hit.get('title'))}**, {where(hit)}", ""]
        out += ["   " + quoted(hit.get("answer")), ""]
    return out


def conversation_markdown(turns: Sequence[Turn], exported_at: str, searched: str = "") -> str:
    """The whole conversation, oldest question first. ``exported_at``: when (shown); ``searched``: what
    was searched (the corpus folder, the index version), shown under the title."""
    out = [f"# {TITLE}", "", f"Exported {inline(exported_at)}" + (f" · {inline(searched)}" if searched else ""), ""]
    if not turns:
        out += ["No question was asked.", ""]
    for number, turn in enumerate(turns, start=1):
        out += turn_markdown(number, turn)
    return "\n".join(out).rstrip("\n") + "\n"
