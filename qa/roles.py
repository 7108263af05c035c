"""The role a question asks for, and the role an article gives a person beside their name.

"Who is IOM's Regional Director for South America?" is not answered by "Gonzalo Irarrázaval Mena, IOM
Senior Regional Adviser for the Americas", nor "Qui dirige l’OIM au Bangladesh ?" by "la cheffe du
sous-bureau de l’OIM à Cox’s Bazar, Nusrat Jahan Chowdhury": a role is a kind (a director, an adviser, a
minister…) at a level (regional, general, of a sub-office). Both are read from words, in English, French,
German and Spanish, on folded text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexical import fold
from .names import countries_in

# The kinds of role, each by the words that name it.
_KINDS = {
    "chief": r"chef|cheffe|chief|head|jefe|jefa|leiter|leiterin",
    "director": r"directeur|directrice|director|directora|direktor|direktorin",
    "chair": r"president|presidente|presidenta|prasident|prasidentin|chair|chairman|chairwoman|chairperson",
    "minister": r"ministre|minister|ministro|ministra|ministerin|vice-ministre|vice-minister|viceministro",
    "ambassador": r"ambassadeur|ambassadrice|ambassador|embajador|embajadora|botschafter|botschafterin",
    "adviser": r"conseiller|conseillere|adviser|advisor|asesor|asesora|berater|beraterin",
    "secretary": r"secretaire|secretary|secretario|secretaria|sekretar|sekretarin",
    "coordinator": r"coordonnateur|coordonnatrice|coordinateur|coordinatrice|coordinator|coordinador|koordinator",
    "spokesperson": r"porte-parole|spokesperson|spokesman|spokeswoman|portavoz|sprecher|sprecherin",
    "representative": r"representant|representante|representative|vertreter|vertreterin",
    "mayor": r"maire|mayor|alcalde|alcaldesa|burgermeister|burgermeisterin",
    "governor": r"gouverneur|gouverneure|governor|gobernador|gobernadora",
}
_KIND_WORDS = {kind: re.compile(rf"\b(?:{words})\b") for kind, words in _KINDS.items()}
# Levels that make two roles of one kind different roles.
_LEVELS = {
    "regional": re.compile(r"\b(?:regional|regionale|regionaux|regionales|regionaldirektor\w*)\b"),
    "general": re.compile(r"\b(?:general|generale|generaldirektor\w*|generalsekretar\w*)\b"),
    "sub-office": re.compile(r"\b(?:sous-bureau|sub-office|suboficina)\b"),
}
# "Who leads …", "Qui dirige …": whoever heads the body, by any of these names.
_LEADING = frozenset({"chief", "director", "chair", "coordinator", "secretary"})


@dataclass(frozen=True)
class Role:
    kinds: frozenset[str]
    levels: frozenset[str]
    countries: frozenset[str] = frozenset()  # of whom, or where: "l’Ambassadeur indonésien", "au Laos"

    @classmethod
    def read(cls, text: str) -> Role:
        folded = fold(text)
        kinds = frozenset(kind for kind, pattern in _KIND_WORDS.items() if pattern.search(folded))
        levels = frozenset(level for level, pattern in _LEVELS.items() if pattern.search(folded))
        return cls(kinds, levels, countries_in(text))


def asked_role(question: str, leader: bool) -> Role:
    """The role a question asks for; one asking who leads something asks for whoever heads it."""
    role = Role.read(question)
    if leader and not role.kinds:
        return Role(_LEADING, role.levels, role.countries)
    return role


def holds_asked(asked: Role, given: Role) -> bool:
    """Whether a person given ``given`` beside their name may hold the role ``asked``: a role of another kind,
    at a level the question does not name ("regional" for "Director General"), or of another country, is another
    role. A person given no role may hold it."""
    if not given.kinds:
        return True
    if asked.kinds and not asked.kinds & given.kinds:
        return False
    if asked.countries and given.countries and not asked.countries & given.countries:
        return False  # "l’Ambassadeur indonésien" is not the Australian ambassador
    return given.levels <= asked.levels
