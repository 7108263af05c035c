"""Late interaction: each question piece takes its best match in the passage, weighted by rarity."""

from dataclasses import replace

import numpy as np
import pytest

from qa.chunking import Passage
from qa.embed import Pieces
from qa.ranking import Weights
from qa.rerank import late_interaction, rerank, sharpen, token_matches
from qa.search import Scored
from qa.store.base import Candidate, EncodedPassage


def passage(text: str, sentences: tuple[tuple[int, int], ...], title: str = "T", n: int = 0) -> Passage:
    return Passage(
        passage_id=f"{n:016x}",
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


WEIGHTS = Weights(sentence=0.5, lexical=0.06, token=2.0)


def read_again(p: Passage, pieces: list[list[float]], sentences: list[list[float]]) -> EncodedPassage:
    """The passage as the model reads it at question time: its own pieces and sentence vectors."""
    return EncodedPassage(p, np.array(sentences[0]), np.array(sentences), pieces_of(p, pieces, coarse=False))


QUESTION = Pieces(ids=np.array([5, 6]), vectors=np.array([[1.0, 0.0], [0.0, 1.0]]), ends=np.array([1, 2]))
QUERY = np.array([0.8, 0.6])


def pieces_of(p: Passage, vectors: list[list[float]], coarse: bool) -> Pieces:
    shift = len(p.titled_text) - len(p.text)
    ends = shift + np.linspace(1, len(p.text), len(vectors)).astype(np.int32)
    return Pieces(np.arange(len(vectors), dtype=np.int32), np.array(vectors), ends, coarse)


def coarse_head(vectors: list[list[list[float]]]) -> list[Scored]:
    """Passages of one sentence each, reranked on the coarse pieces given."""
    passages = [passage(f"text {n}.", ((0, 7),), n=n) for n in range(len(vectors))]
    sentences = np.array([[0.8, 0.6]])
    first = [
        Scored(Candidate(n, p, 0.5, sentences), 0.5, 0.9, 0.0, sentences @ QUERY, 0) for n, p in enumerate(passages)
    ]
    stored = [pieces_of(p, v, coarse=True) for p, v in zip(passages, vectors, strict=True)]
    return rerank(first, QUESTION, stored, np.ones(10), WEIGHTS)


def test_the_passages_read_again_are_scored_on_the_models_pieces_and_the_others_move_as_they_did():
    # coarse pieces rate passage 0 low and passage 2 high; the model's rate passage 0 higher, passage 1 lower
    head = coarse_head([[[0.9, 0.44], [0.3, 0.95]], [[1.0, 0.0], [0.0, 1.0]], [[0.96, 0.28], [0.28, 0.96]]])
    exact = {
        0: read_again(head[0].passage, [[1.0, 0.0], [0.0, 1.0]], [[0.6, 0.8]]),
        1: read_again(head[1].passage, [[0.8, 0.6], [0.6, 0.8]], [[0.8, 0.6]]),
    }
    before = {s.passage.doc_id + s.passage.passage_id: s for s in head}
    out = sharpen(head, exact, QUESTION, QUERY, np.ones(10), WEIGHTS)
    assert [s.score for s in out] == sorted((s.score for s in out), reverse=True)
    by_id = {s.passage.passage_id: s for s in out}
    first, second, third = (by_id[f"{n:016x}"] for n in range(3))
    assert first.match is not None and second.match is not None and third.match is not None
    assert not first.match.pieces.coarse and first.match.score == pytest.approx(1.0)
    assert second.match.score == pytest.approx(0.8)
    assert first.sentence == pytest.approx(0.6 * 0.8 + 0.8 * 0.6)  # the sentence vector read again
    # the passage not read again keeps its coarse pieces, its late interaction moved by the mean change
    old = {n: before["a.txt" + f"{n:016x}"].match for n in range(3)}
    shift = ((1.0 - old[0].score) + (0.8 - old[1].score)) / 2
    assert third.match.pieces.coarse
    assert third.match.score == pytest.approx(old[2].score + shift)
    assert third.match.sentence_scores == pytest.approx(old[2].sentence_scores + shift)
    assert third.score == pytest.approx(WEIGHTS.score(0.5, 0.9, 0.0, old[2].score + shift))


def test_nothing_read_again_leaves_the_head_as_it_was_and_exact_pieces_never_move():
    head = coarse_head([[[1.0, 0.0]], [[0.0, 1.0]]])
    assert sharpen(head, {}, QUESTION, QUERY, np.ones(10), WEIGHTS) == head
    exact = replace(head[1], match=replace(head[1].match, pieces=replace(head[1].match.pieces, coarse=False)))
    reread = {0: read_again(head[0].passage, [[0.0, 1.0]], [[0.8, 0.6]])}
    out = sharpen([head[0], exact], reread, QUESTION, QUERY, np.ones(10), WEIGHTS)
    assert exact in out  # its cosines are the model's already: no shift
