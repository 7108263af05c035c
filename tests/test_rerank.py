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
    assert late_interaction(question @ passage_tokens.T) == pytest.approx(0.9)
    assert late_interaction(question @ np.zeros((0, 2)).T) == 0.0
    assert late_interaction(np.zeros((0, 2)) @ passage_tokens.T) == 0.0


def test_question_tokens_leave_out_prompt_specials_and_punctuation(embedder):
    tokenizer = embedder.model.tokenizer
    question = "Qui dirige l'OIM en Mongolie ?"
    pieces = tokenizer.convert_ids_to_tokens(tokenizer(question, add_special_tokens=False)["input_ids"])
    words = [p for p in pieces if any(ch.isalnum() for ch in p)]
    assert len(words) < len(pieces)  # "'" and "?" are pieces of their own
    query = embedder.encode_query_pieces(question)
    assert tokenizer.convert_ids_to_tokens(query.ids) == words
    assert query.vectors.shape == (len(words), embedder.dim)
    assert np.allclose(np.linalg.norm(query.vectors, axis=1), 1.0, atol=1e-5)
    assert len(embedder.encode_query_pieces("???").ids) >= 1  # nothing but punctuation still works


def test_the_same_pass_gives_the_question_vector(embedder):
    question = "Who leads IOM Mongolia?"
    expected = embedder.model.encode_query([question], normalize_embeddings=True, convert_to_numpy=True)[0]
    assert np.allclose(embedder.encode_query_pieces(question).vector, expected, atol=1e-5)


def test_document_pieces_know_where_they_end_in_the_text(embedder):
    texts = ["Un texte court.", "Le chef de mission, Pär Liljert, a déclaré."]
    short, long = embedder.encode_document_tokens(texts)
    assert short.vectors.shape[1] == long.vectors.shape[1] == embedder.dim
    assert len(short.vectors) == len(short.ends) < len(long.vectors) == len(long.ends)
    ends = [int(e) for e in long.ends if e > 0]  # 0: the "passage:" prompt
    assert ends == sorted(ends) and ends[-1] == len(texts[1])
    assert texts[1][: ends[-2]].endswith("déclaré")  # the last piece before "." ends the word
    assert embedder.encode_document_tokens([]) == []


def test_rare_word_pieces_weigh_more():
    question = np.array([[1.0, 0.0], [0.0, 1.0]])
    passage_tokens = np.array([[1.0, 0.0]])  # matches the first piece only
    assert late_interaction(question @ passage_tokens.T, np.array([3.0, 1.0])) == pytest.approx(0.75)
    assert late_interaction(question @ passage_tokens.T, np.array([1.0, 3.0])) == pytest.approx(0.25)


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
    for question in ["Who heads IOM in Mongolia?", "Qui dirige l'OIM en Mongolie ?"]:
        first, second = scorer.scores(embedder.encode_query_pieces(question), passages)
        assert first.score > second.score


def test_each_sentence_is_scored_on_its_own_pieces(embedder):
    text = "La saison des pluies a commencé tôt. Le numéro de téléphone du bureau est le +976 11 312 600."
    split = text.index(" Le numéro") + 1
    two_sentences = Passage(
        passage_id="p", doc_id="a.txt", title="OIM", text=text, position=0, start=0, end=len(text),
        line_start=1, line_end=1, sentences=((0, split - 1), (split, len(text))),
    )
    question = embedder.encode_query_pieces("What is the office's phone number?")
    [match] = TokenScorer(embedder).scores(question, [two_sentences])
    assert match.sentence_scores.shape == (2,)
    assert match.sentence_scores[1] > match.sentence_scores[0]
    assert match.score >= match.sentence_scores.max() - 1e-6  # the passage has every piece of its sentences


def test_passage_tokens_are_cached_and_the_cache_is_bounded(embedder, monkeypatch):
    scorer = TokenScorer(embedder, cache_size=2)
    encoded = []
    original = embedder.encode_document_tokens
    monkeypatch.setattr(embedder, "encode_document_tokens", lambda texts: encoded.extend(texts) or original(texts))
    a, b, c = passage("Premier passage."), passage("Deuxième passage."), passage("Troisième passage.")
    question = embedder.encode_query_pieces("passage")
    first = scorer.scores(question, [a, b])
    again = scorer.scores(question, [a, b])
    assert len(encoded) == 2
    assert np.allclose([m.score for m in first], [m.score for m in again], atol=1e-3)  # float16 cache
    scorer.scores(question, [c])  # pushes out the least recently used (a)
    scorer.scores(question, [a])
    assert len(encoded) == 4
    assert scorer.scores(question, []) == []
