"""The files store: the conformance suite, and what only a folder of files can suffer."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from qa.store import IndexCorrupt
from qa.store.faiss import MANIFEST, POINTER, SEGMENTS, FilesStore
from qa.store.generations import PIECE_DF

from .store_conformance import ARTICLES, SETTINGS, StoreConformance, write


class TestFilesStore(StoreConformance):
    @pytest.fixture
    def store(self, tmp_path):
        return FilesStore(tmp_path / "index")

    @pytest.fixture
    def other_store(self, store):
        return FilesStore(store.folder)


@pytest.fixture
def written(tmp_path):
    store = FilesStore(tmp_path / "index")
    write(store, ARTICLES)
    return store


def generation(store):
    return store.folder / store.current_version()


def a_segment(store):
    return next((store.folder / SEGMENTS).iterdir())


def test_truncated_vectors_are_reported_naming_the_file(written):
    path = a_segment(written) / "vectors.f32"
    path.write_bytes(path.read_bytes()[:100])
    from qa.store import faiss as files

    files._segment_cache.clear()  # as in a fresh process
    with pytest.raises(IndexCorrupt, match="vectors.f32"):
        written.open_reader()


def test_a_damaged_segment_file_is_reported(written):
    path = a_segment(written) / "sentences.f16"
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))
    from qa.store import faiss as files

    files._segment_cache.clear()  # as in a fresh process: segments are checked once per process
    with pytest.raises(IndexCorrupt, match="sentences.f16"):
        written.open_reader()


def test_an_edited_title_in_the_manifest_is_reported(written):
    path = generation(written) / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data["documents"]["titles"][data["documents"]["ids"].index("a.txt")] = "Un autre titre"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexCorrupt, match=MANIFEST):
        written.open_reader()


def test_a_truncated_manifest_is_reported(written):
    path = generation(written) / MANIFEST
    path.write_text(path.read_text(encoding="utf-8")[:-20], encoding="utf-8")
    with pytest.raises(IndexCorrupt, match=MANIFEST):
        written.open_reader()


def test_the_pointer_cannot_name_a_folder_outside(written):
    (written.folder / POINTER).write_text("../../etc\n", encoding="utf-8")
    with pytest.raises(IndexCorrupt, match=POINTER):
        written.open_reader()


def test_a_damaged_index_is_rebuilt_by_the_next_writer(written):
    (generation(written) / PIECE_DF).write_bytes(b"garbage")
    with written.writer(SETTINGS) as writer:
        assert writer.base is None and "unusable" in (writer.rebuilt_because or "")


def test_updates_add_segments_and_old_ones_are_removed_once_unused(written):
    first = {p.name for p in (written.folder / SEGMENTS).iterdir()}
    write(written, ARTICLES[:1])  # a.txt again: a new segment, the old one still holds b and c
    write(written, ARTICLES[1:])  # b and c again: the first segment is no longer used...
    write(written, [], remove=["c.txt"])  # ... by the two generations kept
    left = {p.name for p in (written.folder / SEGMENTS).iterdir()}
    assert not first & left
    assert len(list(written.folder.glob("gen-*"))) == 2
    assert set(written.open_reader().manifest.documents) == {"a.txt", "b.txt"}


def test_a_manifest_written_before_the_columns_still_opens(written):
    """Indexes written with one object per article keep working, and the next commit rewrites them."""
    path = generation(written) / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    columns, placement = data["documents"], data["extra"]["placement"]
    data["documents"] = {
        d: [h, t, p.split()]
        for d, h, t, p in zip(columns["ids"], columns["hashes"], columns["titles"], columns["passages"], strict=True)
    }
    data["extra"]["placement"] = {
        d: [placement["segments"][s], r]
        for d, s, r in zip(columns["ids"], placement["segment"], placement["row"], strict=True)
    }
    text = json.dumps(data).encode("utf-8")
    path.write_bytes(text)
    (written.folder / POINTER).write_text(f"{path.parent.name} {hashlib.sha256(text).hexdigest()}\n")
    reader = written.open_reader()
    assert len(reader) == sum(len(e.passage_ids) for e in reader.manifest.documents.values()) > 0
    assert {p.doc_id for p in reader.passages()} == {a.doc_id for a in ARTICLES}
    write(
        written, [], remove=[a.doc_id for a in ARTICLES[1:]]
    )  # a later update reads the old layout and writes the columns
    assert "ids" in json.loads((generation(written) / MANIFEST).read_text(encoding="utf-8"))["documents"]
    assert {p.doc_id for p in written.open_reader().passages()} == {ARTICLES[0].doc_id}


def segment_of(index, doc_id: str):
    from qa.store.generations import placement

    store = FilesStore(index)
    return index / SEGMENTS / placement(store.read_manifest())[doc_id][0]


def passages_of(index) -> dict:
    return {p.passage_id: p for p in FilesStore(index).open_reader().passages()}


DAKAR = "Nouveau bureau à Dakar\nDakar – Moussa Diop dirige le nouveau bureau de l'OIM au Sénégal.\n"


@pytest.mark.parametrize("damaged", ["passages.jsonl", "pieces.i8", "terms.npz"])
def test_a_damaged_segment_is_repaired_by_the_next_update(tiny_corpus, tiny_index, damaged, tmp_path):
    """`qa ask` reports the flipped byte; `qa index` used to say "unchanged" and leave it."""
    from qa.indexer import update_index
    from qa.store import faiss as files

    (tiny_corpus / "dakar.txt").write_text(DAKAR, encoding="utf-8")
    update_index(tiny_corpus, tiny_index, backend="hash")  # dakar.txt in a segment of its own
    before = passages_of(tiny_index)
    path = segment_of(tiny_index, "dakar.txt") / damaged
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    files._segment_cache.clear()  # as in a fresh process
    with pytest.raises(IndexCorrupt, match=damaged):
        FilesStore(tiny_index).open_reader()

    report = update_index(tiny_corpus, tiny_index, backend="hash")
    assert (report.repaired, report.added, report.changed, report.unchanged) == (["dakar.txt"], [], [], 3)
    assert damaged in report.summary() and ", 1 repaired (" in report.summary()
    assert report.passages_embedded == sum(p.doc_id == "dakar.txt" for p in before.values())
    files._segment_cache.clear()
    assert passages_of(tiny_index) == before
    fresh = tmp_path / "fresh"
    update_index(tiny_corpus, fresh, backend="hash")
    repaired, rebuilt = FilesStore(tiny_index).open_reader(), FilesStore(fresh).open_reader()
    np.testing.assert_allclose(repaired.piece_idf(), rebuilt.piece_idf())  # counts made again without it
    for question in ("Moussa Diop Dakar", "bureau Tromsø"):
        assert repaired.keyword_search(question, 5).keys.tolist() == rebuilt.keyword_search(question, 5).keys.tolist()
    assert not update_index(tiny_corpus, tiny_index, backend="hash").touched


def test_an_update_hashes_only_the_files_written_since_they_were_last_hashed(tiny_corpus, tiny_index, monkeypatch):
    from qa.indexer import update_index
    from qa.store import segments

    old = segment_of(tiny_index, "cairo.txt")
    hashed = []
    real = segments.sha256
    monkeypatch.setattr(segments, "sha256", lambda path: hashed.append(path) or real(path))
    (tiny_corpus / "dakar.txt").write_text(DAKAR, encoding="utf-8")
    update_index(tiny_corpus, tiny_index, backend="hash")
    assert [p for p in hashed if p.parent == old] == []  # unchanged since sealed: not read again
    (old / "pieces.i8").write_bytes((old / "pieces.i8").read_bytes())  # same bytes, written again
    hashed.clear()
    (tiny_corpus / "lima.txt").write_text("Un bureau à Lima\nRosa Quispe dirige le bureau.\n", encoding="utf-8")
    report = update_index(tiny_corpus, tiny_index, backend="hash")
    assert [p.name for p in hashed if p.parent == old] == ["pieces.i8"] and report.repaired == []


GARBAGE_POINTERS = {
    "empty": b"",
    "binary": b"\xff\xfe\x00\x81garbage",
    "leaving the folder": b"gen-x/../../k\n",
    "a generation that is not there": b"gen-20990101-000000-abcdef\n",
    "a folder": None,
}


@pytest.mark.parametrize("full", [False, True], ids=["update", "full"])
@pytest.mark.parametrize("garbage", GARBAGE_POINTERS, ids=list(GARBAGE_POINTERS))
def test_a_garbage_pointer_is_replaced_by_the_next_run(tiny_corpus, tiny_index, garbage, full):
    from qa.indexer import update_index

    before = passages_of(tiny_index)
    pointer = tiny_index / POINTER
    if GARBAGE_POINTERS[garbage] is None:
        pointer.unlink()
        (pointer / "notes").mkdir(parents=True)
    else:
        pointer.write_bytes(GARBAGE_POINTERS[garbage])
    with pytest.raises(IndexCorrupt, match=f"{POINTER}|gen-20990101-000000-abcdef"):
        FilesStore(tiny_index).open_reader()

    report = update_index(tiny_corpus, tiny_index, backend="hash", full=full)
    assert "CURRENT" in report.summary() and "replaced" in report.summary()
    # an update goes on from the last generation: nothing embedded again
    assert report.passages_embedded == (len(before) if full else 0)
    assert passages_of(tiny_index) == before
    if GARBAGE_POINTERS[garbage] is None:
        [aside] = tiny_index.glob("CURRENT.*.moved")
        assert (aside / "notes").is_dir()  # moved aside, not deleted
    assert not update_index(tiny_corpus, tiny_index, backend="hash").touched
