"""The chat's pieces without a server or a model: replies, the API's checks, the article
panel, uploads and the article list (hash backend, tiny corpora)."""

from __future__ import annotations

import dataclasses
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from qa.answer import Answer, Citation, Hit, ShortAnswer  # noqa: E402
from qa.chunking import Passage  # noqa: E402
from qa.library import Article, Library, merge_passages  # noqa: E402
from qa.limits import max_upload_bytes  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402
from qa.ui import ChatBackend, format_answer, plain_answer  # noqa: E402
from qa.ui.article import Reference, article_html, open_reference, original_html, original_view  # noqa: E402
from qa.ui.format import WHOLE_SENTENCE, cite_href  # noqa: E402
from qa.ui.handlers import parse_action, plain_messages, restore  # noqa: E402
from qa.ui.uploads import articles_html, header_html, status_html  # noqa: E402
from qa.uploads import UploadError, accepted_suffixes, safe_name, save_upload  # noqa: E402

from .made_files import HTML_PARAGRAPHS, HTML_TITLE, PDF_PAGES, make_html, make_pdf  # noqa: E402
from .made_uploads import received  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED_DOC = "000_709937aa28120cef.txt"


def make_hit(text, span, rank=1, doc_id="a_b.txt", title="T", page=None) -> Hit:
    citation = Citation(doc_id, title, f"/srv/corpus/{doc_id}", 10, 10 + len(text), (3, 5), page)
    return Hit(rank, 0.9, f"{rank:016x}", text, text[span[0] : span[1]], span, citation)


def pre_text(reply: str) -> str:
    """What the browser's textContent of the reply's hidden plain-text block is."""
    match = re.search(r'<pre class="qa-plain" hidden>(.*?)</pre>', reply)
    assert match, reply
    return html.unescape(match[1])


# ---------- replies: short answer, sentence, nothing found; the plain text that Copy gives

SENTENCE_TEXT = "Intro. Pour plus d'informations: Oyunbileg, Tel: +976 7014 3100, Email: o@iom.int. Fin."


def contact_answer(short: bool) -> Answer:
    start = SENTENCE_TEXT.index("Pour")
    hit = make_hit(SENTENCE_TEXT, (start, SENTENCE_TEXT.index(" Fin")), page=2)
    other = make_hit("Autre <b>passage</b>.", (0, 6), rank=2, doc_id="sub/c.md", title="C")
    short_answer = ShortAnswer("+976 7014 3100", "phone", 1, hit.citation) if short else None
    return Answer("What is the phone number?", "What is the phone number?", [hit, other], True, short_answer)


def test_reply_leads_with_the_short_answer_in_bold_then_the_sentence_and_sources():
    reply = format_answer(contact_answer(short=True))
    lead = re.search(r'<p class="qa-lead"><strong>(.*?)</strong> <a class="qa-act qa-num" href="([^"]+)"', reply)
    assert lead and html.unescape(lead[1]) == "+976 7014 3100"
    assert lead[2] == "#qa:cite:0000000000000001:" + "-".join(map(str, contact_answer(True).hits[0].answer_span))
    assert reply.index("qa-lead") < reply.index("qa-sentence") < reply.index("Sources") < reply.index("[2]")
    assert "<b>+976 7014 3100</b>" in html.unescape(reply)  # the short answer stands out in its passage too
    assert "a&#95;b.txt · p. 2 · lines 3–5 · score 0.900" in reply  # relative file, page, lines
    assert "/srv/corpus" not in reply
    assert "\n" not in reply and "<b>passage</b>" not in reply


def test_reply_without_a_short_answer_says_the_sentence_is_the_answer():
    reply = format_answer(contact_answer(short=False))
    lead = re.search(r'<p class="qa-lead"><strong>(.*?)</strong>', reply)
    assert lead and html.unescape(lead[1]).startswith("Pour plus d'informations")
    assert WHOLE_SENTENCE in reply and "qa-sentence" not in reply


