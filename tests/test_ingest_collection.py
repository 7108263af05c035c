"""Collections: one document per JSON Lines record, cited by file, record and line."""

import gzip
import json
import tracemalloc

import pytest

from qa.chunking import chunk_document
from qa.ingest import load_corpus, read_document_text

RECORDS = [
    {"_id": "d0", "title": "Sport", "text": "Les dépenses des ménages représentent plus de 50 % de ces montants."},
    {
        "_id": "d1",
        "title": "<i>Climat</i>",
        "text": "La température moyenne a augmenté de 1,1 °C. Les glaciers reculent.",
    },
    {"id": 7, "text": "Un record sans titre,\nécrit sur deux lignes."},
]


def jsonl(records, extra_lines=()) -> str:
    lines = [json.dumps(r, ensure_ascii=False) for r in records] + list(extra_lines)
    return "\n".join(lines) + "\n"


def by_id(corpus):
    return {d.doc_id: d for d in corpus.documents}


def test_one_document_per_record(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "corpus.jsonl").write_text(jsonl(RECORDS), encoding="utf-8")
    docs = by_id(load_corpus(tmp_path))
    assert list(docs) == ["sub/corpus.jsonl#d0", "sub/corpus.jsonl#d1", "sub/corpus.jsonl#7"]
    d1 = docs["sub/corpus.jsonl#d1"]
    assert (d1.title, d1.path, d1.line_base) == ("Climat", "sub/corpus.jsonl", 1)
    assert d1.text == d1.source == RECORDS[1]["text"]
    untitled = docs["sub/corpus.jsonl#7"]
    assert untitled.title == "" and untitled.text == "Un record sans titre, écrit sur deux lignes."
    assert len({d.content_hash for d in docs.values()}) == 3


def test_citations_give_the_record_line_in_the_file(tmp_path):
    (tmp_path / "c.jsonl").write_text(jsonl(RECORDS), encoding="utf-8")
    docs = by_id(load_corpus(tmp_path))
    [passage] = chunk_document(docs["c.jsonl#d1"])
    assert (passage.line_start, passage.line_end) == (2, 2)
    assert (passage.start, passage.end) == (0, len(RECORDS[1]["text"]))
    assert passage.doc_id == "c.jsonl#d1" and passage.page is None
    assert read_document_text(tmp_path, "c.jsonl#d1") == RECORDS[1]["text"]


