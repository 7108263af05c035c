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

from .made_files import (  # noqa: E402
    HTML_PARAGRAPHS,
    HTML_QUESTION,
    HTML_TITLE,
    PDF_ANSWER,
    PDF_PAGES,
    PDF_QUESTION,
    make_html,
    make_pdf,
)
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
AA_CONTRAST = 4.5  # WCAG AA, for text of normal size
# The contrast (WCAG 2) of every piece of text under ``selector``, from the colours the browser
# computed: its colour, faded by the opacities above it, over the backgrounds behind it.
CONTRASTS_JS = r"""(selector) => {
  const rgba = (c) => { const v = c.match(/[\d.]+/g).map(Number); return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1]; };
  const over = (top, below) => top.slice(0, 3).map((c, i) => c * top[3] + below[i] * (1 - top[3]));
  const linear = (v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  const luminance = (rgb) => rgb.map(linear).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const results = [];
  for (const el of document.querySelectorAll(selector)) {
    const hasText = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    if (!hasText || !el.getClientRects().length) continue;
    const layers = [];
    let opacity = 1;
    for (let e = el; e; e = e.parentElement) {
      const style = getComputedStyle(e);
      opacity *= Number(style.opacity);
      const fill = rgba(style.backgroundColor);
      if (fill[3] > 0 && layers.every((l) => l[3] < 1)) layers.push(fill);
    }
    const background = layers.reverse().reduce((below, top) => over(top, below), [255, 255, 255]);
    const color = rgba(getComputedStyle(el).color);
    const text = over([color[0], color[1], color[2], color[3] * opacity], background);
    const [high, low] = [luminance(text), luminance(background)].sort((a, b) => b - a);
    results.push({text: el.textContent.trim().slice(0, 40), ratio: (high + 0.05) / (low + 0.05)});
  }
  return results;
}"""


def sync_playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: pip install -e '.[test]' (or pip install playwright)")
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install -y chromium (Playwright's own browser download is not used)"
        )
    return sync_playwright()


@pytest.fixture(scope="session")
def reader_model() -> None:
    """The reader model built before the page is used, as `qa index` builds it: built at the first
    question instead, it would keep that question waiting for a minute or more."""
    from qa.embed import DEFAULT_MODEL, model_folder
    from qa.reader_model import ensure_reader_model

    ensure_reader_model(model_folder(DEFAULT_MODEL))


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


# Whether the page's own content is drawn fully opaque: Gradio fades a component while it updates.
OWN_CONTENT = f"{REPLY}, #qa-article .qa-article, #qa-header .qa-header"
SETTLED_JS = """(selector) => [...document.querySelectorAll(selector)].every((el) => {
  for (let e = el; e; e = e.parentElement) if (getComputedStyle(e).opacity !== '1') return false;
  return true;
})"""


def low_contrast(page, selector: str) -> list[dict]:
    """The texts under ``selector`` that miss WCAG AA, once the page has settled; also fails when
    there is no text to check."""
    page.wait_for_function(SETTLED_JS, arg=OWN_CONTENT, timeout=10_000)
    found = page.evaluate(CONTRASTS_JS, selector)
    assert found, f"no text under {selector}"
    return [item for item in found if item["ratio"] < AA_CONTRAST]


