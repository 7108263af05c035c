"""Embedding spread over a Ray cluster: `qa index --ray ADDRESS` (or ``QA_RAY``).

The model passes are the whole cost of indexing (docs/benchmarks.md: the 147k scale set is read and
cleaned in 3 s, embedded in 47 min), so they alone go to the cluster. Ray Data's ``map_batches`` over
an actor pool keeps one loaded model per worker; each call embeds one group of whole articles (the
groups of a local run, ``qa.indexer.BATCH_PASSAGES`` passages or so) with
:func:`qa.indexer.encode_passages`, the local code. Workers load the model with the factory the
local run uses, so an index built here is the index a local run builds.

The `qa index` process keeps everything else. It reads, cleans and chunks the articles: that is cheap,
it must read them anyway to know which changed, and the workers need not see the corpus folder. It
is the one writer: the encoded groups come back in order and go through the store writer of a local
run, which makes nothing visible before its commit. A worker that dies is restarted, and the group
it held is embedded again (up to ``WORKER_RETRIES`` times); a cluster that goes away ends the run with
:class:`ClusterError`, and the index in use stays as it was.

Ray is an optional extra (``pip install -e '.[cluster]'``): it is imported only here, only when asked for.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import socket
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .chunking import Passage
from .embed import Embedder
from .indexer import encode_passages
from .store import EncodedPassage

INSTALL_HINT = "pip install -e '.[cluster]'"
# A worker process that dies (killed, out of memory, its machine lost) is started again this many
# times, and a group it held is sent again as often; a group that kills every worker it meets ends the run.
WORKER_RETRIES = 3
JOIN_SECONDS = 10.0  # for the cluster's address to answer
DRIVER_EXIT_SECONDS = 30.0  # for the Ray driver process to leave the cluster once it sent everything


class ClusterError(RuntimeError):
    """The Ray cluster cannot be used, or went away during a run: nothing was written."""


@dataclass(frozen=True)
class RayRunner:
    """Embeds on the Ray cluster at ``address`` ("host:port", "ray://host:port", "auto", or "local" for
    a cluster of this machine alone) with ``workers`` model copies of ``cpus_per_worker`` CPUs each
    (default: as many as the cluster's CPUs hold), and ``gpus_per_worker`` GPUs each for the torch
    backend on CUDA (`--device cuda`; not run here, where there is no GPU).

    The Ray driver runs in a process of its own, which sends the encoded groups back: when the cluster
    goes away, Ray ends its driver process at once (no exception to catch), and the writer, here, then
    says so and leaves the index in use as it was instead of vanishing with it."""

    address: str
    workers: int | None = None
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0

    def model(self, load: Callable[[], Embedder]) -> Embedder:
        return load()  # this process's copy: what the index records, and what every worker must load

    def encode(
        self, load: Callable[[], Embedder], groups: Iterable[Sequence[Passage]]
    ) -> Iterator[list[EncodedPassage]]:
        groups = [list(group) for group in groups]
        if not groups:
            return
        import_ray()  # here first: without Ray, the message says how to add it
        expected = load().fingerprint  # what the index records (the model of this process)
        spawn = multiprocessing.get_context("spawn")  # a fresh process: no copy of this one's model or locks
        receiving, sending = spawn.Pipe(duplex=False)
        driver = spawn.Process(target=_drive, args=(self, load, groups, sending), name="qa-ray-driver", daemon=True)
        driver.start()
        sending.close()  # the driver's end: our recv() sees EOF when the driver ends
        finished = False
        try:
            while True:
                try:
                    kind, payload = receiving.recv()
                except EOFError:
                    driver.join()
                    raise ClusterError(
                        f"lost the Ray cluster at {self.address} during the run (its driver process ended with "
                        f"exit code {driver.exitcode}); nothing was written, the index in use is unchanged"
                    ) from None
                if kind == "done":
                    finished = True
                    return
                if kind == "error":
                    raise ClusterError(payload)
                fingerprint, encoded = payload
                if fingerprint != expected:
                    raise ClusterError(
                        f"a worker embeds with {fingerprint}, this index records {expected}: "
                        "install the same version of the project and its model on every machine"
                    )
                yield pickle.loads(encoded)
        finally:
            receiving.close()
            driver.join(timeout=DRIVER_EXIT_SECONDS if finished else 0)  # after "done" it leaves the cluster
            if driver.is_alive():  # the run failed, or the driver hangs: it must not outlive the run
                driver.terminate()
                driver.join()

    def close(self) -> None:
        """Nothing to free: each run's driver process has ended with it."""

    def _encoded(self, ray: Any, load: Callable[[], Embedder], groups: list[list[Passage]]) -> Iterator[tuple]:
        """(fingerprint, pickled encoded passages) of each group, in order."""
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # groups come back as they went, for the writer
        context.enable_progress_bars = False  # `qa index` shows its own
        resources = ray.cluster_resources()
        held = resources.get("CPU", 1) // self.cpus_per_worker
        if self.gpus_per_worker:
            held = min(held, resources.get("GPU", 0) // self.gpus_per_worker)
        workers = self.workers or max(1, int(held))
        rows = [{"group": i, "passages": pickle.dumps(group, protocol=5)} for i, group in enumerate(groups)]
        dataset = ray.data.from_items(rows, override_num_blocks=len(rows))
        with warnings.catch_warnings():
            # Retries are given as remote arguments, which Ray Data deprecates without a replacement (yet):
            # its default, retrying forever, would loop on a group that kills every worker.
            warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated", category=DeprecationWarning)
            encoded = dataset.map_batches(
                EmbeddingWorker,
                fn_constructor_args=(load,),
                batch_size=1,
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=min(workers, len(groups))),
                num_cpus=self.cpus_per_worker,
                **({"num_gpus": self.gpus_per_worker} if self.gpus_per_worker else {}),
                max_restarts=WORKER_RETRIES,
                max_task_retries=WORKER_RETRIES,
            )
        waiting: dict[int, tuple[str, bytes]] = {}  # arrived before their turn
        turn = 0
        for row in encoded.iter_rows():
            waiting[int(row["group"])] = (str(row["fingerprint"]), bytes(row["encoded"]))
            while turn in waiting:
                yield waiting.pop(turn)
                turn += 1
        if turn != len(groups):
            raise ClusterError(f"the Ray cluster returned {turn} of {len(groups)} groups of passages")


def _drive(runner: RayRunner, load: Callable[[], Embedder], groups: list[list[Passage]], sending: Any) -> None:
    """The Ray driver process: joins the cluster, sends each group's encoded passages as they come."""
    ray = import_ray()
    try:
        connect(ray, runner.address)
        for item in runner._encoded(ray, load, groups):
            sending.send(("group", item))
        sending.send(("done", None))
    except ClusterError as exc:
        sending.send(("error", str(exc)))
    except ray.exceptions.RayError as exc:
        sending.send(("error", f"the Ray cluster at {runner.address} failed during the run: {_first_line(exc)}"))
    except Exception as exc:  # said here: the writer would otherwise only see this process end
        sending.send(("error", f"embedding on the Ray cluster at {runner.address} failed: {exc!r}"))
    finally:
        ray.shutdown()
        sending.close()


class EmbeddingWorker:
    """One Ray Data actor: the model, loaded once, then one group of passages per call."""

    def __init__(self, load: Callable[[], Embedder]) -> None:
        self.embedder = load()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        encoded = [
            pickle.dumps(encode_passages(self.embedder, pickle.loads(passages)), protocol=5)
            for passages in batch["passages"]
        ]
        return {
            "group": batch["group"],
            "encoded": np.array(encoded, dtype=object),
            "fingerprint": np.array([self.embedder.fingerprint] * len(encoded), dtype=object),
        }


def import_ray() -> Any:
    # Ray 2.60 sends a cluster's token (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token) when it
    # joins a cluster only if RAY_AUTH_MODE=token, which `ray start` sets for itself alone; without it a
    # cluster with token authentication (the default) refuses the driver. Read when Ray is imported.
    if "RAY_AUTH_MODE" not in os.environ and _token_available():
        os.environ["RAY_AUTH_MODE"] = "token"
    try:
        import ray
        import ray.data  # noqa: F401  (the extra installs both; a bare `ray` lacks Ray Data)
    except ImportError as exc:
        raise ClusterError(f"--ray needs Ray, an optional part of this project: {INSTALL_HINT}") from exc
    return ray


def _token_available() -> bool:
    if os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH"):
        return True
    return (Path.home() / ".ray" / "auth_token").is_file()


def connect(ray: Any, address: str) -> None:
    """Join the cluster at ``address`` as a driver (``local``: start one on this machine, its node named
    127.0.0.1, without a dashboard; Ray's own servers still listen on every interface, behind its token)."""
    if ray.is_initialized():
        ray.shutdown()
    local = address == "local"
    _check_answers(address)
    try:
        ray.init(
            address=address,
            include_dashboard=False if local else None,
            _node_ip_address="127.0.0.1" if local else None,
            logging_level=logging.WARNING,
            configure_logging=True,
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ClusterError(f"cannot join the Ray cluster at {address}: {_first_line(exc)}") from exc
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "progress bars disabled": ours show


def _check_answers(address: str) -> None:
    """For a "host:port" address, that something listens there: Ray itself tries again for minutes."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or "/" in host:
        return  # "auto", "local", "ray://…": Ray finds or reaches the cluster its own way
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=JOIN_SECONDS).close()
    except OSError as exc:
        raise ClusterError(f"cannot join the Ray cluster at {address}: nothing answers there ({exc})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__
