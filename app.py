"""Chat with the news articles in the browser: `python app.py`, then open http://127.0.0.1:7860.

Brings the index up to date with the corpus first (only new or changed
articles are embedded), then serves the chat. Local only unless --share.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home: the app runs offline

from qa.corpus import CorpusError  # noqa: E402
from qa.embedding import DEFAULT_MODEL, Embedder, ModelError  # noqa: E402
from qa.index import IndexUnusable  # noqa: E402
from qa.indexer import IndexBusy, update_index  # noqa: E402
from qa.retrieval import DEFAULT_CORPUS_DIR, DEFAULT_INDEX_DIR, Retriever  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Ask questions to a folder of news articles, in the browser.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s, this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: %(default)s)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS_DIR, help="folder of articles (default: %(default)s)")
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR, help="index folder (default: %(default)s)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="sentence-transformers model name or folder (default: %(default)s)")
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link (off by default)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Our own messages at INFO; libraries only when they warn (sentence-transformers
    # would draw a progress bar for every question, httpx log every request).
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("qa").setLevel(logging.INFO)
    from qa.ui import build_app, launch  # imports gradio: after the analytics switch above

    try:
        report = update_index(args.corpus, args.index, args.model, show_progress=True)
        print(f"index {args.index}: {report.summary()}", flush=True)
        retriever = Retriever(report.index, Embedder(args.model), args.corpus, args.index)  # loaded once
    except (CorpusError, IndexUnusable, IndexBusy, ModelError, ValueError) as exc:
        print(f"app: error: {exc}", file=sys.stderr)
        return 2
    launch(build_app(retriever), host=args.host, port=args.port, share=args.share)
    return 0


if __name__ == "__main__":
    sys.exit(main())
