"""An update reads only the files that changed since the index read them (size and times, then bytes),
cleans only the articles that changed, and writes one segment: counted, not timed."""

from __future__ import annotations

import json
import os
import time

import pytest

from qa import file_stamps
from qa.indexer import update_index
from qa.ingest import folder
from qa.store import open_store, segments, vector_search

from .conftest import TINY_ARTICLES, write_corpus

PAGE = "<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>{body}</p></article></body></html>"
PAGES = {
    f"page-{i}.html": PAGE.format(
        title=f"Le bureau numéro {i}", body=f"Le bureau numéro {i} de l'OIM ouvre à Tromsø. " * (3 + i)
    )
    for i in range(5)
}
RECORDS = [{"_id": f"r{i}", "title": f"Note {i}", "text": f"La note numéro {i} parle de Dakar."} for i in range(4)]
MORE_TEXTS = {
    f"note-{i}.txt": f"Menu\nAccueil\nContact\nNote {i} sur la migration\nLe bureau {i} accueille {i + 3} agents.\n"
    for i in range(4)
}


@pytest.fixture
def settled(monkeypatch):
    """Stamps trusted at once, as for files written long before they were read (the files of these
    tests are written just before: their stamps would be checked again by hashing the next time)."""
    monkeypatch.setattr(file_stamps, "SETTLING_NS", -1)


class Counts:
    """Calls to what reads, cleans, hashes and writes."""

    def __init__(self, monkeypatch):
        self.calls: dict[str, list] = {}
        for module, name, label in [
            (folder, "_read_limited", "read"),
            (folder, "read_collection", "read collection"),
            (folder, "clean_document", "clean"),
            (file_stamps, "_sha256", "hash"),
            (segments, "SegmentBuilder", "segment"),
            (vector_search, "build_ivf", "ivf"),
        ]:
            self._count(monkeypatch, module, name, label)

    def _count(self, monkeypatch, module, name, label):
        real = getattr(module, name)
        self.calls[label] = []

        def counted(*args, **kwargs):
            self.calls[label].append(args[0] if args else None)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
        if name == "SegmentBuilder":
            from qa.store import files_writer

            monkeypatch.setattr(files_writer, name, counted)

    def __getitem__(self, label: str) -> int:
        return len(self.calls[label])

    def reset(self) -> None:
        for calls in self.calls.values():
            calls.clear()


@pytest.fixture
def counts(monkeypatch) -> Counts:
    return Counts(monkeypatch)


@pytest.fixture
def mixed_corpus(tmp_path, settled):
    """Saved pages, a collection and .txt articles."""
    corpus = write_corpus(tmp_path / "corpus", {**PAGES, **TINY_ARTICLES, **MORE_TEXTS})
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS)
    (corpus / "notes.jsonl").write_text(lines, encoding="utf-8")
    return corpus


def test_a_one_file_edit_reads_and_embeds_that_file_and_writes_one_segment(mixed_corpus, tmp_path, counts):
    index = tmp_path / "index"
    update_index(mixed_corpus, index, backend="hash")
    assert counts["read"] == len(PAGES) + len(TINY_ARTICLES) + len(MORE_TEXTS) and counts["read collection"] == 1
    counts.reset()

    page = mixed_corpus / "page-2.html"
    page.write_text(PAGES["page-2.html"].replace("ouvre", "ferme"), encoding="utf-8")
    report = update_index(mixed_corpus, index, backend="hash")
    assert report.changed == ["page-2.html"] and report.summary().startswith("+0 added, ~1 changed, -0 removed")
    assert [p.name for p in counts.calls["read"]] == ["page-2.html"] and counts["read collection"] == 0
    assert counts["clean"] == 0  # the .txt articles: not read, so not cleaned
    assert counts["hash"] == 1  # its size and times changed: its bytes are hashed
    assert (counts["segment"], counts["ivf"]) == (1, 0)
    assert report.boilerplate == "removed 3 boilerplate lines from 7 files (1 site)"  # as the last reading found

    counts.reset()
    report = update_index(mixed_corpus, index, backend="hash")  # nothing changed: nothing read or hashed
    assert not report.touched and report.unchanged == len(PAGES) + len(TINY_ARTICLES) + len(MORE_TEXTS) + 4
    assert (counts["read"], counts["read collection"], counts["clean"], counts["hash"]) == (0, 0, 0, 0)


