"""`qa index` tells what it skipped and what boilerplate it removed, and indexes the rest."""

import json
import os
import shutil

import pytest

from qa.cli import main

from .test_ingest_folder import deny_listing

LATIN1 = "Canicule à Séville\nLes températures ont dépassé 45 degrés à Séville, un record pour le mois de juin.\n"
UTF16 = "Sécheresse en Andalousie\nLes réserves d’eau de l’Andalousie sont tombées à 20 % de leur capacité.\n"


def test_index_reports_skipped_files_and_boilerplate(tmp_path, capsys, monkeypatch, seed_corpus):
    outside = tmp_path / "outside.txt"
    outside.write_text("Secret\nNe pas indexer ceci.\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    shutil.copytree(seed_corpus, corpus)
    os.symlink(outside, corpus / "link.txt")
    (corpus / "big.txt").write_text("Titre\n" + "Une phrase assez longue. " * 63_000, encoding="utf-8")
    (corpus / "seville.txt").write_bytes(LATIN1.encode("latin-1"))
    (corpus / "andalousie.txt").write_bytes(UTF16.encode("utf-16"))
    (corpus / "locked").mkdir()
    (corpus / "locked" / "x.txt").write_text("Titre\nUne phrase.\n", encoding="utf-8")
    deny_listing(monkeypatch, "locked")
    store = tmp_path / "store"
    args = ["index", "--backend", "hash", "--store", str(store), "--corpus", str(corpus), "--max-file-mb", "1"]

    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert "removed 21 boilerplate lines from 5 files (1 site)" in out
    assert "skipped big.txt: 1.5 MB, over the 1 MB limit (--max-file-mb)" in out
    assert "skipped link.txt: links outside the corpus folder" in out
    assert "skipped locked/: cannot read it (Permission denied)" in out
    assert "+7 added, ~0 changed, -0 removed, 0 unchanged" in out

    assert main(args) == 0  # nothing changed: nothing embedded, still reported
    out = capsys.readouterr().out.splitlines()
    assert "+0 added, ~0 changed, -0 removed, 7 unchanged" in out
    assert "skipped link.txt: links outside the corpus folder" in out

    ask = ["ask", "--backend", "hash", "--store", str(store), "--corpus", str(corpus), "--json", "-k", "10"]
    assert main([*ask, "températures Séville record juin"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert hits[0]["doc_id"] == "seville.txt" and hits[0]["title"] == "Canicule à Séville"
    assert all(h["doc_id"] not in ("link.txt", "big.txt") for h in hits)
    assert main([*ask, "réserves d’eau Andalousie capacité"]) == 0
    assert json.loads(capsys.readouterr().out)["hits"][0]["doc_id"] == "andalousie.txt"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("0", "must be more than 0"),
        ("-5", "must be more than 0"),
        ("inf", "must be a finite number of megabytes"),
        ("1e400", "must be a finite number of megabytes"),
        ("nan", "must be a finite number of megabytes"),
        ("1e300", "must be at most"),
        ("abc", "not a number of megabytes"),
    ],
)
def test_max_file_mb_must_be_a_finite_positive_number(capsys, tmp_path, value, problem):
    with pytest.raises(SystemExit) as exited:
        main(["index", "--backend", "hash", "--corpus", str(tmp_path), "--max-file-mb", value])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --max-file-mb: {problem}" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("value", "problem"), [("abc", "not a number of megabytes: 'abc'"), ("-5", "must be more than 0, not '-5'")]
)
def test_a_bad_qa_max_file_mb_stops_qa_index_with_one_line(capsys, monkeypatch, tmp_path, tiny_corpus, value, problem):
    monkeypatch.setenv("QA_MAX_FILE_MB", value)
    args = ["index", "--backend", "hash", "--corpus", str(tiny_corpus), "--store", str(tmp_path / "store")]
    assert main(args) == 2
    assert capsys.readouterr().err == f"qa: error: QA_MAX_FILE_MB: {problem}\n"
    assert not (tmp_path / "store").exists()
    assert main([*args, "--max-file-mb", "1"]) == 0  # the option, when given, is the limit
    assert "+3 added" in capsys.readouterr().out
