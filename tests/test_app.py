"""The browser chat: formatting units, and the running app called through gradio_client."""

from __future__ import annotations

import contextlib
import html
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from qa.answer import Answer, Citation, Hit  # noqa: E402
from qa.ui import (  # noqa: E402
    MAX_UI_QUESTION_CHARS,
    NOTHING_FOUND,
    ChatBackend,
    escape,
    format_answer,
    highlight,
    line_range,
    snippet_bounds,
)

ROOT = Path(__file__).resolve().parent.parent

# An article about Mongolia, so that a question about it retrieves it, full of things a page must not run.
INJECTED_NAME = "999_injection.txt"
INJECTED_ARTICLE = """Le pare-feu du bureau de l'OIM en Mongolie mis à l'épreuve

Mongolie - Le bureau de l'OIM à Oulan-Bator a testé son pare-feu avec la chaîne <script>window.__pwned = 1</script> et l'image <img src=x onerror="window.__pwned=2"> ainsi qu'un lien [click](javascript:alert(1)) et du **gras** dans ce communiqué.

Le test du pare-feu de l'OIM en Mongolie a été mené par l'équipe informatique en mars.
"""
INJECTION_QUESTION = "Quel test du pare-feu a été mené par le bureau de l'OIM à Oulan-Bator ?"
NONSENSE_QUESTIONS = ["Quelle est la recette du gâteau au chocolat ?", "zxqv blorf"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_injected_index(seed_corpus: Path, seed_index: Path, target: Path) -> tuple[Path, Path]:
    """The seed corpus plus the injection article, indexed by updating a copy of the seed index."""
    from qa.indexer import update_index

    corpus, index = target / "corpus", target / "index"
    shutil.copytree(seed_corpus, corpus)
    (corpus / INJECTED_NAME).write_text(INJECTED_ARTICLE, encoding="utf-8")
    shutil.copytree(seed_index, index)
    update_index(corpus, index)
    return corpus, index


def start_app(corpus: Path, index: Path, allow_uploads: bool = False, backend: str | None = None):
    """The app of app.py, in this process, on a free local port: (app, url)."""
    from qa.retrieval import Retriever
    from qa.ui import build_app, launch

    retriever = Retriever.open(index, corpus) if backend is None else Retriever.open(index, corpus, backend=backend)
    app = build_app(retriever, allow_uploads=allow_uploads)
    launch(app, port=free_port(), prevent_thread_lock=True, quiet=True)
    return app, app.local_url


@pytest.fixture(scope="module")
def injected(seed_corpus, seed_index, tmp_path_factory) -> tuple[Path, Path]:
    return build_injected_index(seed_corpus, seed_index, tmp_path_factory.mktemp("injected"))


@pytest.fixture(scope="module")
def client(injected):
    from gradio_client import Client

    app, url = start_app(*injected)
    try:
        yield Client(url, verbose=False)
    finally:
        app.close()


def ask(client, question: str, history: list[str] | None = None, k: int = 3) -> tuple[str, dict]:
    reply, record = client.predict(question, history or [], k, api_name="/ask")
    return reply, record


def call_raw(url: str, data: list) -> list:
    """/ask called over plain HTTP, the JSON written with \\u escapes as any client may send it."""
    import json
    import urllib.request

    base = url.rstrip("/") + "/gradio_api/call/ask"
    body = json.dumps({"data": data}, ensure_ascii=True).encode("ascii")
    request = urllib.request.Request(base, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        event_id = json.load(response)["event_id"]
    with urllib.request.urlopen(f"{base}/{event_id}", timeout=60) as response:
        stream = response.read().decode("utf-8")
    events = [line.split(": ", 1) for line in stream.splitlines() if ": " in line]
    assert [value for key, value in events if key == "event"][-1] == "complete", stream
    reply, record = json.loads([value for key, value in events if key == "data"][-1])  # its two outputs
    return [reply, record]


def liljert_family(corpus: Path) -> set[str]:
    return {p.name for p in corpus.glob("*.txt") if "Liljert" in p.read_text(encoding="utf-8")}


# ---------- formatting, without a server ----------


def make_hit(text: str, span: tuple[int, int], rank: int = 1, doc_id: str = "a_b.txt", title: str = "T") -> Hit:
    citation = Citation(doc_id=doc_id, title=title, path=f"corpus/{doc_id}", start=10, end=10 + len(text), lines=(3, 5))
    return Hit(rank, 0.9, "p1", text, text[span[0] : span[1]], span, citation)


@pytest.mark.parametrize(
    "text, forbidden",
    [
        ("<script>alert(1)</script>", ["<script", "</script"]),
        ('<img src=x onerror="alert(1)">', ["<img", 'onerror="']),
        ("[click](javascript:alert(1))", ["[", "](", "javascript:"]),
        ("**bold** _it_ `code` # title | a | $$x$$ ~~s~~", ["**", "_it_", "`", "# ", "|", "$$", "~~"]),
    ],
)
def test_escape_leaves_no_html_or_markdown(text, forbidden):
    escaped = escape(text)
    for bad in forbidden:
        assert bad not in escaped
    assert "<" not in escaped.replace("<br>", "")


def test_escape_keeps_the_text_readable_as_html():
    text = "Tel: +976 7014 3100 <b>[x](y)</b> l'OIM *1* & co"
    assert html.unescape(escape(text)) == text


def test_highlight_marks_the_answer_and_escapes_around_it():
    text = "Intro <b>x</b>. The answer [1] is here. After."
    start = text.index("The")
    out = highlight(text, (start, text.index("After") - 1))
    assert out.count("<mark>") == 1 and "<b>" not in out
    assert out.split("<mark>")[1].startswith("The answer &#91;1&#93; is here")
    assert highlight("abc", (2, 2)) == "abc"  # an empty span adds no stray mark


def test_snippet_is_cut_at_spaces_around_the_answer():
    text = "word " * 200 + "ANSWER HERE. " + "more " * 200
    span = (text.index("ANSWER"), text.index("ANSWER") + 12)
    start, end = snippet_bounds(text, span, context=50)
    assert start > 0 and end < len(text)
    assert text[start:end].startswith("word") and text[start:end].strip().endswith("more")
    assert span[0] - start <= 50 and end - span[1] <= 50


def test_reply_leads_with_the_answer_then_numbered_citations():
    text = "First sentence. Pär Liljert leads IOM Mongolia. Last one."
    a, b = text.index("Pär"), text.index("Last") - 1
    answer = Answer(
        "Who leads?", "Who leads?", [make_hit(text, (a, b)), make_hit("Other <i>x</i>", (0, 5), 2, "c.txt")], True
    )
    reply = format_answer(answer)
    assert reply.startswith('<div class="qa-reply"><div class="qa-tools"><button type="button" class="qa-copy"')
    assert '<p class="qa-lead"><strong>Pär Liljert leads IOM Mongolia.</strong> <a class="qa-act qa-num"' in reply
    assert reply.index("qa-lead") < reply.index("[1]") < reply.index("[2]")
    assert "a&#95;b.txt · lines 3–5 · score 0.900" in reply and "corpus/" not in reply
    assert "<mark>Pär Liljert leads IOM Mongolia.</mark>" in reply
    assert "<i>" not in reply and "Follow-up" not in reply
    assert "\n" not in reply  # one HTML block: Markdown cannot get in between


def test_reply_when_nothing_matches_says_so_and_labels_the_passages():
    answer = Answer("zxqv", "zxqv", [make_hit("Something else.", (0, 15))], False)
    reply = format_answer(answer)
    assert NOTHING_FOUND in reply and "<strong>" not in reply
    assert "not</em> answers" in reply and "qa-closest" in reply


def test_reply_shows_what_a_follow_up_searched():
    answer = Answer("What is his email?", "Who leads <IOM>? What is his email?", [make_hit("x y.", (0, 4))], True)
    reply = format_answer(answer)
    assert "Follow-up" in reply and "Who leads &lt;IOM&gt;? What is his email?" in reply


def test_backend_logs_errors_and_apologises(caplog):
    class Broken:
        def answer(self, *args, **kwargs):
            raise RuntimeError("index exploded")

    reply, record = ChatBackend(Broken()).ask("Who leads IOM Mongolia?")
    assert record["status"] == "error" and "Sorry" in reply
    assert "Traceback" not in reply and "exploded" not in reply
    assert "index exploded" in caplog.text


# ---------- the running app, through gradio_client ----------


def test_only_ask_is_exposed_as_api(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert list(endpoints) == ["/ask"]


def test_english_question_gets_the_head_of_mission_with_citation(client):
    reply, record = ask(client, "Who leads IOM Mongolia?")
    assert record["status"] == "answered" and record["found"]
    top = record["hits"][0]
    assert "Pär Liljert" in top["text"]
    assert top["doc_id"] == "000_709937aa28120cef.txt"
    assert top["file"] == "000_709937aa28120cef.txt"  # relative to the corpus folder, not the server's path
    assert top["lines"][0] <= 37 <= top["lines"][1]
    assert "Pär Liljert" in reply
    assert f"000&#95;709937aa28120cef.txt · {line_range(top['lines'])} · score" in reply and "/corpus/" not in reply
    assert "La Mongolie se prépare au Dialogue de haut niveau" in reply
    assert reply.index("qa-lead") < reply.index("[1]") < reply.index("[2]") < reply.index("[3]")
    copied = html.unescape(reply.split('<pre class="qa-plain" hidden>')[1].removesuffix("</pre></div>"))
    assert (
        f"[1] La Mongolie se prépare au Dialogue de haut niveau des Nations Unies sur la migration et le "
        f"développement — 000_709937aa28120cef.txt · {line_range(top['lines'])}" in copied
    )  # what Copy gives


@pytest.mark.parametrize(
    "question, history, k, says",
    [
        ("Who leads IOM Mongolia?", [], "abc", "k, the number of passages, must be a whole number"),
        ("Who leads IOM Mongolia?", [None, 5], 3, "history must hold the earlier questions as texts; item 1 is null"),
        ("Who leads IOM \ud800 Mongolia?", [], 3, "the question holds bytes that are not valid UTF-8 text"),
    ],
)
def test_bad_requests_through_the_api_say_what_is_wrong(client, question, history, k, says):
    # gradio_client cannot send a lone surrogate; over plain HTTP every value is sent (no date: null)
    reply, record = call_raw(client.src, [question, history, k, None, None])
    assert record["status"] == "invalid" and says in record["message"]
    assert "went wrong" not in reply and says in html.unescape(reply)


@pytest.mark.parametrize("question", NONSENSE_QUESTIONS)
def test_nonsense_question_gets_the_nothing_matches_reply(client, question):
    reply, record = ask(client, question)
    scores = [h["score"] for h in record["hits"]]
    assert record["status"] == "nothing_found", f"{question!r} was answered; scores {scores}"
    assert NOTHING_FOUND in reply and "not</em> answers" in reply
    assert record["hits"], "the closest passages are still offered"


def test_follow_up_searches_with_the_previous_question(client, injected):
    reply, record = ask(client, "What is his email?", ["Who leads IOM Mongolia?"])
    assert record["searched"] != record["question"]
    assert "Who leads IOM Mongolia?" in record["searched"]
    assert "Follow-up" in reply and "Who leads IOM Mongolia? What is his email?" in reply
    assert record["hits"][0]["doc_id"] in liljert_family(injected[0])


def test_script_in_an_article_comes_back_escaped(client):
    reply, record = ask(client, INJECTION_QUESTION, k=3)
    assert record["hits"][0]["doc_id"] == INJECTED_NAME
    assert "<script>" in record["hits"][0]["text"]  # the JSON keeps the article's text as it is
    assert "&lt;script&gt;window" in reply and "&lt;img src" in reply
    assert "<script>window.__pwned = 1</script>" in html.unescape(reply)  # shown as literal text
    for bad in ["<script", "<img", "onerror=", "](javascript", "**gras**"]:
        assert bad not in reply


def test_overlong_question_gets_a_polite_message(client):
    reply, record = ask(client, "Who leads IOM Mongolia? " * 200)
    assert record["status"] == "too_long" and not record["hits"]
    assert f"{MAX_UI_QUESTION_CHARS:,}" in reply and "please" in reply


@pytest.mark.parametrize("question", ["", "   \n "])
def test_empty_question_gets_a_clear_message(client, question):
    reply, record = ask(client, question)
    assert record["status"] == "empty" and "Please type a question" in reply


def test_number_of_sources_is_followed_and_bounded(client):
    assert len(ask(client, "Who leads IOM Mongolia?", k=1)[1]["hits"]) == 1
    assert len(ask(client, "Who leads IOM Mongolia?", k=50)[1]["hits"]) == 10


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every socket the process ``pid`` listens on (Linux: /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    found = set()
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            (host, port), state, inode = fields[1].split(":"), fields[3], fields[9]
            if state == "0A" and inode in inodes:  # 0A: LISTEN
                raw = bytes.fromhex(host)
                raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))  # stored as 32-bit words
                found.add((socket.inet_ntop(family, raw), int(port, 16)))
    return found


def test_app_serves_this_machine_only_by_default(tiny_corpus, tmp_path):
    """app.py started without options listens on 127.0.0.1 alone, on no other address."""
    port = free_port()
    env = os.environ | {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--backend", "hash"]
    cmd += ["--corpus", str(tiny_corpus), "--store", str(tmp_path / "index")]
    log = (tmp_path / "app.log").open("w+")
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        addresses: set[tuple[str, int]] = set()
        for _ in range(240):
            if proc.poll() is not None:
                break
            addresses = listening_addresses(proc.pid)
            if any(p == port for _, p in addresses):
                break
            time.sleep(0.5)
        log.seek(0)
        assert proc.poll() is None, log.read()
        assert addresses == {("127.0.0.1", port)}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_a_bad_upload_limit_stops_the_app_with_one_line(tiny_corpus, tmp_path, monkeypatch, capsys):
    sys.path.insert(0, str(ROOT))
    import app

    monkeypatch.setenv("QA_MAX_UPLOAD_MB", "abc")
    argv = ["--backend", "hash", "--corpus", str(tiny_corpus), "--store", str(tmp_path / "index")]
    assert app.main(argv) == 2
    errors = capsys.readouterr().err.splitlines()  # after the progress bar of the first indexing
    assert errors[-1] == "app: error: QA_MAX_UPLOAD_MB: not a number of megabytes: 'abc'"
    assert not any("Traceback" in line for line in errors)


@pytest.fixture(scope="module")
def hash_app(tmp_path_factory):
    """The app over the tiny corpus with the model-free backend, uploads off: (app, url)."""
    from qa.indexer import update_index

    from .conftest import write_corpus

    folder = tmp_path_factory.mktemp("hash-app")
    corpus = write_corpus(folder / "corpus")
    update_index(corpus, folder / "index", backend="hash")
    app, url = start_app(corpus, folder / "index", backend="hash")
    try:
        yield app, url
    finally:
        app.close()


def post_upload(url: str, name: str, data: bytes) -> tuple[int, str]:
    """A file sent to Gradio's upload route as a browser (or anyone) would: (status, body)."""
    import urllib.error
    import urllib.request

    boundary = "qa-test-boundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n\r\n'
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    request = urllib.request.Request(url.rstrip("/") + "/gradio_api/upload", body, headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_a_read_only_server_takes_no_file(hash_app):
    """Without uploads the page has no upload button, and a file sent to the upload route by hand is
    refused: it would only sit in Gradio's folder."""
    from gradio.utils import get_upload_folder

    before = set(Path(get_upload_folder()).rglob("*"))
    status, body = post_upload(hash_app[1], "note.txt", b"filler " * 1000)
    assert status == 403 and "--allow-uploads" in body
    assert set(Path(get_upload_folder()).rglob("*")) == before


def test_a_server_with_uploads_takes_files(tiny_corpus, tiny_index):
    app, url = start_app(tiny_corpus, tiny_index, allow_uploads=True, backend="hash")
    try:
        status, body = post_upload(url, "note.txt", b"filler")
    finally:
        app.close()
    assert status == 200 and body.endswith('note.txt"]')


def test_the_api_names_and_types_what_it_returns(hash_app):
    from gradio_client import Client

    endpoint = Client(hash_app[1], verbose=False).view_api(print_info=False, return_format="dict")
    returns = endpoint["named_endpoints"]["/ask"]["returns"]
    assert [r["label"] for r in returns] == ["reply_html", "result"]
    assert returns[0]["python_type"]["type"] == "str"
    result = returns[1]["python_type"]["type"]
    assert result.startswith("dict(status: Literal['answered', 'nothing_found'") and "hits: list[" in result
    parameters = endpoint["named_endpoints"]["/ask"]["parameters"]
    named = {p["parameter_name"]: p["python_type"]["type"] for p in parameters}
    assert named["question"] == "str" and named["k"] == "int"
    assert list(named) == ["question", "history", "k", "since", "until"] and named["since"] == "None | str"


def test_the_api_filters_by_date_and_refuses_a_bad_date(hash_app):
    from gradio_client import Client

    client = Client(hash_app[1], verbose=False)
    question = "Qui dirige le bureau de l'Arctique à Tromsø ?"
    _, record = client.predict(question, [], 3, "2024-01-01", "", api_name="/ask")  # the tiny articles have no date
    assert record["status"] == "nothing_found" and record["hits"] == []
    assert record["why_not"] == "No article of the index is dated since 2024-01-01."
    reply, record = client.predict(question, [], 3, api_name="/ask")  # no filter: as before
    assert record["hits"] and "qa-fb" not in reply  # right and wrong are the chat's own
    _, record = client.predict(question, [], 3, "2024-13-01", None, api_name="/ask")
    assert record["status"] == "invalid"
    assert record["message"] == (
        "This request cannot be answered: the date filter cannot be used: "
        "not a date of the form YYYY-MM-DD: '2024-13-01'."
    )


@pytest.mark.slow
def test_app_script_builds_a_missing_index_then_serves(tmp_path, corpus_copy):
    from gradio_client import Client

    port, index = free_port(), tmp_path / "index"
    env = os.environ | {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    cmd = [
        sys.executable,
        str(ROOT / "app.py"),
        "--port",
        str(port),
        "--corpus",
        str(corpus_copy),
        "--index",
        str(index),
    ]
    log = (tmp_path / "app.log").open("w+")
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(240):
            if proc.poll() is not None:
                break
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        time.sleep(1)  # the URL line is printed just after the port opens
        log.seek(0)
        output = log.read()
        assert proc.poll() is None, output
        assert "+5 added" in output and "indexing 5 new articles: " in output
        assert "Running on local URL:  http://127.0.0.1:" in output
        assert "DEBUG" not in output and "share=True" not in output
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        record = client.predict("Who leads IOM Mongolia?", [], 2, api_name="/ask")[1]
        assert "Pär Liljert" in record["hits"][0]["text"]
        log.seek(0)
        assert "DEBUG" not in log.read()  # nor while answering
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
