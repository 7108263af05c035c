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

import functools
import re
from dataclasses import dataclass

import numpy as np

from .embed import Pieces
from .lexical import fold
from .question import KIND_NAMES, Question
from .reader_model import Reading
from .rule_reader import Found

NAME_SIMILARITY = 0.80  # a name not written in the article, but this close to one of its words, is there
COUNT_AGREEMENT = 0.78  # a count answers "how many X" when its words come this close to X


@dataclass(frozen=True)
class Judging:
    """Where refusing starts. On the even half of PIAF dev an ``answers_floor`` of -1.5 answers 97% of the
    questions (bench/tune_reader.py), but on press releases it refuses too many answerable English
    questions (seed questions answered 0.936 -> 0.809): off (None) by default, see docs/quality.md."""

    score_floor: float = 0.78  # a best search score under this: the passage is about something else
    answers_floor: float | None = None  # the reader's "answers" logit under this: the passage does not answer
    names: bool = True  # refuse when the article lacks a name, number or country the question gives


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
) -> Verdict:
    """Whether the best passage answers ``question``: ``searched_score`` is its score before reading,
    ``reading`` what the reader model made of it and ``found`` what the rule reader found there (None: not
    read); ``article``: that passage with its article's title and opening passage, where the names the
    question gives must stand.

    ``question_pieces`` (of the searched text, in which the question starts at ``asked_at``) and
    ``article_pieces`` let a name written differently in the article ("Ulaanbaatar", "Oulan-Bator") count as present."""
    if searched_score < judging.score_floor:
        return Verdict(False, "Nothing in the articles is close to this question.")
    missing = missing_names(question, article, question_pieces, article_pieces, asked_at) if judging.names else []
    for name in missing:
        return Verdict(False, f"The passages closest to the question say nothing about {name}.")
    kind = KIND_NAMES.get(question.expects)
    has_span = found is not None and found.span is not None
    if has_span and question.focus and found is not None and found.affinity < COUNT_AGREEMENT:
        return Verdict(False, f"The articles give no count of {question.focus}.")
    if kind and not has_span and question.expects not in ("person", "organisation", "place"):
        whose = f" for {referent}" if referent else ""
        return Verdict(False, f"The passages closest to the question give no {kind}{whose}.")
    if kind and not has_span and referent:
        return Verdict(False, f"The articles give no {kind} for {referent}.")
    if reading is not None and judging.answers_floor is not None and reading.answers < judging.answers_floor:
        return Verdict(False, "The closest passages are about this, but the reader finds no answer in them.")
    return Verdict(True)


def missing_names(
    question: Question, article: str, question_pieces: Pieces | None, article_pieces: Pieces | None, asked_at: int
) -> list[str]:
    """The countries, ordinals, numbers and names of the question that the article does not hold."""
    present_countries = countries_in(article)
    named = _countries_named(question.text) + _countries_of_bodies(question.text)
    missing = [name for name, code in named if code not in present_countries]
    present_ordinals = ordinals_in(article)
    missing += [word for word, rank in _ordinals_named(question.text) if rank not in present_ordinals]
    for entity in question.entities:
        if entity in missing or _is_country(entity) or _is_common(entity, question.lang):
            continue
        if re.search(r"\d", entity):
            if not all(n in article for n in re.findall(r"\d+", entity)):
                missing.append(entity)
        elif not _written_in(entity, article) and not _close_in_meaning(
            question.text.rfind(entity) + asked_at, len(entity), question_pieces, article_pieces
        ):
            missing.append(entity)
    return missing


def _is_common(entity: str, lang: str) -> bool:
    """A word that is no name: a pronoun ("I"), or a German noun (German capitalises them all; only its
    acronyms, numbers and several-word names are checked)."""
    if len(entity) < 2:
        return True
    return lang == "de" and " " not in entity and not entity.isupper()


def _folded_words(text: str) -> list[str]:
    return [w for w in re.findall(r"\w+", fold(text)) if len(w) >= 3]


def _acronyms(text: str) -> set[str]:
    """Acronyms by their sorted letters, plural s left out: IOM = OIM, RCPs = PCR."""
    return {"".join(sorted(a)) for a in re.findall(r"\b([A-Z]{2,6})s?\b", text)}


