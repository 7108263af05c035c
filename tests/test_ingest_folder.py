"""The corpus folder: what is read, what is skipped and why, and the original text of a document."""

import logging
import os
import re

import pytest

from qa.ingest import SUFFIXES, CorpusError, is_article_name, load_corpus, path_in_corpus, read_document_text

ARTICLE = "Un titre\nUne première phrase. Une deuxième phrase.\n"


def skipped_reasons(corpus) -> dict[str, str]:
    return dict(corpus.skipped)


def test_links_leading_out_of_the_corpus_are_skipped(tmp_path, caplog):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Secret\nLe mot de passe est hunter2.\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "good.txt").write_text(ARTICLE, encoding="utf-8")
    os.symlink(outside / "secret.txt", corpus / "link.txt")
    os.symlink(outside, corpus / "linked_folder")
    os.symlink(corpus / "good.txt", corpus / "sub" / "alias.txt")  # inside: followed
    os.symlink(corpus / "missing.txt", corpus / "dangling.txt")
    with caplog.at_level(logging.WARNING):
        loaded = load_corpus(corpus)
    assert sorted(d.doc_id for d in loaded.documents) == ["good.txt", "sub/alias.txt"]
    assert all("hunter2" not in d.text and "hunter2" not in d.source for d in loaded.documents)
    reasons = skipped_reasons(loaded)
    assert reasons["link.txt"] == "links outside the corpus folder"
    assert reasons["linked_folder/"] == "links outside the corpus folder"
    assert reasons["dangling.txt"] == "broken link"
    assert "link.txt" in caplog.text and "outside the corpus" in caplog.text