def test_reply_when_nothing_answers_gives_the_reason_and_labels_the_passages():
    answer = Answer("zxqv", "zxqv", [make_hit("Something <else>.", (0, 10))], False, why_not="no passage mentions zxqv")
    reply = format_answer(answer)
    assert "I found nothing in the articles that answers this." in reply and "<strong>" not in reply
    assert '<p class="qa-why">no passage mentions zxqv</p>' in reply
    assert "not</em> answers" in reply and "qa-closest" in reply
    assert plain_answer(answer).splitlines()[:3] == [
        "I found nothing in the articles that answers this. no passage mentions zxqv",
        "",
        "Closest passages (not answers):",
    ]


def test_copy_gives_plain_text_the_answer_then_its_citations():
    answer = contact_answer(short=True)
    reply = format_answer(answer)
    text = pre_text(reply)
    assert text == plain_answer(answer)
    assert text.splitlines() == [
        "+976 7014 3100 [1]",
        "“Pour plus d'informations: Oyunbileg, Tel: +976 7014 3100, Email: o@iom.int.” [1]",
        "",
        "Sources:",
        "[1] T — a_b.txt · p. 2 · lines 3–5",
        "[2] C — sub/c.md · lines 3–5",
    ]
    assert "&#" not in text and "<" not in text and "/srv/" not in text
    assert len(text) < 400


def test_citation_links_round_trip_and_nothing_else_opens():
    hit = make_hit("abc def.", (4, 8))
    act, ref = cite_href(hit)[len("#qa:") :].split(":", 1)
    assert parse_action({"act": act, "ref": ref}) == Reference(passage_id=hit.passage_id, span=(4, 8))
    assert parse_action({"act": "doc", "ref": "sub%2Fa%20b.txt"}) == Reference(doc_id="sub/a b.txt")
    for bad in [None, "x", {"act": "cite", "ref": "zz:1-2"}, {"act": "cite", "ref": 5}, {"act": "rm", "ref": "a"}]:
        assert parse_action(bad) is None


# ---------- the chat API's checks (each gave "something went wrong" before)


@pytest.fixture
def backend(tiny_retriever) -> ChatBackend:
    return ChatBackend(tiny_retriever)


@pytest.mark.parametrize(
    "kwargs, says",
    [
        ({"k": "abc"}, "k, the number of passages, must be a whole number from 1 to 10, not 'abc'"),
        ({"k": 2.5}, "not 2.5"),
        ({"history": [None, 5]}, "history must hold the earlier questions as texts; item 1 is null"),
        ({"history": {"a": 1}}, "history must be a list of the earlier questions (texts), not dict"),
        ({"question": "Qui dirige le bureau \ud800 ?"}, "the question holds bytes that are not valid UTF-8 text"),
        ({"history": ["ok", "x\udcff"]}, "earlier question 2 cannot be used"),
    ],
)
def test_bad_requests_get_their_status_and_what_is_wrong(backend, kwargs, says):
    args = {"question": "Qui dirige le bureau d'Oulan-Bator ?", "history": [], "k": 3} | kwargs
    reply, record = backend.ask(**args)
    assert record["status"] == "invalid", record
    assert says in record["message"] and says in html.unescape(reply)
    assert "went wrong" not in reply
    json.dumps(record, ensure_ascii=False).encode("utf-8")  # sendable: no lone surrogate echoed back


def test_numbers_of_sources_are_brought_within_bounds(backend, tiny_retriever):
    assert len(backend.ask("Qui dirige le bureau d'Oulan-Bator ?", [], "2")[1]["hits"]) == 2
    everything = min(10, tiny_retriever.reader.manifest.passage_count)
    assert len(backend.ask("Qui dirige le bureau d'Oulan-Bator ?", [], 50)[1]["hits"]) == everything


