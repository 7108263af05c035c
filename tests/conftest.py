"""Shared fixtures: the real seed corpus, the real default model, one index built once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def seed_corpus() -> Path:
    return SEED_CORPUS


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Path:
    """An index of the seed corpus, built once with the default model."""
    from qa.indexer import update_index

    index_dir = tmp_path_factory.mktemp("seed-index")
    update_index(SEED_CORPUS, index_dir)
    return index_dir


@pytest.fixture(scope="session")
def retriever(seed_index):
    from qa.retrieval import Retriever

    return Retriever.open(seed_index, SEED_CORPUS, build_if_missing=False)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the seed corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, target)
    return target
