"""No connection to the outside: `qa index`, `qa ask` and the chat run under strace, which records
every connection they open; a name lookup (port 53, or the local resolver's socket) or an address
other than this machine's fails the test.

The runs last long enough for what calls home late: onnxruntime sends its first usage event
about ten seconds after a model is opened. The variables that silence the libraries, and the
ones that tell them they run on a CI machine (where onnxruntime stays quiet by itself), are taken
out of the environment: what is tested is that `qa` switches them off (qa/offline.py).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .conftest import ROOT

OBSERVED_SECONDS = 25  # after the model is open: onnxruntime's first event comes after about 10 s
WAIT_SECONDS = 300  # for the model to load, a question to be answered, the chat to start (a loaded CI machine)

SILENCERS = ("HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "GRADIO_ANALYTICS_ENABLED", "ORT_DISABLE_TELEMETRY")
SILENCERS += ("DO_NOT_TRACK", "TRANSFORMERS_OFFLINE")
CI_MARKERS = ("CI", "TF_BUILD", "GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "TRAVIS", "JENKINS_URL", "BUILDKITE")
CI_MARKERS += ("CODEBUILD_BUILD_ID",)

# An address in a connect/sendto/sendmsg line of strace: IPv4 or IPv6, with its port.
_ADDRESS = re.compile(
    r"sa_family=AF_INET6?, sin6?_port=htons\((?P<port>\d+)\).*?"
    r'(?:inet_addr\("(?P<v4>[^"]+)"\)|inet_pton\(AF_INET6, "(?P<v6>[^"]+)")'
)
# The sockets of local resolvers (nscd, systemd-resolved): a name lookup that never reaches port 53 itself.
_RESOLVER_SOCKETS = ("/nscd/socket", "io.systemd.Resolve")


def calls_outside(trace: str) -> list[str]:
    """The lines of an strace log that look a name up or reach another machine."""
    found = []
    for line in trace.splitlines():
        match = _ADDRESS.search(line)
        if match:
            address = ipaddress.ip_address(match["v4"] or match["v6"])
            mapped = getattr(address, "ipv4_mapped", None)
            local = address.is_loopback or (mapped is not None and mapped.is_loopback)
            if int(match["port"]) == 53 or not local:
                found.append(line)
        elif any(name in line for name in _RESOLVER_SOCKETS):
            found.append(line)
    return found


def loopback_calls(trace: str) -> list[str]:
    return [line for line in trace.splitlines() if 'inet_addr("127.0.0.1")' in line and "connect(" in line]


def offline_unset_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in SILENCERS + CI_MARKERS}


def strace() -> str:
    found = shutil.which("strace")
    assert found, "strace is needed to watch the connections (Debian: apt-get install strace)"
    return found


class Traced:
    """A command run under strace; its output lines collected as they come."""

    def __init__(self, command: list[str], trace: Path, **popen) -> None:
        self.trace = trace
        wrapper = [strace(), "-f", "--seccomp-bpf", "-qq", "-e", "trace=connect,sendto,sendmsg,sendmmsg"]
        self.proc = subprocess.Popen(
            [*wrapper, "-o", str(trace), *command],
            cwd=ROOT,
            env=offline_unset_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            **popen,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, seconds: float = WAIT_SECONDS) -> str:
        """The first new output line holding ``text``; fails with the output so far when it does not come."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                assert self.proc.poll() is None, "".join(self.seen)
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} in:\n{''.join(self.seen)}")

    def interrupt(self) -> None:
        """Ctrl-C to the traced program (strace itself would detach from it)."""
        for child in Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split():
            os.kill(int(child), signal.SIGINT)

    def finish(self) -> str:
        """Wait for the end; the strace log."""
        try:
            self.proc.wait(WAIT_SECONDS)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        return self.trace.read_text()


def test_the_detector_flags_lookups_and_other_machines_only():
    trace = """\
8303  connect(8, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0
8304  connect(8, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("13.69.239.72")}, 16) = 0
8305  sendto(9, "x", 1, 0, {sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=htonl(0), \
inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 1
8306  connect(8, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file)
8307  connect(8, {sa_family=AF_INET, sin_port=htons(7861), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
8308  connect(8, {sa_family=AF_INET6, sin6_port=htons(7861), sin6_flowinfo=htonl(0), \
inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6_addr), sin6_scope_id=0}, 28) = 0
8309  connect(8, {sa_family=AF_UNIX, sun_path="/tmp/x.sock"}, 110) = 0
"""
    assert [line.split()[0] for line in calls_outside(trace)] == ["8303", "8304", "8305", "8306"]


