"""An edited collection is read only where it changed (qa.ingest.line_map), the manifest's articles are
kept as columns (qa.store.documents), and a run that dies mid-update leaves the previous index in use:
counted, not timed."""

from __future__ import annotations

import json
import random

import pytest

from qa.indexer import update_index
from qa.ingest import collection, line_map
from qa.ingest.collection import read_collection
from qa.store import files_writer, open_store, vector_search
from qa.store.base import DocumentEntry, IndexSettings, Manifest
from qa.store.documents import DocumentTable, columns_of

LIMIT = 2**20


def record(i: int, extra: str = "") -> dict:
    return {"_id": f"r{i}", "title": f"Note {i}", "text": f"La note numéro {i} parle du bureau de Dakar.{extra}"}


def write_records(path, records, tail: str = "\n") -> None:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + tail, encoding="utf-8")


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of about three records, so that a collection of 60 records has twenty."""
    monkeypatch.setattr(line_map, "MAP_BLOCK", 200)


def indexed_collection(tmp_path, count: int) -> tuple:
    """(corpus, index, records): a corpus of one collection of ``count`` records, indexed."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    records = [record(i) for i in range(count)]
    write_records(corpus / "notes.jsonl", records)
    update_index(corpus, index, backend="hash")
    return corpus, index, records


class Calls:
    """Records parsed and lines hashed, counted."""

    def __init__(self, monkeypatch):
        self.parsed: list[bytes] = []
        self.hashed = 0
        parse, digest = collection._parse, collection.record_hash

        def counted_parse(line):
            self.parsed.append(line)
            return parse(line)

        def counted_hash(line):
            self.hashed += 1
            return digest(line)

        monkeypatch.setattr(collection, "_parse", counted_parse)
        monkeypatch.setattr(collection, "record_hash", counted_hash)

    def reset(self) -> None:
        self.parsed.clear()
        self.hashed = 0


def test_an_edited_record_is_the_only_record_parsed(tmp_path, small_blocks, monkeypatch):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    records = [record(i) for i in range(60)]
    write_records(corpus / "notes.jsonl", records)
    calls = Calls(monkeypatch)
    update_index(corpus, index, backend="hash")
    assert len(calls.parsed) == 60  # the first run reads every record

    for edited in (30, 0, 59):  # in the middle, the first line, the last line
        calls.reset()
        records[edited] = record(edited, " Texte mis à jour.")
        write_records(corpus / "notes.jsonl", records)
        report = update_index(corpus, index, backend="hash")
        assert report.changed == [f"notes.jsonl#r{edited}"] and report.unchanged == 59
        assert [json.loads(line)["_id"] for line in calls.parsed] == [f"r{edited}"]
        assert calls.hashed <= 6  # the lines of the block that changed (about three), not sixty
    entry = open_store(index).read_manifest().documents["notes.jsonl#r30"]
    text = next(open_store(index).open_reader().passages()).text
    assert entry.content_hash == collection.record_hash(json.dumps(records[30], ensure_ascii=False).encode())
    assert text  # the index opens and reads


def test_added_and_removed_records_are_found_between_the_unchanged_blocks(tmp_path, small_blocks, monkeypatch):
    corpus, index, records = indexed_collection(tmp_path, 60)
    calls = Calls(monkeypatch)
    write_records(corpus / "notes.jsonl", [*records[:20], record(100), *records[22:], record(101)])
    report = update_index(corpus, index, backend="hash")
    assert report.added == ["notes.jsonl#r100", "notes.jsonl#r101"]
    assert report.removed == ["notes.jsonl#r20", "notes.jsonl#r21"]
    assert sorted(json.loads(line)["_id"] for line in calls.parsed) == ["r100", "r101"]


def full_read(path):
    return read_collection(path, path.name, LIMIT)


def as_held(found) -> tuple[dict[str, str], dict[str, str]]:
    """(content hash → record id, doc_id → content hash) of what a read found, as an index holds it."""
    held = {d.doc_id: d.content_hash for d in found.documents} | found.unchanged
    return {h: d.partition("#")[2] for d, h in held.items()}, held


def outcome(found) -> tuple:
    documents = sorted((d.doc_id, d.content_hash, d.line_base) for d in found.documents)
    return documents, found.unchanged, sorted(found.bad)


EDITS = ["edit", "insert", "delete", "append", "blank", "duplicate", "bad json", "move"]


