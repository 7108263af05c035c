"""Saved web pages (.html, .htm): the article's text, title and date, by trafilatura.

trafilatura finds the main content of a news page and leaves out menus,
headers, footers, cookie banners and scripts, so the boilerplate learning of
.txt files is not needed here. Its output (one paragraph per line) is the
*original text* of the document: offsets and line numbers refer to it, and it
is the same for the same file and trafilatura version, so it can be extracted
again to show the cited lines.
"""

from __future__ import annotations

import dataclasses
import hashlib

from .document import Document, Unusable
from .text import clean_lines, normalise_line


def extract_html(data: bytes) -> tuple[str, str, str | None]:
    """(text, title, date) of a saved page; raises Unusable when no article text is found."""
    import trafilatura  # imported when a page is read: `qa ask` does not need it

    try:
        extracted = trafilatura.bare_extraction(
            data, with_metadata=True, include_comments=False, include_tables=True, include_images=False
        )
    except Exception as exc:  # lxml and the fallbacks raise many kinds of errors on broken pages
        raise Unusable(f"cannot parse the page ({type(exc).__name__}: {exc})") from None
    text = (getattr(extracted, "text", None) or "").strip("\n") if extracted is not None else ""
    if not text.strip():
        raise Unusable("no article text found in the page")
    title = normalise_line(getattr(extracted, "title", None) or "")
    date = getattr(extracted, "date", None) or None
    return text, title, date


def html_document(doc_id: str, data: bytes, path: str | None = None) -> Document:
    """The article of a saved page. Title: the page's (trafilatura's) title, else the first line."""
    source, title, date = extract_html(data)
    lines = source.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), 0)
    if title and normalise_line(lines[first]) == title:
        cleaned = clean_lines(source, skip={first}, title_lines=0, join_wrapped=False)  # the h1, already the title
    elif title:
        cleaned = clean_lines(source, title_lines=0, join_wrapped=False)
    else:
        cleaned = clean_lines(source, title_lines=1, join_wrapped=False)
    if cleaned is None or not cleaned.text:
        raise Unusable("no article text found in the page")
    if title:
        cleaned = dataclasses.replace(cleaned, title=title)
    digest = hashlib.sha256(b"html\0")
    for part in (source, cleaned.title, date or ""):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return cleaned.document(
        doc_id=doc_id,
        source=source,
        content_hash=digest.hexdigest(),
        path=path if path is not None else doc_id,
        date=date,
    )
