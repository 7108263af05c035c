"""The files store searches each segment's vectors where they lie: an update writes its own segment and
no other vector file, the search over segments is the exact top k, and past the threshold a group of
segments is searched through one IVF index, built once."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from qa.chunking import Passage
from qa.embed import Pieces
from qa.store import EncodedPassage, IndexCorrupt, IndexSettings, StoreUnavailable, passage_key, vector_search, vectors
from qa.store.faiss import MANIFEST, POINTER, SEGMENTS, FilesStore

from .test_store_full_disk import fill, leftovers

DIM = 16
SETTINGS = IndexSettings(model="test-model", family="hashed words", backend="hash:16", dim=DIM, chunking={})


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def encoded(i: int, vector: np.ndarray) -> EncodedPassage:
    text = f"Article numéro {i}."
    passage = Passage(
        passage_id=hashlib.sha256(f"passage {i}".encode()).hexdigest()[:16],
        doc_id=f"a{i}.txt",
        title=f"Titre {i}",
        text=text,
        position=0,
        start=0,
        end=len(text),
        line_start=1,
        line_end=1,
        sentences=((0, len(text)),),
    )
    pieces = Pieces(ids=np.array([i % 50], dtype=np.int32), vectors=vector[None, :], ends=np.array([len(text)]))
    return EncodedPassage(passage, vector, vector[None, :], pieces)


def key(i: int) -> int:
    return passage_key(encoded(i, unit(0)).passage.passage_id)


class Corpus:
    """Articles of one passage each, with the vector each holds now."""

    def __init__(self, store: FilesStore):
        self.store, self.vectors = store, {}

    def write(self, vectors: dict[int, np.ndarray], remove=()) -> None:
        with self.store.writer(SETTINGS) as writer:
            writer.remove([f"a{i}.txt" for i in remove])
            for i, vector in vectors.items():
                writer.add(f"a{i}.txt", f"h{i}-{float(vector[0]):.6f}", f"Titre {i}", [encoded(i, vector)])
            writer.commit()
        for i in remove:
            del self.vectors[i]
        self.vectors.update(vectors)

    def exact(self, query: np.ndarray, k: int) -> list[int]:
        ids = list(self.vectors)
        scores = np.stack([self.vectors[i] for i in ids]) @ query
        return [key(ids[j]) for j in np.argsort(-scores)[:k]]


@pytest.fixture
def corpus(tmp_path) -> Corpus:
    return Corpus(FilesStore(tmp_path / "index"))


@pytest.fixture
def small_threshold(monkeypatch):
    monkeypatch.setattr(vector_search, "ANN_THRESHOLD", 1_000)


@pytest.fixture
def ivf_builds(monkeypatch) -> list[int]:
    """The size of every IVF index built."""
    built: list[int] = []
    real = vector_search.build_ivf
    monkeypatch.setattr(vector_search, "build_ivf", lambda v, ids: built.append(len(ids)) or real(v, ids))
    return built


def test_the_search_over_segments_is_the_exact_top_k(corpus):
    corpus.write({i: unit(i) for i in range(100)})
    corpus.write({i: unit(i) for i in range(100, 200)})
    corpus.write({i: unit(1_000 + i) for i in range(0, 200, 7)}, remove=range(1, 200, 9))  # changed, removed
    reader = corpus.store.open_reader()
    assert len(reader) == len(corpus.vectors)
    for seed in range(20):
        query = unit(5_000 + seed)
        assert [c.key for c in reader.search(query, 10)] == corpus.exact(query, 10)
    removed = unit(10)  # a10.txt was removed: its old vector finds other passages
    assert key(10) not in [c.key for c in reader.search(removed, 10)]


def files(folder) -> dict:
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*") if p.is_file()}


def test_an_update_writes_one_segment_and_no_other_vector_file(corpus, ivf_builds):
    corpus.write({i: unit(i) for i in range(300)})
    before = files(corpus.store.folder)
    corpus.write({7: unit(7_000)})  # one article edited
    written = {p for p, stamp in files(corpus.store.folder).items() if before.get(p) != stamp}
    generation = corpus.store.folder / corpus.store.current_version()
    [segment] = {p.parent for p in written if p.parent.parent.name == SEGMENTS}
    assert {p for p in written if "vectors" in p.name} == {segment / "vectors.f32"}
    outside = {p.relative_to(corpus.store.folder).as_posix() for p in written if p.parent != segment}
    assert outside == {POINTER, *(f"{generation.name}/{name}" for name in (".qa-made", MANIFEST, "piece_df.npy"))}
    assert ivf_builds == [] and json.loads((segment / "segment.json").read_text())["passages"] == 1
    assert corpus.store.open_reader().search(unit(7_000), 1)[0].key == key(7)


def group_count(store: FilesStore) -> int:
    return store.open_reader().vectors.group_count


def test_segments_past_the_threshold_are_searched_through_one_ivf_index_built_once(corpus, small_threshold, ivf_builds):
    corpus.write({i: unit(i) for i in range(600)})
    assert ivf_builds == [] and group_count(corpus.store) == 0  # below the threshold: flat
    corpus.write({i: unit(i) for i in range(600, 1_200)})
    assert ivf_builds == [1_200] and group_count(corpus.store) == 1  # the two segments, one index
    reader = corpus.store.open_reader()
    assert all(reader.search(unit(i), 1)[0].key == key(i) for i in range(0, 1_200, 37))

    corpus.write({i: unit(9_000 + i) for i in range(5)}, remove=range(600, 610))  # into a flat segment
    assert ivf_builds == [1_200]  # the group is not rebuilt
    reader = corpus.store.open_reader()
    for i in range(600, 610):  # removed: left out of the group's search
        found = [c.key for c in reader.search(unit(i), 10)]
        assert key(i) not in found and len(found) == 10
    for i in range(5):  # changed: found by their new vector, in the flat segment
        assert reader.search(unit(9_000 + i), 1)[0].key == key(i)
    hits = sum(len(set(c.key for c in reader.search(q, 10)) & set(corpus.exact(q, 10))) for q in map(unit, range(50)))
    assert hits / 500 >= 0.9

    corpus.write({i: unit(i) for i in range(1_200, 2_200)})  # the flat segments cross the threshold again
    assert ivf_builds == [1_200, 1_005] and group_count(corpus.store) == 2
    assert corpus.store.open_reader().search(unit(2_000), 1)[0].key == key(2_000)


def test_a_group_goes_with_its_last_live_passage(corpus, small_threshold):
    corpus.write({i: unit(i) for i in range(1_000)})
    host = corpus.store.open_reader().manifest.extra["groups"][0]["host"]
    corpus.write({1_000: unit(1_000)}, remove=range(999))
    assert group_count(corpus.store) == 1  # one passage of the group is still live
    corpus.write({1_001: unit(1_001)}, remove=[999])
    corpus.write({1_002: unit(1_002)})  # the generation before this one no longer uses it either
    assert group_count(corpus.store) == 0 and not (corpus.store.folder / SEGMENTS / host).exists()
    assert corpus.store.open_reader().search(unit(1_000), 1)[0].key == key(1_000)


def test_a_damaged_ivf_index_is_reported_and_its_articles_embedded_again(corpus, small_threshold):
    corpus.write({i: unit(i) for i in range(1_000)})
    host = corpus.store.folder / SEGMENTS / corpus.store.open_reader().manifest.extra["groups"][0]["host"]
    path = host / vectors.IVF_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    from qa.store import faiss as files

    files._segment_cache.clear()  # as in a fresh process
    with pytest.raises(IndexCorrupt, match="vectors.ivf"):
        corpus.store.open_reader()
    with corpus.store.writer(SETTINGS) as writer:
        assert writer.repair is not None and len(writer.repair.doc_ids) == 1_000


def test_a_full_disk_while_the_ivf_index_is_written_keeps_the_index_in_use(corpus, small_threshold, monkeypatch):
    corpus.write({i: unit(i) for i in range(600)})
    before = corpus.store.current_version()
    fill(monkeypatch, vectors, room=100)
    with pytest.raises(StoreUnavailable, match=r"^no space left on /.*; the index in use is unchanged$"):
        corpus.write({i: unit(i) for i in range(600, 1_200)})
    assert corpus.store.current_version() == before and leftovers(corpus.store.folder) == []
    assert len(corpus.store.open_reader()) == 600


def test_a_generation_with_one_vector_file_for_all_still_opens_and_is_updated(corpus):
    """Indexes written before vectors were searched per segment: their segments hold the vectors too."""
    corpus.write({i: unit(i) for i in range(50)})
    generation = corpus.store.folder / corpus.store.current_version()
    (generation / "vectors.faiss").write_bytes(b"every vector, in the layout of then")
    data = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
    del data["extra"]["groups"]
    data["extra"]["files"]["vectors.faiss"] = hashlib.sha256(b"every vector, in the layout of then").hexdigest()
    data["settings"].update(format_version=3, backend="hash:16")
    del data["settings"]["family"]
    text = json.dumps(data).encode("utf-8")
    (generation / MANIFEST).write_bytes(text)
    (corpus.store.folder / POINTER).write_text(f"{generation.name} {hashlib.sha256(text).hexdigest()}\n")
    query = unit(123)
    assert [c.key for c in corpus.store.open_reader().search(query, 5)] == corpus.exact(query, 5)
    corpus.write({50: unit(50)})
    assert [c.key for c in corpus.store.open_reader().search(query, 5)] == corpus.exact(query, 5)
