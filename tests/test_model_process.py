"""The model in a process of its own (qa.model_process): the same index as a local run; a process that
dies ends the run and leaves the index in use; `qa index` uses it for one run with the ONNX model only."""

from __future__ import annotations

import argparse
import functools
import os

import pytest

from qa import cli
from qa.embed import get_embedder
from qa.indexer import update_index
from qa.model_process import ModelProcessError, ModelProcessRunner
from qa.retrieval import Retriever

from .conftest import write_corpus
from .test_cluster import articles, assert_same_index

HASH = functools.partial(get_embedder, "hash-model", "hash", "cpu")


def test_an_index_embedded_in_the_models_process_is_the_local_one(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", articles(6))
    update_index(corpus, tmp_path / "local", "hash-model", "hash")
    with ModelProcessRunner(HASH) as runner:
        report = update_index(corpus, tmp_path / "child", "hash-model", "hash", runner=runner)
    assert report.added == sorted(articles(6))
    assert_same_index(tmp_path / "child", tmp_path / "local")


class DyingEmbedder:
    """The hash embedder, but its process ends as soon as it is asked to embed (killed, out of memory)."""

    def __init__(self) -> None:
        self._embedder = HASH()

    def __getattr__(self, name):
        return getattr(self._embedder, name)

    def encode_documents(self, texts):
        os._exit(1)


def test_a_model_process_that_dies_ends_the_run_and_leaves_the_index_in_use(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", articles(3))
    store = tmp_path / "index"
    update_index(corpus, store, "hash-model", "hash")
    before = Retriever.open(store, corpus, "hash-model", "hash").retrieve("familles accueillies", k=3)
    write_corpus(corpus, articles(3, edited=" Une phrase ajoutée."))
    with ModelProcessRunner(DyingEmbedder) as runner, pytest.raises(ModelProcessError, match="exit code 1"):
        update_index(corpus, store, "hash-model", "hash", runner=runner)
    after = Retriever.open(store, corpus, "hash-model", "hash")
    assert after.retrieve("familles accueillies", k=3) == before
    assert not any("ajoutée" in hit.text for hit in after.retrieve("Une phrase ajoutée", k=3))


def failing_load():
    raise RuntimeError("no model here")


def test_a_model_that_cannot_load_in_its_process_says_why(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", articles(2))
    with ModelProcessRunner(failing_load) as runner, pytest.raises(ModelProcessError, match="no model here"):
        update_index(corpus, tmp_path / "index", "hash-model", "hash", runner=runner)
    assert not (tmp_path / "index" / "CURRENT").exists()


def index_args(backend: str, watch: bool) -> argparse.Namespace:
    return argparse.Namespace(ray=None, ray_workers=None, backend=backend, watch=watch, model="m", device="cpu")


def test_qa_index_loads_the_onnx_model_in_a_process_of_its_own_for_one_run_only(monkeypatch):
    monkeypatch.delenv("QA_RAY", raising=False)
    made = []
    monkeypatch.setattr(cli, "ModelProcessRunner", lambda load: made.append(load.args) or "runner")
    assert cli._runner(index_args("onnx", watch=False)) == "runner"
    assert made == [("m", "onnx", "cpu")]
    assert cli._runner(index_args("onnx", watch=True)) is None  # --watch keeps it loaded here
    assert cli._runner(index_args("hash", watch=False)) is None  # nothing to load


@pytest.mark.slow
def test_qa_index_with_the_onnx_model_in_its_process_builds_the_local_index(tiny_corpus, tmp_path):
    update_index(tiny_corpus, tmp_path / "local")  # the default model, in this process
    assert cli.main(["index", "--corpus", str(tiny_corpus), "--store", str(tmp_path / "child")]) == 0
    assert_same_index(tmp_path / "child", tmp_path / "local")
