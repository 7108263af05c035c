"""Reading the best passages by rule, for the words that answer a question of a given kind.

The ranking finds passages; the reader looks inside the best few for a span
of the kind the question asks for (:mod:`qa.question`, :mod:`qa.spans`), in
a sentence that matches the question, near the words that match it. It uses
what a press release is made of: the contact block ("Pour plus
d'informations, veuillez contacter …") answers contact questions and nothing
else, and an email or a phone number there belongs to the person named just
before it. What it finds reorders the passages, picks each one's answering
sentence, and gives the short answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .embed import Pieces
from .lexical import fold
from .names import NAME_SIMILARITY, acronyms, countries_in, written_in
from .question import OWNED, Question
from .rerank import TokenMatch, late_interaction
from .roles import Role, asked_role, beside, holds_asked, named_people, role_of, roles_given
from .spans import Span, find_spans, with_role

_CONTACT_SENTENCE = re.compile(
    r"^(?:pour (?:plus d|toute)|for (?:more|further) information|contact\b|press contact|media contact)"
    r"|\b(?:tel|tél|téléphone|phone|e-?mail|courriel|fax)\s*[:.]|@[\w-]+\.\w",
    re.IGNORECASE,
)
WINDOW = 60  # characters on each side of a span that say what it is about
# the word just before a date that makes it the start or the end of a period
_BOUND_BEFORE = {
    "start": re.compile(r"\b(?:du|from|since|desde|del|vom|von|depuis)\s*$", re.IGNORECASE),
    "end": re.compile(r"\b(?:au|to|until|till|through|hasta|al|bis)\s*$", re.IGNORECASE),
}
_OTHER_BOUND = {"start": "end", "end": "start"}
_PERIOD_INSIDE = re.compile(r"\s*(?:au|à|-|–|to|and|et)\s*(?=\d)", re.IGNORECASE)  # "25 au 27 septembre"
_FAX = re.compile(r"\b(?:fax|faxnummer|telefax|t[ée]l[ée]copie)\b", re.IGNORECASE)


@dataclass(frozen=True)
class ReaderWeights:
    """How much each finding counts, on the scale of a sentence's relevance (0–1).
    Chosen on the dev questions (docs/quality.md)."""

    contact_bonus: float = 0.06  # a contact sentence, for a question about contacts
    contact_penalty: float = 0.08  # a contact sentence, for any other question
    cue: float = 0.03  # a span whose context says what it is ("a déclaré X", "M. X", "à X")
    window: float = 0.5  # the question's words near the span
    affinity: float = 0.3  # the span's own words match the question's
    count: float = 1.0  # a count's words match what is counted ("40 responsables" for "how many officials")
    first: float = 0.02  # the first span of its kind in the sentence (the subject, in news writing)
    entity: float = 0.03  # a name the question gives ("in Cairo") stands near the span
    missing: float = 0.05  # no span of the kind asked for in the passage
    slack: float = 0.04  # a span counts only in a sentence this close to the best sentence's relevance
    reorder: float = 0.5  # weight of the reader's score when passages are ranked again


@dataclass(frozen=True)
class QuestionParts:
    """Which of the question's word pieces (rows of a ``TokenMatch``) name what it counts ("officials") and
    where the office it asks about is ("Cairo"); None when it names none."""

    focus: np.ndarray | None = None
    office: np.ndarray | None = None
    measured: bool = False  # the focus is what a sum or rate measures ("budget"), not what a number counts

    @classmethod
    def of(cls, question: Question, pieces: Pieces, searched: str) -> QuestionParts:
        """``pieces``: those of ``searched``, the text the ranking read (the question, after the previous one
        for some follow-ups)."""
        focus, office = _rows(pieces, searched, question.focus), _rows(pieces, searched, question.office)
        return cls(focus, office, question.measures)


def _rows(pieces: Pieces, text: str, words: str | None) -> np.ndarray | None:
    """Which of ``pieces`` (read from ``text``) make up ``words``, at their last occurrence."""
    start = text.rfind(words) if words else -1
    if start < 0 or words is None:
        return None
    return (pieces.ends > start) & (pieces.ends <= start + len(words))


@dataclass(frozen=True)
class Evidence:
    """One passage as the ranking saw it."""

    text: str
    sentences: tuple[tuple[int, int], ...]
    relevance: np.ndarray  # per sentence: how well it matches the question
    match: TokenMatch | None  # the question's word pieces against the passage's (None when not reranked)
    parts: QuestionParts = QuestionParts()


@dataclass(frozen=True)
class Found:
    """What the reader found in one passage."""

    score: float  # how well the passage answers, on the scale of sentence relevance
    sentence: int  # the answering sentence
    span: Span | None  # the short answer, offsets in the passage text (None: the sentence is the answer)
    relevance: float = 0.0  # the answering sentence's relevance alone
    window: float = 0.0  # how well the question's words match the text around the span
    affinity: float = 0.0  # how close the span's own words come to the question's (to what it counts, for a count)


def is_contact(sentence: str) -> bool:
    return bool(_CONTACT_SENTENCE.search(sentence))


def sentence_scores(question: Question, evidence: Evidence, weights: ReaderWeights) -> np.ndarray:
    """Each sentence's relevance, with the press release's structure: a contact sentence answers
    contact questions, and is no answer to the others."""
    text = evidence.text
    priors = np.array([_prior(question, is_contact(text[s:e]), weights) for s, e in evidence.sentences])
    return evidence.relevance + priors


def read_passage(
    question: Question,
    evidence: Evidence,
    weights: ReaderWeights = ReaderWeights(),
    referent: str | None = None,
    kinds: tuple[str, ...] | None = None,
    floor: float = float("-inf"),
) -> Found:
    """The best answer of ``question`` in one passage.

    ``referent``: the person the question is about ("his email" after "Who leads IOM Mongolia?"):
    an email, phone or role must be theirs. ``kinds``: the spans that may answer (by default the
    question's kind and its fallbacks). ``floor``: sentences scoring below it hold no answer."""
    text, sentences = evidence.text, evidence.sentences
    if not sentences:
        return Found(float("-inf"), 0, None)
    base = sentence_scores(question, evidence, weights)
    best_sentence = int(np.argmax(base))
    kinds = kinds or question.answering_kinds or None
    if kinds is None:  # an open question: the sentence answers (its phrase is chosen for the best passage only)
        relevance = float(evidence.relevance[best_sentence])
        return Found(float(base[best_sentence]), best_sentence, None, relevance)
    best: Found | None = None
    roles = roles_given(text, sentences) if asked_role(question) else {}
    for i, (s, e) in enumerate(sentences):
        if base[i] < floor and not (question.contact and is_contact(text[s:e])):
            continue  # (a contact question's answer is in the contact block, however it scores)
        for span, cue in _candidates(question, text[s:e], kinds, referent, weights, roles):
            placed = Span(s + span.start, s + span.end, span.kind, span.cue)
            if question.expects == "meaning" and not _explains(question, text, placed):
                continue
            if not _office_holds(question, evidence, placed):
                continue
            near, affinity = _near(evidence, placed), _affinity(evidence, placed)
            if question.focus and _abbreviates(question.focus, text[placed.start : placed.end]):
                affinity = 1.0
            cue += weights.entity * _names_nearby(question, text, placed)
            fit = weights.count if question.focus else weights.affinity
            # on the scale of a sentence's relevance, so that passages with and without a span compare
            score = float(base[i] + cue + weights.window * near + fit * affinity) / (1 + weights.window + fit)
            primary = span.kind == kinds[0]
            if best is None or (primary, score) > (best.span is not None and best.span.kind == kinds[0], best.score):
                best = Found(score, i, placed, float(evidence.relevance[i]), near, affinity)
    if best is None:
        relevance = float(evidence.relevance[best_sentence])
        return Found(float(base[best_sentence]) - weights.missing, best_sentence, None, relevance)
    return best


def candidate_spans(
    question: Question,
    evidence: Evidence,
    referent: str | None = None,
    sentences: tuple[tuple[int, int], ...] | None = None,
) -> list[Span]:
    """Every span of the passage of a kind that may answer ``question``, in the sentences that may hold its
    answer (the contact block for contact questions only; ``sentences``: only those), placed in its text."""
    kinds, text = question.answering_kinds, evidence.text
    roles = roles_given(text, evidence.sentences) if asked_role(question) else {}
    found = []
    for s, e in evidence.sentences if sentences is None else sentences:
        if not question.contact and is_contact(text[s:e]):
            continue
        for span, _cue in _candidates(question, text[s:e], kinds, referent, ReaderWeights(), roles):
            placed = Span(s + span.start, s + span.end, span.kind, span.cue)
            if _office_holds(question, evidence, placed):
                found.append(placed)
    return found


def _candidates(
    question: Question,
    sentence: str,
    kinds: tuple[str, ...],
    referent: str | None,
    weights: ReaderWeights,
    roles: dict[str, Role],
):
    """(span, bonus from its cues) for each span of ``sentence`` that may answer; ``roles``: those the passage
    gives its people (:func:`roles_given`), for a person named here without one."""
    spans = find_spans(sentence)
    seen: set[str] = set()
    asks_on_behalf = _ON_BEHALF.search(question.text) is not None
    asks_for_whom = _FOR_WHOM.search(question.text) is not None
    asks_deputy = _DEPUTY.search(question.text) is not None
    role = asked_role(question)
    # "a réuni … 28 septembre 2017 … pour un atelier de trois jours, du 25 au 27 septembre": when it ended is the
    # end of the period, not the dateline's day
    asked_bound = question.bound
    bounded = asked_bound is not None and any(
        s.kind == "date" and _as_bound(asked_bound, sentence, s) is not None for s in spans
    )
    for span in spans:
        if span.kind not in kinds or _restates_question(question, sentence[span.start : span.end], span.kind):
            continue
        if (span.kind == "person" or asks_for_whom) and _spoken_for(sentence, span) != asks_for_whom:
            continue  # who spoke (even on behalf of someone) is not whom they spoke for, nor the other way
        if span.kind == "person" and asks_on_behalf and not _ON_BEHALF.search(sentence):
            continue  # who spoke on behalf of someone, or for whom: the sentence says "au nom de"
        if role is not None and span.kind == "person" and _deputy(sentence, span, spans) != asks_deputy:
            continue  # a deputy holds no role but a deputy's, and a deputy is asked for by that word
        if role is not None and span.kind == "person" and not holds_asked(role, role_of(sentence, span, spans, roles)):
            continue  # an adviser is no director, a regional director no director general
        if referent and span.kind in OWNED and not _belongs_to(referent, span, spans, sentence):
            continue
        if question.country and span.kind == "place" and not countries_in(sentence[span.start : span.end]):
            continue  # "Bakou", "Etats" name no country
        if span.kind == "phone" and _FAX.search(question.text) and not _FAX.search(sentence[: span.start][-12:]):
            continue  # a fax number is one the article says is a fax: not "Tel: …"
        if span.kind == "date" and asked_bound is not None:
            bound = _as_bound(asked_bound, sentence, span)
            if bound is None and (bounded or _other_bound(asked_bound, sentence, span)):
                continue  # "du 1er avril 2017 au 31 mars 2019": the start is not when it ends, nor the other way
            span = bound or span
        bonus = weights.cue * span.cue + weights.first * (span.kind not in seen)
        seen.add(span.kind)
        if question.leader:
            span = _with_new_role(question, sentence, span)
        yield span, bonus


def _as_bound(bound: str, sentence: str, span: Span) -> Span | None:
    """The date as the ``bound`` ("start" or "end") of a period the sentence gives, or None when it is none:
    "1er juillet 2018" after "du" is a start; in "25 au 27 septembre", the end is "27 septembre"."""
    inside = _PERIOD_INSIDE.search(sentence, span.start, span.end)
    if inside is not None:
        return Span(inside.end(), span.end, span.kind, span.cue) if bound == "end" else span
    return span if _BOUND_BEFORE[bound].search(sentence[: span.start]) else None


def _other_bound(bound: str, sentence: str, span: Span) -> bool:
    return _BOUND_BEFORE[_OTHER_BOUND[bound]].search(sentence[: span.start]) is not None


def asks_by_role(question: Question) -> bool:
    """The question asks for a person by role: who holds one, or who spoke on behalf of someone (or for
    whom). Which person answers is then decided by their role in the sentence (a deputy, on whose behalf,
    a chief of another country), as :func:`_candidates` reads it."""
    return question.holder or bool(_ON_BEHALF.search(question.text) or _FOR_WHOM.search(question.text))


def _with_new_role(question: Question, sentence: str, span: Span) -> Span:
    """ "Pär Liljert, chef de mission de l’OIM en Mongolie" for "Who leads IOM Mongolia?", when the role
    says something the question does not and the whole stays short."""
    longer = with_role(sentence, span)
    role = sentence[span.end : longer.end]
    if longer.end - longer.start > 60 or _words(role) <= _words(question.text) | _words("chef de la du"):
        return span
    return longer


def _prior(question: Question, contact: bool, weights: ReaderWeights) -> float:
    if not contact:
        return 0.0
    return weights.contact_bonus if question.contact else -weights.contact_penalty


def _pieces_in(evidence: Evidence, start: int, end: int) -> np.ndarray:
    assert evidence.match is not None
    return (evidence.match.ends > start) & (evidence.match.ends <= end)


def _near(evidence: Evidence, span: Span) -> float:
    """How well the question's words match the text around the span (the span itself left out)."""
    if evidence.match is None:
        return 0.0
    start, end = _segment(evidence.text, span)
    window = _pieces_in(evidence, max(start, span.start - WINDOW), span.start)
    window |= _pieces_in(evidence, span.end, min(end, span.end + WINDOW))
    return late_interaction(evidence.match.similarities[:, window], evidence.match.weights) if window.any() else 0.0


def _names_nearby(question: Question, text: str, span: Span) -> int:
    """How many words of the names the question gives are written near the span (in its part of a contact
    block): "IOM Mongolia" is nearer "OIM Mongolie" than "OIM Beijing"."""
    start, end = _segment(text, span)
    around = _words(text[max(start, span.start - WINDOW) : min(end, span.end + WINDOW)])
    return len(set().union(*(_words(e) for e in question.entities)) & around) if question.entities else 0


_CONTACT_SEPARATOR = re.compile(r"\s(?:ou|or|o|oder)\s|;")


ENTRY = 160  # characters before a contact span at most, that say whose it is
_ENTRY_START = re.compile(r"\bcontact(?:er|ez)?\b|" + _CONTACT_SEPARATOR.pattern, re.IGNORECASE)


def _office_holds(question: Question, evidence: Evidence, span: Span) -> bool:
    """An email, phone or address answers a question about an office ("the IOM office in Cairo") only when
    its entry in the contact block (from the person's name to the span) names that office's place: as
    written, by its country, or by word pieces this close ("OIM Beijing" for "l’OIM à Pékin"). Not "Joe
    Lowry, Bureau régional de l’OIM pour l’Europe du Sud-Est, Tel: …" for Cairo."""
    if question.office is None or span.kind not in ("email", "phone", "address"):
        return True
    text = evidence.text
    earliest = max(0, span.start - ENTRY)
    start = max((m.end() for m in _ENTRY_START.finditer(text, earliest, span.start)), default=earliest)
    entry = text[start : span.start]
    if written_in(question.office, entry) or countries_in(question.office) & countries_in(entry):
        return True
    rows = evidence.parts.office
    if evidence.match is None or rows is None or not rows.any():
        return False
    inside = _pieces_in(evidence, start, span.start)
    return bool(inside.any()) and float(evidence.match.similarities[rows][:, inside].max()) >= NAME_SIMILARITY


def _segment(text: str, span: Span) -> tuple[int, int]:
    """The part of a contact block that holds the span: "X, Genève, Email: … ou Y, LEA Caire, …" lists
    several people, and what is near one of them is not the other's."""
    sentence_start = text.rfind("\n", 0, span.start) + 1
    sentence_end = text.find("\n", span.end)
    sentence_end = len(text) if sentence_end < 0 else sentence_end
    if not is_contact(text[sentence_start:sentence_end]):
        return 0, len(text)
    cuts = [m for m in _CONTACT_SEPARATOR.finditer(text, sentence_start, sentence_end)]
    start = max([m.end() for m in cuts if m.end() <= span.start], default=0)
    end = min([m.start() for m in cuts if m.start() >= span.end], default=len(text))
    return start, end


def _affinity(evidence: Evidence, span: Span) -> float:
    """How close the span's own words come to a word of the question (its best piece); for a count,
    to the words of what is counted ("40 responsables" for "how many officials"); for a measure, with the
    words just before it, to what it measures ("un budget de 2,3 millions" for "What is the budget")."""
    if evidence.match is None:
        return 0.0
    inside = _pieces_in(evidence, span.start, span.end)
    if evidence.parts.measured:  # what a sum or rate is of comes before it: "un budget de 2,3 millions"
        inside |= _pieces_in(evidence, max(_segment(evidence.text, span)[0], span.start - WINDOW), span.start)
    if not inside.any():
        return 0.0
    focus = evidence.parts.focus
    rows = focus if focus is not None and focus.any() else slice(None)
    return float(evidence.match.similarities[rows][:, inside].max())


def _abbreviates(focus: str, span_text: str) -> bool:
    """The span counts what the question counts under its acronym, in any language's order of letters:
    "18 PCR" for "how many regional consultative processes" (RCP), "5 ONG" for "combien
    d’organisations non gouvernementales"."""
    words = [w for w in re.findall(r"[^\W\d_]+", fold(focus)) if len(w) > 2]
    runs = {
        "".join(sorted(w[0] for w in words[i:j])).upper()
        for i in range(len(words))
        for j in range(i + 2, len(words) + 1)
    }
    return bool(acronyms(span_text) & runs)


def _words(text: str, shortest: int = 3) -> set[str]:
    """Folded word stems (5 letters) of a text; acronyms by their sorted letters (IOM = OIM)."""
    words = re.findall(r"\w+", text)
    acronyms = {"".join(sorted(w)) for w in words if re.fullmatch(r"[A-Z]{2,6}", w)}
    return acronyms | {fold(w)[:5] for w in words if len(w) >= shortest and not re.fullmatch(r"[A-Z]{2,6}", w)}


def _restates_question(question: Question, span_text: str, kind: str) -> bool:
    """A span made only of the question's own words ("Mongolie" for "Who leads IOM Mongolia?") answers
    nothing; a count restates it only by its number ("15 PCR" answers "Combien de PCR ?")."""
    if kind in ("number", "duration", "date"):
        numbers = set(re.findall(r"\d+", span_text))
        return bool(numbers) and numbers <= set(re.findall(r"\d+", question.text))
    words = _words(span_text)
    return bool(words) and words <= _words(question.text)


def _belongs_to(referent: str, span: Span, spans: list[Span], sentence: str) -> bool:
    """An email, phone or role belongs to the person named just before it in the sentence, in a contact
    block the first of its entry (which lists "Name, office, Tel: …, Email: …": "Farhana Islam OIM Cox’s
    Bazar Tel: …" is Farhana Islam's), or just after it for a role ("le Directeur, X")."""
    people = named_people(spans)
    before = [p for p in people if p.end <= span.start]
    entry = _segment(sentence, span)[0]
    in_entry = [p for p in before if p.start >= entry] if is_contact(sentence) else []
    owners = in_entry[:1] or before[-1:]
    if span.kind == "role":
        owners += [p for p in people if p.start >= span.end and not sentence[span.end : p.start].strip(" ,")]
    wanted = _words(referent) - _words("M Mme Mr Mrs Dr")
    return any(wanted & _words(sentence[p.start : p.end]) for p in owners)


# asks on whose behalf someone spoke: the person spoken for answers, not the speaker
_FOR_WHOM = re.compile(
    r"\b(?:au nom de qui|on whose behalf|for whom|en nombre de qui[eé]n|in wessen namen)", re.IGNORECASE
)
_ON_BEHALF = re.compile(
    r"\b(?:au nom d(?:u|es?\b|e l[a’']|’|')|on behalf of|de la part d(?:u|es?\b|e l[a’']|’|')|en nombre de|im namen)",
    re.IGNORECASE,
)


def _spoken_for(sentence: str, span: Span) -> bool:
    """The person is the one on whose behalf someone else acts ("S’exprimant au nom du Directeur général
    de l’OIM, António Vitorino, la Directrice régionale … Argentina Szabados a salué"): not who acted."""
    before = sentence[max(0, span.start - 80) : span.start]
    on_behalf = list(_ON_BEHALF.finditer(before))
    return bool(on_behalf) and before[on_behalf[-1].end() :].count(",") <= 1


_DEPUTY = re.compile(
    r"\b(?:adjoint|adjointe|deputy|vice|assistant|assistante|stellvertret\w*|adjunt[oa])\b", re.IGNORECASE
)


def _deputy(sentence: str, span: Span, spans: list[Span]) -> bool:
    """The person's role, just before or after the name, is a deputy's or an assistant's ("la cheffe de
    mission adjointe de l’OIM au Niger, Ramatou Issaka Maïga"; "Badre Eddine Allali, Assistant du Secrétaire
    général"): no answer to who holds the role, unless the question asks for a deputy. Before the name, only
    what follows the person named before it counts."""
    return bool(_DEPUTY.search(beside(sentence, span, spans)))


def _explains(question: Question, text: str, span: Span) -> bool:
    """A meaning must stand beside an acronym the question asks about: "… (CBMM)" or "ECPAT (…)"."""
    around = text[max(0, span.start - 12) : span.end + 12]
    return any(re.search(rf"\b{re.escape(e)}\b", around) for e in question.entities if e.isupper())
