"""PDF citations carry the right pages, and a cited page is shown as the page itself.

A two-page press release whose answer stands at the top of page 2, in the same
passage as the end of page 1: the hit spans pages 1 and 2, the short answer is on
page 2. The page image is checked against where the text was drawn, measured with
the font's own metrics (not with the renderer that draws the boxes).
"""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

from qa.chunking import chunk_document
from qa.cite import cite, cite_short_answer
from qa.ingest.document import Unusable
from qa.ingest.page_image import CHANGED_NOTE, MAX_HEIGHT, MAX_WIDTH, OCR_NOTE, passage_page, render_page
from qa.ingest.pdf import pdf_document
from qa.search import Scored
from qa.spans import Span
from qa.store import Candidate

from .made_files import make_pdf, make_scan

TITLE = "L'OIM ouvre un bureau à Dakar pour les migrants de retour"
PAGE_1 = [
    "Dakar – L'Organisation internationale pour les migrations (OIM) a ouvert jeudi un bureau à Dakar pour "
    "accompagner les migrants de retour au Sénégal.",
    "Le bureau travaillera avec les autorités sénégalaises et les organisations de la société civile",
]
HEADING = "Direction du bureau"
ANSWER_SENTENCE = "Le bureau de Dakar est dirigé par Awa Diop, cheffe de mission de l'OIM au Sénégal."
PAGE_2 = [
    ANSWER_SENTENCE,
    "Il emploiera vingt personnes dès le mois de mars.",
    "Le bureau offrira une aide à la réinsertion, des formations professionnelles et un soutien psychosocial "
    "aux migrants de retour et à leurs familles, dans les régions de Dakar, de Thiès et de Saint-Louis.",
    "Les premiers bénéficiaires sont attendus au début du mois d'avril, après une campagne d'information "
    "menée avec les associations de migrants de retour et les collectivités locales.",
]
QUESTION = "Qui dirige le bureau de l'OIM à Dakar ?"


def two_page_release() -> bytes:
    """The release as a word processor sets it: a title, body text, and page 2 opening on a heading."""
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    story = [Paragraph(TITLE, styles["Title"])] + [Paragraph(p, styles["BodyText"]) for p in PAGE_1]
    story += [PageBreak(), Paragraph(HEADING, styles["Heading2"])]
    story += [Paragraph(p, styles["BodyText"]) for p in PAGE_2]
    SimpleDocTemplate(out, pagesize=A4, title="Communiqué").build(story)
    return out.getvalue()


def scored(passage, sentence: int) -> Scored:
    """The passage as ranked for a question, its sentence ``sentence`` the best."""
    count = len(passage.sentences)
    candidate = Candidate(0, passage, 0.9, np.zeros((count, 4), dtype=np.float32))
    return Scored(candidate, 0.9, 0.9, 0.0, np.zeros(count), best_sentence=sentence)


@pytest.fixture(scope="module")
def release():
    data = two_page_release()
    doc = pdf_document("dakar.pdf", data)
    return data, doc, chunk_document(doc)


def test_a_heading_opening_page_2_is_not_glued_to_the_text_around_it(release):
    _, doc, _ = release
    assert f"société civile\n\n{HEADING}\n\n{ANSWER_SENTENCE}" in doc.text
    assert f"civile {HEADING}" not in doc.text and f"{HEADING} Le bureau" not in doc.text


def test_a_passage_over_a_page_break_gives_both_pages_and_its_answer_its_own(release):
    _, doc, passages = release
    [passage] = [p for p in passages if "Awa Diop" in p.text and "Dakar –" in p.text]
    assert passage.page == 1 and passage.pages == (1, 2)
    assert passage.page_starts == doc.pages[:2]
    at = passage.text.index("Awa Diop")
    start, end = passage.original_span(at, at + len("Awa Diop"))
    assert doc.source[start:end] == "Awa Diop" and passage.page_at(start) == 2 == doc.page_of(start)
    assert passage.page_at(passage.start) == 1 and passage.pages_of(start, end) == (2,)

    ranked = scored(passage, passage.sentence_at(at) or 0)
    hit = cite(1, ranked, corpus_dir=Path("corpus"))
    assert hit.as_dict()["page"] == 1 and hit.as_dict()["pages"] == [1, 2]
    short = cite_short_answer(Span(at, at + len("Awa Diop"), "person"), ranked, hit)
    record = short.as_dict()
    assert record["page"] == 2 and "pages" not in record  # on one page: "page" says it all
    assert record["start"] == start and record["lines"][0] == doc.line_range(start, end)[0]