def test_api_hits_name_the_file_relative_to_the_corpus(backend, tiny_corpus):
    reply, record = backend.ask("Qui dirige le bureau d'Oulan-Bator ?", [], 3)
    assert record["status"] in ("answered", "nothing_found") and record["hits"]
    assert {h["file"] for h in record["hits"]} <= {"mongolia.txt", "cairo.txt", "arctic.md"}
    assert str(tiny_corpus) not in json.dumps(record) and str(tiny_corpus) not in reply
    assert set(record) >= {"status", "message", "question", "searched", "found", "short_answer", "why_not", "hits"}


# ---------- the article panel: the cleaned article rebuilt from its passages


@pytest.fixture
def seed_hash(tmp_path) -> Retriever:
    """The seed corpus indexed with the hash backend."""
    import shutil

    from qa.indexer import update_index

    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    update_index(corpus, tmp_path / "index", backend="hash")
    return Retriever.open(tmp_path / "index", corpus, backend="hash")


def test_article_is_rebuilt_from_its_passages_without_repeats_or_site_menus(seed_hash):
    article = Library(seed_hash).article(SEED_DOC)
    assert article is not None and article.title.startswith("La Mongolie se prépare")
    for passage, at in article.placed:
        assert article.text[at : at + len(passage.text)] == passage.text
    assert len(article.text) < sum(len(p.text) for p, _ in article.placed)  # shared sentences laid once
    assert article.text.startswith("Mongolie - En coopération")
    assert article.text.count("Tel: +976 7014 3100") == 1 and article.text.count("a déclaré Pär Liljert") == 1
    assert "Qui sommes nous" not in article.text and "Structure organisationnelle" not in article.text


def test_panel_shows_the_cleaned_article_at_the_cited_passage(seed_hash):
    hit = seed_hash.retrieve("Tel Email Oyunbileg Rentsendorj OIM Mongolie", k=1)[0]
    assert hit.doc_id == SEED_DOC
    library = Library(seed_hash)
    opened = open_reference(library, Reference(passage_id=hit.passage_id, span=hit.answer_span))
    shown = opened.html
    assert opened.article is not None and opened.passage is not None
    assert opened.passage.passage_id == hit.passage_id
    assert '<h3 class="qa-article-title">La Mongolie se prépare' in shown
    assert '<span class="qa-dateline">Mongolie</span>' in shown
    assert f'<span class="qa-badge">lines {hit.citation.lines[0]}–{hit.citation.lines[1]}</span>' in shown
    assert shown.count('class="qa-cited') >= 1 and 'class="qa-cited qa-mark"' in shown
    assert "· cited: lines" in html.unescape(shown) and "not an answer" not in shown
    assert "Qui sommes nous" not in shown and "&quot;mailto" not in shown
    assert str(seed_hash.corpus_dir) not in shown
    gone = open_reference(library, Reference(passage_id="0" * 16))
    assert "cannot be opened" in gone.html and gone.article is None


def test_the_closest_passage_of_a_refusal_opens_as_not_an_answer(seed_hash):
    """Nothing answers: the panel opens on the closest passage, headed as such, its sentence
    not painted in the answer's yellow; the same when one of its citations is clicked."""
    from qa.ui.handlers import Handlers, first_reference

    hit = seed_hash.retrieve("Tel Email Oyunbileg Rentsendorj OIM Mongolie", k=1)[0]
    refusal = Answer("Quel est le numéro de l'OIM au Sénégal ?", "…", [hit], False, why_not="no Senegal")
    reply = format_answer(refusal)
    href = re.search(r'class="qa-act qa-num" href="#qa:([a-z]+):([^"]+)"', reply)
    assert href
    clicked = parse_action({"act": href[1], "ref": href[2]})
    record = {"found": False, "hits": [{"passage_id": hit.passage_id, "answer_span": list(hit.answer_span)}]}
    handlers = Handlers(seed_hash, Library(seed_hash))
    for ref in (clicked, first_reference(record)):
        assert ref is not None
        shown = handlers.panel(ref)[0]
        assert "closest passage (not an answer): lines" in html.unescape(shown) and "cited:" not in shown
        assert "qa-mark" not in shown and 'class="qa-cited qa-near"' in shown
        shown = handlers.panel(ref, show_original=True)[0]
        assert "closest passage (not an answer): line" in html.unescape(shown)
        assert "cited" not in shown.replace("qa-cited", "")


