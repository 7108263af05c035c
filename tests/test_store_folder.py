"""The files store writes only into a folder that is its own, and removes only what it made there."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from qa.cli import main
from qa.indexer import update_index
from qa.store import StoreLocationError, open_store
from qa.store.faiss import FilesStore
from qa.store.folder import MADE, MARKER

from .conftest import ROOT
from .store_conformance import ARTICLES, write


def user_files(folder):
    """What a user keeps in a project folder, some of it named like the store's own folders."""
    made = {
        folder / "segments" / "holiday_photos" / "beach.jpg": b"\xff\xd8 a photo",
        folder / "gen-2024-report" / "report.txt": b"the yearly report",
        folder / "gen-20240101-120000-abcdef" / "notes.txt": b"named as a generation, but not one",
    }
    for path, data in made.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return made


def test_a_folder_of_other_things_is_refused_and_left_as_it_was(tmp_path, tiny_corpus, capsys):
    project = tmp_path / "proj"
    (project / "notes").mkdir(parents=True)
    (project / "notes" / "todo.txt").write_text("buy milk", encoding="utf-8")
    with pytest.raises(StoreLocationError, match=f"{project} is not empty and holds no index"):
        open_store(project)
    assert main(["index", "--backend", "hash", "--corpus", str(tiny_corpus), "--store", str(project)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds no index" in err
    assert sorted(p.name for p in project.iterdir()) == ["notes"]


def test_a_file_is_not_an_index_folder(tmp_path):
    (tmp_path / "index").write_text("x", encoding="utf-8")
    with pytest.raises(StoreLocationError, match="is a file"):
        open_store(tmp_path / "index")


def test_only_what_the_index_made_is_ever_removed(tmp_path):
    store = FilesStore(tmp_path / "proj")
    write(store, ARTICLES)
    assert (store.folder / MARKER).is_file()
    kept = user_files(store.folder)
    for round in range(3):  # each run prunes the generations and segments it no longer needs
        write(store, ARTICLES[round : round + 1])
    for path, data in kept.items():
        assert path.read_bytes() == data
    generations = [p for p in store.folder.glob("gen-*") if (p / MADE).is_file()]
    assert len(generations) == 2  # the index's own: the new one and the previous one
    assert set(store.open_reader().manifest.documents) == {a.doc_id for a in ARTICLES}


def test_an_empty_location_is_refused(tmp_path, tiny_corpus, capsys):
    for empty in ("", "  "):
        with pytest.raises(StoreLocationError, match="no index location given"):
            open_store(empty)
    assert main(["index", "--backend", "hash", "--corpus", str(tiny_corpus), "--store", ""]) == 2
    assert "no index location given" in capsys.readouterr().err


def test_an_empty_qa_store_variable_is_refused(tmp_path, tiny_corpus):
    """QA_STORE="" must not mean the current folder."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "gen-keep").mkdir()
    env = {**os.environ, "QA_STORE": "", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "qa", "index", "--backend", "hash", "--corpus", str(tiny_corpus)]
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "no index location given" in done.stderr
    assert sorted(p.name for p in work.iterdir()) == ["gen-keep"]


def as_written_by_the_previous_version(folder):
    """The index folder as versions before the marker left it."""
    (folder / MARKER).unlink()
    for made in folder.rglob(MADE):
        made.unlink()


def test_an_index_of_the_previous_version_opens_and_is_adopted(tmp_path, tiny_corpus):
    index = tmp_path / "index"
    update_index(tiny_corpus, index, backend="hash")
    update_index(tiny_corpus, index, backend="hash", full=True)  # two generations, and their segments
    as_written_by_the_previous_version(index)
    kept = user_files(index)
    assert len(open_store(index).open_reader().manifest.documents) == 3

    (tiny_corpus / "dakar.txt").write_text("Un bureau à Dakar\nMoussa Diop dirige le bureau.\n", encoding="utf-8")
    report = update_index(tiny_corpus, index, backend="hash")
    assert report.added == ["dakar.txt"]
    assert (index / MARKER).is_file()
    assert all((p / MADE).is_file() for p in index.glob("gen-*") if (p / "manifest.json").is_file())
    update_index(tiny_corpus, index, backend="hash", full=True)  # prunes what it adopted, nothing else
    for path, data in kept.items():
        assert path.read_bytes() == data
    assert len([p for p in index.glob("gen-*") if (p / MADE).is_file()]) == 2
    assert len(open_store(index).open_reader().manifest.documents) == 4


def test_indexes_kept_below_a_folder_do_not_make_it_foreign(tmp_path, tiny_corpus):
    """`qa eval` keeps its indexes in embeddings/eval/<name>: embeddings/ is still usable."""
    update_index(tiny_corpus, tmp_path / "embeddings" / "eval" / "set", backend="hash")
    update_index(tiny_corpus, tmp_path / "embeddings", backend="hash")
    assert len(open_store(tmp_path / "embeddings").open_reader().manifest.documents) == 3
    assert len(open_store(tmp_path / "embeddings" / "eval" / "set").open_reader().manifest.documents) == 3
