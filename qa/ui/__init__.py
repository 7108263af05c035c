"""The chat in the browser: a Gradio app over a :class:`~qa.retrieval.Retriever` and the
library service (:mod:`qa.library`), which it asks for everything else about the index.

- :mod:`qa.ui.format`: a reply as HTML (all corpus text escaped) and as plain text;
- :mod:`qa.ui.backend`: one question in, one reply out; the ``/ask`` API (docs/api.md);
- :mod:`qa.ui.article`: the cleaned article beside the chat, opened at a citation;
- :mod:`qa.ui.uploads`: the status of changes to the articles, the list of articles, the header;
- :mod:`qa.ui.handlers`: what the page's events do;
- :mod:`qa.ui.app`: the page (``build_app``) and the server (``launch``); its styles and
  scripts are the files ``page.css``, ``panel.js`` and ``scroll_chat.js`` beside it.
"""

from .app import build_app, launch
from .article import article_html, original_html
from .backend import DEFAULT_CHAT_SOURCES, MAX_UI_QUESTION_CHARS, AskResult, ChatBackend, hit_record
from .format import NOTHING_FOUND, escape, format_answer, highlight, line_range, plain_answer, snippet_bounds

__all__ = [
    "DEFAULT_CHAT_SOURCES",
    "MAX_UI_QUESTION_CHARS",
    "NOTHING_FOUND",
    "AskResult",
    "ChatBackend",
    "article_html",
    "build_app",
    "escape",
    "format_answer",
    "highlight",
    "hit_record",
    "launch",
    "line_range",
    "original_html",
    "plain_answer",
    "snippet_bounds",
]