def test_opening_the_passage_already_shown_changes_the_panel(seed_hash):
    """The page scrolls to the cited lines and flashes them whenever the panel's HTML changes:
    a second click on the same citation must change it too."""
    from qa.ui.handlers import Handlers

    hit = seed_hash.retrieve("Tel Email Oyunbileg Rentsendorj OIM Mongolie", k=1)[0]
    handlers = Handlers(seed_hash, Library(seed_hash))
    ref = Reference(passage_id=hit.passage_id, span=hit.answer_span)
    first, again = handlers.panel(ref)[0], handlers.panel(ref)[0]
    assert first != again and "qa-badge" in again


@dataclasses.dataclass(frozen=True)
class PagedPassage(Passage):
    page: int | None = None


def test_panel_escapes_the_article_and_names_the_page():
    text = "Genève – <script>alert(1)</script> premier. {{x}} ${y} second."
    cut = text.index("{{")
    sentences = ((0, cut - 1), (cut, len(text)))
    passage = PagedPassage("ab", "d.pdf", "T <i>", text, 0, 0, len(text), 3, 4, sentences, page=2)
    shown = article_html(Article("d.pdf", "T <i>", "d.pdf", text, ((passage, 0),)), "ab", sentences[1])
    assert "<script" not in shown and "<i>" not in shown and "{{" not in shown and "${" not in shown
    assert '<span class="qa-badge">p. 2 · lines 3–4</span>' in shown and "d.pdf · p. 2 · 1 passage" in shown
    assert '<span class="qa-dateline qa-cited">Genève</span>' in shown
    assert html.unescape(shown).endswith('<span class="qa-cited qa-mark">{{x}} ${y} second.</span></div></div>')


def test_merging_passages_that_do_not_overlap_keeps_paragraphs():
    a = Passage("a", "d", "T", "One. Two.", 0, 0, 9, 1, 1, ((0, 4), (5, 9)))
    b = Passage("b", "d", "T", "Two. Three.", 1, 5, 16, 1, 2, ((0, 4), (5, 11)))
    c = Passage("c", "d", "T", "Four.", 2, 20, 25, 4, 4, ((0, 5),))
    text, placed = merge_passages([c, a, b])
    assert text == "One. Two. Three.\n\nFour." and [at for _, at in placed] == [0, 5, 18]


def test_original_file_only_from_inside_the_corpus(tiny_retriever):
    from qa.ingest import CorpusError

    library = Library(tiny_retriever)
    passage = Passage("p", "a.txt", "Title", "line", 0, 6, 19, 2, 2, ((0, 4),))
    shown = original_html("a.txt", "Title\nline <script>x</script> two\nthree\n", passage)
    assert "<mark>line &lt;script&gt;</mark>" in shown and "<script" not in shown
    assert shown.count("qa-cited") == 1
    with pytest.raises(CorpusError, match="outside the corpus folder"):
        library.original_text("../etc/passwd.txt")
    pdf = Article("report.pdf", "Report", "report.pdf", "", ())
    assert "download it" in original_view(library, pdf, None)


ORIGINAL_TEXT = (
    "Menu\nAccueil\nContact\n"
    "L'OIM à Genève\n"
    "Genève - Une réunion s'est tenue à Genève, où l'équipe a présenté ses résultats.\n"
    "Le directeur régional a salué l'engagement des États.\n"
)


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_the_original_is_decoded_as_the_indexer_read_it(tiny_corpus, tmp_path, encoding):
    """A Latin-1 or UTF-16 article shows its own text (no NUL bytes, no mojibake), and the cited
    passage is marked on its own words."""
    from qa.indexer import update_index

    (tiny_corpus / "geneve.txt").write_bytes(ORIGINAL_TEXT.encode(encoding))
    update_index(tiny_corpus, tmp_path / "index", backend="hash")
    library = Library(Retriever.open(tmp_path / "index", tiny_corpus, backend="hash"))
    article = library.article("geneve.txt")
    assert article is not None
    passage = next(p for p, _ in article.placed if "directeur régional" in p.text)
    shown = html.unescape(original_view(library, article, passage))
    assert "\x00" not in shown and "Ã" not in shown and "\ufffd" not in shown
    assert "Genève - Une réunion s'est tenue à Genève" in shown
    marked = re.findall(r"<mark>(.*?)</mark>", shown)
    assert marked and "".join(marked).startswith("Genève - Une réunion")
    assert "".join(marked).endswith("l'engagement des États.")


