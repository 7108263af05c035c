"""The files store on a disk that fills up: one line saying so, the index in use unchanged, nothing left over.

The disk is simulated: the store's modules open their files through a
:class:`FullDisk`, whose files fail as a real one does when it fills (ENOSPC
on the write that does not fit, and again when the file is closed with data
it could not write).
"""

from __future__ import annotations

import errno
import os

import pytest

from qa.cli import main
from qa.indexer import update_index
from qa.store import StoreUnavailable, generations, open_store, segments
from qa.store.folder import SEGMENTS


class FullDisk:
    def __init__(self, room: int):
        self.room, self.failures = room, 0

    def open(self, path, mode="r", *args, **kwargs):
        f = open(path, mode, *args, **kwargs)  # noqa: SIM115
        return _Filling(f, self) if set(mode) & {"w", "a", "x"} else f


class _Filling:
    def __init__(self, file, disk: FullDisk):
        self._file, self._disk, self._unwritten = file, disk, False

    def _full(self) -> OSError:
        self._unwritten = True
        self._disk.failures += 1
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def write(self, data):
        if len(data) > self._disk.room:
            raise self._full()
        self._disk.room -= len(data)
        return self._file.write(data)

    def flush(self):
        if self._unwritten:
            raise self._full()
        self._file.flush()

    def close(self):
        self._file.close()
        if self._unwritten:
            raise self._full()

    def __getattr__(self, name):
        return getattr(self._file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def fill(monkeypatch, module, room: int) -> FullDisk:
    disk = FullDisk(room)
    monkeypatch.setattr(module, "open", disk.open, raising=False)  # found before the built-in
    return disk


def leftovers(index) -> list[str]:
    return sorted(p.name for p in [*index.glob(".*.tmp"), *(index / SEGMENTS).glob(".*")])


def test_a_full_disk_during_a_first_build_says_so_in_one_line_and_leaves_nothing(
    tmp_path, tiny_corpus, monkeypatch, capsys
):
    """It used to end in two tracebacks (the second while abandoning) and leave .seg-*.tmp behind."""
    index = tmp_path / "index"
    disk = fill(monkeypatch, segments, room=3_000)
    assert main(["index", "--backend", "hash", "--corpus", str(tiny_corpus), "--store", str(index)]) == 2
    err = capsys.readouterr().err
    [error] = [line for line in err.splitlines() if line.startswith("qa: error: ")]  # the rest: progress bars
    assert disk.failures >= 1 and "Traceback" not in err
    assert error.startswith("qa: error: no space left on /") and error.endswith("the index in use is unchanged")
    assert leftovers(index) == [] and list((index / SEGMENTS).iterdir()) == []
    assert open_store(index).current_version() is None
    monkeypatch.undo()  # space again: the next run builds it
    assert len(update_index(tiny_corpus, index, backend="hash").added) == 3


@pytest.mark.parametrize("module", [segments, generations], ids=["the new segment", "piece_df.npy"])
def test_a_full_disk_during_an_update_keeps_the_index_in_use_and_no_orphan_segment(
    tiny_corpus, tiny_index, monkeypatch, module
):
    """It used to say "246692 requested and 137184 written" and leave the new segment behind."""
    store = open_store(tiny_index)
    before, segments_before = store.current_version(), sorted(p.name for p in (tiny_index / SEGMENTS).iterdir())
    (tiny_corpus / "dakar.txt").write_text("Un bureau à Dakar\nMoussa Diop le dirige.\n", encoding="utf-8")
    fill(monkeypatch, module, room=100)
    with pytest.raises(StoreUnavailable, match=r"^no space left on /.*; the index in use is unchanged$"):
        update_index(tiny_corpus, tiny_index, backend="hash")
    assert store.current_version() == before
    assert sorted(p.name for p in (tiny_index / SEGMENTS).iterdir()) == segments_before
    assert leftovers(tiny_index) == [] and sorted(p.name for p in tiny_index.glob("gen-*")) == [before]
    assert len(store.open_reader().manifest.documents) == 3
    monkeypatch.undo()
    assert update_index(tiny_corpus, tiny_index, backend="hash").added == ["dakar.txt"]


def test_other_write_failures_name_their_reason(tiny_corpus, tiny_index, monkeypatch):
    def refused(path, data):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(generations, "write_file", refused)
    from qa.store import files_writer

    monkeypatch.setattr(files_writer, "write_file", refused)
    with pytest.raises(StoreUnavailable, match=r"cannot write the index in .*Permission denied.*unchanged$"):
        update_index(tiny_corpus, tiny_index, backend="hash", full=True)
    assert len(open_store(tiny_index).open_reader().manifest.documents) == 3
    assert leftovers(tiny_index) == []
