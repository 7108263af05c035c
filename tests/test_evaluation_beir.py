import json

import pytest

from qa.evaluation import load_beir
from qa.ingest.collection import read_collection


def _beir(folder, records, qrels, queries):
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries), encoding="utf-8")
    (folder / "qrels" / "dev.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in qrels), encoding="utf-8"
    )


def test_a_beir_corpus_is_read_as_a_collection_of_the_corpus(tmp_path):
    records = [
        {"_id": "d0", "title": "  Mission   OIM ", "text": "Saruul Bat  dirige\nla mission  à Oulan-Bator."},
        {"_id": "d1", "title": "", "text": "Le Caire accueille la réunion."},
    ]
    queries = [
        {"_id": "q0", "text": "Qui dirige ?", "metadata": {"answers": ["Saruul Bat"]}},
        {"_id": "q1", "text": "?"},
    ]
    _beir(tmp_path, records, [("q0", "d0", 1), ("q1", "d1", 0)], queries)
    documents, cases = load_beir(tmp_path)
    as_ingested = read_collection(tmp_path / "corpus.jsonl", "corpus.jsonl", 2**20).documents
    assert [(d.doc_id, d.title, d.text, d.path) for d in documents] == [
        (d.doc_id, d.title, d.text, d.path) for d in as_ingested
    ]
    assert documents[0].doc_id == "corpus.jsonl#d0" and documents[0].title == "Mission OIM"
    assert "  " not in documents[0].text
    # q1's only qrel has score 0: not a question of the set
    assert [(c.qid, c.answers, c.relevant_docs) for c in cases] == [
        ("q0", ("Saruul Bat",), frozenset({"corpus.jsonl#d0"}))
    ]


def test_an_unreadable_record_is_named(tmp_path):
    _beir(tmp_path, [{"_id": "d0", "text": ""}], [("q0", "d0", 1)], [{"_id": "q0", "text": "Qui ?"}])
    with pytest.raises(ValueError, match="corpus.jsonl line 1"):
        load_beir(tmp_path)
