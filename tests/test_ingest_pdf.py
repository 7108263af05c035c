"""PDF press releases: text per page, the page of each passage, the title, unreadable PDFs skipped."""

import io

import pytest
from reportlab.lib.pagesizes import A4  # a test dependency (pyproject's "test" extra): missing, the file fails
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.pdfgen import canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

from qa.chunking import chunk_document
from qa.ingest import load_corpus, read_document_text
from qa.ingest.document import Unusable
from qa.ingest.pdf import pdf_document

TITLE = "L'OIM soutient les familles déplacées par les inondations dans le centre du Mozambique"
PAGE_1 = [
    "Maputo – L'Organisation internationale pour les migrations (OIM) a distribué des abris d'urgence "
    "à des familles déplacées par les inondations dans la province de Sofala, où les pluies ont détruit "
    "des milliers de maisons au cours de la semaine dernière.",
    "Les équipes de l'OIM travaillent avec l'Institut national de gestion des catastrophes pour enregistrer "
    "les familles, distribuer des kits d'hygiène et identifier les personnes les plus vulnérables.",
] * 3
FACT = "le camp de Beira accueille désormais 4 217 personnes, dont une majorité d'enfants de moins de cinq ans"
PAGE_2 = [
    f"Selon les équipes de terrain, {FACT}.",
    "Un deuxième site d'hébergement ouvrira la semaine prochaine à Dondo, a précisé le chef de mission.",
]
PAGE_3 = ["Pour plus d'informations, veuillez contacter Sandra Black, OIM Maputo, Email : sblack@iom.int"]


def press_release(encrypt: str | None = None) -> bytes:
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title="Communiqué", encrypt=encrypt)
    story = [Paragraph(TITLE, styles["Title"])]
    for page in (PAGE_1, PAGE_2, PAGE_3):
        story += [p for text in page for p in (Paragraph(text, styles["BodyText"]), Spacer(1, 10))]
        story.append(PageBreak())
    doc.build(story[:-1])
    return out.getvalue()


@pytest.fixture(scope="module")
def pdf_doc(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("pdf")
    (corpus / "mozambique.pdf").write_bytes(press_release())
    [doc] = load_corpus(corpus).documents
    return corpus, doc


def test_pages_title_and_text(pdf_doc):
    _, doc = pdf_doc
    assert doc.doc_id == doc.path == "mozambique.pdf"
    assert len(doc.pages) == 3 and doc.pages[0] == 0
    for start in doc.pages[1:]:
        assert doc.source[start - 2 : start] == "\n\n"
    assert doc.title == TITLE  # set in a larger font over two lines
    assert doc.text.startswith("Maputo – L'Organisation internationale")
    assert "au cours de la semaine dernière." in doc.text  # hard-wrapped lines re-joined
    assert "sblack@iom.int" in doc.text


def test_the_passage_of_a_page_2_fact_cites_page_2(pdf_doc):
    corpus, doc = pdf_doc
    passages = chunk_document(doc)
    [holder] = [p for p in passages if "4 217 personnes" in p.text and p.text.startswith("Selon")]
    assert holder.page == 2
    assert doc.page_of(holder.start) == 2 and doc.pages[1] <= holder.start < doc.pages[2]
    assert FACT in " ".join(doc.source[holder.start : holder.end].split())
    source_lines = doc.source.splitlines()
    assert "4 217" in "\n".join(source_lines[holder.line_start - 1 : holder.line_end])
    assert passages[0].page == 1
    assert read_document_text(corpus, doc.doc_id) == doc.source


def test_a_sentence_going_on_over_a_page_break_is_one_paragraph():
    out = io.BytesIO()
    c = canvas.Canvas(out)
    c.drawString(72, 800, "Titre du communiqué")
    c.drawString(72, 760, "Une phrase commence en bas de la première page et")
    c.showPage()
    c.drawString(72, 800, "se termine en haut de la deuxième page.")
    c.save()
    doc = pdf_document("a.pdf", out.getvalue())
    assert doc.title == "Titre du communiqué"
    assert doc.text == "Une phrase commence en bas de la première page et se termine en haut de la deuxième page."
    assert doc.page_of(int(doc.offsets[-1])) == 2


def test_encrypted_broken_and_scanned_pdfs_are_skipped(tmp_path):
    (tmp_path / "locked.pdf").write_bytes(press_release(encrypt="secret"))
    (tmp_path / "broken.pdf").write_bytes(press_release()[:400])
    scan = io.BytesIO()
    c = canvas.Canvas(scan)
    c.rect(100, 100, 300, 400, fill=1)
    c.save()
    (tmp_path / "scan.pdf").write_bytes(scan.getvalue())
    loaded = load_corpus(tmp_path)
    assert loaded.documents == []
    reasons = dict(loaded.skipped)
    assert reasons["locked.pdf"] == "encrypted PDF (it needs a password)"
    assert reasons["broken.pdf"].startswith("cannot read the PDF")
    assert reasons["scan.pdf"].startswith("no text in the PDF")
    with pytest.raises(Unusable):
        pdf_document("x.pdf", b"not a pdf at all")


def test_headings_stand_apart_and_keep_their_lines_together():
    """A heading (larger type) after a sentence without a full stop is a paragraph of its own, a heading
    over two lines stays one paragraph, and so does a lead paragraph set in bold over three lines."""
    styles = getSampleStyleSheet()
    lead = (
        "L'OIM appelle les donateurs à financer la réponse aux inondations qui ont touché plus de cent mille "
        "personnes dans la vallée du fleuve, où les pluies ont détruit les récoltes et les maisons de villages entiers."
    )
    unfinished = "Les équipes de l'OIM sont sur place depuis lundi avec les autorités régionales et les partenaires"
    heading = (
        "Une réponse coordonnée avec les autorités régionales, les agences des Nations Unies et les organisations "
        "locales du pays"
    )
    body = "Le plan prévoit des abris, de l'eau potable et des soins pour les familles."
    out = io.BytesIO()
    story = [Paragraph("Des inondations dans la vallée du fleuve", styles["Title"])]
    story += [Paragraph(f"<b>{lead}</b>", styles["BodyText"]), Paragraph(unfinished, styles["BodyText"])]
    story += [Paragraph(heading, styles["Heading1"]), Paragraph(body, styles["BodyText"])]
    SimpleDocTemplate(out, pagesize=A4).build(story)
    doc = pdf_document("floods.pdf", out.getvalue())
    assert doc.source.count("\n") > 5  # the lead and the heading were set over several lines
    assert doc.text.split("\n\n") == [lead, unfinished, heading, body]
