"""The `qa` command: one JSON object per question, clear one-line errors, batches that survive bad lines."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from qa.cli import main


def run(capsys, monkeypatch, *argv, stdin: bytes | None = None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def where(tiny_index, tiny_corpus):
    return ["--store", tiny_index, "--corpus", tiny_corpus, "--backend", "hash"]


def test_ask_json_prints_the_answer_record(capsys, monkeypatch, where):
    code, out, _ = run(capsys, monkeypatch, "ask", "Saruul Bat chef de mission", "-k", "2", "--json", *where)
    assert code == 0
    record = json.loads(out)
    assert {"question", "searched", "found", "hits"} <= set(record)
    assert record["question"] == "Saruul Bat chef de mission"
    assert [h["rank"] for h in record["hits"]] == [1, 2]
    first = record["hits"][0]
    assert "Saruul Bat" in first["text"] and first["doc_id"] == "mongolia.txt"
    assert {"score", "answer", "title", "path", "start", "end", "lines"} <= set(first)


def test_a_batch_goes_on_past_bad_lines(capsys, monkeypatch, where):
    stdin = b"Saruul Bat\n\xff\xfe bad\n\n" + b"x" * 3000 + b"\nTromso Ingrid Solvang\n"
    code, out, _ = run(capsys, monkeypatch, "ask", "-", "--json", "-k", "1", *where, stdin=stdin)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 2 and len(records) == 4
    assert records[0]["hits"] and records[3]["hits"]
    assert "not valid UTF-8" in records[1]["error"] and records[1]["line"] == 2
    assert "limit is 2,000" in records[2]["error"]


def test_a_long_line_in_a_batch_is_refused_by_its_size_and_echoed_cut(capsys, monkeypatch, where):
    stdin = b"Saruul Bat\n" + "é".encode() * 1_000_000 + b"\n" + b"y" * 3000 + b"\nTromso\n"
    code, out, _ = run(capsys, monkeypatch, "ask", "-", "--json", "-k", "1", *where, stdin=stdin)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 2 and [r.get("line") for r in records] == [None, 2, 3, None]
    assert records[0]["hits"] and records[3]["hits"]  # the batch goes on
    assert records[1]["error"] == "the question is 2,000,000 bytes long; the limit is 2,000 characters"
    assert records[1]["question"] == "é" * 200 + "… (2,000,000 bytes)"
    assert records[2]["error"] == "the question is 3,000 characters long; the limit is 2,000"
    assert records[2]["question"] == "y" * 200 + "… (3,000 characters)"
    assert len(out) < 10_000  # nothing like the 2 MB line


def test_a_question_of_emoji_only_is_one_clear_line(capsys, monkeypatch, where):
    code, out, err = run(capsys, monkeypatch, "ask", "🇲🇳", "--json", *where)
    assert (code, out) == (2, "")
    assert err == "qa: error: the question has no words in it, only symbols, emoji or punctuation\n"


def test_a_batch_prints_text_for_people_too(capsys, monkeypatch, where):
    code, out, _ = run(capsys, monkeypatch, "ask", "-", "-k", "1", *where, stdin=b"Saruul Bat\nTromso\n")
    blocks = [b for b in out.strip().split("\n\n") if b.startswith("# ")]
    assert code == 0 and [b.splitlines()[0] for b in blocks] == ["# Saruul Bat", "# Tromso"]


def test_errors_are_one_clear_line(capsys, monkeypatch, where, tmp_path):
    code, _, err = run(capsys, monkeypatch, "ask", "   ", *where)
    assert code == 2 and "question is empty" in err and "Traceback" not in err
    code, _, err = run(
        capsys,
        monkeypatch,
        "ask",
        "x",
        "--store",
        tmp_path / "no-index",
        "--corpus",
        tmp_path / "none",
        "--backend",
        "hash",
    )
    assert code == 2 and "corpus folder not found" in err
    code, _, err = run(capsys, monkeypatch, "ask", "x", "--model", "no/such-model", *where[:4])
    assert code == 2 and "no/such-model" in err and "Traceback" not in err


def test_an_undecodable_argument_gets_a_clear_message(tiny_index, tiny_corpus):
    command = [
        sys.executable,
        "-m",
        "qa",
        "ask",
        b"bad \xff arg",
        "--store",
        str(tiny_index),
        "--corpus",
        str(tiny_corpus),
        "--backend",
        "hash",
    ]
    done = subprocess.run(command, capture_output=True, timeout=60)
    assert done.returncode == 2
    assert b"not valid UTF-8" in done.stderr and b"Traceback" not in done.stderr


def test_a_bad_qa_max_file_mb_does_not_stop_qa_ask(tiny_index, tiny_corpus):
    """The setting is read by what uses it (indexing), not when `qa` is imported."""
    command = [sys.executable, "-m", "qa", "ask", "Saruul Bat", "--json", "-k", "1", "--backend", "hash"]
    command += ["--store", str(tiny_index), "--corpus", str(tiny_corpus)]
    env = dict(os.environ, QA_MAX_FILE_MB="abc", QA_MAX_UPLOAD_MB="-5")
    done = subprocess.run(command, capture_output=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["hits"][0]["doc_id"] == "mongolia.txt"


def test_index_reports_what_it_did(capsys, monkeypatch, tiny_corpus, tmp_path):
    code, out, _ = run(
        capsys, monkeypatch, "index", "--corpus", tiny_corpus, "--store", tmp_path / "i", "--backend", "hash"
    )
    assert code == 0 and "+3 added" in out
    code, out, _ = run(
        capsys, monkeypatch, "index", "--corpus", tiny_corpus, "--store", tmp_path / "i", "--backend", "hash"
    )
    assert code == 0 and "+0 added, ~0 changed, -0 removed, 3 unchanged" in out


# ---------------------------------------------------------------- the real model (slow)


@pytest.mark.slow
def test_ask_prints_citations_for_people(capsys, monkeypatch, seed_index, seed_corpus):
    code, out, _ = run(
        capsys,
        monkeypatch,
        "ask",
        "Qui est le chef de mission de l'OIM en Mongolie ?",
        "--store",
        seed_index,
        "--corpus",
        seed_corpus,
    )
    assert code == 0 and "[1] " in out and "lines" in out and "Pär Liljert" in out


def test_eval_measures_one_half_of_a_beir_set(capsys, monkeypatch, tmp_path):
    folder = tmp_path / "beir"
    (folder / "qrels").mkdir(parents=True)
    docs = [("d0", "Saruul Bat dirige la mission de l'OIM à Oulan-Bator."), ("d1", "Le Caire accueille la réunion.")]
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": "", "text": t}) + "\n" for i, t in docs), encoding="utf-8"
    )
    questions = [("q0", "Qui dirige la mission ?", "d0"), ("q1", "Où est la réunion ?", "d1")] * 2
    questions = [(f"{q}{n}", text, d) for n, (q, text, d) in enumerate(questions)]
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": q, "text": t, "metadata": {"answers": ["x"]}}) + "\n" for q, t, _ in questions),
        encoding="utf-8",
    )
    (folder / "qrels" / "dev.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, _, d in questions), encoding="utf-8"
    )
    where = ["--store", tmp_path / "index", "--backend", "hash", "--json"]
    figures = {}
    for half in ("even", "odd"):
        code, out, _ = run(capsys, monkeypatch, "eval", folder, "--half", half, *where)
        assert code == 0
        figures[half] = json.loads(out)["figures"]["all"]
    assert figures["even"]["n"] == figures["odd"]["n"] == 2
    assert figures["even"]["Hit@1"] == 1.0  # both even questions ask about d0, whose words they share
