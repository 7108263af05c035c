"""What a question asks for: the kind of answer, and the names and numbers it is about.

Rule-based, for English, French, German and Spanish questions. The kind
says which spans of the articles can answer ("Who …?" wants a person, "Combien
…?" a number); the names and numbers are what the answering passage must be
about ("Who leads IOM in Senegal?" is not answered by a passage about Egypt).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexical import fold

# Names of roles held by a person, folded (the beginning of each word).
_ROLE_NAMES = (
    r"(?:secretary|secretaire|sekretar|secretario|director|directeur|directrice|direktor|minist|head|chief|leader"
    r"|dirigeant|coordinat|coordonnat|spokes|porte-parole|sprecher|portavoz|ambassad|botschafter|embajador"
    r"|representative|representant|commission|kommissar|comisario|general|mayor|maire|burgermeister|alcalde"
    r"|governor|gouverneur|gouverneure|gobernador|president|prasident)"
)

# "What is the name of the Secretary-General": a person asked for by their role (not "au nom du …", on behalf of).
_NAME_OF_ROLE = r"(?<!\bau )\b(?:name|nom) (?:of|du|de la|de l'|de l’) ?(?:the )?" + _ROLE_NAMES

# Kinds of answer, most specific first: the first pattern that matches the folded question decides.
KINDS: tuple[tuple[str, str], ...] = (
    ("email", r"\be-?mail|\bcourriel|adresse (?:e-?mail|electronique|mail)|correo|\bmail\b"),
    (
        "phone",
        # not "le marché du téléphone fixe", "l'extension de la colonie": a number to call
        r"\b(?:phone|telephon|telefon)(?!\w*\s+(?:fixe|mobile|portable|cellulaire|market|marche))"
        r"|\bfax(?:nummer)?\b|\bnumero de (?:poste|tel)|\b(?:his|her|their|its|the|son|sa|leur|votre|your)\s+ext"
        r"(?:ension)?\b|\bext\b|\bcall\b|\bappeler\b"
        r"|\b(?:son|sa|leur|votre|his|her|their) (?:numero|number)\b"
        r"|\bllamar\b|\banrufen",
    ),
    (
        "address",
        r"(?<!\ba )\b(?:l'|l’)\s?adresse\b|\b(?:quelle|son|sa|leur|une|cette) adresse\b"  # not "à l’adresse de X"
        r"|\b(?:the|postal|street|mailing|office|its|his|her)"
        r" address\b|\bdireccion\b|\banschrift\b|\badresse (?:des|der) ",
    ),
    (
        "role",
        r"(?:what|which) (?:position|role|title|function|job|post)\b"
        r"|(?:his|her|their|its) (?:position|role|title|job)\b"
        r"|quel(?:le)?s? (?:est |etait )?(?:le |la |son |sa )?(?:grade|titre|fonction|poste|role)\b|\bcargo\b"
        r"|welche (?:funktion|position|stelle)|\bwas ist (?:sein|ihr)e? (?:funktion|position|titel)",
    ),
    ("meaning", r"\bsignifie|\bstand for|\bstands for|\bacronym|\bsigle\b|\bbedeutet|\bsignifica"),
    (
        "person",
        r"(?:\bwho(?:m|se)?|^(?:et |mais )?qui|\b(?:a|par|de|avec|pour|chez) qui|\bwe[rmn]|\bwessen|\bquien(?:es)?)\b"
        r"|which (?:official|person|minister|director)|\bansprechpartner|persona de contacto"
        r"|quel(?:le)? (?:directeur|directrice|ministre|personne|president|presidente|porte-parole)\b"
        r"|" + _NAME_OF_ROLE,
    ),
    (
        "organisation",
        r"which (?:organi[sz]ation|agency|body|fund|ministry|institution|partners?|office)"
        r"|quel(?:le)?s? (?:organisme|organisation|ministere|fonds|institution|agence|partenaires?|bureau|reseau)"
        r"|welche (?:organisation|behorde|institution|buro)|que (?:organizacion|organismo|ministerio|oficina)",
    ),
    ("contact", r"\bjoindre\b|\breach (?:him|her|them|you|the)|\berreichen\b|\bcontactar|\bget in touch"),
    (
        "duration",
        r"how long|for how long|combien de (?:temps|jours|semaines|mois|annees)|depuis combien|pendant combien"
        r"|wie lange|cuanto tiempo|cuantos (?:dias|anos|meses)|how many (?:days|weeks|months|years)",
    ),
    (
        "date",
        r"\bwhen\b|what (?:date|day|year)|which (?:date|day|year)|since (?:when|which year)|\bquand\b"
        r"|quel(?:le)?s? (?:date|jour|annee)|en quelle annee|depuis quand|\bwann\b|an welchem tag|in welchem jahr"
        r"|welche[nm]? (?:datum|tag)|seit wann|\bcuando\b|que (?:dia|fecha)|en que ano|desde cuando",
    ),
    (
        "number",
        r"how (?:many|much)|what (?:number|percentage|share)|\bcombien\b|quel (?:est le )?nombre|\bwie viele[nm]?\b"
        r"|\bcuant[oa]s?\b|wie hoch"
        # a measure asked for by name ("What is the budget …", "Quel est le taux …"), not one a clause names
        # ("Quel événement a maintenu un taux de croissance bas ?")
        r"|(?:^\W*|\b(?:quel(?:le)?s?|what|which|cual(?:es)?|welche[rsnm]?)\s+(?:[\w'’-]+\s+){0,4}?)"
        r"(?:budget|population|montant|cout|taux|rate|amount|presupuesto|poblacion|tasa|part|proportion|pourcentage)\b",
    ),
    (
        "place",
        r"\bwhere\b|in which (?:city|country|province|region|town|place)|which (?:city|country|province|region)"
        r"|\bou\b|dans quel(?:le)? (?:ville|pays|region|province|endroit)|quel(?:le)? (?:ville|pays|region|province)"
        r"|\bwo(?:hin|her)?\b|in welche[rmn]? (?:stadt|land|region|provinz)|\bdonde\b|\badonde\b"
        r"|en que (?:ciudad|pais|region|provincia)",
    ),
)
_KIND_PATTERNS = tuple((kind, re.compile(pattern)) for kind, pattern in KINDS)

# How a reply names each kind ("The articles give no email address for …").
KIND_NAMES = {
    "person": "person",
    "place": "place",
    "organisation": "organisation",
    "date": "date",
    "number": "number",
    "duration": "duration",
    "email": "email address",
    "phone": "phone number",
    "address": "postal address",
    "contact": "email or phone number",
    "role": "position",
    "meaning": "meaning",
}
# Which spans answer which kind of question, best first: a "who" question about a group
# ("Qui sont les victimes ?") is answered by an organisation or a phrase when no person fits.
ANSWERING_SPANS = {
    "person": ("person", "organisation"),
    "place": ("place",),
    "organisation": ("organisation",),
    "date": ("date",),
    "number": ("number",),
    "duration": ("duration",),
    "email": ("email",),
    "phone": ("phone",),
    "address": ("address",),
    "contact": ("email", "phone"),
    "role": ("role",),
    "meaning": ("meaning",),
}
CONTACT_KINDS = ("email", "phone", "contact", "address")  # answered from a press release's contact block
# Kinds that belong to a person: "his email" is not the press officer's.
OWNED = ("email", "phone", "role")

# The question is about the press contact of a release ("whom should I contact", "personne à contacter").
_CONTACT = re.compile(
    r"contact|joindre|\breach\b|erreichen|ansprechpartner|\bpress (?:officer|office)|\battache de presse|\bprensa\b"
)

# Asking who leads or heads something: the answer is a person together with their role.
_LEADER = re.compile(
    r"\b(?:lead|leads|led|head|heads|headed|run|runs|direct|directs|in charge|chief)\b|\bdirig|\bchef\b"
    r"|\bleit|\bencabeza|\bjefe"
)

QUESTION_WORDS = frozenset(
    """
    who whom whose what which when where why how
    qui que quoi quel quelle quels quelles quand ou pourquoi comment combien lequel laquelle est-ce
    wer wen wem wessen was welche welcher welches welchen welchem wann wo wohin woher warum wie
    quien quienes que cual cuales cuando donde por como cuanto cuantos cuanta cuantas
    and et und y according selon laut segun mme m mr mrs ms dr
    """.split()
)

_NUMBER = re.compile(r"\b\d[\d.,]*\b")
_NAME = re.compile(
    r"(?<![\w'’-])([A-ZÀ-ÖØ-Þ][\w'’-]*|[A-Z]{2,}\w*)(?:\s+(?:(?:de|du|des|la|le|van|von|al|el|bin|da|di)\s+)?[A-ZÀ-ÖØ-Þ][\w'’-]*)*"
)


@dataclass(frozen=True)
class Question:
    text: str
    expects: str  # one of the KINDS' names, or "phrase" (what, why, how: a sentence or a clause answers)
    contact: bool  # asks for the press contact of a release (or their email, phone)
    leader: bool  # asks who leads something: the answer carries the person's role
    entities: tuple[str, ...]  # names and numbers the question is about, as written in it
    lang: str
    focus: str | None = None  # what is counted, for "how many …": "senior officials", "PCR"
    plural: bool = False  # asks for several ("Which countries …", "Qui sont les …"): a list answers
    country: bool = False  # asks which country: a place that is no country does not answer
    # asks who holds a role (leads, chairs, is the Secretary-General): no organisation answers
    holder: bool = False
    office: str | None = None  # a contact question's office, where it is: "Cairo" in "the IOM office in Cairo"
    theme: bool = False  # asks for the theme of a meeting: only a sentence that names a theme answers
    bound: str | None = None  # "start" or "end": asks when something starts or ends, not its other date
    standing: str | None = None  # asks which countries hold a standing in a body: "observer", "member"…

    @property
    def open(self) -> bool:
        """It asks what, why or how: a phrase answers, not a span of a kind (a person, a date…)."""
        return self.expects not in ANSWERING_SPANS

    @property
    def answering_kinds(self) -> tuple[str, ...]:
        """The kinds of span that answer, best first (none for an open question)."""
        return ("person",) if self.holder else ANSWERING_SPANS.get(self.expects, ())

    @property
    def owned(self) -> bool:
        """It asks for something that belongs to a person (an email, a phone, a position)."""
        return self.expects in OWNED

    @property
    def measures(self) -> bool:
        """It asks for a measure ("What is the budget …", "Quel est le taux …"), not how many of something."""
        return self.focus is not None and _MEASURED.fullmatch(self.focus) is not None


# A question that opens by naming what it asks for ("Which region …", "Quel pays …") asks for that,
# whatever its other clauses say ("… when the meeting took place?").
_OPENING = (
    (
        "place",
        re.compile(
            r"^\W*(?:which|what|in which|quel(?:le)?s?|dans quel(?:le)?|welche[rsnm]?|que|en que|cual(?:es)?)\s+"
            r"(?:city|country|countries|region|regions|province|town|ville|pays|region|regions|province"
            r"|stadt|land|lander|ciudad|pais|paises|region|regiones)\b"
        ),
    ),
)


def analyse(text: str) -> Question:
    folded = fold(text)
    opening = next((kind for kind, pattern in _OPENING if pattern.search(folded)), None)
    expects = opening or next((kind for kind, pattern in _KIND_PATTERNS if pattern.search(folded)), "phrase")
    if expects == "meaning" and not any(e.isupper() for e in _entities(text)):
        expects = "phrase"  # what a word means ("Que signifie « hongre » ?"), not what an acronym stands for
    return Question(
        text=text,
        expects=expects,
        contact=expects in CONTACT_KINDS or bool(_CONTACT.search(folded)),
        leader=expects == "person" and bool(_LEADER.search(folded)),
        entities=_entities(text),
        lang=guess_language(folded),
        focus=_focus(text, guess_language(folded)) if expects == "number" else None,
        plural=bool(_PLURAL.search(folded)),
        country=expects == "place" and bool(_COUNTRY.search(folded)),
        holder=expects == "person"
        and bool(_LEADER.search(folded) or _HOLDER.search(folded) or _NAMED_ROLE.search(folded)),
        office=_office(text) if expects in CONTACT_KINDS else None,
        theme=bool(_THEMED.search(folded) and _MEETING.search(folded)),
        bound=_bound(folded) if expects == "date" else None,
        standing=_standing(folded) if expects == "place" else None,
    )


_STARTS = re.compile(
    r"\b(?:commence\w*|debut\w*|demarre\w*|start\w*|begin\w*|began|begun|comienz\w*|empiez\w*|inici\w*"
    r"|beginn\w*|gestartet)\b"
)
_ENDS = re.compile(
    r"\b(?:termine\w*|finit|finira|fin|prend\w* fin|s'acheve\w*|achev\w*|end|ends|ended|finish\w*|conclud\w*"
    r"|termin\w*|finaliz\w*|endet|endete|geendet)\b"
)


def _bound(folded: str) -> str | None:
    """Whether a "when" question asks when something starts or when it ends (neither, or both: None)."""
    starts, ends = bool(_STARTS.search(folded)), bool(_ENDS.search(folded))
    return "start" if starts and not ends else "end" if ends and not starts else None


# The standing of countries in a body, by the words that name it in a question ("Which countries are observers
# of …", "Quels pays sont membres …") and in the sentence that lists them ("ont le statut d’observateur"); folded.
_STANDINGS = {
    "observer": "observ|beobacht",
    "member": "memb|miembro|mitglied",
    "partner": "partner|partenaire|socio",
    "signatory": "signat|firmant|unterzeichn",
    "donor": "donor|donateur|donant|geber|bailleur",
}
_STANDING_ASKED = re.compile(
    r"\b(?:countries|pays|lander|paises|states|etats|estados|staaten)\s+(?:are|were|sont|etaient|son|eran|sind|waren)"
    r"\s+(?:the\s+|les\s+|des\s+|los\s+|die\s+)?(?:"
    + "|".join(f"(?P<{name}>{stems})" for name, stems in _STANDINGS.items())
    + ")"
)


def _standing(folded: str) -> str | None:
    match = _STANDING_ASKED.search(folded)
    return next((name for name, word in match.groupdict().items() if word), None) if match else None


def names_standing(standing: str, text: str) -> bool:
    """Whether a sentence names that standing: "Quelque 17 pays … ont un statut d’observateur" names observers;
    "the Conference’s 11 member countries" does not."""
    return re.search(rf"\b(?:{_STANDINGS[standing]})", fold(text)) is not None


# A theme, named in a question ("Quel était le thème de la réunion ?") or in the sentence that gives it ("le
# thème de la réunion était Explorer les défis …"); folded text.
_THEMED = re.compile(r"\b(?:theme|themes|tema|temas|thema|themen|motto|leitmotiv)\b")


def names_theme(text: str) -> bool:
    """Whether a sentence names a theme ("le thème de la réunion était …")."""
    return _THEMED.search(fold(text)) is not None


# … of a meeting (not "le thème des oeuvres", where a sentence answers without saying "thème")
_MEETING = re.compile(
    r"\b(?:reunion|sommet|atelier|conference|forum|dialogue|consultation|seminaire|rencontre|journee|processus"
    r"|meeting|summit|workshop|seminar|day|process|cumbre|taller|conferencia|jornada|proceso"
    r"|treffen|treffens|gipfel|gipfels|konferenz|tagung|workshop|seminar|prozess)\b"
)


# An office and where it is: "the IOM office in Cairo", "IOM headquarters in Geneva", "l’OIM à Pékin", "OIM Mongolie".
_OFFICE = re.compile(
    r"\b(?:IOM|OIM|office|bureau|headquarters|siège|siege|mission|contact|Büros?|oficina|sede)"
    r"(?:\s+(?:office|contact|headquarters|mission|of|in|at|à|au|aux|en|de|du|des|la|le|the|der))*"
    r"\s+(?:l['’]\s*)?(?!(?:IOM|OIM)\b)([A-ZÀ-Ý][\w-]+(?:[ -][A-ZÀ-Ý][\w-]+)*)"
)


def _office(text: str) -> str | None:
    match = _OFFICE.search(text)
    return match.group(1) if match else None


_COUNTRY = re.compile(
    r"\b(?:which|what|quel(?:le)?s?|welche[rsnm]?|que|cual(?:es)?)\s+(?:(?:est|sont|is|are|ist)\s+(?:le|les|the|das)\s+)?"
    r"(?:\w+\s+)?(?:country|countries|pays|land|lander|pais|paises)\b"
)
# Asking who holds a role, besides who leads: who chairs or presides, who is the director, the minister…
_HOLDER = re.compile(
    r"\bchair(?:s|ed|ing|man|woman|person)?\b|\bpresid(?:e|es|ed|er|era|ait|a|ant|ing)?\b|\bvorsitz|\bprasidier"
    r"|^\W*(?:who|qui|wer|quien)\s+(?:is|was|will be|est|etait|sera|fut|ist|war|wird|es|era|fue)\s+"
    r"(?:(?:the|le|la|l'|l’|der|die|el)\s*|[\w-]+['’]s\s+)"  # "the Director", "IOM's Regional Director"
    r"(?:[\w-]+\s+)?" + _ROLE_NAMES  # "new", "nouvelle", "Regional"
)


_NAMED_ROLE = re.compile(_NAME_OF_ROLE)

_PLURAL = re.compile(
    r"\b(?:which|what)\s+(?:\w+\s+)?(?:countries|cities|regions|provinces|towns|organi[sz]ations|agencies|bodies"
    r"|ministries|institutions|partners|offices|people|persons)\b"
    r"|\bquel(?:le)?s\s+(?:\w+\s+)?(?:pays|villes|regions|provinces|organisations|organismes|agences|ministeres"
    r"|institutions|partenaires|bureaux|personnes)\b"
    r"|\bwho (?:are|were)\b|\bqui (?:sont|etaient|furent)\b"
    r"|\bwelche[n]?\s+(?:lander|stadte|organisationen|personen)\b|\bwer sind\b"
    r"|\b(?:que|cuales)\s+(?:paises|ciudades|organizaciones|personas)\b|\bquienes\b"
)


COUNTED = re.compile(
    r"(?:how many|how much|combien (?:de |d['’]\s*)|wie viele[nm]?|cu[aá]nt[oa]s?"
    r"|quel (?:est le )?nombre (?:de |d['’]))"
    r"\s*((?:[^\W\d_][\w'’-]*\s*){1,3})",
    re.IGNORECASE,
)
_FOCUS_STOP = re.compile(
    r"\b(?:did|do|does|are|is|were|was|have|has|will|ont|sont|a|est|etait|était|sind|haben|hat|son|han|en|in|at|of|de|des|du|la|le|les|the)\b.*$",
    re.IGNORECASE,
)


_MEASURED = re.compile(
    r"\b(budget|population|montant|co[uû]t|cost|taux|rate|amount|presupuesto|poblaci[oó]n|tasa)\b", re.IGNORECASE
)


def _focus(text: str, lang: str) -> str | None:
    """What a "how many" question counts: "How many senior officials attended …" gives "senior officials",
    "Combien de PCR étaient …" gives "PCR" (an English noun comes after its adjective, a French one before);
    what a "what is the budget" question measures: "budget"."""
    match = COUNTED.search(text)
    words = _FOCUS_STOP.sub("", match.group(1)).split()[: 3 if lang == "en" else 1] if match else []
    if not words:  # "What is the budget …", "How much does the programme cost?"
        measured = _MEASURED.search(text)
        return measured.group(1) if measured else None
    return " ".join(words)


def _entities(text: str) -> tuple[str, ...]:
    """Capitalised names (not question words, not the first word unless it is a name) and numbers."""
    found: list[str] = []
    for match in _NAME.finditer(text):
        words = [w for w in match.group().split() if fold(w).strip("'’") not in QUESTION_WORDS]
        if match.start() == _first_word_start(text) and len(words) == len(match.group().split()) == 1:
            continue  # "Combien", "Who": a capital because it opens the sentence
        if words:
            found.append(" ".join(words))
    found += [m.group().rstrip(".,") for m in _NUMBER.finditer(text)]
    return tuple(dict.fromkeys(found))


def _first_word_start(text: str) -> int:
    match = re.search(r"[^\W_]", text)
    return match.start() if match else 0


_LANGUAGE_WORDS = {
    "en": set("the of and is are what who how many which when where does did was were his her their in on for".split()),
    "fr": set(
        "le la les des du de est que qui quel quelle quels quelles combien ou et a au aux en pour son sa ses".split()
    ),
    "de": set("der die das den dem des ist wer wie viele welche wann wo und im in zur zum fur mit von sie er".split()),
    "es": set("el la los las de del que quien cual cuantos cuando donde y en es por para su sus con".split()),
}


def guess_language(folded: str) -> str:
    """en, fr, de or es by the short words the question uses ("" when none is clear)."""
    words = re.findall(r"[a-z]+", folded)
    scores = {lang: sum(w in vocab for w in words) for lang, vocab in _LANGUAGE_WORDS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] else ""
