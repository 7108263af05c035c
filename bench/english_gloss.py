"""A French question glossed word for word into English, for training the reader on English questions.

No translation model can be installed here and PIAF's questions are all French, yet people ask in
English about French articles. The gloss replaces the question's frame and grammar words ("Qui a
fondé Rome ?" -> "Who has fondé Rome ?") and keeps its content words, as an English speaker naming a
French organisation or place would. The multilingual encoder knows the content words across
languages; what the reader must learn is what an English question word asks for.
"""

from __future__ import annotations

import re

# Longest first: a phrase is glossed before its words.
_PHRASES = {
    "qu'est-ce qui": "what",
    "qu'est-ce que": "what is",
    "qu'est-ce qu'": "what is ",
    "qu'est ce qui": "what",
    "qu'est ce que": "what is",
    "est-ce que": "",
    "en quelle année": "in what year",
    "à quelle date": "on what date",
    "a quelle date": "on what date",
    "à quelle époque": "in what period",
    "a quelle époque": "in what period",
    "à partir de quand": "since when",
    "depuis quand": "since when",
    "depuis combien de temps": "for how long",
    "combien de": "how many",
    "combien d'": "how many ",
    "comment s'appelle": "what is the name of",
    "comment s'appellent": "what are the names of",
    "par qui": "by whom",
    "avec qui": "with whom",
    "à qui": "to whom",
    "a qui": "to whom",
    "de qui": "of whom",
    "contre qui": "against whom",
    "pour qui": "for whom",
    "quel type de": "what kind of",
    "quelle sorte de": "what kind of",
    "à quoi": "what for",
    "a quoi": "what for",
    "de quoi": "of what",
    "en quoi": "in what way",
    "sur quoi": "on what",
}
_WORDS = {
    "qui": "who",
    "quel": "which",
    "quelle": "which",
    "quels": "which",
    "quelles": "which",
    "quand": "when",
    "où": "where",
    "ou": "or",
    "combien": "how much",
    "comment": "how",
    "pourquoi": "why",
    "que": "what",
    "qu'": "what",
    "quoi": "what",
    "est": "is",
    "sont": "are",
    "était": "was",
    "étaient": "were",
    "fut": "was",
    "a": "has",
    "ont": "have",
    "avait": "had",
    "le": "the",
    "la": "the",
    "les": "the",
    "l'": "the",
    "un": "a",
    "une": "a",
    "des": "the",
    "de": "of",
    "du": "of the",
    "d'": "of",
    "en": "in",
    "dans": "in",
    "à": "at",
    "au": "at the",
    "aux": "to the",
    "sur": "on",
    "pour": "for",
    "par": "by",
    "avec": "with",
    "sans": "without",
    "et": "and",
    "ce": "this",
    "cette": "this",
    "ces": "these",
    "son": "its",
    "sa": "its",
    "ses": "its",
    "leur": "their",
    "leurs": "their",
    "il": "he",
    "elle": "she",
    "ils": "they",
    "se": "",
    "s'": "",
    "y": "there",
    "pays": "country",
    "année": "year",
    "ville": "city",
    "nom": "name",
    "premier": "first",
    "première": "first",
    "dernier": "last",
    "dernière": "last",
    "nombre": "number",
    "date": "date",
}
_PHRASE = re.compile(
    r"(?<![\w'])(" + "|".join(re.escape(p) for p in sorted(_PHRASES, key=len, reverse=True)) + r")(?:(?<=')|(?![\w]))",
    re.IGNORECASE,
)
# French elisions (l', d', qu') are words of their own; other apostrophes stay inside the word.
_TOKEN = re.compile(r"\b(?:[cdjlmnst]|qu)'|\w+(?:['-]\w+)*|[^\w\s]", re.IGNORECASE)


def english_gloss(question: str) -> str:
    """``question`` with its French frame and grammar words in English; content words kept."""
    text = question.replace("’", "'")
    text = _PHRASE.sub(lambda m: _PHRASES[m.group().casefold()], text)
    out = []
    for position, token in enumerate(_TOKEN.findall(text)):
        folded = token.casefold()
        if position and token[:1].isupper() and not token.isupper():
            out.append(token)  # a name ("Du Bosc", "La Haye") is not glossed
            continue
        if position == 0 and folded == "a":
            folded = "à"  # a question opening with "A" asks "À quel…"
        if folded.endswith("-t-il") or folded.endswith("-t-elle"):
            token, folded = token[: token.rfind("-t-")], folded[: folded.rfind("-t-")]
        elif folded.endswith(("-il", "-elle", "-ils", "-elles")):
            token, folded = token[: token.rfind("-")], folded[: folded.rfind("-")]
        gloss = _WORDS.get(folded, token)
        if gloss:
            out.append(gloss)
    glossed = " ".join(out).replace(" ?", "?").replace(" ,", ",")
    return glossed[:1].upper() + glossed[1:]
