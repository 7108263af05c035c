"""Newer articles first: where two dated articles answer a question differently, the newer one leads.

A newsroom asks "who leads IOM Mauritania?" of an archive holding the press release of 2013 that
named one chief of mission and the one of 2017 that names her successor. Both answer; the judge may
well rank the older first (its wording can be closer to the question). Once the passages are judged,
:func:`newer_first` looks at the best few that give a short answer of the kind the first one gives:
when two of them, from articles with different dates, give different answers, the newest answering
passage is put first, and the older one that says otherwise is named, so that the reply can say so.
Each of them must answer on its own, as :func:`judged_answering` checks, far more strictly than the judge:
a passage naming someone in another role, about another office, or counting something else, does not say
"otherwise" (bench/eval_recency.py reads every note given on the seed and growth question sets).

Articles without a date take no part: when the best passage has no date, or fewer than two dated
passages answer, the order is left as the judge gave it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .embed import Pieces
from .judge import Judging, judge, missing_names
from .lexical import fold
from .question import Question
from .search import Scored

DEPTH = 5  # the best passages compared; the judge's own look at names goes as deep
ALIKE = 0.4  # the share of words two answering sentences have in common, around their answers, to be compared
COMPARED_KINDS = ("person", "date", "number", "place", "email", "phone")  # a free phrase is not compared


@dataclass(frozen=True)
class Reordered:
    scored: list[Scored]  # the passages, the newest answering one first when it moved
    older: int | None  # where the older passage that answers otherwise now stands; None: no such passage


def same_answer(a: str, b: str, kind: str = "person") -> bool:
    """Whether two short answers say the same: equal once folded, or one holds the other
    ("Anke Strauss" and "Anke Strauss, cheffe de mission")."""
    x, y = _folded(a, kind), _folded(b, kind)
    return bool(x) and bool(y) and (x in y or y in x)


def judged_answering(
    asked: Question,
    articles: Callable[[list[Scored]], dict[int, tuple[str, Pieces | None]]],
    referent: str | None,
    judging: Judging,
) -> Callable[[list[Scored]], list[bool]]:
    """Whether each passage answers the question on its own, far more strictly than the judge (qa.judge)
    asks of the best one, since "an older article says otherwise" must not be said of an answer to another
    question: press releases of one office name many people, each in another role. The judge would take
    the passage as an answer; the sentence holding its answer names, written out, everything the question
    names (the office, the country, the meeting), and for a count, what is counted ("combien de
    garde-côtes" is not answered by "1 250 migrants", however close the two words are in meaning). A
    question that names nothing ("What is her email?", whose answer depends on the person meant) is
    left as the judge answered it. ``articles``: each passage with its article's title and opening
    passage, as the retriever gives them."""

    def answering(passages: list[Scored]) -> list[bool]:
        if referent is not None or not missing_names(asked, "", None, None, 0):  # it names nothing to check
            return [False] * len(passages)
        found = articles(passages)
        verdicts = []
        for s in passages:
            score = s.score if s.searched_score is None else s.searched_score
            sentence = s.answering_sentence
            article = found[s.candidate.key][0]
            verdict = judge(asked, score, s.reading, s.found, article, referent, judging=judging, sentence=sentence)
            named = not missing_names(asked, sentence, None, None, 0)
            verdicts.append(verdict.found and named and _names_what_is_counted(asked, sentence))
        return verdicts

    return answering


def _names_what_is_counted(asked: Question, text: str) -> bool:
    """For a count, every word of what is counted is in the sentence (its first five letters, folded:
    "garde-côtes" holds for "gardes-côtes"); any other question: True."""
    if not asked.focus:
        return True
    words = [w[:5] for w in re.findall(r"\w+", fold(asked.focus)) if len(w) >= 3]
    folded = fold(text)
    return all(word in folded for word in words)


def newer_first(
    scored: Sequence[Scored],
    date_of: Callable[[str], str | None],
    about_question: Callable[[list[Scored]], list[bool]] | None = None,
) -> Reordered:
    """``scored`` (judged, best first) with the newest answering passage first when dated articles answer
    differently. ``date_of``: an article's date (ISO) from its id; ``about_question``: for some passages,
    whether each answers the question on its own (asked only when there is a disagreement to settle)."""
    passages = list(scored)
    unchanged = Reordered(passages, None)
    if not passages or passages[0].span is None or passages[0].span.kind not in COMPARED_KINDS:
        return unchanged
    kind = passages[0].span.kind
    if date_of(passages[0].passage.doc_id) is None:  # an undated best passage: no way to tell which is newer
        return unchanged
    answering = [
        (at, date, _answer_text(s))
        for at, s in enumerate(passages[:DEPTH])
        if s.span is not None and s.span.kind == kind and (date := date_of(s.passage.doc_id)) is not None
    ]
    if len({date for _, date, _ in answering}) < 2 or _all_agree([text for _, _, text in answering], kind):
        return unchanged
    answering = [item for item in answering if alike(passages[0], passages[item[0]])]
    if about_question is not None:
        held = about_question([passages[at] for at, _, _ in answering])
        answering = [item for item, keep in zip(answering, held, strict=True) if keep]
    if not answering or answering[0][0] != 0:  # the best passage itself must hold: else the judge's order stays
        return unchanged
    newest_at, newest_date, newest_text = max(answering, key=lambda item: (item[1], -item[0]))
    older = next(
        (at for at, date, text in answering if date < newest_date and not same_answer(text, newest_text, kind)), None
    )
    if older is None:
        return unchanged
    reordered = [passages[newest_at]] + [s for at, s in enumerate(passages) if at != newest_at]
    return Reordered(reordered, older + 1 if older < newest_at else older)


def alike(a: Scored, b: Scored) -> bool:
    """Whether two answering sentences say the same thing of their answers: the words around each answer
    (folded, their first five letters) are for the most part the same. "La cheffe de mission de l'OIM en
    Mauritanie est X" and "Le chef de mission de l'OIM en Mauritanie, Y, a déclaré" are; a minister who
    "a annoncé que la Tunisie" and a chief of mission who "a déclaré" are not, nor two sentences in two
    languages, which cannot be told apart this way."""
    x, y = _around_answer(a), _around_answer(b)
    return bool(x) and len(x & y) >= ALIKE * len(x | y)


def _around_answer(scored: Scored) -> set[str]:
    sentence = scored.answering_sentence
    words = set(re.findall(r"\w+", fold(sentence))) - set(re.findall(r"\w+", fold(_answer_text(scored))))
    return {w[:5] for w in words if len(w) >= 3}


def _answer_text(scored: Scored) -> str:
    span = scored.span
    assert span is not None
    return scored.passage.text[span.start : span.end]


def _all_agree(texts: list[str], kind: str) -> bool:
    return all(same_answer(texts[0], other, kind) for other in texts[1:])


def _folded(text: str, kind: str) -> str:
    """Lower case, no accents, words only; a person's name without the role after its comma."""
    head = text.split(",")[0] if kind == "person" else text
    decomposed = unicodedata.normalize("NFKD", head.casefold().replace("’", "'"))
    plain = "".join(ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.split())