def _similar(word: str, other: str) -> bool:
    if word == other:
        return True
    if min(len(word), len(other)) < 4:
        return False
    return word[:4] == other[:4] or _one_edit(word, other)


def _one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    for i in range(len(a)):
        if a[i] != b[i]:
            return a[i + (len(a) == len(b)) :] == b[i + 1 :]
    return True


def _written_in(entity: str, article: str) -> bool:
    """Some word of the entity is in the article, give or take an accent, an ending or one letter
    ("Cairo", "Caire"; "Baku", "Bakou"), or an acronym with its letters in another order."""
    if _acronyms(entity) & _acronyms(article):
        return True
    article_words = set(_folded_words(article))
    return any(any(_similar(w, a) for a in article_words) for w in _folded_words(entity) if w not in _GENERIC)


# Words of names that say nothing about which one it is ("the IOM Regional Director").
_GENERIC = frozenset(fold(w) for w in "iom oim the les des international internationale regional régional".split())


def _close_in_meaning(start: int, length: int, question: Pieces | None, article: Pieces | None) -> bool:
    """The entity's word pieces (in the question as the model read it) come close to some piece of the article."""
    if question is None or article is None or not len(article.ids) or start < 0:
        return False
    rows = (question.ends > start) & (question.ends <= start + length)
    if not rows.any():
        return False
    return float((question.vectors[rows] @ article.vectors.T).max()) >= NAME_SIMILARITY


# ---------------------------------------------------------------- ordinals, in four languages

_ORDINAL_WORDS = {
    # not "first" ("for the first time") nor "second" (a second of time)
    2: "deuxieme zweite zweiten segunda segundo",
    3: "third troisieme dritte dritten tercera tercero",
    4: "fourth quatrieme vierte vierten cuarta cuarto",
    5: "fifth cinquieme funfte funften quinta quinto",
    6: "sixth sixieme sechste sechsten sexta sexto",
    7: "seventh septieme siebte siebten septima septimo",
    8: "eighth huitieme achte achten octava octavo",
    9: "ninth neuvieme neunte neunten novena noveno",
    10: "tenth dixieme zehnte zehnten decima decimo",
    11: "eleventh onzieme elfte",
    12: "twelfth douzieme zwolfte",
    15: "fifteenth quinzieme",
    18: "eighteenth dix-huitieme achtzehnte",
    20: "twentieth vingtieme zwanzigste",
}
_ORDINAL_OF = {w: n for n, words in _ORDINAL_WORDS.items() for w in words.split()}
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50}
_ORDINAL = re.compile(
    r"\b(\d{1,3})\s?(?:st|nd|rd|th|e|er|ere|eme|ème|ᵉ|º|ª|\.)(?=\s|$)|\b([IVXL]{1,8})(?:e|er|eme|ème|th)\b"
    r"|\b(" + "|".join(sorted(_ORDINAL_OF, key=len, reverse=True)) + r")\b"
)


def _roman(numeral: str) -> int:
    values = [_ROMAN[c] for c in numeral]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def _ordinals_named(text: str) -> list[tuple[str, int]]:
    """(word, rank) of each ordinal of ``text``: "sixth", "6e", "XVIIIème", "quinta"."""
    found = []
    for match in _ORDINAL.finditer(text):  # figures and Roman numerals, as written
        digits, roman, _ = match.groups()
        if digits or roman:
            found.append((match.group(), int(digits) if digits else _roman(roman)))
    folded = fold(text)
    for match in _ORDINAL.finditer(folded):  # words, accents folded; named as the question writes them
        if match.group(3):
            word = text[match.start() : match.end()] if len(folded) == len(text) else match.group()
            found.append((word, _ORDINAL_OF[match.group(3)]))
    return found


@functools.lru_cache(maxsize=256)
def ordinals_in(text: str) -> frozenset[int]:
    return frozenset(rank for _, rank in _ordinals_named(text))


# ---------------------------------------------------------------- countries, in four languages