def test_editing_one_record_changes_only_its_hash(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(jsonl(RECORDS), encoding="utf-8")
    before = {d.doc_id: d.content_hash for d in load_corpus(tmp_path).documents}
    edited = [dict(r) for r in RECORDS]
    edited[1]["text"] += " Un ajout."
    path.write_text(jsonl(edited), encoding="utf-8")
    after = {d.doc_id: d.content_hash for d in load_corpus(tmp_path).documents}
    assert [d for d in before if before[d] != after[d]] == ["c.jsonl#d1"]


def test_bad_lines_are_reported_and_the_rest_is_read(tmp_path):
    bad = [
        "{not json",
        json.dumps({"_id": "x", "title": "Pas de texte"}),
        json.dumps(["une", "liste"]),
        json.dumps({"text": "Pas d'identifiant."}),
        json.dumps({"_id": "d0", "text": "Un doublon."}),
        json.dumps({"_id": "e", "text": "   "}),
    ]
    (tmp_path / "c.jsonl").write_text(jsonl(RECORDS[:1], bad) + "\n" + jsonl(RECORDS[1:2]), encoding="utf-8")
    loaded = load_corpus(tmp_path)
    assert [d.doc_id for d in loaded.documents] == ["c.jsonl#d0", "c.jsonl#d1"]
    assert loaded.documents[1].line_base == 8  # the blank line 8 counts: record d1 is on line 9
    reasons = dict(loaded.skipped)
    assert list(reasons) == [f"c.jsonl line {n}" for n in range(2, 8)]
    assert reasons["c.jsonl line 2"].startswith("invalid JSON")
    assert reasons["c.jsonl line 3"] == 'no "text" (a non-empty string)'
    assert reasons["c.jsonl line 4"] == "not a JSON object"
    assert reasons["c.jsonl line 5"] == 'no "_id" or "id" (a string)'
    assert reasons["c.jsonl line 6"] == "duplicate id 'd0' (first at line 1)"
    assert reasons["c.jsonl line 7"] == 'no "text" (a non-empty string)'


def test_gzipped_collections_and_record_size_limit(tmp_path):
    records = [*RECORDS, {"_id": "big", "text": "x" * 1_300_000}]
    with gzip.open(tmp_path / "c.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write(jsonl(records))
    loaded = load_corpus(tmp_path, max_file_bytes=1 << 20)
    assert [d.doc_id for d in loaded.documents] == ["c.jsonl.gz#d0", "c.jsonl.gz#d1", "c.jsonl.gz#7"]
    assert dict(loaded.skipped) == {"c.jsonl.gz line 4": "record of 1.2 MB, over the 1 MB limit (--max-file-mb)"}
    assert read_document_text(tmp_path, "c.jsonl.gz#7") == RECORDS[2]["text"]


def test_a_gzip_bomb_line_is_skipped_without_being_held(tmp_path):
    """A 64 MB line in a gzip file of about 64 KB: refused by its size, never held whole; the next line is read."""
    with gzip.open(tmp_path / "c.jsonl.gz", "wb") as f:
        f.write(jsonl(RECORDS[:1]).encode())
        f.write(b'{"_id": "bomb", "text": "')
        for _ in range(64):
            f.write(b"x" * 2**20)
        f.write(b'"}\n')
        f.write(jsonl(RECORDS[1:]).encode())
    tracemalloc.start()
    try:
        loaded = load_corpus(tmp_path, max_file_bytes=1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [d.doc_id for d in loaded.documents] == ["c.jsonl.gz#d0", "c.jsonl.gz#d1", "c.jsonl.gz#7"]
    assert dict(loaded.skipped) == {"c.jsonl.gz line 2": "record of 64.0 MB, over the 1 MB limit (--max-file-mb)"}
    assert peak < 8 * 2**20  # the line's first MB and one chunk at a time, not its 64 MB


def test_a_truncated_gzip_keeps_what_was_read(tmp_path):
    records = [
        {"_id": f"r{i}", "text": f"Le record numéro {i} parle de {i * 7919 % 1000} choses."} for i in range(3000)
    ]
    data = gzip.compress(jsonl(records).encode("utf-8"))
    (tmp_path / "c.jsonl.gz").write_bytes(data[: len(data) // 2])
    loaded = load_corpus(tmp_path)
    assert 0 < len(loaded.documents) < 3000
    assert [d.doc_id for d in loaded.documents[:2]] == ["c.jsonl.gz#r0", "c.jsonl.gz#r1"]
    assert [name for name, why in loaded.skipped if "cannot read past record" in why] == ["c.jsonl.gz"]


@pytest.mark.parametrize("text", ["Deux  espaces.", " Un espace devant.", "Une\ttabulation.", "Un <br> lien."])
def test_records_needing_cleaning_are_cleaned_with_offsets(tmp_path, text):
    (tmp_path / "c.jsonl").write_text(jsonl([{"_id": "a", "text": text}]), encoding="utf-8")
    [doc] = load_corpus(tmp_path).documents
    assert "  " not in doc.text and "\t" not in doc.text and "<br>" not in doc.text
    for ch, offset in zip(doc.text, doc.offsets.tolist(), strict=True):
        assert doc.source[offset] == ch or (ch == " " and doc.source[offset].isspace())


def test_known_records_are_recognised_without_being_read(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(jsonl(RECORDS), encoding="utf-8")
    first = load_corpus(tmp_path)
    known = {d.doc_id: d.content_hash for d in first.documents}
    edited = [dict(r) for r in RECORDS]
    edited[1]["text"] += " Un ajout."
    path.write_text(jsonl(edited, [json.dumps({"_id": "d0", "text": "Un doublon."})]), encoding="utf-8")
    again = load_corpus(tmp_path, known=known)
    assert [d.doc_id for d in again.documents] == ["c.jsonl#d1"]  # only the edited record is read
    assert again.documents[0].text.endswith("Un ajout.")
    assert again.unchanged == {"c.jsonl#d0": known["c.jsonl#d0"], "c.jsonl#7": known["c.jsonl#7"]}
    assert dict(again.skipped) == {"c.jsonl line 4": "duplicate id 'd0' (first at line 1)"}
    # the same line copied in another collection is that collection's own record
    (tmp_path / "other.jsonl").write_text(jsonl(RECORDS[:1]), encoding="utf-8")
    assert [d.doc_id for d in load_corpus(tmp_path, known=known).documents] == ["c.jsonl#d1", "other.jsonl#d0"]


def test_a_known_line_repeated_is_a_duplicate(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(jsonl([RECORDS[0], RECORDS[0]]), encoding="utf-8")
    known = {d.doc_id: d.content_hash for d in load_corpus(tmp_path).documents}
    again = load_corpus(tmp_path, known=known)
    assert again.documents == [] and list(again.unchanged) == ["c.jsonl#d0"]
    assert dict(again.skipped) == {"c.jsonl line 2": "duplicate id 'd0' (first at line 1)"}