def test_a_text_edit_reads_every_text_for_the_boilerplate_and_cleans_that_one(mixed_corpus, tmp_path, counts):
    index = tmp_path / "index"
    update_index(mixed_corpus, index, backend="hash")
    counts.reset()
    cairo = mixed_corpus / "cairo.txt"
    cairo.write_text(TINY_ARTICLES["cairo.txt"].replace("Amina Hassan", "Amina Farouk"), encoding="utf-8")
    report = update_index(mixed_corpus, index, backend="hash")
    assert report.changed == ["cairo.txt"] and report.passages_embedded > 0
    texts = len(TINY_ARTICLES) + len(MORE_TEXTS)
    assert sorted(p.suffix for p in counts.calls["read"]) == sorted([".md"] + [".txt"] * (texts - 1))
    assert counts["clean"] == 1 and counts["read collection"] == 0  # the others: as the index holds them
    assert report.boilerplate == "removed 3 boilerplate lines from 7 files (1 site)"


def test_a_touched_file_is_hashed_and_not_read(mixed_corpus, tmp_path, counts):
    index = tmp_path / "index"
    update_index(mixed_corpus, index, backend="hash")
    past = time.time_ns() - 60_000_000_000
    for path in mixed_corpus.iterdir():  # touched: the same bytes, other times
        os.utime(path, ns=(past, past))
    counts.reset()
    report = update_index(mixed_corpus, index, backend="hash")
    assert not report.touched and counts["read"] == counts["read collection"] == 0
    assert counts["hash"] == len(PAGES) + len(TINY_ARTICLES) + len(MORE_TEXTS) + 1
    counts.reset()
    update_index(mixed_corpus, index, backend="hash")  # their new times are kept: not hashed again
    assert counts["hash"] == 0


def test_new_content_under_the_old_size_and_modification_time_is_read(mixed_corpus, tmp_path, counts):
    """Its change time tells (no program can set it back)."""
    index = tmp_path / "index"
    update_index(mixed_corpus, index, backend="hash")
    page = mixed_corpus / "page-1.html"
    info = page.stat()
    page.write_text(PAGES["page-1.html"].replace("ouvre", "OUVRE"), encoding="utf-8")  # same size
    os.utime(page, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert (page.stat().st_size, page.stat().st_mtime_ns) == (info.st_size, info.st_mtime_ns)
    counts.reset()
    assert update_index(mixed_corpus, index, backend="hash").changed == ["page-1.html"]


def test_a_file_written_just_before_it_was_read_is_hashed_next_time(tiny_corpus, tmp_path, counts):
    index = tmp_path / "index"
    update_index(tiny_corpus, index, backend="hash")  # the fixture's files were written just now
    counts.reset()
    update_index(tiny_corpus, index, backend="hash")
    assert counts["hash"] == len(TINY_ARTICLES) and counts["read"] == 0


def test_full_reads_every_file(mixed_corpus, tmp_path, counts):
    index = tmp_path / "index"
    update_index(mixed_corpus, index, backend="hash")
    counts.reset()
    report = update_index(mixed_corpus, index, backend="hash", full=True)
    assert report.rebuilt_because == "a full rebuild was asked"
    assert counts["read"] == len(PAGES) + len(TINY_ARTICLES) + len(MORE_TEXTS) and counts["read collection"] == 1


def test_an_index_written_since_from_elsewhere_has_every_file_read(mixed_corpus, tmp_path, counts):
    """Stamps hold only for the articles the index held when they were taken."""
    index = tmp_path / "index"
    update_index(mixed_corpus, index, backend="hash")
    store = open_store(index)
    with store.writer(store.read_manifest().settings) as writer:  # another machine, another copy of the corpus
        writer.remove(["page-3.html"])
        writer.commit()
    counts.reset()
    report = update_index(mixed_corpus, index, backend="hash")
    assert report.added == ["page-3.html"]
    assert counts["read"] == len(PAGES) + len(TINY_ARTICLES) + len(MORE_TEXTS) and counts["read collection"] == 1


def test_skipped_files_and_bad_records_are_read_again_and_reported_each_time(mixed_corpus, tmp_path, counts):
    (mixed_corpus / "empty.txt").write_text("", encoding="utf-8")
    with open(mixed_corpus / "notes.jsonl", "a", encoding="utf-8") as f:
        f.write("{not json\n")
    index = tmp_path / "index"
    first = update_index(mixed_corpus, index, backend="hash")
    counts.reset()
    again = update_index(mixed_corpus, index, backend="hash")
    assert again.skipped == first.skipped and {name for name, _ in again.skipped} == {"empty.txt", "notes.jsonl line 5"}
    assert [p.name for p in counts.calls["read"]] == ["empty.txt"] and counts["read collection"] == 1
