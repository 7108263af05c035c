from __future__ import annotations

import numpy as np
import pytest

from qa import reader_model
from qa.embed import DEFAULT_MODEL, ModelError, model_folder

PASSAGE = (
    "Le Gouvernement de Mongolie et l'OIM ont signé un accord de coopération. « Nous sommes heureux de ce "
    "partenariat », a déclaré Pär Liljert, chef de mission de l'OIM en Mongolie. Pour plus d'informations, "
    "veuillez contacter Oyunbileg Rentsendorj, OIM Mongolie, Tel: +976 70143100."
)
ELSEWHERE = "Le Caire a accueilli la cinquième réunion mondiale des processus consultatifs régionaux sur la migration."


def test_missing_weights_are_reported_with_the_remedy(tmp_path):
    with pytest.raises(ModelError, match="weights are missing.*reinstall"):
        reader_model.ensure_reader_model(tmp_path, tmp_path / "lost.npz")


def test_a_failed_load_is_remembered_not_retried_at_every_question(monkeypatch):
    calls = []

    def broken(folder):
        calls.append(folder)
        raise ModelError("cannot load")

    reader_model._load_default.cache_clear()
    monkeypatch.setattr(reader_model, "ReaderModel", broken)
    try:
        for _ in range(3):
            with pytest.raises(ModelError, match="cannot load"):
                reader_model.default_reader_model()
        assert len(calls) == 1
    finally:
        reader_model._load_default.cache_clear()


@pytest.fixture(scope="module")
def model() -> reader_model.ReaderModel:
    return reader_model.default_reader_model()


@pytest.mark.slow
def test_new_weights_build_a_new_model_file(tmp_path):
    """The export's name carries the weights' hash: other weights, another file, the first one kept."""
    folder = model_folder(DEFAULT_MODEL)
    first = reader_model.ensure_reader_model(folder)
    with np.load(reader_model.WEIGHTS) as stored:
        changed = {name: stored[name] for name in stored.files}
    changed["answer_head.bias"] = changed["answer_head.bias"] + 1.0
    weights = tmp_path / "other.npz"
    np.savez(weights, **changed)
    second = reader_model.ensure_reader_model(folder, weights)
    try:
        assert second != first and second.is_file() and first.is_file()
        shifted = reader_model.ReaderModel(folder, weights).read("Qui dirige l'OIM en Mongolie ?", [PASSAGE])[0]
        plain = reader_model.ReaderModel(folder).read("Qui dirige l'OIM en Mongolie ?", [PASSAGE])[0]
        assert shifted.answers == pytest.approx(plain.answers + 1.0, abs=0.05)
    finally:
        second.unlink()


@pytest.mark.slow
@pytest.mark.parametrize("question", ["Qui dirige l'OIM en Mongolie ?", "Who leads IOM Mongolia?"])
def test_it_points_at_the_head_of_mission_in_french_and_english(model, question):
    found, other = model.read(question, [PASSAGE, ELSEWHERE])
    assert PASSAGE[found.start : found.end].startswith("Pär Liljert")
    assert found.answers > other.answers


@pytest.mark.slow
def test_its_span_is_whole_words_without_surrounding_punctuation(model):
    found = model.read("Qu'ont signé le Gouvernement de Mongolie et l'OIM ?", [PASSAGE])[0]
    text = PASSAGE[found.start : found.end]
    assert "accord" in text and text == text.strip(" ,.;:«»")
    assert (found.start == 0 or not PASSAGE[found.start - 1].isalnum()) and not PASSAGE[found.end].isalnum()


@pytest.mark.slow
def test_a_batch_reads_each_passage_as_if_alone(model):
    """The same words; the scores move a little, since int8 quantisation scales each batch as a whole."""
    alone = model.read("Qui dirige l'OIM en Mongolie ?", [PASSAGE])[0]
    together = model.read("Qui dirige l'OIM en Mongolie ?", [ELSEWHERE, PASSAGE, ELSEWHERE * 3])[1]
    assert (together.start, together.end) == (alone.start, alone.end)
    assert together.answers == pytest.approx(alone.answers, abs=0.5)


