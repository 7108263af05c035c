"""The chat in the browser: a Gradio app over a :class:`~qa.retrieval.Retriever`.

- :mod:`qa.ui.format`: a reply as HTML (all corpus text escaped) and as plain text;
- :mod:`qa.ui.backend`: one question in, one reply out; the ``/ask`` API (docs/api.md);
- :mod:`qa.ui.article`: the cleaned article beside the chat, opened at a citation;
- :mod:`qa.ui.uploads`: articles added and removed from the browser, the list of articles;
- :mod:`qa.ui.app`: the page (``build_app``) and the server (``launch``).
"""

from .app import build_app, launch
from .article import article_html, merge_passages, original_html
from .backend import DEFAULT_SOURCES, MAX_UI_QUESTION_CHARS, ChatBackend, hit_record
from .format import NOTHING_FOUND, escape, format_answer, highlight, line_range, plain_answer, snippet_bounds

__all__ = [
    "DEFAULT_SOURCES",
    "MAX_UI_QUESTION_CHARS",
    "NOTHING_FOUND",
    "ChatBackend",
    "article_html",
    "build_app",
    "escape",
    "format_answer",
    "highlight",
    "hit_record",
    "launch",
    "line_range",
    "merge_passages",
    "original_html",
    "plain_answer",
    "snippet_bounds",
]
