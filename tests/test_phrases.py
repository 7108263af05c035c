"""Short answers to open questions: a phrase of the answering sentence, chosen on its parse."""

import numpy as np
import pytest

from qa.phrases import MAX_SENTENCE_CHARS, best_phrase, phrase_facts, question_word
from qa.rerank import TokenMatch, match_strength

THEME = (
    "Après la quatrième réunion de Lima, le thème de la cinquième réunion mondiale était "
    "« Explorer les défis de la migration contemporaine », a déclaré le directeur."
)


@pytest.mark.parametrize(
    ("question", "word"),
    [
        ("Quel était le thème de la réunion ?", "which"),
        ("What was the theme of the meeting?", "what"),
        ("Pourquoi les Mongols partent-ils ?", "why"),
        ("Wie viele Teilnehmer gab es?", "count"),
        ("¿Dónde tuvo lugar la reunión?", "where"),
        ("Wer leitet das Büro?", "who"),
        ("Le thème ?", "other"),
    ],
)
def test_the_question_word_is_recognised_in_four_languages(question, word):
    assert question_word(question) == word


def test_the_phrase_is_part_of_the_sentence_at_its_own_offsets():
    text = "Un titre. " + THEME
    start = text.index("Après")
    found = best_phrase(
        "Quel était le thème de la cinquième réunion mondiale ?", "phrase", text, start, len(text), None
    )
    assert found is not None
    phrase = text[found.start : found.end]
    assert start <= found.start < found.end <= len(text) and len(phrase) < len(THEME) - 10
    assert phrase == phrase.strip(" ,.«»") and phrase.strip()  # no punctuation at either end
    again = best_phrase("Quel était le thème de la cinquième réunion mondiale ?", "phrase", THEME, 0, len(THEME), None)
    assert (again.start, again.end) == (found.start - start, found.end - start)


def test_candidates_are_subtrees_quotations_and_names_never_the_sentence_or_a_comma():
    spans = {THEME[a:b] for a, b, _ in phrase_facts("Quel était le thème ?", "phrase", THEME, 0, len(THEME), None)}
    assert {"Explorer les défis de la migration contemporaine", "Lima", "le directeur"} <= spans
    assert THEME not in spans and THEME.rstrip(".") not in spans
    assert not any(s.strip(" ,.«»") != s or not s.strip(" ,.«»") for s in spans)


def test_word_pieces_stand_in_for_letters_across_languages():
    """An English question shares no letters with the French sentence: the pieces' match decides."""
    question = "What was the subject of the fifth global gathering?"
    without = {(a, b): f for a, b, f in phrase_facts(question, "phrase", THEME, 0, len(THEME), None)}
    strength = np.zeros(len(THEME), dtype=np.float32)
    theme = THEME.index("thème")
    strength[theme : theme + 5] = 0.95
    placed = {(a, b): f for a, b, f in phrase_facts(question, "phrase", THEME, 0, len(THEME), strength)}
    assert not any(k.startswith("pieces_") for facts in without.values() for k in facts)
    answer = THEME.index("Explorer"), THEME.index(" »")
    facts = placed[answer]
    assert "pieces_distance=none" not in facts and facts.get("pieces_side=before") == 1.0  # "thème" is before it
    assert "letters_distance=none" in facts  # no word of the question is written in the sentence


def test_a_sentence_too_long_to_parse_has_no_phrase():
    text = "mot " * (MAX_SENTENCE_CHARS // 4 + 10)
    assert best_phrase("Quel mot ?", "phrase", text, 0, len(text), None) is None


def test_match_strength_spreads_each_piece_over_its_characters():
    # question pieces: a weighty one (IDF 3) and a light one (IDF 1); passage pieces end at 3, 7 and 12,
    # the first one inside the title (ends counted from the text's start: -2 is before it)
    similarities = np.array([[0.9, 0.2, 0.6, 0.7], [0.1, 0.99, 0.99, 0.1]], dtype=np.float32)
    match = TokenMatch(0.0, np.zeros(1), similarities, np.array([3.0, 1.0]), np.array([-2, 3, 7, 12]))
    strength = match_strength(match, 12)
    assert strength.tolist() == pytest.approx([0.2] * 3 + [0.6] * 4 + [0.7] * 5)


def test_a_parser_that_cannot_load_is_reported_with_the_remedy(monkeypatch):
    from qa import phrases

    def missing():
        raise ImportError("No module named 'fr_core_news_sm'")

    monkeypatch.setattr(phrases, "_load_parser", missing)
    with pytest.raises(phrases.ModelError, match="make install"):
        best_phrase("Quel est le thème ?", "phrase", THEME, 0, len(THEME), None)