def test_a_passage_on_one_page_keeps_the_json_it_had():
    [one_page] = chunk_document(pdf_document("a.pdf", make_pdf([["Titre", "Une phrase."]])))
    assert one_page.pages == (1,)
    hit = cite(1, scored(one_page, 0), corpus_dir=Path("corpus"))
    assert hit.as_dict()["page"] == 1 and "pages" not in hit.as_dict()


@pytest.fixture
def pdf_retriever(tmp_path):
    """The release indexed with the hash backend, next to the tiny articles; a judge that takes any score
    (hash vectors are far from a question's): what is tested is where the answer is cited."""
    from qa.embed import get_embedder
    from qa.indexer import update_index
    from qa.judge import Judging
    from qa.retrieval import Retriever
    from qa.store import open_store

    from .conftest import write_corpus

    corpus = write_corpus(tmp_path / "corpus")
    (corpus / "dakar.pdf").write_bytes(two_page_release())
    update_index(corpus, tmp_path / "index", backend="hash")
    store = open_store(tmp_path / "index")
    return Retriever(store, get_embedder(backend="hash"), corpus, judging=Judging(score_floor=0.0))


def test_the_answer_on_page_2_is_cited_as_page_2(pdf_retriever):
    record = pdf_retriever.answer(QUESTION, k=1).as_dict()
    assert record["found"] and "Awa Diop" in record["short_answer"]["text"]
    assert record["short_answer"]["page"] == 2 and record["short_answer"]["doc_id"] == "dakar.pdf"
    [hit] = record["hits"]
    assert hit["page"] == 1 and hit["pages"] == [1, 2]
    json.dumps(record)  # what `qa ask --json` prints


@pytest.mark.slow
def test_qa_ask_json_cites_page_2(tmp_path, capsys, monkeypatch):
    """The command line, with the real model and its judge."""
    from qa.cli import main

    from .conftest import SEED_CORPUS

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for article in SEED_CORPUS.iterdir():
        (corpus / article.name).write_bytes(article.read_bytes())
    (corpus / "dakar.pdf").write_bytes(two_page_release())
    where = ["--corpus", str(corpus), "--store", str(tmp_path / "index")]
    assert main(["index", *where]) in (0, None)
    capsys.readouterr()
    assert main(["ask", QUESTION, "--json", "-k", "2", *where]) in (0, None)
    record = json.loads(capsys.readouterr().out)
    assert record["found"] and "Awa Diop" in record["short_answer"]["text"]
    assert record["short_answer"]["page"] == 2
    first = record["hits"][0]
    assert first["doc_id"] == "dakar.pdf" and first["page"] == 1 and first["pages"] == [1, 2]


# ---------------------------------------------------------------- the page itself


# make_pdf sets each page's lines in Helvetica 11 from (50, 790), 14 points apart, on A4 (595 × 842).
LEFT, FIRST_BASELINE, LEADING, SIZE, PAGE_HEIGHT, PAGE_WIDTH = 50, 790, 14, 11, 842, 595
MADE_PAGES = [
    ["Le Sénégal accueille un nouveau bureau de l'OIM", "Dakar – L'OIM a ouvert jeudi un bureau à Dakar."],
    ["Les équipes sont en place depuis lundi et reçoivent déjà les familles.", ANSWER_SENTENCE],
]


def test_page_2_renders_with_the_cited_words_marked_where_they_are_drawn():
    data = make_pdf(MADE_PAGES)
    doc = pdf_document("made.pdf", data)
    [passage] = chunk_document(doc)
    assert passage.pages == (1, 2)
    at = passage.text.index("Awa Diop")
    image = passage_page(data, passage, 2, (at, at + len("Awa Diop")))
    assert image.png.startswith(b"\x89PNG") and image.page == 2 and image.page_count == 2 and image.note is None
    assert image.width <= MAX_WIDTH and image.height <= MAX_HEIGHT
    assert abs(image.width / image.height - PAGE_WIDTH / PAGE_HEIGHT) < 0.01

    lines = [line for paragraph in MADE_PAGES[1] for line in textwrap.wrap(paragraph, 90)]
    row = next(i for i, line in enumerate(lines) if "Awa Diop" in line)
    [box] = image.marked[1]  # the cited words, on one line
    baseline = (PAGE_HEIGHT - (FIRST_BASELINE - LEADING * row)) / PAGE_HEIGHT
    assert box.top < baseline < box.bottom and box.bottom - box.top < 1.5 * SIZE / PAGE_HEIGHT
    left = LEFT + stringWidth(lines[row][: lines[row].index("Awa Diop")], "Helvetica", SIZE)
    right = left + stringWidth("Awa Diop", "Helvetica", SIZE)
    assert abs(box.left * PAGE_WIDTH - left) < 2 and abs(box.right * PAGE_WIDTH - right) < 2
    # the passage's part on page 2: every line of that page, from the left margin
    cited = image.marked[0]
    assert len(cited) == len(lines) and all(abs(b.left * PAGE_WIDTH - LEFT) < 2 for b in cited)
    assert [b.top for b in cited] == sorted(b.top for b in cited)


