"""The role a question asks for, and the role an article gives a person beside their name.

"Who is IOM's Regional Director for South America?" is not answered by "Gonzalo Irarrázaval Mena, IOM
Senior Regional Adviser for the Americas", nor "Qui dirige l’OIM au Bangladesh ?" by "la cheffe du
sous-bureau de l’OIM à Cox’s Bazar, Nusrat Jahan Chowdhury", nor "Wer ist die australische
Botschafterin?" by "l’Ambassadeur indonésien": a role is a kind (a director, an adviser, a minister…) at a
level (regional, general, of a sub-office), of a country. They are read from words, in English, French,
German and Spanish.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .lexical import fold
from .names import countries_in
from .question import Question
from .spans import Span, find_spans, with_role

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


@functools.lru_cache(maxsize=256)
def asked_role(question: Question) -> Role | None:
    """The role a question asks for by its title ("the chief of mission"; who leads something asks for whoever
    heads it), or None: it asks for no holder, or by what the holder did ("Who chaired …"). Kept per question:
    the rule reader asks for it at every sentence of every passage it reads."""
    if not question.holder:
        return None
    role = Role.read(question.text)
    if question.leader and not role.kinds:
        return Role(_LEADING, role.levels, role.countries)
    return role if role.kinds else None


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


def roles_given(text: str, sentences: tuple[tuple[int, int], ...]) -> dict[str, Role]:
    """The role a passage gives each person beside their name, by the last word of the name: a press release
    gives it once ("Lars-Erik Nyholm, Directeur régional de l’OIM …") and quotes the person after ("a déclaré
    M. Nyholm")."""
    roles: dict[str, Role] = {}
    for s, e in sentences:
        spans = find_spans(text[s:e])
        for span in (p for p in spans if p.kind == "person"):
            role = Role.read(beside(text[s:e], span, spans))
            if role.kinds:
                roles.setdefault(_surname(text[s + span.start : s + span.end]), role)
    return roles


def role_of(sentence: str, span: Span, spans: list[Span], roles: dict[str, Role]) -> Role:
    """The role beside a person's name, or else the one their passage gives them elsewhere."""
    role = Role.read(beside(sentence, span, spans))
    return role if role.kinds else roles.get(_surname(sentence[span.start : span.end]), role)


def named_people(spans: list[Span]) -> list[Span]:
    """The people among ``spans``: not a name read as a place too ("OIM Cox’s Bazar", "à Cox’s Bazar")."""
    places = {(s.start, s.end) for s in spans if s.kind == "place"}
    return [s for s in spans if s.kind == "person" and (s.start, s.end) not in places]


def _surname(name: str) -> str:
    words = fold(name).split()
    return words[-1] if words else ""


def beside(sentence: str, span: Span, spans: list[Span]) -> str:
    """What is said of a person beside their name: the role just before it (after the person named before
    it) and the one just after it ("le chef de mission de l’OIM au Bangladesh, Giorgio Benassi"). A name read as
    a place too is no person before it ("la cheffe du sous-bureau de l’OIM à Cox’s Bazar, Nusrat Jahan Chowdhury")."""
    previous = max((s.end for s in named_people(spans) if s.end <= span.start), default=0)
    before = sentence[max(previous, span.start - 60) : span.start]
    return before + " … " + sentence[span.end : with_role(sentence, span).end]