# ---------- uploads: names, saving, indexing, removing


@pytest.mark.parametrize(
    "sent, saved",
    [
        ("Rapport annuel (2024).txt", "Rapport-annuel-2024.txt"),
        ("../../etc/passwd.md", "passwd.md"),
        ("C:\\Users\\me\\Desktop\\Note.MD", "Note.md"),
        (".bashrc.txt", "bashrc.txt"),
        ("...txt", "article.txt"),
        ("Éloïse à Genève — été.txt", "Eloise-a-Geneve-ete.txt"),
        ("a" * 300 + ".txt", "a" * 80 + ".txt"),
    ],
)
def test_uploaded_names_are_made_safe(sent, saved):
    assert safe_name(sent, (".txt", ".md")) == saved


@pytest.mark.parametrize("sent", ["script.sh", "noext", "archive.tar.gz", "page.php"])
def test_uploads_of_other_types_are_refused(sent):
    with pytest.raises(UploadError, match="can be added"):
        safe_name(sent, (".txt", ".md"))


def test_saving_never_overwrites_and_says_so(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.txt").write_text("old", encoding="utf-8")
    new = tmp_path / "note.txt"
    new.write_text("new text", encoding="utf-8")
    saved = save_upload(corpus, new, "note.txt")
    assert (saved.file, saved.created) == ("note-2.txt", True) and "saved as note-2.txt" in saved.note
    assert (corpus / "note.txt").read_text(encoding="utf-8") == "old"
    again = save_upload(corpus, new, "copy of note.txt")
    assert (again.file, again.created) == ("note-2.txt", False) and "already in the corpus" in again.note
    assert sorted(p.name for p in corpus.iterdir()) == ["note-2.txt", "note.txt"]  # no staging file left


def test_files_over_the_limit_are_refused_with_the_limit(tmp_path):
    big = tmp_path / "big.txt"
    with big.open("wb") as f:
        f.truncate(max_upload_bytes() + 1)
    with pytest.raises(UploadError, match=r"big.txt is 10.0 MB; files of up to 10.0 MB can be added"):
        save_upload(tmp_path, big, "big.txt")


def upload(library: Library, tmp_path: Path, files: dict[str, bytes]) -> str:
    """Send files as the browser does; the status shown at the end."""
    return status_html(library.add(received(tmp_path, files)))


ARTICLE = (
    "L'OIM ouvre un bureau à Tombouctou\n"
    "Tombouctou – L'OIM a ouvert jeudi un bureau dirigé par Moussa Keïta, chef de bureau.\n"
    "Le bureau aidera les familles de pêcheurs du fleuve Niger.\n"
)


def test_uploaded_articles_are_indexed_and_answerable(tiny_retriever, tmp_path):
    library = Library(tiny_retriever, allow_changes=True)
    notes = b"# Carnet\nPeche au Niger: notes.\n"
    status = upload(library, tmp_path, {"Tombouctou bureau.txt": ARTICLE.encode(), "notes.md": notes})
    assert "Added: Tombouctou-bureau.txt, notes.md. Ask about them now." in html.unescape(status)
    assert (tiny_retriever.corpus_dir / "Tombouctou-bureau.txt").read_text(encoding="utf-8") == ARTICLE
    hit = tiny_retriever.retrieve("Moussa Keïta chef de bureau Tombouctou", k=1)[0]
    assert hit.doc_id == "Tombouctou-bureau.txt" and hit.citation.lines == (2, 3)
    assert len(tiny_retriever.reader.manifest.documents) == 5


def test_a_file_that_gives_no_article_is_taken_out_with_the_reason(tiny_retriever, tmp_path):
    library = Library(tiny_retriever, allow_changes=True)
    status = upload(library, tmp_path, {"binary.txt": b"\x00\x01\x02 binary", "blank.md": b"  \n\n \n"})
    status = html.unescape(status)
    assert "binary.txt: not added, binary file" in status and "blank.md: not added" in status
    assert not (tiny_retriever.corpus_dir / "binary.txt").exists()
    assert len(tiny_retriever.reader.manifest.documents) == 3


def test_removing_an_article_deletes_its_file_and_reindexes(tiny_retriever):
    library = Library(tiny_retriever, allow_changes=True)
    assert "Removed: cairo.txt." in html.unescape(status_html(library.remove("cairo.txt")))
    assert not (tiny_retriever.corpus_dir / "cairo.txt").exists()
    assert "cairo.txt" not in tiny_retriever.reader.manifest.documents
    for bad in ["cairo.txt", "../index/manifest.json", "/etc/passwd"]:
        assert "not an article of the index" in html.unescape(status_html(library.remove(bad)))


def test_changes_are_refused_when_uploads_are_off(tiny_retriever, tmp_path):
    library = Library(tiny_retriever, allow_changes=False)
    assert "--allow-uploads" in html.unescape(upload(library, tmp_path, {"a.txt": ARTICLE.encode()}))
    assert "--allow-uploads" in html.unescape(status_html(library.remove("cairo.txt")))
    assert sorted(p.name for p in tiny_retriever.corpus_dir.iterdir()) == ["arctic.md", "cairo.txt", "mongolia.txt"]


def test_upload_types_follow_what_the_reader_reads():
    from qa.ingest import SUFFIXES

    assert {".txt", ".md"} <= set(accepted_suffixes()) <= set(SUFFIXES)


def test_uploaded_web_page_is_indexed_as_its_cleaned_article(tiny_retriever, tmp_path):
    library = Library(tiny_retriever, allow_changes=True)
    page = make_html(HTML_TITLE, "2024-03-06", HTML_PARAGRAPHS)
    status = upload(library, tmp_path, {"Centre Agadez.html": page})
    assert "Added: Centre-Agadez.html" in html.unescape(status)
    hit = tiny_retriever.retrieve("centre d'accueil Agadez héberger 400 personnes", k=1)[0]
    assert hit.doc_id == "Centre-Agadez.html" and hit.title == HTML_TITLE
    article = library.article(hit.doc_id)
    assert article is not None and "Accueil" not in article.text and "Mentions légales" not in article.text


def test_uploaded_pdf_is_cited_with_its_page(tiny_retriever, tmp_path):
    library = Library(tiny_retriever, allow_changes=True)
    status = upload(library, tmp_path, {"Rapport Mauritanie.pdf": make_pdf(PDF_PAGES)})
    assert "Added: Rapport-Mauritanie.pdf" in html.unescape(status)
    hit = tiny_retriever.retrieve("kits d'hygiène distribués Nouakchott Gorgol", k=1)[0]
    assert hit.doc_id == "Rapport-Mauritanie.pdf" and hit.citation.page == 2
    assert hit.as_dict()["page"] == 2 and "3 500 kits" in hit.text


def test_a_one_line_file_is_said_to_hold_no_text(tiny_retriever, tmp_path):
    """A file of one line is read as a title with no text: nothing to search, so not "added"."""
    library = Library(tiny_retriever, allow_changes=True)
    status = html.unescape(upload(library, tmp_path, {"titre.txt": b"L'OIM ouvre un bureau a Dakar\n"}))
    assert "titre.txt: not added, it holds no text besides its title line" in status and "Added" not in status
    assert "Index:" not in status  # in the end the index did not change
    assert not (tiny_retriever.corpus_dir / "titre.txt").exists()
    assert sorted(tiny_retriever.reader.manifest.documents) == ["arctic.md", "cairo.txt", "mongolia.txt"]


# ---------- uploads from the page: queued, said, and not left in Gradio's folder


@pytest.fixture
def upload_folder(tmp_path, monkeypatch) -> Path:
    """Gradio's upload folder, here: each upload in a folder of its own, as Gradio saves it."""
    folder = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    return folder


def sent_through_gradio(folder: Path, files: dict[str, bytes]) -> list[str]:
    paths = []
    for number, (name, data) in enumerate(files.items()):
        path = folder / f"{number:040x}" / name
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        paths.append(str(path))
    return paths


def page_handlers(retriever: Retriever, allow_uploads: bool = True):
    from qa.ui.handlers import Handlers

    return Handlers(retriever, Library(retriever, allow_uploads))


def test_files_sent_from_the_page_leave_nothing_in_gradios_folder(tiny_retriever, upload_folder):
    handlers = page_handlers(tiny_retriever)
    sent = sent_through_gradio(upload_folder, {"a.txt": ARTICLE.encode(), "run.sh": b"echo hi", "empty.md": b""})
    steps = list(handlers.add_files(sent, []))
    status = html.unescape(steps[-1][0])
    assert "Added: a.txt" in status and "run.sh: only" in status and "empty.md is empty" in status
    assert list(upload_folder.iterdir()) == []  # saved, refused or empty: none kept, nor their folders
    assert (tiny_retriever.corpus_dir / "a.txt").read_text(encoding="utf-8") == ARTICLE


def test_while_indexing_the_button_says_so_and_more_files_wait_their_turn(tiny_retriever, upload_folder):
    """Gradio drops an event triggered while the previous one runs unless its trigger mode is
    "multiple": a second upload during indexing was lost without a word. It now queues, one
    change at a time, and the button says "Indexing…" meanwhile."""
    from qa.ui import build_app
    from qa.ui.handlers import INDEXING_LABEL, UPLOAD_LABEL

    app = build_app(tiny_retriever, allow_uploads=True)
    changes = {
        fn.name: (fn.trigger_mode, fn.concurrency_id, fn.concurrency_limit)
        for fn in app.fns.values()
        if fn.name in ("add_files", "remove_clicked")
    }
    assert changes == {"add_files": ("multiple", "qa-index", 1), "remove_clicked": ("multiple", "qa-index", 1)}

    sent = sent_through_gradio(upload_folder, {"a.txt": ARTICLE.encode()})
    steps = list(page_handlers(tiny_retriever).add_files(sent, []))
    labels = [step[-1].label for step in steps]
    assert set(labels[:-1]) == {INDEXING_LABEL} and labels[-1] == UPLOAD_LABEL


def test_each_change_shows_anew_above_the_earlier_ones(tiny_retriever, upload_folder):
    """Choosing the same file again said the same thing in the same place: nothing visible happened."""
    handlers = page_handlers(tiny_retriever)
    recent: list[str] = []
    shown = []
    for number in range(3):
        sent = sent_through_gradio(upload_folder / str(number), {"a.txt": ARTICLE.encode()})
        status, recent, *_ = list(handlers.add_files(sent, recent))[-1]
        shown.append(html.unescape(status))
    assert "Added: a.txt" in shown[0]
    assert "a.txt: already in the corpus as a.txt, nothing to add." in shown[1]
    assert len(set(shown)) == 3 and shown[2].count("already in the corpus") == 2 and "Added: a.txt" in shown[2]


# ---------- what the page says about the index


def test_header_says_what_is_searched_without_server_paths(tiny_retriever):
    manifest = tiny_retriever.reader.manifest
    header = header_html(Library(tiny_retriever).status())
    assert "<b>3 articles</b>" in header and f"({manifest.passage_count:,} passages)" in header
    assert "the folder <code>corpus</code>" in header and "index updated" in header
    assert str(tiny_retriever.corpus_dir.parent) not in header and "IOM" not in header


def test_header_names_every_language_the_chat_answers_in(tiny_retriever):
    header = header_html(Library(tiny_retriever).status())
    assert "Ask in English, French, German or Spanish." in header


def test_article_list_offers_open_and_remove(tiny_retriever):
    articles = Library(tiny_retriever).articles()
    listed = articles_html(articles, can_remove=True)
    assert listed.count("<tr>") == 3 + 1 and 'href="#qa:doc:mongolia.txt"' in listed
    assert 'href="#qa:remove:cairo.txt" title="Remove cairo.txt from the corpus folder and the index"' in listed
    assert "L'OIM ouvre un bureau à Oulan-Bator" in html.unescape(listed) and "'OIM" not in listed
    assert "qa:remove" not in articles_html(articles, can_remove=False)


# ---------- the conversation kept in the browser


def test_conversation_from_the_browser_keeps_only_messages():
    saved = {
        "chat": [
            {"role": "user", "content": "Q"},
            {"role": "assistant", "content": [{"type": "text", "text": "<div>A</div>"}], "metadata": {}},
            {"role": "system", "content": "x"},
            "junk",
            {"role": "user", "content": {"path": "/etc/passwd"}},
        ],
        "questions": ["Q", 5, None],
        "turns": [
            {"ref": "0123456789abcdef", "question": "Q", "answer": {"found": True}, "history": ["P", 3], "since": 5},
            {"ref": "../../etc", "question": "Q", "answer": None},
            {"ref": "fedcba9876543210", "question": None, "answer": None},
            {"ref": "fedcba9876543210", "question": "R", "answer": "not a record"},
            "junk",
        ],
    }
    chat, questions, turns = restore(saved)
    assert chat == [
        {"role": "user", "content": "Q"},
        {"role": "assistant", "content": "<div>A</div>"},
        {"role": "user", "content": ""},
    ]
    assert questions == ["Q"]
    assert turns == [
        {
            "ref": "0123456789abcdef",
            "question": "Q",
            "answer": {"found": True},
            "history": ["P"],
            "since": None,
            "until": None,
            "message": None,
            "version": "",
        }
    ]
    assert restore("garbage") == ([], [], []) and plain_messages(None) == []


# ---------- start-up


def test_uploads_are_on_only_for_a_local_server_unless_asked():
    sys.path.insert(0, str(ROOT))
    import app

    def allowed(*argv: str) -> bool:
        return app.uploads_allowed(app.build_parser().parse_args(list(argv)))

    assert allowed() and allowed("--host", "localhost")
    assert not allowed("--host", "0.0.0.0") and not allowed("--share")
    assert allowed("--host", "0.0.0.0", "--allow-uploads")


def test_logging_keeps_our_messages_and_drops_library_debug():
    code = (
        "import logging; from qa.cli import configure_logging; configure_logging(); "
        "logging.getLogger('bm25s').setLevel(logging.DEBUG); logging.getLogger('bm25s').debug('Building index'); "
        "logging.getLogger('qa.x').info('ours'); logging.getLogger('other').warning('careful')"
    )
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert "Building index" not in result.stderr and "DEBUG" not in result.stderr
    assert "INFO ours" in result.stderr and "WARNING careful" in result.stderr


def test_an_index_that_cannot_be_reached_is_said_plainly(backend, monkeypatch):
    from qa.store import StoreUnavailable

    def down(*args, **kwargs):
        raise StoreUnavailable("cannot reach the database at postgresql://qa:***@db/news: connection refused")

    monkeypatch.setattr(backend.retriever, "answer", down)
    reply, record = backend.ask("Qui dirige le bureau d'Oulan-Bator ?", [], 3)
    assert record["status"] == "unavailable" and "connection refused" in record["message"]
    assert "went wrong" not in reply and "***" in html.unescape(reply)


def test_a_number_of_passages_too_big_for_a_float_is_a_bad_request_not_a_crash():
    from qa.ui.backend import BadRequest, parse_k

    with pytest.raises(BadRequest, match="whole number"):
        parse_k(10**400)
    assert parse_k("3") == 3