@pytest.mark.parametrize("seed", range(40))
def test_reading_with_a_map_finds_what_reading_the_whole_file_finds(tmp_path, small_blocks, seed):
    rng = random.Random(seed)
    path = tmp_path / "c.jsonl"
    lines = [json.dumps(record(i), ensure_ascii=False) for i in range(rng.randrange(1, 40))]
    eol = "\r\n" if seed % 4 == 1 else "\n"
    path.write_bytes((eol.join(lines) + eol).encode("utf-8"))
    first = full_read(path)
    known, held = as_held(first)
    held |= {f"other.jsonl#{record_id}": digest for digest, record_id in known.items()}  # as an index holds them
    for _ in range(rng.randrange(1, 4)):
        edit, at = rng.choice(EDITS), rng.randrange(len(lines) + 1)
        if edit == "edit" and at < len(lines):
            lines[at] = json.dumps(record(at, " Un ajout."), ensure_ascii=False)
        elif edit == "insert":
            lines.insert(at, json.dumps(record(1000 + at), ensure_ascii=False))
        elif edit == "delete" and at < len(lines):
            del lines[at]
        elif edit == "append":
            lines.append(json.dumps(record(2000 + at), ensure_ascii=False))
        elif edit == "blank":
            lines.insert(at, "")
        elif edit == "duplicate" and lines:
            lines.insert(at, lines[rng.randrange(len(lines))].replace("numéro", "no"))
        elif edit == "bad json":
            lines.insert(at, "{not json")
        elif edit == "move" and at < len(lines):
            lines.append(lines.pop(at))
    tail = "" if seed % 3 == 0 else eol  # some files end without a last line break
    path.write_bytes((eol.join(lines) + tail).encode("utf-8"))
    with_map = read_collection(path, path.name, LIMIT, None, held, first.line_map)
    assert outcome(with_map) == outcome(read_collection(path, path.name, LIMIT, known))
    if with_map.line_map is not None:  # its new map holds every record where it lies now: nothing to read
        _, held_now = as_held(with_map)
        again = read_collection(path, path.name, LIMIT, {}, held_now, with_map.line_map)
        assert again.lines_read == 0 and again.unchanged == held_now


def test_a_line_grown_at_the_end_of_a_file_without_a_last_break_is_read(tmp_path, small_blocks):
    path = tmp_path / "c.jsonl"
    write_records(path, [record(0), record(1)], tail="")
    first = full_read(path)
    known, held = as_held(first)
    write_records(path, [record(0), record(1, " Suite.")], tail="")
    found = read_collection(path, path.name, LIMIT, known, held, first.line_map)
    assert [d.doc_id for d in found.documents] == ["c.jsonl#r1"] and found.documents[0].text.endswith("Suite.")


def test_a_map_naming_a_record_the_index_does_not_hold_is_not_trusted(tmp_path, small_blocks):
    path = tmp_path / "c.jsonl"
    write_records(path, [record(i) for i in range(10)])
    first = full_read(path)
    known, held = as_held(first)
    del held["c.jsonl#r9"]
    write_records(path, [record(0, " Changé."), *[record(i) for i in range(1, 10)]])
    found = read_collection(path, path.name, LIMIT, known, held, first.line_map)
    assert found.lines_read == 10  # read whole, as without a map
    assert outcome(found) == outcome(read_collection(path, path.name, LIMIT, known))


def entry(i: int) -> DocumentEntry:
    return DocumentEntry(f"hash{i}", f"Titre {i}", (f"{i:016x}", f"{i + 1:016x}"), "2024-03-0" + str(i % 9 + 1))


def test_the_columns_of_a_manifest_behave_as_a_dict_of_entries_and_round_trip():
    plain = {f"doc{i}": entry(i) for i in range(6)}
    table = DocumentTable(columns_of(plain))  # as a manifest is read
    copy = table.copy()
    for documents in (plain, copy):  # what a writer does: remove, replace in place, add, add back
        del documents["doc1"]
        documents["doc2"] = entry(20)
        documents["doc9"] = entry(9)
        documents["doc1"] = entry(10)
        documents.pop("doc9")
    assert list(copy.items()) == list(plain.items()) and len(copy) == len(plain)
    assert "doc9" not in copy and "doc1" in copy and copy.get("doc9") is None
    assert list(table.items()) == [(f"doc{i}", entry(i)) for i in range(6)]  # the copy changed alone
    assert dict(copy.passage_counts()) == {d: 2 for d in plain}

    settings = IndexSettings(model="m", family="hashed words", backend="hash", dim=8, chunking={"size": 1})
    for documents in (plain, copy):
        read = Manifest.from_json(Manifest(settings, documents, 1.5, {"x": 1}).to_json())
        assert isinstance(read.documents, DocumentTable)
        assert list(read.documents.items()) == list(plain.items())
        assert read.content_hashes() == {d: e.content_hash for d, e in plain.items()}
        assert read.passage_count == 2 * len(plain) and read.date_of("doc2") == entry(20).date
        assert read.documents["doc2"] is read.documents["doc2"]  # made once: a reader asks again and again
        read.documents["doc2"] = entry(30)
        assert read.documents["doc2"] == entry(30)


def test_a_manifest_with_mismatched_columns_is_refused():
    columns = {"ids": ["a", "b"], "hashes": ["h"], "titles": ["t", "t"], "passages": ["p", "p"], "dates": [None] * 2}
    text = json.dumps({"settings": {}, "documents": columns, "created": 0, "extra": {}})
    with pytest.raises((ValueError, KeyError, TypeError)):
        Manifest.from_json(text)


