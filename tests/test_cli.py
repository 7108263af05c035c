import io
import json

from qa.cli import main


def run(capsys, monkeypatch, *argv, stdin=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_json(capsys, monkeypatch, seed_index, seed_corpus):
    code, out, _ = run(capsys, monkeypatch, "ask", "Who leads IOM Mongolia?", "-k", "2", "--json",
                       "--index", str(seed_index), "--corpus", str(seed_corpus))
    assert code == 0
    record = json.loads(out)
    assert record["question"] == "Who leads IOM Mongolia?"
    assert [h["rank"] for h in record["hits"]] == [1, 2]
    first = record["hits"][0]
    assert "Pär Liljert" in first["text"]
    assert {"score", "answer", "doc_id", "title", "path", "start", "end"} <= set(first)


def test_ask_reads_one_question_per_line(capsys, monkeypatch, seed_index, seed_corpus):
    code, out, _ = run(capsys, monkeypatch, "ask", "-", "--json", "-k", "1",
                       "--index", str(seed_index), "--corpus", str(seed_corpus),
                       stdin="Who leads IOM Mongolia?\n\nphone number of IOM Mongolia\n")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["question"] for r in records] == ["Who leads IOM Mongolia?", "phone number of IOM Mongolia"]
    assert all(len(r["hits"]) == 1 for r in records)


def test_ask_reads_questions_from_stdin_as_text_too(capsys, monkeypatch, seed_index, seed_corpus):
    code, out, _ = run(capsys, monkeypatch, "ask", "-", "-k", "1",
                       "--index", str(seed_index), "--corpus", str(seed_corpus),
                       stdin="Who leads IOM Mongolia?\nphone number of IOM Mongolia\n")
    blocks = out.strip().split("\n\n")
    assert code == 0 and [b.splitlines()[0] for b in blocks] == ["# Who leads IOM Mongolia?", "# phone number of IOM Mongolia"]
    assert all(b.splitlines()[1].startswith("[1] ") and "lines" in b for b in blocks)


def test_ask_prints_citations_for_people(capsys, monkeypatch, seed_index, seed_corpus):
    code, out, _ = run(capsys, monkeypatch, "ask", "Qui est le chef de mission de l'OIM en Mongolie ?",
                       "--index", str(seed_index), "--corpus", str(seed_corpus))
    assert code == 0 and out.startswith("[1] ") and "lines" in out and "Pär Liljert" in out


def test_errors_are_one_clear_line(capsys, monkeypatch, seed_index, seed_corpus, tmp_path):
    code, _, err = run(capsys, monkeypatch, "ask", "   ", "--index", str(seed_index), "--corpus", str(seed_corpus))
    assert code == 2 and "question is empty" in err
    code, _, err = run(capsys, monkeypatch, "ask", "x", "--index", str(seed_index), "--model", "no/such-model")
    assert code == 2 and "model" in err and "Traceback" not in err
    code, _, err = run(capsys, monkeypatch, "index", "--corpus", str(tmp_path / "none"), "--index", str(tmp_path / "i"))
    assert code == 2 and "corpus folder not found" in err
