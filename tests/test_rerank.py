import numpy as np
import pytest

from qa.chunking import Passage
from qa.embedding import DEFAULT_MODEL, Embedder
from qa.rerank import TokenScorer, late_interaction


def passage(text: str, title: str = "Article") -> Passage:
    return Passage(
        passage_id=str(abs(hash(text))), doc_id="a.txt", title=title, text=text,
        position=0, start=0, end=len(text), line_start=1, line_end=1, sentences=((0, len(text)),),
    )


@pytest.fixture(scope="module")
def embedder():
    return Embedder(DEFAULT_MODEL)


def test_late_interaction_is_the_mean_of_each_question_tokens_best_match():
    question = np.array([[1.0, 0.0], [0.0, 1.0]])
    passage_tokens = np.array([[1.0, 0.0], [0.6, 0.8]])
    # first question token: best 1.0; second: best 0.8
    assert late_interaction(question, passage_tokens) == pytest.approx(0.9)
    assert late_interaction(question, np.zeros((0, 2))) == 0.0
    assert late_interaction(np.zeros((0, 2)), passage_tokens) == 0.0


def test_question_tokens_leave_out_prompt_specials_and_punctuation(embedder):
    tokenizer = embedder.model.tokenizer
    question = "Qui dirige l'OIM en Mongolie ?"
    pieces = tokenizer.convert_ids_to_tokens(tokenizer(question, add_special_tokens=False)["input_ids"])
    words = [p for p in pieces if any(ch.isalnum() for ch in p)]
    assert len(words) < len(pieces)  # "'" and "?" are pieces of their own
    ids, vectors = embedder.encode_query_tokens(question)
    assert tokenizer.convert_ids_to_tokens(ids) == words
    assert vectors.shape == (len(words), embedder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert len(embedder.encode_query_tokens("???")[0]) >= 1  # nothing but punctuation still works


def test_document_tokens_one_matrix_per_text(embedder):
    matrices = embedder.encode_document_tokens(["Un texte court.", "Un texte un peu plus long que le premier."])
    assert [m.shape[1] for m in matrices] == [embedder.dim, embedder.dim]
    assert matrices[0].shape[0] < matrices[1].shape[0]
    assert embedder.encode_document_tokens([]) == []


def test_rare_word_pieces_weigh_more():
    question = np.array([[1.0, 0.0], [0.0, 1.0]])
    passage_tokens = np.array([[1.0, 0.0]])  # matches the first piece only
    assert late_interaction(question, passage_tokens, np.array([3.0, 1.0])) == pytest.approx(0.75)
    assert late_interaction(question, passage_tokens, np.array([1.0, 3.0])) == pytest.approx(0.25)


def test_idf_comes_from_the_indexed_passages(embedder):
    passages = [passage("Mongolie " + word) for word in ["un", "deux", "trois"]] + [passage("Liljert")]
    scorer = TokenScorer(embedder, passages)
    common, rare = (embedder.word_pieces([w])[0][-1] for w in ["Mongolie", "Liljert"])
    assert scorer._idf[rare] > scorer._idf[common]
    assert scorer.for_passages([passage("Liljert")])._idf[rare] < scorer._idf[rare]  # now in every passage


def test_the_passage_that_answers_scores_highest(embedder):
    scorer = TokenScorer(embedder)
    passages = [
        passage("Le chef de mission de l'OIM en Mongolie est Pär Liljert.", "OIM Mongolie"),
        passage("La saison des pluies a commencé tôt cette année au Soudan du Sud.", "Soudan du Sud"),
    ]
    english, french = (scorer.scores(q, passages) for q in ["Who heads IOM in Mongolia?", "Qui dirige l'OIM en Mongolie ?"])
    assert english[0] > english[1] and french[0] > french[1]


def test_passage_tokens_are_cached_and_the_cache_is_bounded(embedder, monkeypatch):
    scorer = TokenScorer(embedder, cache_size=2)
    encoded = []
    original = embedder.encode_document_tokens
    monkeypatch.setattr(embedder, "encode_document_tokens", lambda texts: encoded.extend(texts) or original(texts))
    a, b, c = passage("Premier passage."), passage("Deuxième passage."), passage("Troisième passage.")
    first = scorer.scores("passage", [a, b])
    again = scorer.scores("passage", [a, b])
    assert len(encoded) == 2 and np.allclose(first, again, atol=1e-3)  # float16 cache
    scorer.scores("passage", [c])  # pushes out the least recently used (a)
    scorer.scores("passage", [a])
    assert len(encoded) == 4
    assert scorer.scores("passage", []).shape == (0,)