def save_screenshot(page, tmp_path: Path, name: str, keep: bool = True, **options) -> None:
    """A screenshot in the test's folder, and in $QA_SCREENSHOT_DIR (e.g. docs) when set and ``keep``."""
    shot = tmp_path / name
    page.screenshot(path=str(shot), **options)
    if keep and os.environ.get("QA_SCREENSHOT_DIR"):
        target = Path(os.environ["QA_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target / name)


@pytest.mark.slow
def test_chat_in_a_real_browser(seed_corpus, seed_index, reader_model, tmp_path):
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
                lead = page.locator(f"{REPLY} strong").first.inner_text()
                assert lead.startswith("Pär Liljert")  # the short answer, in bold
                assert "a déclaré Pär Liljert, chef de mission" in page.locator(f"{REPLY} mark").first.inner_text()
                assert "000_709937aa28120cef.txt" in text and "corpus/000" not in text
                assert re.search(r"lines? \d+(–\d+)? · score \d\.\d{3}", text), text
                assert page.locator(f"{REPLY} mark").first.is_visible()  # the answer sentence, highlighted
                page.wait_for_timeout(300)
                save_screenshot(page, tmp_path, "answer.png")

                # Citing the passage already shown scrolls the panel back to it and flashes it.
                page.wait_for_selector("#qa-article .qa-badge")
                page.evaluate(
                    "() => { document.querySelector('#qa-article .qa-article-body').scrollTop = 0; "
                    "for (const e of document.querySelectorAll('#qa-article .qa-flash')) "
                    "e.classList.remove('qa-flash'); }"
                )
                page.locator(f"{REPLY} a.qa-num").first.click()
                page.wait_for_function(
                    "document.querySelector('#qa-article .qa-article-body').scrollTop > 0 && "
                    "document.querySelector('#qa-article .qa-cited.qa-flash') !== null",
                    timeout=10_000,
                )

                # The short answer inside its highlighted passage, and every other text of the reply,
                # the article and the header, can be read in both themes.
                bold = page.locator(f"{REPLY} mark b").first
                assert bold.is_visible() and "Pär Liljert" in bold.inner_text()
                for theme in ("light", "dark"):
                    page.goto(f"{url}?__theme={theme}")  # the conversation comes back from the browser
                    page.wait_for_selector(f"{REPLY} mark b", timeout=15_000)
                    page.locator(f"{REPLY} a.qa-num").first.click()
                    page.wait_for_selector("#qa-article .qa-mark", timeout=10_000)
                    assert page.evaluate("document.body.classList.contains('dark')") == (theme == "dark")
                    assert low_contrast(page, f"{REPLY} mark b") == [], theme
                    assert low_contrast(page, f"{REPLY} *, #qa-article *, #qa-header *") == [], theme

                text = ask(page, INJECTION_QUESTION)
                assert "<script>window.__pwned = 1</script>" in text  # shown as literal text
                assert "[click](javascript:alert(1))" in text
                page.wait_for_timeout(500)  # give a would-be onerror handler time to fire
                assert page.evaluate("typeof window.__pwned") == "undefined"
                assert page.evaluate('document.querySelectorAll(\'img[src="x"], a[href^="javascript"]\').length') == 0
                # the whole article opens beside the chat, just as inert
                assert "<script>window.__pwned" in page.locator("#qa-article").inner_text()
                save_screenshot(page, tmp_path, "browser-injection.png", keep=False)

                page.click("#qa-clear")
                page.wait_for_function(f"document.querySelectorAll({REPLY!r}).length === 0", timeout=10_000)
            finally:
                browser.close()
    finally:
        app.close()


def article_files(kind: str, folder: Path) -> dict[str, Path]:
    """A web page and a PDF ("html+pdf"), or the same two articles as Markdown and text ("text")."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "html+pdf":
        files = {
            "Centre Agadez.html": make_html(HTML_TITLE, "2024-03-06", HTML_PARAGRAPHS),
            "Rapport Mauritanie.pdf": make_pdf(PDF_PAGES),
        }
    else:
        files = {
            "Centre Agadez.md": ("# " + HTML_TITLE + "\n\n" + "\n\n".join(HTML_PARAGRAPHS) + "\n").encode(),
            "Rapport Mauritanie.txt": "\n\n".join(paragraph for page in PDF_PAGES for paragraph in page).encode(),
        }
    paths = {}
    for name, data in files.items():
        (folder / name).write_bytes(data)
        paths[name] = folder / name
    return paths


def reply_count(page) -> int:
    return page.locator(REPLY).count()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["text", "html+pdf"])
def test_add_articles_then_read_copy_reload_and_clear(kind, seed_corpus, seed_index, reader_model, tmp_path):
    """A person adds two articles from the page, asks what only one of them answers, opens the
    citation, copies the reply, reloads the page and clears the conversation."""
    playwright = sync_playwright()
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(seed_corpus, corpus)
    shutil.copytree(seed_index, index)
    files = article_files(kind, tmp_path / "to-upload")
    report_name = "Rapport-Mauritanie.pdf" if kind == "html+pdf" else "Rapport-Mauritanie.txt"
    page_name = "Centre-Agadez.html" if kind == "html+pdf" else "Centre-Agadez.md"
    app, url = start_app(corpus, index, allow_uploads=True)
    try:
        with playwright as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(
                    viewport={"width": 1280, "height": 1000}, permissions=["clipboard-read", "clipboard-write"]
                )
                page = context.new_page()
                page.on("dialog", lambda dialog: dialog.accept())
                page.goto(url)
                page.wait_for_selector("#qa-question textarea", timeout=30_000)
                assert "5 articles" in page.locator("#qa-header").inner_text()

                # Add articles: saved, indexed with visible progress, listed, counted.
                page.click("#qa-articles .label-wrap")
                with page.expect_file_chooser() as chooser:
                    page.click("#qa-upload")
                chooser.value.set_files([str(path) for path in files.values()])
                done = "#qa-status .qa-status:not(.qa-busy)"  # added, or refused
                page.wait_for_selector(done, timeout=120_000)
                status = page.locator(done).inner_text()
                assert f"Added: {page_name}, {report_name}" in status or f"Added: {report_name}, {page_name}" in status
                assert (corpus / report_name).is_file() and (corpus / page_name).is_file()
                page.wait_for_function("document.querySelector('#qa-header').innerText.includes('7 articles')")
                listing = page.locator("#qa-list-box").inner_text()
                assert HTML_TITLE in listing and report_name in listing
                page.wait_for_timeout(300)
                save_screenshot(page, tmp_path, "articles.png", keep=kind == "html+pdf", full_page=True)

                # A question only the report answers: its citation gives the file (and the PDF's page).
                text = ask(page, PDF_QUESTION)
                assert PDF_ANSWER in text and "SOURCES" in text.upper(), text
                first = page.locator(REPLY).last.locator(".qa-cite").first
                meta = first.locator(".qa-meta").inner_text()
                assert meta.startswith(report_name), meta
                if kind == "html+pdf":
                    assert f"{report_name} · p. 2 · line" in meta

                # Its citation number opens the cleaned article at the cited lines, scrolled into view.
                first.locator("a.qa-num").click()
                page.wait_for_function(
                    "document.querySelector('#qa-article .qa-badge') && "
                    "document.querySelector('#qa-article .qa-meta').innerText.startsWith(" + repr(report_name) + ")",
                    timeout=10_000,
                )
                panel = page.locator("#qa-article")
                badge = panel.locator(".qa-badge").inner_text()
                assert re.fullmatch(r"(p\. 2 · )?lines? \d+(–\d+)?", badge), badge
                if kind == "html+pdf":
                    assert badge.startswith("p. 2 · ")
                assert PDF_ANSWER in panel.locator(".qa-mark").first.inner_text()
                page.wait_for_timeout(300)
                box = panel.locator(".qa-article-body").bounding_box()
                cited = panel.locator(".qa-badge").bounding_box()
                assert box and cited and box["y"] <= cited["y"] <= box["y"] + box["height"] - 10  # in view
                save_screenshot(page, tmp_path, "screenshot.png", keep=kind == "html+pdf")

                # The web page: its title opens the cleaned article, without the site's menus.
                ask(page, HTML_QUESTION)
                cites = page.locator(REPLY).last.locator(".qa-cite").filter(has_text=page_name)
                assert cites.count(), page.locator(REPLY).last.inner_text()
                cites.first.locator("a.qa-title").click()
                page.wait_for_function(
                    "document.querySelector('#qa-article .qa-article-title')?.innerText.includes('Agadez')"
                )
                article = panel.inner_text()
                assert "400 personnes" in article and "Accueil" not in article and "Mentions" not in article

                # Copy gives plain text: the answer, then its citations.
                page.locator(REPLY).nth(0).locator(".qa-copy").click()
                page.wait_for_timeout(300)
                copied = page.evaluate("navigator.clipboard.readText()")
                assert PDF_ANSWER in copied.splitlines()[0] and "[1] " in copied and report_name in copied
                assert "<" not in copied and "&#" not in copied and "qa-" not in copied, copied

                # A reload brings the conversation back; a follow-up still knows the earlier question.
                page.reload()
                page.wait_for_function(f"document.querySelectorAll({REPLY!r}).length === 2", timeout=15_000)
                assert PDF_ANSWER in page.locator(REPLY).nth(0).inner_text()

                # The chat's own trash icon clears everything, in the browser's storage too.
                page.locator("#qa-chat button[aria-label='Clear'], #qa-chat button[title='Clear']").first.click()
                page.wait_for_function(f"document.querySelectorAll({REPLY!r}).length === 0", timeout=10_000)
                page.wait_for_function(  # the server's reset has arrived: the panel is empty again
                    "document.querySelector('#qa-article').innerText.includes('Ask a question, then click')"
                )
                page.wait_for_timeout(300)
                page.reload()
                page.wait_for_selector("#qa-question textarea")
                page.wait_for_timeout(1500)
                assert reply_count(page) == 0
            finally:
                browser.close()
    finally:
        app.close()


@pytest.mark.slow
def test_files_chosen_while_indexing_wait_their_turn(tiny_corpus, tiny_index, tmp_path, monkeypatch):
    """A second file chosen while the first is being indexed was dropped by the page without a
    word. It now waits its turn, and the button says "Indexing…" meanwhile (model-free backend)."""
    import threading

    import qa.library

    playwright = sync_playwright()
    held, release = threading.Event(), threading.Event()
    update_index = qa.library.update_index

    def slow_update(*args, **kwargs):  # the first indexing run lasts until the test lets it go
        held.set()
        assert release.wait(60)
        return update_index(*args, **kwargs)

    monkeypatch.setattr(qa.library, "update_index", slow_update)
    files = tmp_path / "to-upload"
    files.mkdir()
    for name, place in (("first.txt", "Dakar"), ("second.txt", "Bamako")):
        text = f"L'OIM ouvre un bureau à {place}\n{place} – Le bureau de {place} accueille les migrants.\n"
        (files / name).write_text(text, encoding="utf-8")
    app, url = start_app(tiny_corpus, tiny_index, allow_uploads=True, backend="hash")
    try:
        with playwright as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                page.goto(url)
                page.wait_for_selector("#qa-question textarea", timeout=30_000)
                page.click("#qa-articles .label-wrap")
                for name in ("first.txt", "second.txt"):
                    with page.expect_file_chooser() as chooser:
                        page.click("#qa-upload")
                    chooser.value.set_files(str(files / name))
                    assert held.wait(30)  # the first file is being indexed
                    page.wait_for_function(
                        "document.querySelector('#qa-upload').innerText.startsWith('Indexing')", timeout=10_000
                    )
                page.wait_for_timeout(1000)  # time for the second file to reach the server
                release.set()
                page.wait_for_function(
                    "document.querySelector('#qa-header').innerText.includes('5 articles')", timeout=30_000
                )
                page.wait_for_function("document.querySelector('#qa-upload').innerText === 'Add articles'")
                status = page.locator("#qa-status").inner_text()
                assert "Added: second.txt" in status and "Added: first.txt" in status
                assert status.index("second.txt") < status.index("first.txt")  # the latest first
                assert (tiny_corpus / "first.txt").is_file() and (tiny_corpus / "second.txt").is_file()
            finally:
                browser.close()
    finally:
        release.set()
        app.close()


@pytest.mark.slow
def test_on_a_phone_the_page_opens_at_its_header(tiny_corpus, tiny_index):
    """The question box took the focus on load, which scrolled a phone's page past the header."""
    playwright = sync_playwright()
    app, url = start_app(tiny_corpus, tiny_index, backend="hash")
    try:
        with playwright as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
                page.goto(url)
                page.wait_for_selector("#qa-question textarea", timeout=30_000)
                page.wait_for_timeout(1500)  # the page's own script has run
                assert page.evaluate("window.scrollY") == 0
                assert page.evaluate("document.querySelector('#qa-header').getBoundingClientRect().top") >= 0
                wide = browser.new_page(viewport={"width": 1280, "height": 1000})
                wide.goto(url)
                wide.wait_for_function("document.activeElement === document.querySelector('#qa-question textarea')")
            finally:
                browser.close()
    finally:
        app.close()
