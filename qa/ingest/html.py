"""Saved web pages (.html, .htm): the article's text, title and date, by trafilatura.

The date is the dateline's, else the page's own (trafilatura reads it from the
page's metadata and markup).

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
import re

from .dates import article_date
from .document import Document, Unusable
from .text import clean_lines, normalise_line


def extract_html(data: bytes) -> tuple[str, str, str | None]:
    """(text, title, date) of a saved page; raises Unusable when no article text is found."""
    import trafilatura  # imported when a page is read: `qa ask` does not need it
    from trafilatura.utils import load_html

    try:
        tree = load_html(data)  # the tree trafilatura reads, decoded as it decodes
        if tree is None:
            raise Unusable("no article text found in the page")
        site_text = _site_text(tree)  # before extraction, which may prune the tree
        extracted = trafilatura.bare_extraction(
            tree, with_metadata=True, include_comments=False, include_tables=True, include_images=False
        )
    except Unusable:
        raise
    except Exception as exc:  # lxml and the fallbacks raise many kinds of errors on broken pages
        raise Unusable(f"cannot parse the page ({type(exc).__name__}: {exc})") from None
    text = (getattr(extracted, "text", None) or "").strip("\n") if extracted is not None else ""
    if not text.strip():
        raise Unusable("no article text found in the page")
    if all(normalise_line(line) in site_text for line in text.splitlines()):
        raise Unusable("no article text in the page, only its menus, header or footer")
    title = normalise_line(getattr(extracted, "title", None) or "")
    date = getattr(extracted, "date", None) or None
    return text, title, date


# Parts of a page that are the site's, not the article's: trafilatura gives their text
# when a page has nothing else (a home page, a list of links saved by mistake).
_SITE_TAGS = frozenset({"nav", "header", "footer", "aside", "menu"})
_SITE_ROLES = frozenset({"navigation", "banner", "contentinfo", "menu", "menubar", "complementary"})
_SITE_NAMES = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|navigation|menu|header|footer|breadcrumbs?|sidebar)(?:$|[\s_-])", re.I
)


def _site_text(tree) -> str:
    """The text of the site's own parts of a page (menus, header, footer, sidebars), outside
    any <article>, each piece normalised, joined by newlines (a line of the extracted text
    found in it is not the article's)."""
    pieces: list[str] = []
    stack = [tree]
    while stack:  # not into an <article>, nor into a site part already counted
        element = stack.pop()
        if not isinstance(element.tag, str) or element.tag == "article":  # comments have a function as tag
            continue
        if _is_site_part(element):
            pieces.append(normalise_line(" ".join(element.itertext())))
        else:
            stack.extend(element)
    return "\n".join(pieces)


def _is_site_part(element) -> bool:
    if element.tag in _SITE_TAGS or (element.get("role") or "").lower() in _SITE_ROLES:
        return True
    return bool(_SITE_NAMES.search(f"{element.get('class') or ''} {element.get('id') or ''}"))


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
    date = article_date(cleaned.text, date)
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
