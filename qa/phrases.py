"""The short answer to an open question ("What …?", "Quel …?"): the phrase of the answering sentence
that a learned scorer likes best.

Candidates are the phrases of the sentence's parse (spaCy's French pipeline ``fr_core_news_sm``):
every syntactic subtree and named entity, each head with what follows it, a quotation up to its
closing mark, also without a leading preposition or determiner, never the whole sentence. Each is
described by a few facts (its kind of entity, the part of speech and role of its head, its length,
how much of the question it repeats, where it stands from the words that match the question, by
their letters and by the model's word pieces, so that an English question over a French sentence
is matched too), and scored by a linear model whose weights
(``phrase_weights.json``) were fitted on half of PIAF dev by ``bench/train_phrases.py``.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np

from .embed import ModelError
from .lexical import fold

SPACY_MODEL = "fr_core_news_sm"
WEIGHTS = Path(__file__).with_name("phrase_weights.json")
MAX_SENTENCE_CHARS = 1000  # longer "sentences" (lists, tables) are not parsed: the sentence answers

_STOP = frozenset(
    "le la les l un une des du de d a au aux et ou en dans par pour sur que qui quoi quel quelle quels quelles est "
    "sont ont il elle ils elles se sa son ses ce cette comment pourquoi quand combien the of what which who how why "
    "when where did does was were is are der die das ein eine und wer was wie welche el los las una cual como".split()
)
# The question's own word, in English, French, German and Spanish: what kind of phrase answers.
_QUESTION_WORDS = (
    ("why", r"\b(?:why|pourquoi|warum|wieso|por que)\b"),
    ("count", r"\b(?:how (?:many|much)|combien|wie viel\w*|cuant[oa]s?)\b"),
    ("how", r"\b(?:how|comment|wie|como)\b"),
    ("when", r"\b(?:when|quand|wann|cuando)\b"),
    ("where", r"\b(?:where|ou|wo|wohin|woher|donde|adonde)\b"),
    ("who", r"\b(?:who|whom|whose|qui|wer|wen|wem|quien(?:es)?)\b"),
    ("which", r"\b(?:which|quel(?:le)?s?|lequel|laquelle|welche[rsnm]?|cual(?:es)?)\b"),
    ("what", r"\b(?:what|que|qu|quoi|was)\b"),
)


@dataclass(frozen=True)
class Phrase:
    start: int  # characters, in the text given to ``best_phrase``
    end: int
    score: float


_PARSER_LOCK = threading.Lock()  # one load, even when a background load and a question meet


def _parser():
    with _PARSER_LOCK:
        try:
            return _load_parser()
        except (ImportError, OSError, StopIteration, ValueError) as exc:
            raise ModelError(
                f"cannot load the French parser {SPACY_MODEL} ({exc!r}); `make install` installs it"
            ) from exc


@functools.cache
def _load_parser():
    """spaCy's French pipeline (parser and entities only), loaded in under a second.

    ``spacy.load`` takes about 4 s: importing spaCy's French language compiles its tokenizer's
    exceptions (a regular expression of thousands of hyphenated words), and thinc imports torch
    if it can. Here the trained components are loaded into spaCy's multi-language class, with the
    French prefixes, suffixes, infixes and exceptions read from the package, and hyphenated words
    kept whole by a short rule instead of that list (116 of 150 PIAF passages tokenise identically;
    the others keep names such as "Corbeil-Essonnes" whole)."""
    import importlib
    import sys

    blocked = "torch" not in sys.modules
    if blocked:
        sys.modules["torch"] = None  # type: ignore[assignment]  # thinc's optional torch support, not needed
    try:
        import spacy
        from spacy.lang.xx import MultiLanguage
        from spacy.tokenizer import Tokenizer
    finally:
        if blocked:
            del sys.modules["torch"]
    package = Path(importlib.import_module(SPACY_MODEL).__file__ or "").parent
    folder = next(p.parent for p in package.glob(f"{SPACY_MODEL}-*/config.cfg"))
    config = spacy.util.load_config(folder / "config.cfg")
    config["nlp"]["lang"] = "xx"
    unused = ["lemmatizer", "attribute_ruler", "morphologizer"]
    nlp = MultiLanguage.from_config(config, exclude=unused)
    nlp.from_disk(folder, exclude=[*unused, "tokenizer"])
    tokenizer = cast(Tokenizer, nlp.tokenizer)
    tokenizer.from_disk(folder / "tokenizer", exclude=["token_match", "url_match"])
    tokenizer.token_match = _HYPHENATED.match
    return nlp


# A hyphenated word is one token, unless its last part is a pronoun ("celui-ci", "dit-il").
_HYPHENATED = re.compile(
    r"^[^\W\d_]+(?:-[^\W\d_]+)*"
    r"-(?!(?:ci|là|t|il|ils|elle|elles|on|je|tu|nous|vous|le|la|les|moi|toi|lui|leur|y|en)$)[^\W\d_]+$",
    re.IGNORECASE,
)


def load_parser_in_background() -> None:
    """Start loading the parser now rather than at the first open question (the chat does, once its
    page is served). It does not shorten a one-question run: the load is Python work, as is the rest."""
    threading.Thread(target=_parser, name="qa-load-parser", daemon=True).start()


@functools.cache
def _weights() -> dict[str, float]:
    return dict(json.loads(WEIGHTS.read_text(encoding="utf-8"))["weights"])


def question_word(question: str) -> str:
    folded = fold(question)
    return next((name for name, pattern in _QUESTION_WORDS if re.search(pattern, folded)), "other")


def best_phrase(
    question: str, kind: str, text: str, start: int, end: int, match_strength: np.ndarray | None
) -> Phrase | None:
    """The best phrase of the sentence ``text[start:end]`` for ``question``; None when it has no
    phrase shorter than itself. ``match_strength``: per character of ``text``, how well the question's
    word pieces match the piece there (None: letters only)."""
    weights = _weights()
    best: Phrase | None = None
    for a, b, facts in phrase_facts(question, kind, text, start, end, match_strength):
        score = sum(weights.get(name, 0.0) * value for name, value in facts.items())
        if best is None or score > best.score:
            best = Phrase(a, b, score)
    return best


def phrase_facts(
    question: str, kind: str, text: str, start: int, end: int, match_strength: np.ndarray | None
) -> Iterator[tuple[int, int, dict[str, float]]]:
    """(start, end, facts) of each candidate phrase of the sentence ``text[start:end]``."""
    if end - start > MAX_SENTENCE_CHARS:
        return
    sentence = _parser()(text[start:end])
    asked = _stems(question)
    qword = question_word(question)
    strength = _token_strengths(sentence, start, match_strength)
    lexical = [bool(_stems(t.text) & asked) for t in sentence]
    entities = {(e.start, e.end): e.label_ for e in sentence.ents}
    for (a, b), head in _candidates(sentence).items():
        if b - a >= len(sentence) - 1 and len(sentence) > 2:
            continue  # the sentence itself: it is shown anyway
        crossed = {}
        for name, value in _facts(sentence, a, b, head, entities, asked, lexical, strength).items():
            crossed[name] = value
            crossed[f"{qword}|{name}"] = value
            crossed[f"K{kind}|{name}"] = value
        chars = sentence[a:b]
        yield start + chars.start_char, start + chars.end_char, crossed


def _candidates(sentence) -> dict[tuple[int, int], object]:
    """(first token, end token) → head token, for every subtree and entity, and every head with
    what follows it (spaCy's French noun chunks would need its French language class: see
    ``_load_parser``; subtrees hold nearly all of them)."""
    found: dict[tuple[int, int], object] = {}
    for token in sentence:
        found.setdefault((token.left_edge.i, token.right_edge.i + 1), token)
    for entity in sentence.ents:
        found.setdefault((entity.start, entity.end), entity.root)
    for token in sentence:  # a head and what follows it: "Explorer les défis …" after "le thème était"
        if token.left_edge.i < token.i:
            found.setdefault((token.i, token.right_edge.i + 1), token)
    for (a, b), head in list(found.items()):  # SQuAD-style answers leave out "à", "le", "et" in front
        if b - a > 1 and sentence[a].pos_ in ("ADP", "DET", "CCONJ", "PUNCT"):
            found.setdefault((a + 1, b), head)
    for (a, b), head in list(found.items()):  # a quotation or an apposition ends at its punctuation
        inner = next((i for i in range(a + 1, b - 1) if sentence[i].is_punct), None)
        if inner is not None:
            found.setdefault((a, inner), head)
    trimmed: dict[tuple[int, int], object] = {}
    for (a, b), head in found.items():  # a comma or a quote at either end is no part of an answer
        while b - a > 1 and sentence[a].is_punct:
            a += 1
        while b - a > 1 and sentence[b - 1].is_punct:
            b -= 1
        if not sentence[a].is_punct:
            trimmed.setdefault((a, b), head)
    return trimmed


def _facts(sentence, a, b, head, entities, asked, lexical, strength) -> dict[str, float]:
    span = sentence[a:b]
    inside = [t.i for t in span]
    outside = [i for i in range(len(sentence)) if not a <= i < b]
    entity = entities.get((a, b)) or ("part" if any(s < b and a < e for s, e in entities) else "none")
    words = _stems(span.text)
    repeats = len(words & asked) / max(1, len(words))
    governor = head.head
    facts = {
        f"entity={entity}": 1.0,
        f"pos={head.pos_}": 1.0,
        f"dep={head.dep_.split(':')[0]}": 1.0,
        f"length={_bin(b - a, (1, 2, 3, 5, 8, 12, 20))}": 1.0,
        "digit": float(bool(re.search(r"\d", span.text))),
        f"repeats={_bin(repeats, (0, 0.34, 0.67))}": 1.0,
        "governor_asked": float(lexical[governor.i] and not a <= governor.i < b),
        "child_asked": float(any(lexical[c.i] for c in head.children if not a <= c.i < b)),
        f"first={sentence[a].pos_}": 1.0,
        f"last={sentence[b - 1].pos_}": 1.0,
        f"governor_pos={governor.pos_}": 1.0,
        "bias": 1.0,
    }
    facts.update(_placement(sentence, a, b, head, [i for i in outside if lexical[i]], "letters"))
    if strength is not None:
        inner = float(strength[inside].mean())
        beside = [i for i in outside if a - 3 <= i < a or b <= i < b + 3]
        around = float(strength[beside].max()) if beside else 0.0
        facts[f"pieces_inside={_bin(inner, _STRENGTHS)}"] = 1.0
        facts[f"pieces_beside={_bin(around, _STRENGTHS)}"] = 1.0
        if not a <= governor.i < b:
            facts[f"pieces_governor={_bin(float(strength[governor.i]), _STRENGTHS)}"] = 1.0
        strong = [i for i in outside if strength[i] >= _STRONG]
        facts.update(_placement(sentence, a, b, head, strong, "pieces"))
    return facts


def _placement(sentence, a: int, b: int, head, matched: list[int], by: str) -> dict[str, float]:
    """Where the phrase stands from the nearest word matching the question (``matched``, token
    indices): how far, on which side, and the path of dependencies between them."""
    if not matched:
        return {f"{by}_distance=none": 1.0}
    nearest = min(matched, key=lambda i: min(abs(i - a), abs(i - (b - 1))))
    distance = min(abs(nearest - a), abs(nearest - (b - 1)))
    return {
        f"{by}_distance={_bin(distance, (1, 2, 4, 7, 15))}": 1.0,
        f"{by}_side={'before' if nearest < a else 'after'}": 1.0,
        f"{by}_path={_path(head, sentence[nearest])}": 1.0,
    }


def _path(head, target) -> str:
    """The dependencies from the phrase's head up to the lowest head it shares with ``target``, then
    down to it, three at most each way: "nsubj^|obl" (both hang on one verb)."""
    up = [head, *head.ancestors]
    down = [target, *target.ancestors]
    common = next((t for t in up if t in down), None)
    if common is None:
        return "none"
    rising = [t.dep_.split(":")[0] for t in up[: up.index(common)]][:3]
    falling = [t.dep_.split(":")[0] for t in down[: down.index(common)]][:3]
    return "^".join(rising) + "|" + "v".join(falling)


_STRENGTHS = (0.75, 0.8, 0.85, 0.9)
_STRONG = 0.85  # a token whose pieces match a question piece this well is one of its words


def _token_strengths(sentence, offset: int, match_strength: np.ndarray | None) -> np.ndarray | None:
    """Per token: the best match of a question piece with a piece inside it."""
    if match_strength is None:
        return None
    values = np.zeros(len(sentence), dtype=np.float32)
    for token in sentence:
        chars = match_strength[offset + token.idx : offset + token.idx + len(token.text)]
        values[token.i] = float(chars.max()) if len(chars) else 0.0
    return values


def _stems(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"\w+", fold(text)) if len(w) > 2 and w not in _STOP}


def _bin(value: float, edges: tuple[float, ...]) -> int:
    return next((i for i, edge in enumerate(edges) if value <= edge), len(edges))