@functools.cache
def _country_names() -> dict[str, str]:
    """Folded country name -> ISO code, in English, French, German and Spanish (Babel's locale data)."""
    from babel import Locale

    names: dict[str, str] = {}
    for lang in ("en", "fr", "de", "es"):
        for code, name in Locale.parse(lang).territories.items():
            if code.isalpha() and len(code) == 2:
                names.setdefault(fold(name), code)
    return names


@functools.cache
def _country_pattern() -> re.Pattern[str]:
    names = sorted(_country_names(), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b")


def _countries_named(text: str) -> list[tuple[str, str]]:
    """(name as written, code) of each country named in ``text``."""
    found = {
        match.group().title(): _country_names()[match.group()] for match in _country_pattern().finditer(fold(text))
    }
    return list(found.items())


_WORD = re.compile(r"[^\W\d_][\w-]*")  # in "l’Agence", the elided article is a word of its own


def _countries_of_bodies(text: str) -> list[tuple[str, str]]:
    """(adjective, code) of each country named by its adjective within a capitalised name: "the Mongolian
    Immigration Agency", "l’Agence mongolienne de l’immigration", "la Croix-Rouge tchadienne" are that
    country's. Not "un scientifique français" nor "Mongolian officials": those say who is asked for."""
    words = list(_WORD.finditer(text))
    found = []
    for i, word in enumerate(words):
        code = _demonym_country(fold(word.group()))
        if code is None:
            continue
        after_a_name = i > 1 and words[i - 1].group()[0].isupper()
        before_a_name = word.group()[0].isupper() and i + 1 < len(words) and words[i + 1].group()[0].isupper()
        if after_a_name or before_a_name:
            found.append((word.group(), code))
    return found


# What follows a country's name, less at most its last letter, in the adjective made from it, in English,
# French or Spanish: Chad-ian, Tchad-ien, Senegal-ese, Sénégal-ais, Maroc-ain, Mexic-ano; "i" only after the
# whole name (Pakistan-i, Oman-i), or "palais" would be Palau's.
_DEMONYM_ENDINGS = r"(?:n|an|ian|ien|ienne|en|enne|ese|ais|aise|ain|aine|ois|oise|ano|eno)s?"


@functools.cache
def _demonym_stems() -> dict[str, tuple[str, str]]:
    """The stem of each one-word country name (its name less its last letter, at least 4 letters) ->
    (the name, its code)."""
    stems: dict[str, tuple[str, str]] = {}
    for name, code in _country_names().items():
        if re.fullmatch(r"[a-z]{4,}", name):
            stems.setdefault(name[: max(4, len(name) - 1)], (name, code))
    return stems


@functools.cache
def _demonym_pattern() -> re.Pattern[str]:
    stems = sorted(_demonym_stems(), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(stems) + r")[a-z]*\b")


def _demonym_country(word: str) -> str | None:
    """The country whose name ``word`` is the adjective of (the longest stem: "nigerian" is Nigeria's, not
    Niger's), or None when what follows the stem is no adjective's ending."""
    stems = _demonym_stems()
    for length in range(len(word), 3, -1):
        name, code = stems.get(word[:length], ("", ""))
        rest = word[length:]
        if code and word.startswith(name) and re.fullmatch(r"is?", word[len(name) :]):
            return code
        if code and re.fullmatch(r"[a-z]?" + _DEMONYM_ENDINGS, rest):
            return code
    return None


@functools.lru_cache(maxsize=256)
def countries_in(text: str) -> frozenset[str]:
    """The countries ``text`` names, by their names or their adjectives ("mongolienne")."""
    adjectives = (_demonym_country(match.group()) for match in _demonym_pattern().finditer(fold(text)))
    return frozenset(code for _, code in _countries_named(text)) | {code for code in adjectives if code}


def _is_country(entity: str) -> bool:
    return fold(entity) in _country_names()


def article_pieces(pieces: list[Pieces]) -> Pieces | None:
    if not pieces:
        return None
    return Pieces(
        ids=np.concatenate([p.ids for p in pieces]),
        vectors=np.concatenate([p.vectors for p in pieces]),
        ends=np.concatenate([p.ends for p in pieces]),
    )
