"""What the indexer remembers of the corpus files it read, so that an update reads only those that changed.

As git's index does for a work tree: for each file that gave articles, its
size, modification and change times (ns), taken just before it was read,
and the sha256 of its bytes. The next update does not open a file whose
size and times are the same; when they differ it hashes the bytes, and reads
the file only when those differ too (a file touched, or copied back, keeps
its articles unread). A file written (or its times set) less than
:data:`SETTLING_NS` before it was stamped is hashed the next time in any
case: a file system with coarse times could give a second write within that
window the same times.

A collection's stamp comes with the map of its blocks of lines (qa.ingest.line_map),
so that a changed collection is read only where it changed.

The limit of the method: a file whose content changed while its size and
both times stayed the same (a clock set back, a tool that restores times on
a file system with coarse times) is not read again; ``qa index --full``
reads every file.

The stamps are kept on this machine (file times mean nothing on another),
in the cache folder (qa.embed.default_cache_dir()), one file per corpus
folder and index, with a digest of the articles the index held after the
run that took them: they are used only while the index holds exactly those
articles. After a run from another corpus copy (another machine sharing a
PostgreSQL index), a full rebuild or a repair, every file is read again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .embed import default_cache_dir
from .ingest.line_map import LineMap

log = logging.getLogger(__name__)

SETTLING_NS = 2_000_000_000  # a file written this recently is hashed again next time (FAT times: 2 s)
FORGOTTEN_AFTER_S = 30 * 86_400  # stamps of corpora not indexed for this long are removed
_FOLDER = "corpus-stamps"


@dataclass(frozen=True)
class FileStamp:
    """A file as it was just before it was read."""

    size: int
    mtime_ns: int
    ctime_ns: int
    sha256: str  # of its bytes
    settled: bool  # False: written too shortly before it was stamped for its times to be trusted

    def same_times(self, info: os.stat_result) -> bool:
        return (self.size, self.mtime_ns, self.ctime_ns) == (info.st_size, info.st_mtime_ns, info.st_ctime_ns)


@dataclass
class CorpusStamps:
    """The stamps of one corpus folder for one index version; asked about each file before it is read."""

    known: dict[str, FileStamp]  # file (relative to the corpus) → its stamp when the index read it
    boilerplate: str = ""  # what the last reading of the .txt/.md files removed (UpdateReport.boilerplate)
    taken: dict[str, FileStamp] = field(default_factory=dict)  # this run's stamps, taken before reading
    line_maps: dict[str, LineMap] = field(default_factory=dict)  # collection → where its records lay then
    hashed: int = 0  # files whose bytes this run hashed

    def unchanged(self, rel: str, path: Path) -> bool:
        """Whether the file ``rel`` (at ``path``) is as it was when the index read it; stamps it."""
        try:
            info = path.stat()
            now = time.time_ns()
            before = self.known.get(rel)
            if before is not None and before.settled and before.same_times(info):
                self.taken[rel] = before
                return True
            digest = _sha256(path)
        except OSError:
            return False  # reading it will say why
        self.hashed += 1
        settled = now - max(info.st_mtime_ns, info.st_ctime_ns) > SETTLING_NS
        self.taken[rel] = FileStamp(info.st_size, info.st_mtime_ns, info.st_ctime_ns, digest, settled)
        return before is not None and before.sha256 == digest


@dataclass(frozen=True)
class StampsFile:
    """Where the stamps of one corpus folder and one index are kept, and what makes them hold."""

    corpus: str  # the corpus folder's real path
    store: str  # the index's location
    max_file_bytes: int  # the size limit the files were read with: another limit reads them again

    @property
    def path(self) -> Path:
        key = hashlib.sha256(f"{self.corpus}\0{self.store}".encode()).hexdigest()[:24]
        return default_cache_dir() / _FOLDER / f"{key}.json"

    def load(self, articles: Mapping[str, str]) -> CorpusStamps:
        """The stamps of the run after which the index held ``articles`` (doc_id → content hash);
        none when it held other articles then."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            held = [data["corpus"], data["store"], data["max_file_bytes"], data["articles"]]
            if held != [self.corpus, self.store, self.max_file_bytes, articles_digest(articles)]:
                return CorpusStamps({})
            known = {rel: FileStamp(*values) for rel, values in data["files"].items()}
            maps = {rel: LineMap.from_json(blocks) for rel, blocks in data.get("line_maps", {}).items() if rel in known}
            return CorpusStamps(known, str(data["boilerplate"]), line_maps=maps)
        except (OSError, ValueError, KeyError, TypeError):
            return CorpusStamps({})

    def save(
        self,
        articles: Mapping[str, str],
        stamps: Mapping[str, FileStamp],
        boilerplate: str,
        line_maps: Mapping[str, LineMap] | None = None,
    ) -> None:
        """Keep ``stamps`` (and the ``line_maps`` of their collections) for the next run, the index holding
        ``articles``; a cache: failing to write it costs the next run a full read, nothing else."""
        data = {
            "corpus": self.corpus,
            "store": self.store,
            "max_file_bytes": self.max_file_bytes,
            "articles": articles_digest(articles),
            "boilerplate": boilerplate,
            "files": {rel: [s.size, s.mtime_ns, s.ctime_ns, s.sha256, s.settled] for rel, s in sorted(stamps.items())},
            "line_maps": {rel: m.as_json() for rel, m in sorted((line_maps or {}).items()) if rel in stamps},
        }
        path = self.path
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
            os.replace(tmp, path)
            _forget_old(path.parent)
        except OSError as exc:
            log.info("could not keep the corpus stamps in %s (%s): the next update reads every file", path, exc)
        finally:
            tmp.unlink(missing_ok=True)


def articles_digest(articles: Mapping[str, str]) -> str:
    """One sha256 of the articles (doc_id → content hash) an index holds."""
    # "id\0hash" strings sort faster than pairs, and as their ids do (but for an id holding a NUL:
    # the digest is then another one, still the same for the same articles)
    return hashlib.sha256("\0".join(sorted(map("\0".join, articles.items()))).encode()).hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _forget_old(folder: Path) -> None:
    """Remove the stamps of corpora not indexed for :data:`FORGOTTEN_AFTER_S`."""
    limit = time.time() - FORGOTTEN_AFTER_S
    for path in folder.glob("*.json"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < limit:
                path.unlink()