def test_path_in_corpus_resolves_links(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.txt").write_text(ARTICLE, encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    os.symlink(outside, corpus / "out")
    os.symlink(outside / "x.txt", corpus / "c.jsonl")
    for doc_id in ["out/x.txt", "c.jsonl#1"]:
        with pytest.raises(CorpusError, match="outside"):
            path_in_corpus(corpus, doc_id)
    assert path_in_corpus(corpus, "a.jsonl#r/1").as_posix() == f"{corpus.resolve()}/a.jsonl#r/1"


def test_files_over_the_size_limit_are_skipped_with_the_limit_named(tmp_path, caplog):
    (tmp_path / "small.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "big.txt").write_text("Titre\n" + "Une phrase assez longue. " * 63_000, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        loaded = load_corpus(tmp_path, max_file_bytes=1 << 20)
    assert [d.doc_id for d in loaded.documents] == ["small.txt"]
    assert skipped_reasons(loaded) == {"big.txt": "1.5 MB, over the 1 MB limit (--max-file-mb)"}
    assert "skipping big.txt: 1.5 MB, over the 1 MB limit (--max-file-mb)" in caplog.text
    assert len(load_corpus(tmp_path, max_file_bytes=2 << 20).documents) == 2


def test_bad_files_are_skipped_with_a_reason(tmp_path, caplog):
    (tmp_path / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    (tmp_path / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage")
    (tmp_path / "notes.odt").write_bytes(b"PK\x03\x04")  # not an article suffix: not even listed
    (tmp_path / "cut.docx").write_bytes(b"PK\x03\x04")
    (tmp_path / ".hidden.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text(ARTICLE, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        loaded = load_corpus(tmp_path)
    assert [d.doc_id for d in loaded.documents] == ["good.txt"]
    reasons = skipped_reasons(loaded)
    assert set(reasons) == {"empty.txt", "binary.md", "broken.pdf", "cut.docx"}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["binary.md"] == "binary file (PNG image)"
    assert reasons["broken.pdf"].startswith("cannot read the PDF")
    assert reasons["cut.docx"] == "not a Word document (not a zip package)"
    for name in reasons:
        assert f"skipping {name}: " in caplog.text


def test_an_unreadable_folder_is_skipped_and_said_like_an_unreadable_file(tmp_path, monkeypatch, caplog):
    (tmp_path / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "sub" / "locked").mkdir(parents=True)
    (tmp_path / "sub" / "locked" / "hidden.txt").write_text(ARTICLE, encoding="utf-8")
    deny_listing(monkeypatch, "locked")  # chmod 000, which root (running the tests) would read anyway
    with caplog.at_level(logging.WARNING):
        loaded = load_corpus(tmp_path)
    assert [d.doc_id for d in loaded.documents] == ["good.txt"]
    assert loaded.skipped == [("sub/locked/", "cannot read it (Permission denied)")]
    assert "skipping sub/locked/: cannot read it (Permission denied)" in caplog.text
    deny_listing(monkeypatch, tmp_path.name)
    with pytest.raises(CorpusError, match=f"^cannot read the corpus folder {re.escape(str(tmp_path))}: Permission"):
        load_corpus(tmp_path)


def deny_listing(monkeypatch, name: str) -> None:
    """Listing a folder of this name fails as a folder without read permission does."""
    real = os.scandir

    def scandir(path="."):
        if os.path.basename(os.fspath(path)) == name:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_every_format_is_listed_and_watched():
    assert {".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".png", ".jpg", ".jsonl", ".jsonl.gz"} <= set(SUFFIXES)
    assert is_article_name("a.JSONL.GZ") and is_article_name("page.HTM") and is_article_name("Note.DOCX")
    assert not is_article_name("a.gz") and not is_article_name(".a.txt") and not is_article_name("a.odt")


def test_articles_come_in_a_sorted_order_from_every_folder(tmp_path):
    for name in ["b.txt", "a/z.md", "a/y.txt", "c.jsonl"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "c.jsonl").write_text('{"_id": "r", "text": "Le texte du record."}\n', encoding="utf-8")
    assert [d.doc_id for d in load_corpus(tmp_path).documents] == ["a/y.txt", "a/z.md", "b.txt", "c.jsonl#r"]


def test_original_text_is_decoded_as_the_indexer_read_it(tmp_path):
    texts = {
        "cp1252.txt": ("Titre\nÉté brûlant, l’œuvre coûte 5 €.\n", "cp1252"),
        "latin1.txt": ("Titre\nÉté brûlant à Séville.\n", "latin-1"),
        "utf16.md": ("# Titre\nÉté brûlant à Séville.\n", "utf-16"),
        "bom.txt": ("Titre\nÉté brûlant.\n", "utf-8-sig"),
    }
    for name, (text, encoding) in texts.items():
        (tmp_path / name).write_bytes(text.encode(encoding))
    (tmp_path / "c.jsonl").write_text('{"_id": "r1", "text": "Le texte du record."}\n', encoding="utf-8")
    indexed = {d.doc_id: d.source for d in load_corpus(tmp_path).documents}
    for name, (text, _) in texts.items():
        assert read_document_text(tmp_path, name) == indexed[name] == text
    assert read_document_text(tmp_path, "c.jsonl#r1") == indexed["c.jsonl#r1"] == "Le texte du record."


def test_original_text_that_cannot_be_read_names_the_article(tmp_path, monkeypatch):
    (tmp_path / "c.jsonl").write_text('{"_id": "r1", "text": "Le texte du record."}\n', encoding="utf-8")
    (tmp_path / "big.txt").write_text("Titre\n" + "Une phrase assez longue. " * 63_000, encoding="utf-8")
    (tmp_path / "folder.txt").mkdir()
    for doc_id, why in [
        ("missing.txt", "cannot read missing.txt: no such file"),
        ("c.jsonl#nope", "cannot read c.jsonl#nope: no record 'nope'"),
        ("folder.txt", "cannot read folder.txt: not a regular file"),
        ("../outside.txt", "points outside the corpus folder"),
    ]:
        with pytest.raises(CorpusError, match=re.escape(why)):
            read_document_text(tmp_path, doc_id)
    monkeypatch.setenv("QA_MAX_FILE_MB", "1")
    with pytest.raises(CorpusError, match=r"cannot read big.txt: 1.5 MB, over the 1 MB limit"):
        read_document_text(tmp_path, "big.txt")