@pytest.mark.slow
def test_a_passage_longer_than_the_model_reads_is_cut_not_refused(model):
    long = PASSAGE + " Autre phrase sans rapport." * 400
    found = model.read("Qui dirige l'OIM en Mongolie ?", [long])[0]
    assert long[found.start : found.end].startswith("Pär Liljert")


def test_any_words_are_scored_by_the_pieces_they_begin_and_end_in():
    # pieces of "Pär Liljert dirige": (start, end, start logit, end logit)
    pieces = np.array([[0, 3, 2.0, -1.0], [4, 7, 0.5, -2.0], [7, 11, -1.0, 3.0], [12, 18, -3.0, 1.0]])
    reading = reader_model.Reading(1.0, 0, 11, 5.0, pieces)
    assert reading.score_of(0, 11) == 5.0  # "Pär Liljert": its own span, its own score
    assert reading.score_of(4, 11) == 3.5  # "Liljert"
    assert reading.score_of(5, 9) == 0.5 + 3.0  # words inside pieces count by the pieces holding them
    assert reading.score_of(12, 18) == -2.0
    assert reading.score_of(20, 25) == float("-inf")  # not read
    assert reader_model.Reading(1.0, 0, 0, float("-inf")).score_of(0, 3) == float("-inf")


def test_a_longer_candidate_is_scored_by_the_best_words_inside_it():
    # pieces of "Pär Liljert, chef": the model answers "Pär Liljert" (2.0 + 3.0), ending at "chef" scores -2.0
    pieces = np.array([[0, 3, 2.0, -1.0], [4, 11, 0.5, 3.0], [11, 12, -3.0, -2.0], [13, 17, -1.0, -4.0]])
    reading = reader_model.Reading(1.0, 0, 11, 5.0, pieces)
    assert reading.score_of(0, 17) == -2.0
    assert reading.best_within(0, 17) == 5.0
    assert reading.best_within(13, 17) == -5.0  # "chef" alone
    assert reading.best_within(20, 25) == float("-inf")  # not read


@pytest.mark.slow
def test_the_span_it_gives_scores_as_it_says(model):
    found = model.read("Qui dirige l'OIM en Mongolie ?", [PASSAGE])[0]
    assert found.score_of(found.start, found.end) == pytest.approx(found.span_score, abs=1e-4)


@pytest.mark.slow
def test_it_shares_the_embedding_models_tokenizer_and_pairs_as_the_tokenizer_would(model):
    from qa.embed import get_embedder

    assert model.tokenizer is get_embedder(DEFAULT_MODEL, "onnx").tokenizer  # parsed once per process
    own = type(model.tokenizer).from_file(str(model_folder(DEFAULT_MODEL) / "tokenizer.json"))
    own.no_padding()
    own.enable_truncation(reader_model.MAX_TOKENS, strategy="only_second")
    question = "Qui dirige l'OIM en Mongolie ?"
    passages = ["Pär Liljert dirige l'OIM en Mongolie.", "La migration en Mongolie. " * 120]
    expected = own.encode_batch(
        [(reader_model.QUESTION_PROMPT + question, reader_model.PASSAGE_PROMPT + p) for p in passages]
    )
    for got, want in zip(model._pairs(question, passages), expected, strict=True):
        assert (got.ids, got.offsets) == (want.ids, want.offsets)
        assert [s == 1 for s in got.sequence_ids] == [s == 1 for s in want.sequence_ids]


@pytest.mark.slow
def test_a_question_longer_than_the_model_reads_leaves_room_for_the_passage(model):
    (reading,) = model.read("Qui dirige l'OIM en Mongolie ? " * 200, ["Pär Liljert dirige l'OIM en Mongolie."])
    assert reading.has_span and len(reading.pieces) > 5
