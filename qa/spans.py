"""Spans of a sentence that can answer a kind of question: emails, phones, dates, numbers,
durations, names of people, places and organisations.

Patterns and cues, written for French and English news text; no model. They
find candidates generously: the reader (:mod:`qa.reader`) chooses among them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .lexical import fold
from .names import is_country


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str
    cue: float = 0.0  # how strongly the context says this is a span of its kind (0 none, 1 strong)


_MONTHS = (
    "janvier|fevrier|février|mars|avril|mai|juin|juillet|aout|août|septembre|octobre|novembre|decembre|décembre"
    "|january|february|march|april|may|june|july|august|september|october|november|december"
    "|janv|févr|fevr|avr|juil|sept|oct|nov|déc|dec|jan|feb|mar|apr|jun|jul|aug|sep"
)
_WEEKDAYS = (
    "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
)
_NUMBER_WORDS = (
    "un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|vingt|trente"
    "|quarante|cinquante|soixante|soixante-dix|quatre-vingt|quatre-vingts|quatre-vingt-dix|cent|cents|mille"
    "|dizaine|douzaine|quinzaine|vingtaine|trentaine|quarantaine|cinquantaine|soixantaine|centaine|centaines"
    "|millier|milliers|million|millions|milliard|milliards"
    "|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|hundreds"
    "|thousand|thousands|dozen|dozens"
)
_QUANTIFIER = (
    r"(?:(?:plus|moins|près|pres|autour|environ|quelque|au moins|jusqu'?à|more than|less than|about|over|some"
    r"|nearly|almost)\s+(?:de\s+|d['’]\s*|than\s+)?)?"
)
_NUMBER = rf"(?:\d+(?:[\s\u00a0.,]\d{{3}})*(?:[.,]\d+)?(?:\s?%)?|\b(?:{_NUMBER_WORDS})\b)"
_UNIT_WORDS = (
    r"(?:\s+(?:de\s+|d['’]\s*)?(?!(?:et|ou|and|or|à|au|en|dans|par|pour|sur|de|du|des|le|la|les|the|of|in|sont|ont|est"
    r"|été|sera|are|is|were|was|have|has|will)\b)[^\W\d_][\w'’-]+){0,2}"
)
_CURRENCY = r"(?:(?:USD|EUR|CHF|GBP|US\$|\$|€|£)\s?)?"  # before the sum: "USD 7.2 billion"
# whose currency, after its name: "182 millions de dollars américains"
_CURRENCY_OF = r"(?:(?<=dollars)\s+(?:am[ée]ricains|des [EÉ]tats-Unis|canadiens|australiens|US))?"
_TIME_UNITS = (
    r"jours?|journées?|demi-journée|ans|années?|mois|semaines?|heures?|minutes?|siècles?|décennies?"
    r"|days?|years?|months?|weeks?|hours?|minutes?|decades?|centuries"
)

PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "phone": re.compile(
        r"(?:\+|\b00)\d[\d\s().\-\u00a0]{6,}\d(?:,?\s*(?:Ext|ext|poste)\.?\s*\d+)?|\b(?:Ext|poste)\.?\s*\d+"
    ),
    "date": re.compile(
        rf"(?:\b(?:{_WEEKDAYS})\s+)?\b\d{{1,2}}(?:er)?(?:\s*(?:et|au|à|-|–|and|to)\s*\d{{1,2}}(?:er)?)?\s+(?:{_MONTHS})\.?(?:\s+\d{{4}})?"
        rf"|\b(?:{_MONTHS})\.?\s+(?:\d{{1,2}}(?:st|nd|rd|th)?,?\s+)?\d{{4}}"
        rf"|\b(?:{_WEEKDAYS})\b|\baujourd['’]hui\b|\bhier\b|\bdemain\b|\byesterday\b|\btoday\b"
        r"|\b(?:en|depuis|dès|des|avant|après|apres|in|since|from|until)?\s*(?:1[0-9]|20)\d{2}\b"
        # a month alone ("en avril"), a century ("au IIIe siècle", "in the 19th century")
        r"|\b(?:en|in|au mois d['’]|début|fin|mi-)\s*(?:janvier|février|fevrier|mars|avril|mai|juin|juillet|août"
        r"|aout|septembre|octobre|novembre|décembre|decembre|january|february|march|april|june|july|august"
        r"|september|october|november|december)\b(?!\s+\d)"
        r"|\b(?:(?:au|du|dès le|depuis le|au cours du|milieu du|fin du|début du)\s+)?[IVX]{1,5}(?:e|er|ème)\s+siècle\b"
        r"|\b(?:in the\s+)?(?:early\s+|late\s+|mid-)?\d{1,2}(?:st|nd|rd|th)\s+century\b",
        re.IGNORECASE,
    ),
    # "12, rue de Lausanne", "avenue Henry-Chéron", "17 Route des Morillons, 1211 Genève", "B.P. 1234",
    # "1752 N Street", "Hauptstraße 12"
    "address": re.compile(
        r"(?:\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+)?\b(?:rue|avenue|boulevard|chemin|route|quai|allée|impasse|calle"
        r"|avenida|Rue|Avenue|Boulevard|Chemin|Route|Quai|Calle|Avenida)\s+(?:de\s+la\s+|du\s+|des\s+|de\s+l['’]|d['’]|de\s+)?"
        r"[A-ZÀ-Ý0-9][\w'’-]*(?:[ -][A-ZÀ-Ý][\w'’-]*)*(?:,\s*(?:CH-)?\d{4,5}\s+[A-ZÀ-Ý][\w-]+)?"
        r"|\b\d{1,5}\s+(?:[A-Z][\w'-]*\s+){1,3}(?:Street|Road|Avenue|Lane|Drive|Boulevard|Square)\b"
        r"|\b[A-ZÄÖÜ][\w-]*(?:straße|strasse|gasse|weg|platz|allee)\s+\d+\w?"
        r"|\b(?:B\.\s?P\.|BP|P\.\s?O\.\s?Box|PO Box|Case postale|Postfach)\s*\d+"
    ),
    "duration": re.compile(
        rf"{_QUANTIFIER}{_NUMBER}\s+(?:{_TIME_UNITS})\b|\bdemi-journée\b|\bbiennale?\b", re.IGNORECASE
    ),
    "number": re.compile(
        rf"\b{_QUANTIFIER}{_CURRENCY}{_NUMBER}{_UNIT_WORDS}{_CURRENCY_OF}(?:\s+(?:et|and)\s+{_NUMBER}{_UNIT_WORDS})?",
        re.IGNORECASE,
    ),
}

_WORD = re.compile(r"[^\W\d_][\w'’.-]*[\w]|[^\W\d_]")
_PARTICLES = frozenset("de du des la le van von der al el bin da di dos y".split())
_TITLE_WORDS = frozenset("m mme mlle mr mrs ms dr pr me".split())
# Capitalised words that name a role, not a person ("Assistant du Secrétaire général").
_ROLE_WORDS = frozenset(
    fold(w)
    for w in """
    Assistant Assistante Directeur Directrice Director Secrétaire Secretary Président Présidente President Chef Chief
    Ministre Minister Colonel Général General Ambassadeur Ambassadrice Ambassador Représentant Représentante
    Commissaire Coordonnateur Coordinatrice Porte-parole Responsable Head Vice-président Vice-présidente
    Adviser Advisor Conseiller Conseillère Officer Officers
    """.split()
)
# the words of a role's name after the title: "Directrice Générale", "Représentant Spécial", "Secrétaire Exécutive"
_ROLE_STEMS = tuple(w for w in _ROLE_WORDS if len(w) >= 5) + (
    "execut",
    "adjoint",
    "deput",
    "region",
    "special",
    "perman",
    "princip",
    "national",
    "senior",
)


def _is_role_word(folded: str) -> bool:
    """A folded word naming a role, alone or in a compound: "ministre", "vice-minister"."""
    return folded in _ROLE_WORDS or bool(_ROLE_WORDS & set(folded.split("-")))


_ACRONYM = re.compile(r"[A-Z][A-Z0-9&]{1,7}")
_REGNAL = re.compile(r"(?=[IVX]{2})X{0,3}(?:IX|IV|V?I{0,3})")  # "Louis XV", "Henri II": part of the name, no acronym

# Capitalised words that open names of organisations, places and events, not of people.
_ORG_WORDS = frozenset(
    fold(w)
    for w in """
    Organisation Organization Ministère Ministry Ministre Département Department Agence Agency Bureau Office
    Ligue League
    Union Nations Fonds Fund Instrument Centre Center Conseil Council Commission Comité Committee Banque Bank
    Programme Program Mouvement Movement Processus Process Réseau Network Secrétariat Secretariat Direction Institut
    Université University Assemblée Assembly Gouvernement Government Parlement Parliament Sommet Summit Dialogue
    Forum Association Fondation Foundation Autorité Authority Police Armée Service Services Groupe Group Haut High
    Division Conférence Conference Tribunal Cour Court Académie Academy École School Société Company Parti Party
    Affairs Compact Pacte
    """.split()
)
# Capitalised words that name a text, not a person: "the Panama Declaration", "Traité de Waitangi".
_TEXT_WORDS = frozenset(
    fold(w) for w in "Déclaration Declaration Convention Protocole Protocol Charte Charter Traité Treaty".split()
)
_ENGLISH_ORG_WORDS = frozenset(  # as written: "Conference", not "Conférence"; not "Office", French too
    """
    Organization Ministry Department Agency League Fund Center Council Committee Bank Program Movement
    Process Network Secretariat University Assembly Government Parliament Summit Foundation Authority Group High
    Conference Court Academy School Company Party Affairs Compact
    """.split()
)
_PLACE_WORDS = frozenset(
    fold(w)
    for w in """
    République Republic Royaume Kingdom Etats États States Province Région Region Ville City Mer Sea Lac Lake Mont
    Golfe Gulf Désert Desert Océan Ocean Île Island Nord North Sud South Est East Ouest West Afrique Africa Asie Asia
    Europe Amérique America Moyen-Orient
    """.split()
)
_NOT_NAMES = frozenset(
    w.lower()
    for w in """
    Le La Les L Un Une Des Du De D Ce Cet Cette Ces Il Elle Ils Elles On Nous Vous Je En Au Aux Dans Par Pour Sur
    Avec Sans Selon Depuis Lors Afin Ainsi Après Avant Mais Et Ou Or Donc Car Si Quand Comme Tous Tout Toute Plus
    The A An This That These Those He She It They We You I In On At By For With From As And But Or If When While
    Tel Tél Email E-mail Mail Fax Ext Lundi Mardi Mercredi Jeudi Vendredi Samedi Dimanche Aujourd Hier Veuillez
    """.split()
) | frozenset(_MONTHS.split("|"))


def _after_one_of(prepositions: str) -> re.Pattern[str]:
    """Text ending in one of ``prepositions`` and perhaps an article: what comes before a name."""
    return re.compile(rf"(?:\b(?:{prepositions})\s+(?:la\s+|le\s+|l['’]\s*|the\s+)?)$", re.IGNORECASE)


_PLACE_BEFORE = _after_one_of(r"à|au|aux|en|dans|vers|de|d['’]|in|at|to|from|near|près de")
# Where no one is named: "in San José", "en Colombie" (not after "à", "de", "from", "to": "remis à Jean Dupont").
_ONLY_PLACE_BEFORE = _after_one_of(r"en|dans|in|at|near|près de")
# A run that goes on a capitalised name across "of" or "for" is the rest of that name, not a person:
# "the Protection of Migrant Children", "Minister of Haitians Living Abroad".
_NAME_GOES_ON = re.compile(r"\b[A-ZÀ-Ý][\w’'-]+\s+(?:of|for)\s+(?:the\s+)?$")
# A list opened by what it lists is of places: "six provinces frontalières : Banteay Meanchey, … et Svay Rieng".
_PLACES_LISTED = re.compile(
    r"\b(?:provinces?|districts?|régions?|regions?|départements?|villes?|cities|towns?|municipalités|municipalities"
    r"|communes?|pays|countries|states|états|villages?|camps?)\b[^.;:!?]{0,40}:[^.;:!?\n]*$",
    re.IGNORECASE,
)
_PERSON_BEFORE = re.compile(
    r"(?:contacter|contact|déclaré|declare|dit|affirmé|souligné|ajouté|expliqué|indiqué|estimé|rappelé|noté|selon|par"
    r"|said|says|according to|by)\s*:?\s*$",
    re.IGNORECASE,
)
_ROLE_AFTER = re.compile(
    r"^\s*,\s*(?:(?:le|la|l['’]|the|an?)\s+)?(?:nouvel(?:le)?\s+)?"
    # "IOM Senior Regional Adviser"
    r"(?:(?:IOM|OIM)\s+)?(?:(?:senior|regional|régional|régionale|special|spécial|spéciale)\s+)*"
    r"(?:chef|directeur|directrice|responsable|président|présidente|"
    r"ministre|porte-parole|représentant|représentante|secrétaire|coordonnateur|coordinatrice|colonel|head|director|"
    r"chief|minister|spokesperson|representative|assistant|ambassadeur|ambassadrice|commissaire|conseiller|conseillère|"
    r"expert|experte|fondateur|fondatrice|vice-président|vice-présidente|adviser|advisor)",
    re.IGNORECASE,
)
_ROLE_BEFORE = re.compile(
    r"(?:\b(?:le|la|l['’]|the|son|sa|its)\s*)?((?:nouvel(?:le)?\s+)?(?:chef|directeur|directrice|responsable|président|"
    r"présidente|ministre|porte-parole|représentant|représentante|secrétaire|colonel|head|director|chief|minister|"
    r"spokesperson|representative|ambassadeur|ambassadrice|commissaire)\b[^,;:()«»\"]{0,80}),\s*$",
    re.IGNORECASE,
)


def looks_like_person(name: str) -> bool:
    """Two or more capitalised words, none of them naming an organisation, a place or a role."""
    words = name.split()
    folded = {fold(w).strip("'’,.") for w in words}
    return (
        len(words) >= 2
        and all(w[:1].isupper() for w in words if w.lower() not in _PARTICLES)
        and not folded & (_ORG_WORDS | _PLACE_WORDS | _ROLE_WORDS | _TEXT_WORDS)
        and not any(_ACRONYM.fullmatch(w.split("-")[0]) and not _REGNAL.fullmatch(w) for w in words)  # "IOM-Büros"
    )


# The postal address of an office in a press release's contact block, between the office and its phone:
# "OIM Népal 768 Thirbam Sadak, Baluwatar, Katmandou Tel: …", in any country's way of writing it.
_ENTRY_ADDRESS = re.compile(
    r"\b(?:OIM|IOM)\s+[A-ZÀ-Ý][\w’'-]+\s+([^:;@]{4,80}?,[^:;@]{2,60}?)\s+(?:Tel|Tél|Phone|Téléphone)\s*[:.]"
)


@functools.lru_cache(maxsize=8192)
def find_spans(text: str) -> list[Span]:
    """Every candidate span of ``text``, of every kind. A number inside a phone number, an email or a
    date is not offered as a number."""
    spans = [Span(m.start(), m.end(), kind) for kind, pattern in PATTERNS.items() for m in pattern.finditer(text)]
    spans += [Span(m.start(1), m.end(1), "address") for m in _ENTRY_ADDRESS.finditer(text)]
    names = _names(text)
    spans = [
        _trimmed(text, s)
        for s in spans + names + _roles(text, names) + _meanings(text)
        if text[s.start : s.end].strip()
    ]
    taken = [s for s in spans if s.kind in ("phone", "email", "date", "address")]
    addresses = [s for s in spans if s.kind == "address"]
    return [
        s
        for s in spans
        if not (s.kind == "number" and (any(t.start <= s.start < t.end for t in taken) or _lone_article(text, s)))
        and not (s.kind == "address" and any(_inside(s, a) for a in addresses))  # "Calle Madrid" of the whole
    ]


def _inside(span: Span, other: Span) -> bool:
    return other.start <= span.start and span.end <= other.end and (other.start, other.end) != (span.start, span.end)


_LEADING_QUANTIFIER = re.compile(_QUANTIFIER, re.IGNORECASE)


def _lone_article(text: str, span: Span) -> bool:
    """ "un atelier", "une réunion": an article, not a count; nor is "au moins un PCR" ("at least one"),
    which says how many each has, not how many there are."""
    counted = text[span.start : span.end]
    quantifier = _LEADING_QUANTIFIER.match(counted)
    words = counted[quantifier.end() if quantifier else 0 :].lower().split() or [""]
    return words[0] in ("un", "une", "one", "a", "an") and not (
        len(words) > 1 and re.fullmatch(_NUMBER_WORDS, words[1])
    )


def _names(text: str) -> list[Span]:
    """Runs of capitalised words, typed as a person, a place or an organisation by their words and context."""
    spans = []
    for start, end in _capitalised_runs(text):
        words = text[start:end].split()
        folded = [fold(w).strip("'’,.") for w in words]
        before, after = text[max(0, start - 40) : start], text[end:]
        has_title = words[0].lower().rstrip(".") in _TITLE_WORDS
        if _ACRONYM.fullmatch(words[0]) and len(words) == 1:
            spans.append(Span(start, end, "organisation", 0.6))
            continue
        org_at = next((n for n, w in enumerate(folded) if w in _ORG_WORDS), None)
        if org_at and _ENTRY_OPENS.search(text[:start]) and looks_like_person(" ".join(words[:org_at])):
            # a contact entry: "… ou Andrés Quesada Brenes Bureau régional de l’OIM à San José Tel: …"
            name_end = start + len(" ".join(words[:org_at]))
            spans.append(Span(start, name_end, "person", 1.0))
            start = text.index(words[org_at], name_end)
        if org_at is not None:  # "Ministère des affaires étrangères": the name goes on in lower case
            english = words[org_at].strip("'’,.") in _ENGLISH_ORG_WORDS
            spans.append(
                Span(start, _english_name_end(text, end) if english else _name_end(text, end), "organisation", 0.8)
            )
            continue
        listed = _PLACES_LISTED.search(text[max(0, start - 300) : start]) is not None
        only_place = listed or _ONLY_PLACE_BEFORE.search(before) is not None
        place_context = listed or bool(_PLACE_BEFORE.search(before))
        if any(w in _PLACE_WORDS for w in folded) or place_context:
            spans.append(Span(start, end, "place", 0.6))
        elif len(words) == 1 and not has_title and not _is_role_word(folded[0]) and text[:start].strip():
            spans.append(Span(start, end, "place", 0.2))  # a lone capitalised word: perhaps a place
        person_context = has_title or bool(_PERSON_BEFORE.search(before) or _ROLE_AFTER.match(after))
        goes_on = not person_context and _NAME_GOES_ON.search(before) is not None
        # a role's name may come after its country's ("Panama’s Vice-Minister", "Vice-Ministre"): no one is named
        # before it, and the person's name, if any, follows it
        role_at = next((n for n, w in enumerate(folded) if _is_role_word(w)), None)
        is_role = role_at is not None
        if role_at:
            title = start + text[start:end].index(words[role_at])
            spans += _titled_person(text, title, words[role_at:], folded[role_at:])
            continue
        # no digit in a name: "Népal 768 Thirbam Sadak" runs over an address
        named = (
            not any(w in _PLACE_WORDS or w in _TEXT_WORDS for w in folded)
            and not re.search(r"\d", text[start:end])
            and not is_country(text[start:end])  # "Costa Rica", "Viet Nam"
            and not goes_on
            and not (only_place and not person_context)
        )
        if (person_context or len(words) >= 2) and not is_role and named:
            spans.append(Span(start, end, "person", 1.0 if person_context else 0.5))
        elif is_role:
            spans += _titled_person(text, start, words, folded)
    return spans


# what opens an entry of a contact block, the person's name next
_ENTRY_OPENS = re.compile(r"(?:\bcontact(?:er|ez)?\s*:?|(?:@[\w.-]+|\d)\s+(?:ou|or|oder|o))\s*$", re.IGNORECASE)


def _titled_person(text: str, start: int, words: list[str], folded: list[str]) -> list[Span]:
    """The person a title opens the name of: "Badre Eddine Allali" in "l’Ambassadeur Badre Eddine Allali",
    "Fanja Ravelomanana" in "Colonel Fanja Ravelomanana"; none in "Directeur général" or "Ministre de la Santé"."""
    titles = 0
    # the title and its own words ("Directrice Générale", "Secrétaire Exécutive") name no one
    while titles < len(words) and (_is_role_word(folded[titles]) or folded[titles].startswith(_ROLE_STEMS)):
        titles += 1
    name = words[titles:]
    if not name or not name[0][:1].isupper():
        return []
    if any(w in _ORG_WORDS | _PLACE_WORDS or _is_role_word(w) or w.startswith(_ROLE_STEMS) for w in folded[titles:]):
        return []
    begin = text.index(name[0], start + sum(len(w) for w in words[:titles]))
    return [Span(begin, begin + len(" ".join(name)), "person", 1.0)]


_NAME_STOP = re.compile(
    r"\s+(?:a|ont|est|sont|était|sera|seront|avait|va|vont|qui|que|dont|afin|lors|ainsi|has|have|is|are|was|were|will"
    r"|which|who|that)\b",
    re.IGNORECASE,
)


def _name_end(text: str, end: int, limit: int = 80) -> int:
    """Where a name of an organisation that goes on in lower case ends: at punctuation, at a verb or
    a relative pronoun, or after ``limit`` characters."""
    stop = re.search(r"[,;:.()«»\"“”\n]", text[end : end + limit])
    clause_end = end + (stop.start() if stop else min(limit, len(text) - end))
    verb = _NAME_STOP.search(text, end, clause_end)
    return verb.start() if verb else clause_end


# English names go on in capitals only, across "of", "and", "for": "Ministry of Foreign Employment"
_ENGLISH_NAME_GOES_ON = re.compile(r"(?:\s+(?i:of|and|for|on|&)(?:\s+the)?(?:\s+[A-Z][\w’'-]*)+)+")


def _english_name_end(text: str, end: int) -> int:
    """Where an English name of an organisation ends: at its last capitalised word ("Sri Lanka’s Ministry of
    Foreign Employment", not "… today brought together")."""
    more = _ENGLISH_NAME_GOES_ON.match(text, end)
    return more.end() if more else end


def _capitalised_runs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each run of capitalised words; acronyms and common words ("Le", "Tel") end a run,
    an acronym is a run of its own, and an elided article is left out ("L’OIM" gives "OIM")."""
    runs: list[tuple[int, int]] = []
    current: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None  # a particle ("de", "van") waiting for the next capitalised word

    def close() -> None:
        if current:
            runs.append((current[0][0], current[-1][1]))
            current.clear()

    last_end = 0
    for match in _WORD.finditer(text):
        word, start, end = match.group(), match.start(), match.end()
        elided = re.match(r"^[LlDd][’']", word)
        if elided:
            word, start = word[2:], start + 2
        gap = text[last_end:start]
        last_end = end
        after_title = len(current) == 1 and text[current[0][0] : current[0][1]].lower() in _TITLE_WORDS
        if after_title and gap.strip() == ".":
            gap = " "  # "M. Badre Eddine Allali": the title's full stop does not end the name
        if current and (re.search(r"[,.;:()«»\"“”!?]", gap) or "\n" in gap):
            close()
            pending = None
        if not word or not word[0].isupper() or word.lower() in _NOT_NAMES:
            if current and word.lower() in _PARTICLES and pending is None:
                pending = (start, end)
                continue
            close()
            pending = None
            continue
        if _REGNAL.fullmatch(word):
            if current and gap == " ":
                current.append((start, end))
            else:
                close()
            pending = None
            continue
        if _ACRONYM.fullmatch(word):
            close()
            runs.append((start, end))
            pending = None
            continue
        if pending is not None and fold(word) in _ORG_WORDS:
            close()  # "Mme Enkhtuya du Ministère …": a person, then an organisation
        pending = None
        current.append((start, end))
    close()
    return runs


def _roles(text: str, names: list[Span]) -> list[Span]:
    """The role set beside a person's name: "Pär Liljert, chef de mission de l’OIM" or
    "le Directeur général de l’OIM, William Lacy Swing"."""
    roles = []
    for name in (n for n in names if n.kind == "person"):
        if _ROLE_AFTER.match(text[name.end :]):
            start = name.end + text[name.end :].index(",") + 1
            end = start
            while end < len(text) and text[end] not in ',.;:()«»"':
                end += 1
            roles.append(Span(start, end, "role", 1.0))
        before = _ROLE_BEFORE.search(text[max(0, name.start - 120) : name.start])
        if before:
            offset = max(0, name.start - 120)
            roles.append(Span(offset + before.start(1), offset + before.end(1), "role", 0.8))
    return roles


def _meanings(text: str) -> list[Span]:
    """What an acronym stands for: the quoted or capitalised words before "(ACRONYM …)", or the
    words in brackets after "ACRONYM (…)"."""
    spans = []
    for match in re.finditer(r"\(([A-Z][A-Z0-9&]{1,9})\b[^()]{0,20}\)", text):
        before = text[: match.start()].rstrip()
        quoted = re.search(r"[«“\"]\s*([^«»“”\"]{6,160}?)\s*[»”\"]$", before)
        if quoted:
            spans.append(Span(quoted.start(1), quoted.end(1), "meaning", 1.0))
            continue
        words = before.split()
        phrase = " ".join(words[-(len(match.group(1)) + 4) :])  # the lettered words and a few small ones
        start = len(before) - len(phrase)
        capital = re.search(r"[A-ZÀ-Þ]", text[start : match.start()])
        if capital:
            spans.append(Span(start + capital.start(), len(before), "meaning", 0.8))
    for match in re.finditer(r"\b([A-Z][A-Z0-9&]{1,9})\s*\(([^()]{6,120})\)", text):
        spans.append(Span(match.start(2), match.end(2), "meaning", 1.0))
    return spans


def with_role(text: str, span: Span) -> Span:
    """A person span extended by the role that follows it: "Pär Liljert, chef de mission de l’OIM en Mongolie"."""
    if span.kind != "person" or not _ROLE_AFTER.match(text[span.end :]):
        return span
    end = span.end + 1
    while end < len(text) and text[end] not in ',.;:()«»"':
        end += 1
    return Span(span.start, end, span.kind, span.cue)


# What may stand between the items of a list: "Philippines, du Portugal et du Royaume-Uni", "James, Albus et Lily".
_LIST_GAP = re.compile(
    r"\s*,?\s*(?:(?:et|and|und|y|ou|or|ainsi que|as well as|encore)\s+)*"
    r"(?:(?:à|au|aux|de|du|des|la|le|les|the|in|en)\s+|[dl]['’])*",
    re.IGNORECASE,
)


def listed_with(text: str, span: Span) -> Span:
    """``span`` extended over the spans of its kind listed with it in ``text`` (its sentence):
    "Royaume-Uni" gives "Philippines, du Portugal et du Royaume-Uni"."""
    same = sorted((s for s in find_spans(text) if s.kind == span.kind), key=lambda s: s.start)
    start, end = span.start, span.end
    for s in reversed([s for s in same if s.end <= start]):
        if not _LIST_GAP.fullmatch(text[s.end : start]):
            break
        start = s.start
    for s in (s for s in same if s.start >= end):
        if not _LIST_GAP.fullmatch(text[end : s.start]):
            break
        end = s.end
    return Span(start, end, span.kind, span.cue)


def _trimmed(text: str, span: Span) -> Span:
    start, end = span.start, span.end
    while start < end and text[start] in " \t\n,.;:–-":
        start += 1
    while (
        end > start
        and text[end - 1] in " \t\n,;:–-"
        or (end > start and text[end - 1] == "." and span.kind != "person")
    ):
        end -= 1
    return Span(start, end, span.kind, span.cue)
