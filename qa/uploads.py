"""Files added from the browser, saved into the corpus folder: a safe name, never over another file, not
twice the same content, within the upload limits."""

from __future__ import annotations

import os
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .ingest import SUFFIXES, is_article_name, path_in_corpus
from .limits import MAX_UPLOAD_NAME_CHARS, max_upload_bytes

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RUNS = re.compile(r"[-_.]{2,}")


class UploadError(ValueError):
    """A file that is not saved; the message says why, naming the file."""


def accepted_suffixes() -> tuple[str, ...]:
    """What can be added: every kind of file the corpus reader reads (text, web pages, PDFs, scanned ones
    too, Word files, images of text, collections), as it lists them itself."""
    return tuple(SUFFIXES)


def suffix_of(name: str, suffixes: Sequence[str] = SUFFIXES) -> str | None:
    """The one of ``suffixes`` that ``name`` ends with, the longest (``.jsonl.gz`` rather than ``.gz``)."""
    lowered = name.lower()
    return next((s for s in sorted(suffixes, key=len, reverse=True) if lowered.endswith(s)), None)


def size_text(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(1, round(size / 1024))} KB"


def safe_name(name: str, suffixes: Sequence[str] | None = None) -> str:
    """A file name that is safe to create in the corpus folder, from the name a browser sent:
    ASCII letters, digits, ``.``, ``_`` and ``-``; never a dot-file."""
    suffixes = accepted_suffixes() if suffixes is None else suffixes
    base = re.split(r"[\\/]", name)[-1]
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    suffix = suffix_of(ascii_name, suffixes)
    if suffix is None:
        raise UploadError(f"{base}: only {', '.join(suffixes)} files can be added")
    stem = ascii_name[: -len(suffix)]
    stem = _RUNS.sub("-", _UNSAFE.sub("-", stem)).strip("._-")[:MAX_UPLOAD_NAME_CHARS].strip("._-")
    return f"{stem or 'article'}{suffix}"


@dataclass(frozen=True)
class Saved:
    file: str  # relative to the corpus folder
    sent_as: str  # the name the browser sent
    created: bool  # False: the same file was already in the corpus
    note: str = field(default="")


def save_upload(corpus_dir: Path, source: Path, sent_as: str) -> Saved:
    """Save one uploaded file into the corpus folder, never over another file; raises UploadError."""
    corpus_dir = Path(corpus_dir)
    shown = re.split(r"[\\/]", sent_as)[-1]
    name = safe_name(sent_as)
    size = source.stat().st_size
    limit = max_upload_bytes()
    if size > limit:
        raise UploadError(f"{shown} is {size_text(size)}; files of up to {size_text(limit)} can be added")
    if size == 0:
        raise UploadError(f"{shown} is empty")
    data = source.read_bytes()
    same = _same_file(corpus_dir, data)
    if same is not None:
        return Saved(same, shown, created=False, note=f"already in the corpus as {same}, nothing to add")
    suffix = suffix_of(name) or Path(name).suffix
    stem = name[: -len(suffix)]
    staging = corpus_dir / f".upload-{uuid.uuid4().hex}.part"  # a dot-file: never read as an article
    staging.write_bytes(data)
    try:
        for number in range(1, 1000):
            candidate = name if number == 1 else f"{stem}-{number}{suffix}"
            try:
                _link_new(staging, path_in_corpus(corpus_dir, candidate))
            except FileExistsError:
                continue
            renamed = f"a different file named {name} is already in the corpus: saved as {candidate}"
            return Saved(candidate, shown, created=True, note="" if number == 1 else renamed)
    finally:
        staging.unlink(missing_ok=True)
    raise UploadError(f"{shown}: too many files of that name in the corpus")


def _link_new(staging: Path, target: Path) -> None:
    """Create ``target`` with the content of ``staging``; FileExistsError if it exists (never overwrites)."""
    try:
        os.link(staging, target)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links
        with target.open("xb") as out:
            out.write(staging.read_bytes())


def _same_file(corpus_dir: Path, data: bytes) -> str | None:
    """An article file of the corpus with exactly this content, if there is one."""
    for path in sorted(corpus_dir.rglob("*")):
        if is_article_name(path.name) and path.is_file():
            try:
                if path.stat().st_size == len(data) and path.read_bytes() == data:
                    return path.relative_to(corpus_dir).as_posix()
            except OSError:
                continue
    return None
