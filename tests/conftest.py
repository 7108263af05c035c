"""Shared fixtures.

Two kinds of tests:
- mechanics (the fast tier, ``pytest -m "not slow"``): tiny made-up corpora and
  the model-free ``hash`` backend;
- quality (marked ``slow``): the real seed corpus and the real default model.

Models built by the tests go to the pytest cache folder, never to the user's
cache, and indexes to temporary folders, never to ``embeddings/``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
SEED_CORPUS = ROOT / "corpus"
os.environ["QA_CACHE_DIR"] = str(ROOT / ".pytest_cache" / "qa-models")
os.environ.pop("QA_STORE", None)
os.environ.pop("QA_BACKEND", None)

TINY_ARTICLES = {
    "mongolia.txt": (
        "Menu\nAccueil\nContact\n"
        "L'OIM ouvre un bureau à Oulan-Bator\n"
        "Oulan-Bator – L'OIM a inauguré lundi un bureau dirigé par Saruul Bat, chef de mission.\n"
        "Le bureau emploiera douze personnes dès le mois de mars.\n\n"
        "Pour plus d'informations, veuillez contacter Tuya Erdene, Tel: +976 1111 2222, Email: terdene@iom.int\n"
    ),
    "cairo.txt": (
        "Menu\nAccueil\nContact\n"
        "Atelier sur la traite au Caire\n"
        "Le Caire – Un atelier de trois jours sur la traite des personnes a réuni 40 policiers égyptiens.\n"
        "Il était animé par Amina Hassan, experte de l'OIM.\n"
    ),
    "arctic.md": (
        "Menu\nAccueil\nContact\n"
        "# Un bureau pour l'Arctique à Tromsø\n"
        "Tromsø – L'OIM a ouvert hier un bureau consacré aux migrants de l'Arctique.\n"
        "Ingrid Solvang le dirige depuis le 3 mars 2024.\n"
    ),
}


def write_corpus(folder: Path, articles: dict[str, str] = TINY_ARTICLES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in articles.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    """Three short made-up articles sharing a site menu."""
    return write_corpus(tmp_path / "corpus")


@pytest.fixture
def tiny_index(tiny_corpus, tmp_path) -> Path:
    """The tiny corpus indexed with the hash backend into a fresh folder."""
    from qa.indexer import update_index

    store = tmp_path / "index"
    update_index(tiny_corpus, store, backend="hash")
    return store


@pytest.fixture
def tiny_retriever(tiny_corpus, tiny_index):
    from qa.retrieval import Retriever

    return Retriever.open(tiny_index, tiny_corpus, backend="hash")


# ---------------------------------------------------------------- the real model (slow tests)


@pytest.fixture(scope="session")
def seed_corpus() -> Path:
    return SEED_CORPUS


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Path:
    """An index of the seed corpus, built once with the default model and backend."""
    from qa.indexer import update_index

    index_dir = tmp_path_factory.mktemp("seed-index")
    update_index(SEED_CORPUS, index_dir)
    return index_dir


@pytest.fixture(scope="session")
def retriever(seed_index):
    from qa.retrieval import Retriever

    return Retriever.open(seed_index, SEED_CORPUS)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the seed corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, target)
    return target


REAL_MODEL_FIXTURES = {"seed_index", "retriever"}


def pytest_collection_modifyitems(items):
    """A test that needs the real model is slow, whether or not it says so."""
    for item in items:
        if REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


# ---------------------------------------------------------------- the database server (slow tests)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """A PostgreSQL server with pgvector for this test session (tests/postgres_server.py)."""
    from .postgres_server import TestServer

    server = TestServer(tmp_path_factory.mktemp("postgres"))
    yield server
    server.close()


@pytest.fixture
def postgres_uri(postgres_server) -> str:
    """A new, empty database on the session's server."""
    return postgres_server.uri(postgres_server.create_database())
