"""A real browser (Debian's chromium, driven by Playwright) uses the chat as an archive: it adds a scanned
PDF and a Word file, asks what only each answers, filters by date, marks answers right and wrong (then the
feedback file beside the index is read), and exports the conversation as Markdown.

Like tests/test_browser.py, it fails, saying what to install, when Playwright or chromium is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from .made_uploads import (  # noqa: E402
    SCAN_ANSWER,
    SCAN_QUESTION,
    WORD_ANSWER,
    WORD_PARAGRAPHS,
    WORD_QUESTION,
    make_docx,
    make_scanned_pdf,
)
from .test_app import start_app  # noqa: E402
from .test_browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    REPLY,
    ask,
    reader_model,  # noqa: F401  (the fixture)
    save_screenshot,
    sync_playwright,
)

SCAN_NAME, WORD_NAME = "Rosso-scan.pdf", "Garde-cotes.docx"


def upload(page, files: list[Path]) -> str:
    """Add files from the page; the status once they are indexed."""
    page.click("#qa-articles .label-wrap")
    with page.expect_file_chooser() as chooser:
        page.click("#qa-upload")
    chooser.value.set_files([str(path) for path in files])
    done = "#qa-status .qa-status:not(.qa-busy)"
    page.wait_for_selector(done, timeout=180_000)  # OCR reads the scan: a few seconds a page
    return page.locator(done).inner_text()


def last_reply(page):
    return page.locator(REPLY).last


def feedback_lines(index: Path) -> list[dict]:
    path = index / "feedback.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


@pytest.mark.slow
@pytest.mark.usefixtures("reader_model")
def test_an_archive_scans_word_files_dates_marks_and_export(seed_corpus, seed_index, tmp_path):
    playwright = sync_playwright()
    corpus, index, sent = tmp_path / "corpus", tmp_path / "index", tmp_path / "to-upload"
    shutil.copytree(seed_corpus, corpus)
    shutil.copytree(seed_index, index)
    sent.mkdir()
    (sent / "Rosso scan.pdf").write_bytes(make_scanned_pdf())  # an image-only PDF: no text without OCR
    (sent / "Garde-côtes.docx").write_bytes(make_docx(WORD_PARAGRAPHS))
    app, url = start_app(corpus, index, allow_uploads=True)
    try:
        with playwright as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
                page = context.new_page()
                page.goto(url)
                page.wait_for_selector("#qa-question textarea", timeout=30_000)

                # A scanned PDF and a Word file are added, then each answers what only it says.
                status = upload(page, sorted(sent.iterdir()))
                assert SCAN_NAME in status and WORD_NAME in status and "Added" in status, status
                page.wait_for_function("document.querySelector('#qa-header').innerText.includes('7 articles')")

                text = ask(page, SCAN_QUESTION)
                assert SCAN_ANSWER in text, text
                meta = last_reply(page).locator(".qa-cite .qa-meta").first.inner_text()
                assert meta.startswith(f"{SCAN_NAME} · p. 1 · line") and "2017-03-14 · read by OCR" in meta, meta

                text = ask(page, WORD_QUESTION)
                assert WORD_ANSWER in last_reply(page).locator(".qa-lead").inner_text(), text
                assert "older article" not in text  # a count of migrants is no other answer to this
                meta = last_reply(page).locator(".qa-cite .qa-meta").first.inner_text()
                assert re.match(rf"{WORD_NAME} · lines? \d+(–\d+)? · 2018-10-09", meta), meta

                # Filtered by date: only the articles of that range are searched, and the reply says so.
                page.fill("#qa-since input, #qa-since textarea", "2017-01-01")
                page.fill("#qa-until input, #qa-until textarea", "2017-12-31")
                text = ask(page, "Qui est la cheffe de mission de l'OIM en Mauritanie ?")
                assert "Only articles dated from 2017-01-01 to 2017-12-31 were searched." in text, text
                metas = last_reply(page).locator(".qa-cite .qa-meta").all_inner_texts()
                assert metas and all(m.startswith(SCAN_NAME) and "2017-03-14" in m for m in metas), metas
                assert "Anke Strauss" in last_reply(page).locator(".qa-lead").inner_text()
                page.locator("#qa-dates").scroll_into_view_if_needed()
                page.wait_for_timeout(300)
                save_screenshot(page, tmp_path, "date-filter.png")
                page.fill("#qa-since input, #qa-since textarea", "2017-14-01")
                text = ask(page, "Qui est la cheffe de mission de l'OIM en Mauritanie ?")
                assert "the date filter cannot be used: not a date of the form YYYY-MM-DD: '2017-14-01'" in text
                page.fill("#qa-since input, #qa-since textarea", "")
                page.fill("#qa-until input, #qa-until textarea", "")

                # Wrong, with the right answer; right: each kept as a line of feedback.jsonl beside the index.
                scan_reply, word_reply = page.locator(REPLY).nth(0), page.locator(REPLY).nth(1)
                scan_reply.locator("a.qa-fb", has_text="Wrong").click()
                page.wait_for_selector("#qa-correction", state="visible", timeout=10_000)
                page.fill("#qa-correction-text textarea, #qa-correction-text input", "1 250 migrants par an")
                page.click("#qa-correction-save")
                page.wait_for_function(
                    "document.querySelector('#qa-marks').innerText.includes('Marked wrong')", timeout=10_000
                )
                word_reply.locator("a.qa-fb", has_text="Right").click()
                page.wait_for_function(
                    "document.querySelector('#qa-marks').innerText.includes('Marked right')", timeout=10_000
                )
                wrong, right = feedback_lines(index)
                assert (wrong["verdict"], wrong["question"], wrong["correction"]) == (
                    "wrong",
                    SCAN_QUESTION,
                    "1 250 migrants par an",
                )
                assert wrong["answer"]["hits"][0]["doc_id"] == SCAN_NAME and wrong["answer"]["hits"][0]["ocr"]
                assert wrong["index_version"] and wrong["at"].endswith("+00:00")
                assert (right["verdict"], right["question"]) == ("right", WORD_QUESTION)
                assert right["answer"]["short_answer"]["doc_id"] == WORD_NAME

                # Export: the conversation as Markdown, with its citations.
                page.click("#qa-export")
                link = page.locator("#qa-exported a").first
                link.wait_for(timeout=10_000)
                with page.expect_download() as download:
                    link.click()
                markdown = Path(download.value.path()).read_text(encoding="utf-8")
                assert download.value.suggested_filename.endswith(".md")
                assert f"## 1. {SCAN_QUESTION}" in markdown and f"## 2. {WORD_QUESTION}" in markdown
                assert "file Rosso-scan.pdf, page 1, line" in markdown and "dated 2017-03-14, read by OCR" in markdown
                assert "file Garde-cotes.docx" in markdown and "dated 2018-10-09" in markdown
                assert "the date filter cannot be used" in markdown

                # Clear chat clears the marks' status and the exported file too.
                page.click("#qa-clear")
                page.wait_for_function(f"document.querySelectorAll({REPLY!r}).length === 0", timeout=10_000)
                page.wait_for_selector("#qa-exported", state="hidden", timeout=10_000)
                assert page.locator("#qa-marks").inner_text().strip() == ""
            finally:
                browser.close()
    finally:
        app.close()
