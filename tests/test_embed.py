"""Embedding backends: one model pass per text, pooled into passage, sentence and piece vectors."""

from __future__ import annotations

import numpy as np
import pytest

from qa.embed import ModelError, Pieces, TokenVectors, get_embedder
from qa.embed.base import length_sorted_batches, normalised
from qa.embed.hashing import HashingEmbedder
from qa.embed.onnx import onnx_file_name, quantisation_config


def tokens(hidden, ends, content) -> TokenVectors:
    hidden = np.array(hidden, dtype=np.float32)
    return TokenVectors(
        vector=normalised(hidden.mean(axis=0)),
        hidden=hidden,
        ids=np.arange(len(hidden)),
        ends=np.array(ends),
        content=np.array(content, dtype=bool),
    )


def test_span_vectors_pool_the_tokens_that_end_inside_each_span():
    t = tokens([[9, 9], [1, 0], [3, 0], [0, 2], [9, 9]], ends=[0, 3, 6, 10, 0], content=[0, 1, 1, 1, 0])
    spans = t.span_vectors([(0, 6), (6, 10), (10, 20)])
    np.testing.assert_allclose(spans[0], [1, 0])  # mean of the first two text tokens, normalised
    np.testing.assert_allclose(spans[1], [0, 1])
    np.testing.assert_allclose(spans[2], t.vector)  # no token: the text's own vector


def test_pieces_keep_word_pieces_of_the_text_only():
    t = tokens([[1, 0], [0, 1], [1, 1], [2, 0]], ends=[0, 4, 5, 0], content=[0, 1, 1, 0])
    mask = np.array([True, True, False, True])  # id 2 is punctuation
    pieces = Pieces.of(t, mask)
    assert pieces.ids.tolist() == [1] and pieces.ends.tolist() == [4]
    np.testing.assert_allclose(np.linalg.norm(pieces.vectors, axis=1), 1.0, rtol=1e-6)
    only_punctuation = Pieces.of(t, np.array([True, False, False, True]))
    assert only_punctuation.ids.tolist() == [1, 2]  # nothing but punctuation: keep what there is


def test_batches_group_similar_lengths_within_a_token_budget():
    lengths = [5, 300, 6, 290, 7, 8]
    batches = list(length_sorted_batches(lengths, max_tokens=600, max_batch=3))
    assert sorted(i for b in batches for i in b) == list(range(6))
    assert all(len(b) * max(lengths[i] for i in b) <= 600 for b in batches)
    assert batches[0] == [0, 2, 4]


def test_the_hash_backend_is_deterministic_and_word_based():
    a, b = HashingEmbedder(), HashingEmbedder()
    one, two = a.encode_documents(["Saruul Bat dirige le bureau", "Saruul Bat dirige le bureau"])
    np.testing.assert_array_equal(one.vector, b.encode_query("Saruul Bat dirige le bureau").vector)
    assert one.ends.tolist() == [6, 10, 17, 20, 27]
    related = float(a.encode_query("Saruul Bat").vector @ two.vector)
    unrelated = float(a.encode_query("pommes de terre").vector @ two.vector)
    assert related > unrelated + 0.3


def test_unknown_backend_and_missing_models_give_clear_errors():
    with pytest.raises(ModelError, match="unknown embedding backend 'gpu'"):
        get_embedder("x", "gpu")
    with pytest.raises(ModelError, match="no/such-model.*offline default"):
        get_embedder("no/such-model", "onnx")


def test_the_int8_file_is_named_for_the_processor():
    config = quantisation_config()
    assert config in {"arm64", "avx2", "avx512", "avx512_vnni"}
    assert onnx_file_name(config).startswith(f"onnx/model_qint8_{config}")


# ---------------------------------------------------------------- the real model (slow)

TEXTS = [
    "Pour plus d’informations, veuillez contacter Oyunbileg Rentsendorj OIM Mongolie Tel: +976 7014 3100",
    "« Cette consultation nationale a donné l’opportunité aux parties mongoles concernées de débattre », a déclaré "
    "Pär Liljert, chef de mission de l’OIM en Mongolie.",
    "Who leads IOM Mongolia?",
]


@pytest.fixture(scope="module")
def both():
    return get_embedder(backend="onnx"), get_embedder(backend="torch")


@pytest.mark.slow
def test_onnx_int8_vectors_agree_with_torch_float32(both):
    onnx, torch = both
    assert onnx.fingerprint != torch.fingerprint and onnx.dim == torch.dim == 384
    for a, b in zip(onnx.encode_documents(TEXTS), torch.encode_documents(TEXTS), strict=True):
        assert a.ids.tolist() == b.ids.tolist() and a.ends.tolist() == b.ends.tolist()
        assert float(a.vector @ b.vector) >= 0.99
        spans = [(0, 20), (20, len(TEXTS[0]))]
        assert np.sum(a.span_vectors(spans) * b.span_vectors(spans), axis=1).min() >= 0.98
    q_onnx, q_torch = onnx.encode_query(TEXTS[2]), torch.encode_query(TEXTS[2])
    assert float(q_onnx.vector @ q_torch.vector) >= 0.99


@pytest.mark.slow
def test_torch_backend_matches_sentence_transformers_encode(both):
    _, torch = both
    reference = torch.model.encode_document(TEXTS, normalize_embeddings=True)
    ours = np.stack([t.vector for t in torch.encode_documents(TEXTS)])
    np.testing.assert_allclose(ours, reference, atol=1e-5)


@pytest.mark.slow
def test_the_stored_sentence_vectors_are_the_late_chunked_ones(retriever):
    from qa.indexer import encode_passages
    from qa.store.piece_formats import FORMATS

    question = retriever.embedder.encode_query("Who leads IOM Mongolia?").vector
    (candidate,) = retriever.reader.search(question, k=1)
    (fresh,) = encode_passages(retriever.embedder, [candidate.passage])
    sentence_alone = retriever.embedder.encode_documents(
        [candidate.passage.text[slice(*candidate.passage.sentences[0])]]
    )
    assert float(sentence_alone[0].vector @ fresh.sentence_vectors[0]) < 0.99  # not the sentence read on its own
    # int8 activations are scaled per batch: the same, within a small tolerance; in the default format each is
    # kept in a 64-byte code (qa.store.piece_formats), whose decoding keeps a cosine of about 0.97
    stored = candidate.sentence_vectors
    coded = FORMATS[retriever.reader.manifest.settings.pieces].sentence_code_size(retriever.embedder.dim) > 0
    assert np.sum(stored * fresh.sentence_vectors, axis=1).min() > (0.95 if coded else 0.99)
    # nearer the sentence read within its passage than read on its own
    assert float(stored[0] @ fresh.sentence_vectors[0]) > float(stored[0] @ sentence_alone[0].vector)


def test_a_damaged_onnx_model_is_reported_when_first_used(tmp_path):
    from qa.embed.onnx import OnnxEmbedder

    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text('{"word_embedding_dimension": 384}')
    (tmp_path / "sentence_bert_config.json").write_text('{"max_seq_length": 512}')
    (tmp_path / "config_sentence_transformers.json").write_text("{}")
    (tmp_path / "tokenizer.json").write_text("{}")
    model = tmp_path / onnx_file_name(quantisation_config())
    model.parent.mkdir()
    model.write_bytes(b"not a model")
    embedder = OnnxEmbedder("damaged", tmp_path)  # loads in the background: no error yet
    assert embedder.dim == 384
    with pytest.raises(ModelError, match=f"cannot load {model}"):
        embedder.encode_query("Qui dirige l'OIM ?")
