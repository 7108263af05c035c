"""Saved web pages: the article, its title and date; menus, banners, scripts and footers left out."""

from pathlib import Path

import pytest

from qa.chunking import chunk_document
from qa.ingest import load_corpus, read_document_text
from qa.ingest.document import Unusable
from qa.ingest.html import html_document

from .made_files import HTML_PARAGRAPHS, HTML_TITLE, make_html, make_menu_page

PAGE = Path(__file__).parent / "fixtures" / "iom_news_page.html"


@pytest.fixture(scope="module")
def page_doc(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("html")
    (corpus / "news").mkdir()
    (corpus / "news" / "niger.html").write_bytes(PAGE.read_bytes())
    [doc] = load_corpus(corpus).documents
    return corpus, doc


def test_title_date_and_citation_of_a_saved_page(page_doc):
    _, doc = page_doc
    assert doc.doc_id == doc.path == "news/niger.html"
    assert doc.title == "L'OIM et le Niger lancent un programme de retour volontaire"
    assert doc.date == "2024-03-12"


def test_article_body_is_kept(page_doc):
    _, doc = page_doc
    assert doc.text.startswith("Niamey – L'Organisation internationale pour les migrations (OIM)")
    for kept in [
        "12 millions d'euros",
        "« Personne ne devrait être contraint de rester bloqué dans le désert sans protection.",
        "a déclaré Barbara Rijks, cheffe de mission de l'OIM au Niger.",
        "Pour plus d'informations, veuillez contacter Aïssatou Sy",
        "asy@iom.int",
    ]:
        assert kept in doc.text
    assert doc.title not in doc.text  # the h1 is the title, not the first paragraph


def test_menus_banners_scripts_and_footer_are_left_out(page_doc):
    _, doc = page_doc
    for gone in [
        "Qui sommes nous",
        "Structure organisationnelle",
        "Rechercher",
        "cookies",
        "gtag",
        "G-TRACKER-SECRET",
        "ACCEPTED-SCRIPT-TEXT",
        "Tous droits réservés",
        "Politique de confidentialité",
        "Abonnez-vous",
        "Articles similaires",
        "display:inline",
    ]:
        assert gone not in doc.text and gone not in doc.source


def test_offsets_and_lines_point_into_the_extracted_text(page_doc):
    corpus, doc = page_doc
    assert read_document_text(corpus, doc.doc_id) == doc.source  # extraction is repeatable: the UI shows this
    passages = chunk_document(doc)
    quote = next(p for p in passages if "Barbara Rijks" in p.text)
    assert " ".join(doc.source[quote.start : quote.end].split()) == " ".join(quote.text.split())
    lines = doc.source.splitlines()
    assert "Barbara Rijks" in "\n".join(lines[quote.line_start - 1 : quote.line_end])
    assert quote.page is None


@pytest.mark.parametrize(
    "data",
    [
        b"<html><head><title>Vide</title></head><body>  </body></html>",
        b"<html><body><script>var article = 'pas du texte';</script></body></html>",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b"",
    ],
)
def test_a_page_without_text_is_skipped(data):
    with pytest.raises(Unusable, match="no article text"):
        html_document("empty.html", data)


@pytest.mark.parametrize("menu_markup", ["nav", "class"])
def test_a_page_of_menus_and_footer_only_is_skipped_with_the_reason(tmp_path, menu_markup):
    (tmp_path / "home.html").write_bytes(make_menu_page(menu_markup))
    (tmp_path / "agadez.html").write_bytes(make_html(HTML_TITLE, "2024-05-02", HTML_PARAGRAPHS))
    loaded = load_corpus(tmp_path)
    assert [d.doc_id for d in loaded.documents] == ["agadez.html"]  # an article with the same menu is read
    assert dict(loaded.skipped) == {"home.html": "no article text in the page, only its menus, header or footer"}


def test_a_page_without_title_takes_its_first_line(tmp_path):
    html = (
        "<html><body><article><p>Genève – Une première phrase assez longue pour être gardée comme article."
        " Elle continue encore un peu pour faire un vrai paragraphe de texte.</p>"
        "<p>Un second paragraphe qui complète le premier avec d'autres informations utiles.</p>"
        "</article></body></html>"
    )
    doc = html_document("a.htm", html.encode("utf-8"))
    assert doc.title.startswith("Genève – Une première phrase")
    assert doc.text.startswith("Un second paragraphe")
