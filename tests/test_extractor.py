from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa import extractor
from qa.embed import ModelError

PASSAGE = (
    "Le Gouvernement de Mongolie et l'OIM ont signé un accord de coopération. « Nous sommes heureux de ce "
    "partenariat », a déclaré Pär Liljert, chef de mission de l'OIM en Mongolie. Pour plus d'informations, "
    "veuillez contacter Oyunbileg Rentsendorj, OIM Mongolie, Tel: +976 70143100."
)


def test_missing_weights_are_reported_with_the_remedy(tmp_path):
    with pytest.raises(ModelError, match="weights are missing.*reinstall"):
        extractor.ensure_extractor_model(tmp_path, tmp_path / "lost.npz")


def test_new_weights_build_a_new_model_file(tmp_path, monkeypatch):
    built: list[Path] = []
    monkeypatch.setattr(extractor, "build_once", lambda target, export: built.append(target) or target)
    weights = tmp_path / "w.npz"
    for value in (1.0, 2.0):
        np.savez(weights, lora_scale=np.array(value))
        extractor.ensure_extractor_model(tmp_path, weights)
    assert len(set(built)) == 2 and all(t.parent == tmp_path / "onnx" for t in built)


def test_a_failed_load_is_remembered_not_retried_at_every_question(monkeypatch):
    calls = []

    def broken(folder):
        calls.append(folder)
        raise ModelError("cannot load")

    extractor._load_default.cache_clear()
    monkeypatch.setattr(extractor, "Extractor", broken)
    try:
        for _ in range(3):
            with pytest.raises(ModelError, match="cannot load"):
                extractor.default_extractor()
        assert len(calls) == 1
    finally:
        extractor._load_default.cache_clear()


@pytest.fixture(scope="module")
def model() -> extractor.Extractor:
    return extractor.default_extractor()


@pytest.mark.slow
@pytest.mark.parametrize("question", ["Qui dirige l'OIM en Mongolie ?", "Who leads IOM Mongolia?"])
def test_it_points_at_the_head_of_mission_in_french_and_english(model, question):
    found = model.extract(question, PASSAGE)
    assert found is not None and PASSAGE[found.start : found.end] == "Pär Liljert"
    assert found.score > found.no_answer


@pytest.mark.slow
def test_its_span_is_whole_words_without_surrounding_punctuation(model):
    found = model.extract("Qu'ont signé le Gouvernement de Mongolie et l'OIM ?", PASSAGE)
    text = PASSAGE[found.start : found.end]
    assert "accord" in text and text == text.strip(" ,.;:«»")
    assert (found.start == 0 or not PASSAGE[found.start - 1].isalnum()) and not PASSAGE[found.end].isalnum()


@pytest.mark.slow
def test_a_passage_longer_than_the_model_reads_is_cut_not_refused(model):
    long = PASSAGE + " Autre phrase sans rapport." * 400
    found = model.extract("Qui dirige l'OIM en Mongolie ?", long)
    assert found is not None and long[found.start : found.end] == "Pär Liljert"
