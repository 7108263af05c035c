"""Sentence boundaries for French and English news text.

A small rule-based splitter: a sentence ends at . ! ? or … (optionally followed
by a closing quote) when the next word starts like a sentence, unless the
word before the stop is an abbreviation ("M.", "Mme", "Dr", "Ext.") or an
initial ("J. Smith").
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    """
    m mm mme mmes mlle mlles dr dre pr me mgr st ste
    mr mrs ms messrs prof gen col lt sgt capt cpt gov sen rep jr sr
    ext tel tél fax no nos n° art al av bd cf ch chap env éd ed fig hab
    min max p pp vol vs approx inc ltd co corp dept univ
    """.split()
)

# A stop, any closing quotes/brackets, then the space before the next sentence.
_BOUNDARY = re.compile(r"[.!?…]+(?:\s*[»\"”’)\]])*(\s+)")
_NEXT_STARTS_SENTENCE = re.compile(r"[«\"“(\[]?\s*[A-ZÀ-ÖØ-Þ0-9]")
_WORD_BEFORE = re.compile(r"([^\s«\"“(\[]+)$")
_WORD_WINDOW = 64  # longer than any abbreviation: a word cut by the window is not one either


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans (start, end) of the sentences of ``text``, without surrounding spaces."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        stop_end = match.start(1)
        if not _NEXT_STARTS_SENTENCE.match(text, match.end()):
            continue
        # only the word before the stop matters: a bounded window keeps a long sentence
        # full of "M." linear (slicing from the sentence start made it quadratic)
        if text[match.start()] == "." and _is_abbreviation(
            text[max(start, match.start() - _WORD_WINDOW) : match.start()]
        ):
            continue
        spans.append((start, stop_end))
        start = match.end()
    spans.append((start, len(text)))
    return [_strip(text, s, e) for s, e in spans if text[s:e].strip()]


def _is_abbreviation(before: str) -> bool:
    match = _WORD_BEFORE.search(before)
    if not match:
        return False
    word = match.group(1)
    if len(word) == 1 and word.isalpha():
        return True  # an initial
    return word.lower().rstrip(".") in ABBREVIATIONS


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