@pytest.mark.parametrize("module", ["qa", "qa.cli"])
def test_importing_qa_switches_the_calls_home_off_and_keeps_what_is_set(module):
    script = f"import json, os, {module}; print(json.dumps({{k: os.environ.get(k) for k in {SILENCERS!r}}}))"
    env = offline_unset_environment() | {"HF_HUB_OFFLINE": "0"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "HF_HUB_OFFLINE": "0",  # asked for: a model named by its hub id may be downloaded
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ORT_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": None,
        "TRANSFORMERS_OFFLINE": None,
    }


@pytest.mark.slow
def test_strace_sees_a_lookup_here(tmp_path):
    """The watch itself works on this machine: a socket aimed at a name server is seen (a UDP
    connect sends nothing; 192.0.2.1 is an address reserved for examples)."""
    script = "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).connect(('192.0.2.1', 53))"
    run = Traced([sys.executable, "-c", script], tmp_path / "trace")
    trace = run.finish()
    assert run.proc.returncode == 0, "".join(run.seen)
    assert len(calls_outside(trace)) == 1, trace


@pytest.mark.slow
def test_qa_index_and_ask_stay_on_this_machine(tmp_path, seed_index, corpus_copy):
    """`qa index --watch` through an update, then `qa ask -` with a pause between two questions."""
    del seed_index  # the model is built (in the tests' model folder) before anything is traced
    store = tmp_path / "store"
    index = Traced(
        [sys.executable, "-m", "qa", "index", "--watch", "--corpus", str(corpus_copy), "--store", str(store)],
        tmp_path / "index.trace",
    )
    index.wait_for("+5 added")
    index.wait_for("watching")
    article = next(corpus_copy.glob("*.txt"))
    for attempt in range(WAIT_SECONDS // 10):  # "watching" is printed just before the watch starts
        with article.open("a", encoding="utf-8") as f:
            f.write(f"\nUne phrase de plus, la {attempt + 1}e.\n")
        with contextlib.suppress(AssertionError):
            index.wait_for("~1 changed", seconds=10)
            break
    else:
        raise AssertionError(f"the edit was not indexed:\n{''.join(index.seen)}")
    time.sleep(OBSERVED_SECONDS)
    index.interrupt()
    index_trace = index.finish()

    ask = Traced(
        [sys.executable, "-m", "qa", "ask", "-", "--json", "--corpus", str(corpus_copy), "--store", str(store)],
        tmp_path / "ask.trace",
        stdin=subprocess.PIPE,
    )
    assert ask.proc.stdin is not None
    ask.proc.stdin.write("Who leads IOM Mongolia?\n")
    ask.proc.stdin.flush()
    assert "Liljert" in ask.wait_for('"question": "Who leads IOM Mongolia?"')
    time.sleep(OBSERVED_SECONDS)
    ask.proc.stdin.write("Qui est le chef de mission de l'OIM en Mongolie ?\n")
    ask.proc.stdin.close()
    ask.wait_for('"question": "Qui est le chef')
    ask_trace = ask.finish()

    assert index.proc.returncode == 130, "".join(index.seen)
    assert ask.proc.returncode == 0, "".join(ask.seen)
    assert calls_outside(index_trace) == [], "qa index --watch"
    assert calls_outside(ask_trace) == [], "qa ask"


@pytest.mark.slow
def test_the_chat_stays_on_this_machine(tmp_path, seed_index, corpus_copy):
    from gradio_client import Client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = Traced(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--corpus", str(corpus_copy)]
        + ["--store", str(seed_index)],
        tmp_path / "app.trace",
    )
    app.wait_for("Running on local URL")
    client = Client(f"http://127.0.0.1:{port}/", verbose=False)
    record = client.predict("Who leads IOM Mongolia?", [], 2, api_name="/ask")[1]
    assert "Pär Liljert" in record["hits"][0]["text"]
    time.sleep(OBSERVED_SECONDS)
    app.interrupt()
    trace = app.finish()
    assert calls_outside(trace) == []
    assert loopback_calls(trace), "the chat checks its own address when it starts: strace saw nothing"
