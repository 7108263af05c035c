"""Deciding, with evidence, that nothing in the articles answers.

Each of these is enough to refuse:
- the best passage is far from the question altogether;
- the question names something (a country, a year, an ordinal, a person, an organisation; across
  languages: "Sénégal", "Senegal") that the answering passage, its article's title and opening passage
  do not hold: "Who leads IOM in Senegal?" is not answered by the passages about Mongolia, however close;
- a count that does not count what the question counts ("officials" / "responsables");
- a question asking for a kind of answer (a date, an email, a phone…) that finds none, or none belonging
  to the person asked about ("his email" is not the press officer's);
- the reader model, having read the question with the best passage, scores it as no answer
  ("Quel est le thème du sommet de Bakou ?" over an article on that summit that gives no theme).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .embed import Pieces
from .lexical import fold
from .names import (
    NAME_SIMILARITY,
    countries_in,
    countries_named,
    countries_of_bodies,
    is_country,
    names_century,
    names_country,
    ordinals_in,
    ordinals_named,
    written_in,
)
from .question import COUNTED, KIND_NAMES, Question, guess_language, names_standing, names_theme
from .reader_model import Reading
from .rule_reader import Found
from .spans import find_spans


@dataclass(frozen=True)
class Judging:
    """Where refusing starts. On the even half of PIAF dev an ``answers_floor`` of -1.5 answers 97% of the
    questions (bench/tune_reader.py), but on press releases it refuses too many answerable English
    questions (seed questions answered 0.936 -> 0.809): off (None) by default, see docs/quality.md."""

    score_floor: float = 0.78  # a best search score under this: the passage is about something else
    answers_floor: float | None = None  # the reader's "answers" logit under this: the passage does not answer
    names: bool = True  # refuse when the article lacks a name, number or country the question gives
    # A count answers "how many X" when its words come this close to X: fitted on French "how many" questions
    # over French passages (bench/tune_count_agreement.py). Elsewhere the earlier value is kept, as no dev data
    # fits it: across languages ("officials", "responsables") the words come less close, and a measure
    # ("le montant des investissements", "2,519 milliards d’euros") is not named by its words.
    count_agreement: float = 0.84
    count_agreement_unfitted: float = 0.78


@dataclass(frozen=True)
class Verdict:
    found: bool
    why_not: str | None = None


def judge(
    question: Question,
    searched_score: float,
    reading: Reading | None,
    found: Found | None,
    article: str,
    referent: str | None,
    question_pieces: Pieces | None = None,
    article_pieces: Pieces | None = None,
    asked_at: int = 0,
    judging: Judging = Judging(),
    sentence: str = "",
) -> Verdict:
    """Whether the best passage answers ``question``: ``searched_score`` is its score before reading,
    ``reading`` what the reader model made of it and ``found`` what the rule reader found there (None: not
    read); ``article``: that passage with its article's title and opening passage, where the names the
    question gives must stand.

    ``question_pieces`` (of the searched text, in which the question starts at ``asked_at``) and
    ``article_pieces`` let a name written differently in the article ("Ulaanbaatar", "Oulan-Bator") count as present.
    ``sentence``: the passage's answering sentence, which answers when no span does, if it can."""
    if searched_score < judging.score_floor:
        return Verdict(False, "Nothing in the articles is close to this question.")
    missing = missing_names(question, article, question_pieces, article_pieces, asked_at) if judging.names else []
    for name in missing:
        return Verdict(False, f"The passages closest to the question say nothing about {name}.")
    if question.theme and not names_theme(sentence):
        return Verdict(False, "The closest passages give no theme for it.")
    if question.standing and not names_standing(question.standing, sentence):
        return Verdict(False, f"The closest passages name no countries as {question.standing}s.")
    kind = "country" if question.country else KIND_NAMES.get(question.expects)
    has_span = found is not None and found.span is not None
    if question.focus and has_span and not counts_what_is_asked(question, found, article, judging):
        return Verdict(False, f"The articles give no count of {question.focus}.")
    if kind and not has_span and not _sentence_answers(question, sentence):
        whose = f" for {referent}" if referent else ""
        return Verdict(False, f"The passages closest to the question give no {kind}{whose}.")
    if kind and not has_span and referent and not (question.expects == "role" and referent in question.text):
        # (a position asked of someone the question names is in its sentence; of someone an earlier turn named
        # ("his position"), it must be theirs)
        return Verdict(False, f"The articles give no {kind} for {referent}.")
    if reading is not None and judging.answers_floor is not None and reading.answers < judging.answers_floor:
        return Verdict(False, "The closest passages are about this, but the reader finds no answer in them.")
    return Verdict(True)