def test_page_1_marks_nothing_of_page_2():
    data = make_pdf(MADE_PAGES)
    [passage] = chunk_document(pdf_document("made.pdf", data))
    at = passage.text.index("Awa Diop")
    image = passage_page(data, passage, 1, (at, at + 8))
    assert image.marked[1] == () and len(image.marked[0]) == 1  # the dateline of page 1 only (the title is no text)
    with pytest.raises(Unusable, match="not on page 3"):
        passage_page(data, passage, 3)


def test_pages_that_cannot_be_marked_are_shown_unmarked_and_say_why(monkeypatch):
    from qa.ingest import ocr

    scan = make_scan([["Un bureau ouvre à Dakar", "Il est dirigé par Awa Diop."]])
    monkeypatch.setattr(ocr, "TESSERACT", "qa-test-no-such-tesseract")  # a machine without OCR
    image = render_page(scan, 1, [(0, 5)], ["Un bu"])
    assert image.png.startswith(b"\x89PNG") and image.marked == ((),) and image.note == OCR_NOTE
    monkeypatch.undo()
    changed = render_page(make_pdf(MADE_PAGES), 2, [(0, 10)], ["Autre texte"])
    assert changed.marked == ((),) and changed.note == CHANGED_NOTE
    with pytest.raises(Unusable, match="no page 5"):
        render_page(make_pdf(MADE_PAGES), 5)
    with pytest.raises(Unusable, match="cannot open"):
        render_page(b"%PDF-1.4 not really", 1)


# ---------------------------------------------------------------- the article panel


def test_the_panel_shows_page_breaks_and_opens_the_cited_page(pdf_retriever):
    import base64
    import re

    from qa.library import Library
    from qa.ui.article import Reference, open_reference
    from qa.ui.handlers import parse_action

    library = Library(pdf_retriever)
    record = pdf_retriever.answer(QUESTION, k=1).as_dict()
    [hit] = record["hits"]
    opened = open_reference(library, Reference(passage_id=hit["passage_id"], span=tuple(hit["answer_span"])))
    shown = opened.html
    assert '<span class="qa-page-break">page 2</span>' in shown  # where page 2 begins in the text
    assert shown.index("qa-page-break") < shown.index("Direction du bureau") and "qa-page-image" not in shown
    links = re.findall(r'href="(#qa:page:[^"]+)"', shown)
    assert [link.rsplit(":", 1)[1] for link in links] == ["1", "2"]

    act, ref = links[1][len("#qa:") :].split(":", 1)
    page_ref = parse_action({"act": act, "ref": ref})
    assert page_ref == Reference(passage_id=hit["passage_id"], span=tuple(hit["answer_span"]), page=2)
    assert Reference.from_state(page_ref.as_state()) == page_ref
    view = open_reference(library, page_ref).html
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', view)[1])
    assert png.startswith(b"\x89PNG") and "page 2 of 2" in view and "the cited lines are marked" in view
    assert view.count("qa-page-mark") == 1 and view.count("qa-page-cited") >= 2
    assert view.index("qa-page-image") < view.index("qa-article-body")  # the page, then the cleaned text
    assert parse_action({"act": "page", "ref": f"{hit['passage_id']}:0-5:2/../x"}) is None


def test_a_page_that_cannot_be_shown_says_why(pdf_retriever):
    from qa.ingest import CorpusError
    from qa.library import Library
    from qa.ui.article import Reference, open_reference

    library = Library(pdf_retriever)
    txt = next(p for p in pdf_retriever.reader.passages() if p.doc_id == "mongolia.txt")
    with pytest.raises(CorpusError, match="not a PDF"):
        library.page_image(txt.passage_id, 1)
    with pytest.raises(CorpusError, match="no longer in the index"):
        library.page_image("0" * 16, 1)
    pdf = next(p for p in pdf_retriever.reader.passages() if p.doc_id == "dakar.pdf")
    (pdf_retriever.corpus_dir / "dakar.pdf").unlink()
    shown = open_reference(library, Reference(passage_id=pdf.passage_id, page=2)).html
    assert "The page cannot be shown" in shown and "qa-article-body" in shown  # the text is still there


