"""Articles added and removed from the browser, and what the page says about the index.

The changes themselves are the library service's (:mod:`qa.library`): this
module runs one in a thread and turns its progress and outcome into the status
shown under the list, and shows the list and the header.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from urllib.parse import quote

from ..library import CHANGES_OFF, ArticleEntry, Change, IndexProgress, IndexStatus, Library
from ..limits import MAX_LISTED_ARTICLES
from .format import escape

log = logging.getLogger(__name__)

LANGUAGES = "English, French, German or Spanish"

__all__ = ["CHANGES_OFF", "articles_html", "header_html", "library_page", "progress_html", "run_change", "status_html"]


def run_change(change: Callable[[Callable[[IndexProgress], None]], Change], busy: bool) -> Iterator[str]:
    """Run ``change`` (given a progress callback) in a thread; yield status HTML as it goes, then its outcome.
    ``busy``: another change was under way when this one was asked for (it waits its turn)."""
    updates: queue.Queue[str | None] = queue.Queue()
    result: list[Change] = []

    def work() -> None:
        try:
            result.append(change(lambda p: updates.put(progress_html(p))))
        except Exception:  # the service reports its own failures; this is ours
            log.exception("a change from the browser failed")
            result.append(Change(error="The change failed; the error was logged."))
        finally:
            updates.put(None)

    yield busy_html("Waiting for the indexing under way to finish…" if busy else "Reading the articles…")
    worker = threading.Thread(target=work, name="qa-library-change", daemon=True)
    worker.start()
    while (item := updates.get()) is not None:
        yield item
    worker.join()
    yield status_html(result[0], time.time())


# ---- what the page shows


def progress_html(progress: IndexProgress) -> str:
    parts = []
    if progress.added:
        parts.append(f"{progress.added} new")
    if progress.changed:
        parts.append(f"{progress.changed} changed")
    if progress.removed:
        parts.append(f"{progress.removed} removed")
    what = " and ".join(parts) or "no"
    plural = "s" if progress.added + progress.changed != 1 else ""
    return (
        f'<div class="qa-status qa-busy"><p>Indexing {what} article{plural}: '
        f"{progress.done:,} of {progress.total:,} passages embedded…</p>"
        f'<progress max="{max(progress.total, 1)}" value="{progress.done}"></progress></div>'
    )


def busy_html(text: str) -> str:
    return f'<div class="qa-status qa-busy"><p>{escape(text)}</p><progress></progress></div>'


def status_html(change: Change, at: float | None = None) -> str:
    """What a change did; ``at``: when it ended (said, so that the same outcome twice still shows anew)."""
    items = []
    if change.added:
        items.append(f"<li>Added: {escape(', '.join(change.added))}. Ask about them now.</li>")
    if change.removed and change.error is None:
        items.append(f"<li>Removed: {escape(', '.join(change.removed))}.</li>")
    items += [f"<li>{escape(note)}.</li>" for note in change.notes]
    items += [f'<li class="qa-refused">{escape(text)}.</li>' for text in change.refused]
    if change.error:
        items.append(f'<li class="qa-refused">{escape(change.error)}</li>')
    if change.summary:
        items.append(f'<li class="qa-note">Index: {escape(change.summary)}.</li>')
    when = f'<p class="qa-when">{time.strftime("%H:%M:%S", time.localtime(at))}</p>' if at is not None else ""
    return f'<div class="qa-status">{when}<ul>{"".join(items)}</ul></div>' if items else ""


def header_html(status: IndexStatus) -> str:
    """What the page searches: the folder, how many articles and passages, when the index was updated."""
    updated = time.strftime("%d %b %Y, %H:%M", time.localtime(status.updated)) if status.updated else "unknown"
    count = status.articles
    return (
        '<div class="qa-header"><h1>Ask the news articles</h1>'
        f'<p class="qa-searching">Searching <b>{count:,} article{"s" if count != 1 else ""}</b> '
        f"({status.passages:,} passages) in the folder <code>{escape(status.folder)}</code> · "
        f"index updated {escape(updated)}</p>"
        f'<p class="qa-how">Ask in {LANGUAGES}. Every answer is quoted from the articles, with numbered '
        "citations: click one to read the article at that place. A follow-up question uses your previous one.</p></div>"
    )


def articles_html(articles: Sequence[ArticleEntry], can_remove: bool) -> str:
    """The articles of the index, one row per file: title (opens it), file, passages, Remove."""
    files: dict[str, list[ArticleEntry]] = {}
    for entry in articles:
        files.setdefault(entry.file, []).append(entry)
    rows = []
    for file in sorted(files)[:MAX_LISTED_ARTICLES]:
        entries = sorted(files[file], key=lambda e: e.doc_id)
        first = entries[0]
        label = first.title if len(entries) == 1 else f"{first.title} (and {len(entries) - 1} more records)"
        passages = sum(e.passages for e in entries)
        href = f"#qa:doc:{quote(first.doc_id, safe='')}"
        link = f'<a class="qa-act" href="{href}" title="Open this article">{escape(label)}</a>'
        remove = ""
        if can_remove:
            what = f"Remove {file} from the corpus folder and the index"
            remove = (
                f'<a class="qa-act qa-remove" role="button" href="#qa:remove:{quote(file, safe="")}" '
                f'title="{escape(what)}">Remove</a>'
            )
        rows.append(
            f'<tr><td class="qa-list-title">{link}<div class="qa-meta">{escape(file)}</div></td>'
            f'<td class="qa-list-n">{passages:,}</td><td class="qa-list-act">{remove}</td></tr>'
        )
    more = len(files) - MAX_LISTED_ARTICLES
    tail = f'<p class="qa-note">… and {more:,} more files.</p>' if more > 0 else ""
    if not rows:
        return '<p class="qa-note">The index holds no article yet.</p>'
    return (
        '<table class="qa-list"><thead><tr><th>Article</th><th>Passages</th><th></th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{tail}"
    )


def library_page(library: Library) -> tuple[str, str]:
    """The header and the article list, as they are now."""
    return header_html(library.status()), articles_html(library.articles(), library.allow_changes)
