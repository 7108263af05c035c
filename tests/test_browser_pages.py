"""A real browser (Debian's chromium, driven by Playwright) opens the page of a PDF citation.

Same setup as tests/test_browser.py: both are installed by the project's setup,
and a missing one fails the test, saying how to add it. The answer of the
question stands at the top of page 2 of a two-page press release; its citation
opens the article, which shows where page 2 begins, and the page itself, with the
cited sentence marked on the image where the words are.
"""

from __future__ import annotations

import os
import re

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from .test_app import start_app  # noqa: E402
from .test_browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    REPLY,
    ask,
    low_contrast,
    save_screenshot,
    sync_playwright,
)
from .test_cite_pages import HEADING, QUESTION, two_page_release  # noqa: E402

PANEL = "#qa-article"
# Where the marked sentence and the image are on the screen, and whether the view shows the mark.
GEOMETRY_JS = """() => {
  const rect = (el) => { const r = el.getBoundingClientRect(); return {left: r.left, top: r.top, right: r.right,
    bottom: r.bottom, width: r.width, height: r.height}; };
  const image = document.querySelector('#qa-article img.qa-page-image');
  const mark = document.querySelector('#qa-article .qa-page-mark');
  const view = document.querySelector('#qa-article .qa-page-view');
  return {image: rect(image), mark: rect(mark), view: rect(view), loaded: image.complete && image.naturalWidth > 0};
}"""


@pytest.fixture(scope="module")
def pdf_corpus(seed_corpus, tmp_path_factory):
    """The seed articles and the two-page release, indexed with the default model."""
    from qa.embed import DEFAULT_MODEL, model_folder
    from qa.indexer import update_index
    from qa.reader_model import ensure_reader_model

    folder = tmp_path_factory.mktemp("pages")
    corpus = folder / "corpus"
    corpus.mkdir()
    for article in seed_corpus.iterdir():
        (corpus / article.name).write_bytes(article.read_bytes())
    (corpus / "dakar.pdf").write_bytes(two_page_release())
    update_index(corpus, folder / "index")
    ensure_reader_model(model_folder(DEFAULT_MODEL))  # built before the page asks, as `qa index` builds it
    return corpus, folder / "index"


@pytest.mark.slow
def test_a_pdf_citation_opens_its_page_with_the_cited_sentence_marked(pdf_corpus, tmp_path):
    playwright = sync_playwright()
    corpus, index = pdf_corpus
    app, url = start_app(corpus, index)
    try:
        with playwright as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url)
                page.wait_for_selector("#qa-question textarea", timeout=30_000)
                reply = ask(page, QUESTION)
                assert "Awa Diop" in reply and "(p. 2)" in reply and "dakar.pdf · pp. 1–2" in reply

                # the reply opened its first citation: the cleaned article, page 2's beginning shown
                page.wait_for_selector(f"{PANEL} .qa-page-break", timeout=15_000)
                body = page.locator(f"{PANEL} .qa-article-body").inner_text()
                assert "page 2" in body and f"{HEADING}\n" in body and f"civile {HEADING}" not in body
                assert page.locator(f"{PANEL} img.qa-page-image").count() == 0

                link = page.locator(f'{PANEL} a.qa-page-link[href$=":2"]')
                href = link.get_attribute("href") or ""
                link.click()
                page.wait_for_selector(f"{PANEL} img.qa-page-image", timeout=15_000)
                page.wait_for_function(
                    f"document.querySelector('{PANEL} img.qa-page-image').naturalWidth > 0", timeout=10_000
                )
                page.wait_for_timeout(300)  # the panel's script scrolls the page to its mark
                meta = page.locator(f"{PANEL} .qa-page .qa-meta").first.inner_text()
                assert "page 2 of 2" in meta and "the cited lines are marked" in meta
                where = page.evaluate(GEOMETRY_JS)
                assert where["loaded"]
                image, mark, view = where["image"], where["mark"], where["view"]

                # the mark lies on the image where the index says the sentence is, and the view shows it
                from qa.library import Library
                from qa.retrieval import Retriever

                linked = re.fullmatch(r"#qa:page:([0-9a-f]+):(\d+)-(\d+):2", href)
                assert linked is not None
                span = (int(linked[2]), int(linked[3]))
                library = Library(Retriever.open(index, corpus))
                expected = library.page_image(linked[1], 2, span).marked[1][0]
                assert abs((mark["left"] - image["left"]) / image["width"] - expected.left) < 0.01
                assert abs((mark["top"] - image["top"]) / image["height"] - expected.top) < 0.01
                assert abs(mark["width"] / image["width"] - (expected.right - expected.left)) < 0.01
                assert view["top"] <= mark["top"] and mark["bottom"] <= view["bottom"]
                assert view["left"] <= mark["left"] < view["right"]
                # the cleaned text is still there, under the page
                assert page.locator(f"{PANEL} .qa-article-body .qa-mark").count() == 1
                page.wait_for_timeout(1700)  # the opened passage's flash is over
                save_screenshot(page, tmp_path, "page-view.png")

                # the page view and the page breaks can be read in both themes (WCAG AA)
                for theme in ("light", "dark"):
                    page.goto(f"{url}?__theme={theme}")  # the conversation comes back from the browser
                    page.wait_for_selector(f"{REPLY} a.qa-num", timeout=15_000)
                    page.locator(f"{REPLY} a.qa-num").first.click()
                    page.wait_for_selector(f"{PANEL} .qa-page-break", timeout=10_000)
                    page.locator(f'{PANEL} a.qa-page-link[href$=":2"]').click()
                    page.wait_for_selector(f"{PANEL} img.qa-page-image", timeout=15_000)
                    assert page.evaluate("document.body.classList.contains('dark')") == (theme == "dark")
                    assert low_contrast(page, f"{PANEL} .qa-page *, {PANEL} .qa-article-head *") == [], theme
                    assert low_contrast(page, f"{PANEL} .qa-page-break") == [], theme
                    assert low_contrast(page, f"{REPLY} .qa-where") == [], theme
            finally:
                browser.close()
    finally:
        app.close()