def test_the_chat_names_both_pages_of_a_hit_over_a_page_break_and_the_answers_own(pdf_retriever):
    from qa.ui.format import format_answer, plain_answer

    answer = pdf_retriever.answer(QUESTION, k=1)
    plain = plain_answer(answer)
    assert "dakar.pdf · pp. 1–2 · lines" in plain and "dakar.pdf · pp. 1–2 · lines" in format_answer(answer)
    assert plain.splitlines()[0].endswith("[1, p. 2]")  # the words that answer are on page 2
    assert '</a> <span class="qa-where">(p. 2)</span></p>' in format_answer(answer)


def test_the_two_readings_of_a_page_are_aligned_on_their_letters():
    from qa.ingest.page_image import _alignment

    same = _alignment("Awa  Diop\ndirige", "Awa Diop\r\ndirige")  # spacing and line breaks differ
    assert [same[i] for i in (0, 5, 10)] == [0, 4, 10]
    differing = _alignment("un bu-reau ﬁnancé", "un bu\r\nreau financé")  # a hyphen and a ligature differ
    assert differing[0] == 0 and differing[3] == 3 and differing[6] == 7 and differing[16] == 18
    assert 5 not in differing and 11 not in differing  # "-" and "ﬁ" have no counterpart


def test_a_page_is_read_only_from_the_corpus_folder(pdf_retriever, tmp_path, monkeypatch):
    """An index entry edited to name a file outside the corpus folder: its page is refused, not read."""
    from dataclasses import replace

    from qa.ingest import CorpusError
    from qa.library import Library

    outside = tmp_path / "outside.pdf"
    outside.write_bytes(two_page_release())
    library = Library(pdf_retriever)
    pdf = next(p for p in pdf_retriever.reader.passages() if p.doc_id == "dakar.pdf")
    for doc_id in ("../outside.pdf", str(outside)):
        monkeypatch.setattr(library, "passage", lambda _, doc_id=doc_id: replace(pdf, doc_id=doc_id))
        with pytest.raises(CorpusError, match="not a PDF of the corpus folder"):
            library.page_image(pdf.passage_id, 2)


def test_a_scanned_page_is_marked_where_ocr_found_the_cited_words(tmp_path, monkeypatch):
    """The page's words are read again by OCR, with their boxes: the cited line is marked where it was typed
    (tests/made_files.py types line i of a scan at 550 - 15 i points, the lines after the title 15 lower)."""
    from qa.ingest import load_corpus

    from .made_files import SCAN_LINES

    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "scan.pdf").write_bytes(scan := make_scan([SCAN_LINES]))
    [doc] = load_corpus(tmp_path / "corpus").documents
    assert doc.ocr_pages == (1,)
    passage = next(p for p in chunk_document(doc) if "Anke Strauss" in p.text)
    at = passage.text.index("Anke Strauss")
    image = passage_page(scan, passage, 1, (at, at + len("Anke Strauss")))
    assert image.note is None
    [box] = image.marked[1]
    row = next(i for i, line in enumerate(SCAN_LINES) if "Anke Strauss" in line)
    baseline = (595 - (550 - 15 * row - 15)) / 595  # A5: 420 × 595 points
    assert box.top < baseline < box.bottom + 0.01 and box.bottom - box.top < 0.04
    assert abs(box.left - 40 / 420) < 0.02  # the line's first words, at the left margin
    assert len(image.marked[0]) >= 2  # the passage's lines


def test_pages_shown_at_once_by_several_threads_are_all_rendered():
    """The chat serves clicks on threads, and pdfium is not thread-safe: it is called by one at a time."""
    from concurrent.futures import ThreadPoolExecutor

    data = make_pdf(MADE_PAGES)
    [passage] = chunk_document(pdf_document("made.pdf", data))
    at = passage.text.index("Awa Diop")
    with ThreadPoolExecutor(4) as pool:
        images = list(pool.map(lambda page: passage_page(data, passage, page, (at, at + 8)), [1, 2] * 6))
    assert {image.png for image in images[0::2]} == {images[0].png}
    assert {image.png for image in images[1::2]} == {images[1].png}
    assert all(image.marked[1] for image in images[1::2])


def test_qa_ask_prints_the_answers_page_and_both_pages_of_its_passage(pdf_retriever):
    from qa.cli import format_answer

    printed = format_answer(pdf_retriever.answer(QUESTION, k=1))
    lead, passage = printed.split("\n\n", 1)
    assert lead.startswith("Answer: Awa Diop") and "dakar.pdf" in lead and ", page 2, lines" in lead
    assert "dakar.pdf, pages 1-2, lines" in passage
