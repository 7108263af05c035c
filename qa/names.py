"""Names across languages: whether a text holds a name written otherwise ("Cairo", "Caire"), and what a
text names in English, French, German and Spanish: countries, by their names or their adjectives
("Mongolie", "Mongolia", "mongolienne"), and ordinals ("sixth", "6e", "XVIIIème", "quinta")."""

from __future__ import annotations

import functools
import re

from .lexical import fold

# a name not written in a text, but this close (the cosine of word pieces) to one of its words, is there
NAME_SIMILARITY = 0.80


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


def ordinals_named(text: str) -> list[tuple[str, int]]:
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
    return frozenset(rank for _, rank in ordinals_named(text))


_CENTURY_AFTER = re.compile(r"\s+(?:siecle|siècle|century|jahrhunderts?|siglo)\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(1\d{3}|20\d{2})\b")


def names_century(question: str, word: str, rank: int, text: str) -> bool:
    """Whether ``word`` (of ``rank``) is a century in ``question`` ("XIXème siècle") that ``text`` names by one
    of its years ("aboli en 1870")."""
    at = question.find(word)
    if at < 0 or not _CENTURY_AFTER.match(question, at + len(word)):
        return False
    return any((int(year) - 1) // 100 + 1 == rank for year in _YEAR.findall(text))


# ---------------------------------------------------------------- countries, in four languages


@functools.cache
def _territories() -> dict[str, tuple[str, str]]:
    """Folded country name -> (ISO code, the name as Babel writes it), in English, French, German and Spanish
    (Babel's locale data; the first language that has a name gives it)."""
    from babel import Locale

    found: dict[str, tuple[str, str]] = {}
    for lang in ("en", "fr", "de", "es"):
        for code, name in Locale.parse(lang).territories.items():
            if code.isalpha() and len(code) == 2:
                found.setdefault(fold(name), (code, name))
    return found


@functools.cache
def _country_names() -> dict[str, str]:
    """Folded country name -> ISO code."""
    return {folded: code for folded, (code, _) in _territories().items()}


@functools.cache
def _country_pattern() -> re.Pattern[str]:
    names = sorted(_country_names(), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b")


def countries_named(text: str) -> list[tuple[str, str]]:
    """(name as written, code) of each country named in ``text``, its capitals where the name has them:
    "La Réunion" is a place, "La réunion a eu lieu …" a meeting."""
    folded = fold(text)
    found = {
        match.group().title(): _country_names()[match.group()]
        for match in _country_pattern().finditer(folded)
        if _capitalised_as_named(match, text, folded)
    }
    return list(found.items())


def _capitalised_as_named(match: re.Match[str], text: str, folded: str) -> bool:
    """Each word of a name found in ``folded`` (``text`` folded) that Babel capitalises is capitalised in
    ``text``; when folding changed the text's length ("œ"), its places no longer match and the name counts."""
    if len(folded) != len(text):
        return True
    written = text[match.start() : match.end()]
    return all(
        word[:1].isupper() <= given[:1].isupper()
        for word, given in zip(_territories()[match.group()][1].split(), written.split(), strict=False)
    )


_WORD = re.compile(r"[^\W\d_][\w-]*")  # in "l’Agence", the elided article is a word of its own


def countries_of_bodies(text: str) -> list[tuple[str, str]]:
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
_DEMONYM_ENDINGS = r"(?:n|an|ian|ien|ienne|en|enne|ese|ais|aise|ain|aine|ois|oise|ano|eno|sch|sche[nrs]?)s?"


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
    # a country's very name is no adjective of it ("reunion", a meeting, is not La Réunion's), unless it ends
    # as one in another language: "indonésien" is Indonesia's, and so is "Indonesien"
    named = word in _country_names()
    stems = _demonym_stems()
    for length in range(len(word), 3, -1):
        name, code = stems.get(word[:length], ("", ""))
        rest = word[length:]
        if code and not named and word.startswith(name) and re.fullmatch(r"is?", word[len(name) :]):
            return code
        if code and re.fullmatch(r"[a-z]?" + _DEMONYM_ENDINGS, rest) and not (named and len(rest) < 2):
            return code
    return None


@functools.lru_cache(maxsize=256)
def countries_in(text: str) -> frozenset[str]:
    """The countries ``text`` names, by their names or their adjectives ("mongolienne")."""
    adjectives = (_demonym_country(match.group()) for match in _demonym_pattern().finditer(fold(text)))
    return frozenset(code for _, code in countries_named(text)) | {code for code in adjectives if code}


def names_country(text: str, code: str) -> bool:
    """Whether ``text`` names the country ``code``, by a name or an adjective: ``code in countries_in(text)``,
    found with a pattern of that country's words only (fast enough for every candidate of a search)."""
    folded = fold(text)
    names, stems = _words_of_country(code)
    if any(
        _capitalised_as_named(match, text, folded) and not _in_another_name(match, folded, code)
        for match in names.finditer(folded)
    ):
        return True
    return stems is not None and any(_demonym_country(m.group()) == code for m in stems.finditer(folded))


def _in_another_name(match: re.Match[str], folded: str, code: str) -> bool:
    """The country's name found is part of another country's longer one: "Soudan" in "Soudan du Sud",
    "Guinea" in "Equatorial Guinea" (read with every country's names, as :func:`countries_named` does)."""
    around = _country_pattern().finditer(folded, max(0, match.start() - 40), match.end() + 40)
    return any(
        m.start() <= match.start() and match.end() <= m.end() and _country_names()[m.group()] != code for m in around
    )


@functools.lru_cache(maxsize=64)
def _words_of_country(code: str) -> tuple[re.Pattern[str], re.Pattern[str] | None]:
    """A pattern of the country's names (any language), and one of the stems of its adjectives (None: none)."""
    names = sorted((n for n, c in _country_names().items() if c == code), key=len, reverse=True)
    stems = sorted((s for s, (_, c) in _demonym_stems().items() if c == code), key=len, reverse=True)
    name_pattern = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b")
    return name_pattern, re.compile(r"\b(?:" + "|".join(stems) + r")[a-z]*\b") if stems else None


def countries_asked(question: str) -> frozenset[str]:
    """The countries a question names, by their names ("Chad", "Tchad") or by an adjective within a name
    ("the Mongolian Immigration Agency")."""
    return frozenset(code for _, code in countries_named(question) + countries_of_bodies(question))


def is_country(entity: str) -> bool:
    return fold(entity) in _country_names()


# ---------------------------------------------------------------- names written otherwise


def _folded_words(text: str) -> list[str]:
    return [w for w in re.findall(r"\w+", fold(text)) if len(w) >= 3]


def acronyms(text: str) -> set[str]:
    """Acronyms by their sorted letters, plural s left out: IOM = OIM, RCPs = PCR."""
    return {"".join(sorted(a)) for a in re.findall(r"\b([A-Z]{2,6})s?\b", text)}


def _similar(word: str, other: str) -> bool:
    if word == other:
        return True
    if min(len(word), len(other)) < 4 or not (word[:4] == other[:4] or _one_edit(word, other)):
        return False
    # a country is written only as itself: "Colombo" is not "Colombie", "Niger" not "Nigeria"
    return _country_of(word) == _country_of(other)


@functools.lru_cache(maxsize=65536)
def _country_of(word: str) -> str | None:
    """The country a folded word names, by its name or its adjective; None for any other word."""
    return _country_names().get(word) or _demonym_country(word)


def _one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    for i in range(len(a)):
        if a[i] != b[i]:
            return a[i + (len(a) == len(b)) :] == b[i + 1 :]
    return True


def written_in(entity: str, article: str) -> bool:
    """Some word of the entity is in the article, give or take an accent, an ending or one letter
    ("Cairo", "Caire"; "Baku", "Bakou"), or an acronym with its letters in another order."""
    if acronyms(entity) & acronyms(article):
        return True
    words = _ArticleWords.of(article)
    return any(words.holds(w) for w in _folded_words(entity) if w not in _GENERIC)


class _ArticleWords:
    """An article's folded words, indexed by their first four letters and by their length, so that a name's
    word is compared (:func:`_similar`) only with those that may be like it."""

    def __init__(self, text: str):
        self.words = frozenset(_folded_words(text))
        self.by_start: dict[str, list[str]] = {}
        self.by_length: dict[int, list[str]] = {}
        for word in self.words:
            self.by_start.setdefault(word[:4], []).append(word)
            self.by_length.setdefault(len(word), []).append(word)

    @staticmethod
    @functools.lru_cache(maxsize=1024)
    def of(text: str) -> _ArticleWords:
        return _ArticleWords(text)

    def holds(self, word: str) -> bool:
        if word in self.words:
            return True
        nearby = self.by_start.get(word[:4], []) + [
            other for n in (len(word) - 1, len(word), len(word) + 1) for other in self.by_length.get(n, [])
        ]
        return any(_similar(word, other) for other in nearby)


# Words of names that say nothing about which one it is ("the IOM Regional Director").
_GENERIC = frozenset(fold(w) for w in "iom oim the les des international internationale regional régional".split())
