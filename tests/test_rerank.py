"""Late interaction: each question piece takes its best match in the passage, weighted by rarity."""

import numpy as np
import pytest

from qa.chunking import Passage
from qa.embed import Pieces
from qa.rerank import late_interaction, token_matches


def passage(text: str, sentences: tuple[tuple[int, int], ...], title: str = "T") -> Passage:
    return Passage(
        passage_id="0" * 16,
        doc_id="a.txt",
        title=title,
        text=text,
        position=0,
        start=0,
        end=len(text),
        line_start=1,
        line_end=1,
        sentences=sentences,
    )


def test_late_interaction_is_the_mean_of_each_question_pieces_best_match():
    question = np.array([[1.0, 0.0], [0.0, 1.0]])
    passage_pieces = np.array([[1.0, 0.0], [0.6, 0.8]])
    # first question piece: best 1.0; second: best 0.8
    assert late_interaction(question @ passage_pieces.T) == pytest.approx(0.9)
    assert late_interaction(question @ passage_pieces.T, np.array([3.0, 1.0])) == pytest.approx(0.95)
    assert late_interaction(question @ np.zeros((0, 2)).T) == 0.0


def test_sentences_are_scored_by_the_pieces_that_end_inside_them():
    text = "aaa bbb. ccc."
    p = passage(text, ((0, 8), (9, 13)))
    shift = len(p.titled_text) - len(text)
    stored = Pieces(
        ids=np.array([1, 2, 3], dtype=np.int32),
        vectors=np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]),
        ends=np.array([shift + 3, shift + 7, shift + 12], dtype=np.int32),
    )
    question = Pieces(ids=np.array([5, 6]), vectors=np.array([[1.0, 0.0], [0.6, 0.8]]), ends=np.array([1, 2]))
    idf = np.ones(10)
    (match,) = token_matches(question, [p], [stored], idf)
    assert match.score == pytest.approx(1.0)  # both question pieces find a perfect match somewhere
    assert match.sentence_scores[0] == pytest.approx((1.0 + 0.8) / 2)  # first sentence: pieces 1 and 2
    assert match.sentence_scores[1] == pytest.approx((0.6 + 1.0) / 2)  # second: piece 3 only
    heavy_second = idf.copy()
    heavy_second[6] = 3.0
    (weighted,) = token_matches(question, [p], [stored], heavy_second)
    assert weighted.sentence_scores[1] > match.sentence_scores[1]
