"""Chat with the news articles in the browser: `python app.py`, then open http://127.0.0.1:7860.

Brings the index up to date with the corpus first (only new or changed
articles are embedded), then serves the chat. Local only unless --share.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home: the app runs offline

from qa.cli import USER_ERRORS, add_index_options, configure_logging  # noqa: E402
from qa.indexer import update_index  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402
from qa.store import shown  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Ask questions to a folder of news articles, in the browser.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s, this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: %(default)s)")
    add_index_options(parser)
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link (off by default)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
    from qa.ui import build_app, launch  # imports gradio: after the analytics switch above

    try:
        report = update_index(args.corpus, args.store, args.model, args.backend, show_progress=True)
        print(f"index {shown(args.store)}: {report.summary()}", flush=True)
        retriever = Retriever.open(args.store, args.corpus, args.model, args.backend, build_if_missing=False)
    except USER_ERRORS as exc:
        print(f"app: error: {exc}", file=sys.stderr)
        return 2
    launch(build_app(retriever), host=args.host, port=args.port, share=args.share)
    return 0


if __name__ == "__main__":
    sys.exit(main())