def test_a_run_killed_before_it_names_its_generation_leaves_the_previous_one_in_use(
    tmp_path, small_blocks, monkeypatch
):
    corpus, index, records = indexed_collection(tmp_path, 30)
    store = open_store(index)
    before, held = store.current_version(), store.read_manifest().content_hashes()

    records[12] = record(12, " Texte mis à jour.")
    write_records(corpus / "notes.jsonl", records)

    def killed(*_args):
        raise KeyboardInterrupt  # the process ends here: its generation is written, not yet named

    monkeypatch.setattr(files_writer, "write_pointer", killed)
    with pytest.raises(KeyboardInterrupt):
        update_index(corpus, index, backend="hash")
    assert store.current_version() == before and store.read_manifest().content_hashes() == held
    assert len(list(store.open_reader().passages())) == 30  # the previous index answers
    assert not list(index.glob(".gen-*")) and len(list(index.glob("gen-*"))) == 1  # nothing half-written left

    monkeypatch.undo()
    monkeypatch.setattr(line_map, "MAP_BLOCK", 200)
    calls = Calls(monkeypatch)
    report = update_index(corpus, index, backend="hash")  # the next run finds the edit, from the kept map
    assert report.changed == ["notes.jsonl#r12"] and [json.loads(x)["_id"] for x in calls.parsed] == ["r12"]
    assert store.current_version() != before


def test_passages_that_left_do_not_count_towards_the_ivf_threshold(tmp_path, monkeypatch):
    """The live passages of the flat segments are counted from the manifest's columns less those that
    left: an IVF index is built once they reach the threshold, not before."""
    monkeypatch.setattr(vector_search, "ANN_THRESHOLD", 32)
    built: list[int] = []
    real = vector_search.build_ivf
    monkeypatch.setattr(vector_search, "build_ivf", lambda v, ids: built.append(len(ids)) or real(v, ids))
    corpus, index, records = indexed_collection(tmp_path, 30)  # one passage each
    write_records(corpus / "notes.jsonl", [*records[5:], *[record(100 + i) for i in range(6)]])
    report = update_index(corpus, index, backend="hash")
    assert (len(report.removed), len(report.added), built) == (5, 6, [])  # 31 live, 36 rows in all
    write_records(corpus / "notes.jsonl", [*records[5:], *[record(100 + i) for i in range(7)]])
    update_index(corpus, index, backend="hash")
    assert built == [32]


@pytest.mark.parametrize("seed", range(20))
def test_the_table_answers_as_a_dict_under_a_writers_changes(seed):
    rng = random.Random(seed)
    plain = {f"d{i}": DocumentEntry(f"h{i}", f"t{i}", tuple(f"{i}{j}" for j in range(i % 3)), None) for i in range(9)}
    table = DocumentTable(columns_of(plain))  # as a manifest is read
    for step in range(40):
        doc_id = f"d{rng.randrange(16)}"
        action = rng.choice(["set", "del", "items", "get", "copy"])
        if action == "set":
            plain[doc_id] = table[doc_id] = DocumentEntry(f"x{step}", "t", ("a",) * (step % 3), "2020-01-01")
        elif action == "del" and doc_id in plain:
            del plain[doc_id], table[doc_id]
        elif action == "items":
            assert list(table.items()) == list(plain.items()) and list(table.values()) == list(plain.values())
        elif action == "get":
            assert table.get(doc_id) == plain.get(doc_id)
        elif action == "copy":
            table = table.copy()
        assert list(table) == list(plain) and table.content_hashes() == {d: e[0] for d, e in plain.items()}
        assert dict(table.passage_counts()) == {d: len(e.passage_ids) for d, e in plain.items()}
        assert list(columns_of(table).ids) == list(plain)


def test_a_collection_written_while_it_is_read_has_its_change_found_next_time(tmp_path, small_blocks, monkeypatch):
    """The map is made of the bytes that were parsed: an edit landing once the lines are read is not
    taken for what was read (it would then never be read)."""
    path = tmp_path / "c.jsonl"
    records = [record(i) for i in range(30)]
    write_records(path, records)
    edited = [*records[:10], record(10, " Écrit pendant la lecture."), *records[11:]]
    real = collection._read_lines

    def then_written(*args):
        real(*args)
        write_records(path, edited)  # another program saves the file just after the lines were read

    monkeypatch.setattr(collection, "_read_lines", then_written)
    first = full_read(path)
    monkeypatch.setattr(collection, "_read_lines", real)
    known, held = as_held(first)
    assert held["c.jsonl#r10"] == collection.record_hash(json.dumps(records[10], ensure_ascii=False).encode())
    again = read_collection(path, path.name, LIMIT, None, held, first.line_map)
    assert [d.doc_id for d in again.documents] == ["c.jsonl#r10"]
