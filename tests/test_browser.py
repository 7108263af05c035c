"""A real browser (Debian's chromium, driven by Playwright) asks the chat questions.

The project's setup installs both (`pip install -e '.[test]'` brings Playwright;
CI installs the `chromium` apt package): when either is missing this test fails
and says so, it does not skip. Playwright's own browser download is not used.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from .test_app import INJECTION_QUESTION, build_injected_index, start_app  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
REPLY = "#qa-chat .qa-reply"


def sync_playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: pip install -e '.[test]' (or pip install playwright)")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (Playwright's own browser download is not used)")
    return sync_playwright()


def ask(page, question: str) -> str:
    """Type a question, press Enter, wait for its reply; the reply's visible text."""
    replies = page.locator(REPLY)
    before = replies.count()
    box = page.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(f"document.querySelectorAll({REPLY!r}).length > {before}", timeout=30_000)
    reply = replies.nth(before)
    reply.scroll_into_view_if_needed()
    assert reply.is_visible()
    return reply.inner_text()


def save_screenshot(page, tmp_path: Path, name: str) -> None:
    shot = tmp_path / name
    page.screenshot(path=str(shot))
    if os.environ.get("QA_SCREENSHOT_DIR"):
        target = Path(os.environ["QA_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target / name)


@pytest.mark.slow
def test_chat_in_a_real_browser(seed_corpus, seed_index, tmp_path):
    playwright = sync_playwright()
    corpus, index = build_injected_index(seed_corpus, seed_index, tmp_path)
    app, url = start_app(corpus, index)
    try:
        with playwright as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                page.goto(url)
                page.wait_for_selector("#qa-question textarea", timeout=30_000)

                text = ask(page, "Who leads IOM Mongolia?")
                assert "Pär Liljert" in text
                assert "corpus/000_709937aa28120cef.txt" in text
                assert re.search(r"lines? \d+(–\d+)? · score 0\.\d{3}", text)
                assert page.locator(f"{REPLY} mark").first.is_visible()  # the answer sentence, highlighted
                page.wait_for_timeout(300)
                save_screenshot(page, tmp_path, "browser-answer.png")

                text = ask(page, INJECTION_QUESTION)
                assert "<script>window.__pwned = 1</script>" in text  # shown as literal text
                assert "[click](javascript:alert(1))" in text
                page.wait_for_timeout(500)  # give a would-be onerror handler time to fire
                assert page.evaluate("typeof window.__pwned") == "undefined"
                assert page.evaluate("document.querySelectorAll('img[src=\"x\"], a[href^=\"javascript\"]').length") == 0
                # the whole article opens beside the chat, just as inert
                assert "<script>window.__pwned" in page.locator("#qa-article").inner_text()
                save_screenshot(page, tmp_path, "browser-injection.png")

                page.click("#qa-clear")
                page.wait_for_function(f"document.querySelectorAll({REPLY!r}).length === 0", timeout=10_000)
            finally:
                browser.close()
    finally:
        app.close()