def counts_what_is_asked(
    question: Question, found: Found | None, article: str, judging: Judging, surely: bool = False
) -> bool:
    """Whether the span found counts what a "how many" question counts: its words come close enough to it
    ("48 participants" for "Combien de participants", not "trois jours"). ``surely``: as close as fitted in
    the question's language, in any language (across languages the closeness of unrelated words is near the
    threshold for refusing)."""
    if found is None or found.span is None:
        return False
    agreement = judging.count_agreement if surely else _count_agreement(question, article, judging)
    return found.affinity >= agreement


def _count_agreement(question: Question, article: str, judging: Judging) -> float:
    fitted = COUNTED.search(question.text) is not None and question.lang == guess_language(fold(article))
    return judging.count_agreement if fitted else judging.count_agreement_unfitted


def _sentence_answers(question: Question, sentence: str) -> bool:
    """Whether a sentence without a span of the kind asked for still answers: for a "who" or "where" question
    ("Qui sont les victimes ?", "Par qui est dirigée la région ?"), but not one asking which country that
    names none ("Quelque 17 pays … ont un statut d’observateur"), nor the holder of a role where it offers an
    organisation instead ("the meeting of the RCPs" for who chaired it) or only people in other roles."""
    if question.expects == "role":
        return True  # a title, a grade, a function: "gardien de but", "sergent", "PDG de Sonolor"
    if question.expects not in ("person", "organisation", "place"):
        return False
    if question.country:
        return bool(countries_in(sentence))
    if question.holder:  # its people were no holder of the role asked (a deputy for the chief, or the reverse)
        return not any(span.kind in ("organisation", "person") for span in find_spans(sentence))
    return True


def missing_names(
    question: Question,
    article: str,
    question_pieces: Pieces | None,
    article_pieces: Pieces | None,
    asked_at: int,
    countries: bool = True,
) -> list[str]:
    """The countries (unless ``countries`` is False), ordinals, numbers and names of the question that the
    article does not hold."""
    missing = missing_countries(question, article) if countries else []
    present_ordinals = ordinals_in(article)
    ordinals = dict(ordinals_named(question.text))
    missing += [
        word
        for word, rank in ordinals.items()
        if rank not in present_ordinals and not names_century(question.text, word, rank, article)
    ]
    for entity in question.entities:
        if entity in missing or entity in ordinals or is_country(entity) or _is_common(entity, question.lang):
            continue
        if re.search(r"\d", entity):
            if not all(n in article for n in re.findall(r"\d+", entity)):
                missing.append(entity)
        else:
            at = question.text.rfind(entity) + asked_at
            if not _name_present(entity, at, article, question_pieces, article_pieces):
                missing.append(entity)
    return missing


def missing_countries(question: Question, text: str) -> list[str]:
    """The countries the question names (by name, adjective or body: "the Mongolian Government") that the text
    does not."""
    named = countries_named(question.text) + countries_of_bodies(question.text)
    return [name for name, code in named if not names_country(text, code)]  # (each country's words only: fast)


# the words of a name that must each be there: capitalised, of three letters or more ("Cox" and "Bazar" in
# "Cox's Bazar"; not its "s", nor "of" in "Bank of Mongolia")
_NAME_WORD = re.compile(r"\b[^\W\d_][^\W\d_]{2,}")


def _name_present(
    entity: str, at: int, article: str, question_pieces: Pieces | None, article_pieces: Pieces | None
) -> bool:
    """The name is written in the article, or each of its words is there, written or close in meaning. Word
    by word: a possessive's piece ("'s") comes close to any English article's, and stood for "Cox's Bazar"
    in a release that never names it."""
    if written_in(entity, article):
        return True
    words = [w for w in _NAME_WORD.finditer(entity) if not w.group().islower()]
    if not words:  # an acronym of two letters ("EU"): its pieces, as a whole
        return _close_in_meaning(at, len(entity), question_pieces, article_pieces)
    return all(
        written_in(w.group(), article)
        or _close_in_meaning(at + w.start(), len(w.group()), question_pieces, article_pieces)
        for w in words
    )


def _is_common(entity: str, lang: str) -> bool:
    """A word that is no name: a pronoun ("I"), or a German noun (German capitalises them all; only its
    acronyms, numbers and several-word names are checked)."""
    if len(entity) < 2:
        return True
    return lang == "de" and " " not in entity and not entity.isupper()


def _close_in_meaning(start: int, length: int, question: Pieces | None, article: Pieces | None) -> bool:
    """The entity's word pieces (in the question as the model read it) come close to some piece of the article."""
    if question is None or article is None or not len(article.ids) or start < 0:
        return False
    rows = (question.ends > start) & (question.ends <= start + length)
    if not rows.any():
        return False
    return float((question.vectors[rows] @ article.vectors.T).max()) >= NAME_SIMILARITY


def article_pieces(pieces: list[Pieces]) -> Pieces | None:
    if not pieces:
        return None
    return Pieces(
        ids=np.concatenate([p.ids for p in pieces]),
        vectors=np.concatenate([p.vectors for p in pieces]),
        ends=np.concatenate([p.ends for p in pieces]),
    )
