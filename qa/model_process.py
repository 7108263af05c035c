"""The model in a process of its own, loading while `qa index` reads the corpus and the index.

A one-off `qa index` after a small edit spends most of its time before the model is needed: opening the
index and finding what changed (about a second at 147k articles). Loading the ONNX model takes about as
long, most of it parsing its tokenizer's 250,000-piece vocabulary, which holds Python's interpreter lock:
in a thread of the same process it cannot overlap the rest (docs/benchmarks.md). In a child process it
does. The child is forked as the run starts, loads the model, says what it is, then embeds each group of
passages it is sent with :func:`qa.indexer.encode_passages`, the local code, so the index is the one a
local run builds. `qa index --watch` keeps the model in its own process instead: loaded once, it serves
every later update.

Only the parent writes, through the store's writer, which makes nothing visible before its commit: a
child that dies ends the run with :class:`ModelProcessError`, and the index in use stays as it was.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .chunking import Passage
from .embed import Embedder, ModelError, any_model_loaded
from .indexer import encode_passages
from .store import EncodedPassage


class ModelProcessError(ModelError):
    """The model's process failed or ended during a run: nothing was written."""


@dataclass(frozen=True)
class ModelIdentity:
    """What an index records of the model that embeds it (qa.indexer.index_settings)."""

    model_name: str
    backend: str
    fingerprint: str
    dim: int


class ModelProcessRunner:
    """An :class:`qa.indexer.EmbeddingRunner` whose model runs in a child process, started (and loading)
    as soon as this runner is made with ``load``, the run's own: make it first, then open the index."""

    def __init__(self, load: Callable[[], Embedder]) -> None:
        # Forked, the child starts with this process's modules imported; but only from a process of one
        # thread holding no model (a fork copies locks held by other threads, and not a model's native
        # threads): otherwise, and where there is no fork, a fresh process is spawned.
        forkable = "fork" in multiprocessing.get_all_start_methods()
        forkable = forkable and threading.active_count() == 1 and not any_model_loaded()
        context: Any = multiprocessing.get_context("fork" if forkable else "spawn")
        self._connection, childs_end = context.Pipe(duplex=True)
        self._process = context.Process(
            target=_serve, args=(load, childs_end, self._connection), name="qa-model", daemon=True
        )
        self._process.start()
        childs_end.close()
        self._identity: ModelIdentity | None = None

    def model(self, load: Callable[[], Embedder]) -> ModelIdentity:
        """The child's model: it says what it is as soon as it is made, before it has loaded."""
        if self._identity is None:
            self._identity = self._answer("identity")
        return self._identity

    def encode(
        self, load: Callable[[], Embedder], groups: Iterable[Sequence[Passage]]
    ) -> Iterator[list[EncodedPassage]]:
        self.model(load)
        for group in groups:
            self._send(list(group))
            yield self._answer("group")

    def close(self) -> None:
        """Ends the child, at once: it writes nothing, and may still be loading a model no longer needed
        (a run that found nothing to embed). The runner cannot be used again."""
        self._connection.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()

    def __enter__(self) -> ModelProcessRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, passages: list[Passage]) -> None:
        try:
            self._connection.send(passages)
        except OSError:
            raise self._ended() from None

    def _answer(self, expected: str) -> Any:
        try:
            kind, payload = self._connection.recv()
        except (EOFError, OSError):
            raise self._ended() from None
        if kind == "error":
            raise ModelProcessError(payload)
        assert kind == expected, (kind, expected)
        return payload

    def _ended(self) -> ModelProcessError:
        self._process.join(timeout=5)
        return ModelProcessError(
            f"the model's process ended during the run (exit code {self._process.exitcode}); "
            "nothing was written, the index in use is unchanged"
        )


def _serve(load: Callable[[], Embedder], connection: Any, parents_end: Any) -> None:
    """The child: make the model (it loads in the background), say what it is, embed each group sent,
    until the parent closes its end or ends this process."""
    parents_end.close()  # forked with a copy of it: without this, the parent going away would go unseen
    try:
        embedder = load()
        identity = ModelIdentity(embedder.model_name, embedder.backend, embedder.fingerprint, embedder.dim)
        connection.send(("identity", identity))
        while True:
            connection.send(("group", encode_passages(embedder, connection.recv())))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass  # the parent went away, or Ctrl-C reached both: the parent says what happened
    except Exception as exc:  # said to the parent, which would otherwise only see this process end
        connection.send(("error", f"the model failed in its process: {exc}"))
    finally:
        connection.close()
