"""Chat with the news articles in the browser: `python app.py`, then open http://127.0.0.1:7860.

Brings the index up to date with the corpus first (only new or changed
articles are embedded), then serves the chat. Local only unless --share.
Articles can be added and removed from the browser when the server is local
only, or with --allow-uploads.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home: the app runs offline

from qa.cli import USER_ERRORS, add_index_options, configure_logging  # noqa: E402
from qa.indexer import UpdateReport, update_index  # noqa: E402
from qa.library import Library  # noqa: E402
from qa.reader_model import load_in_background  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402
from qa.store import public_location  # noqa: E402

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Ask questions to a folder of news articles, in the browser.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s, this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: %(default)s)")
    add_index_options(parser)
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link (off by default)")
    parser.add_argument(
        "--allow-uploads",
        action="store_true",
        help="let the page add and remove articles even when the server can be reached from other machines "
        "(on by default only for a server bound to 127.0.0.1 without --share)",
    )
    return parser


def uploads_allowed(args: argparse.Namespace) -> bool:
    """Adding and removing articles writes into the corpus folder: only for this machine's own browser,
    unless asked for."""
    return bool(args.allow_uploads or (args.host in LOCAL_HOSTS and not args.share))


def announce(report: UpdateReport, done: int, total: int) -> None:
    """Say what indexing is about to do (once, before the first passage is embedded)."""
    if done:
        return
    parts = [f"{len(report.added):,} new"] if report.added else []
    parts += [f"{len(report.changed):,} changed"] if report.changed else []
    count = len(report.added) + len(report.changed)
    what = f"{' and '.join(parts) or 'no'} article{'' if count == 1 else 's'}"
    removed = f", dropping {len(report.removed):,} removed" if report.removed else ""
    print(f"indexing {what}{removed}: {total:,} passages to embed…", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
    from qa.ui import build_app, launch  # imports gradio: after the analytics switch above

    uploads = uploads_allowed(args)
    try:
        # The index is brought up to date here, before the retriever opens it (opening never builds one).
        print(f"checking the index against {args.corpus}…", flush=True)
        report = update_index(args.corpus, args.store, args.model, args.backend, show_progress=True, progress=announce)
        print(f"index {public_location(args.store)}: {report.summary()}", flush=True)
        retriever = Retriever.open(args.store, args.corpus, args.model, args.backend)
        status = Library(retriever).status()
        print(f"searching {status.articles:,} articles ({status.passages:,} passages)", flush=True)
        app = build_app(retriever, allow_uploads=uploads)  # reads the upload limit (QA_MAX_UPLOAD_MB)
    except USER_ERRORS as exc:
        print(f"app: error: {exc}", file=sys.stderr)
        return 2
    if uploads:
        print("adding and removing articles from the page: on", flush=True)
    else:
        print("adding and removing articles from the page: off (reachable from other machines; see --allow-uploads)")
    _, local_url, share_url = launch(
        app, host=args.host, port=args.port, share=args.share, quiet=True, prevent_thread_lock=True
    )
    load_in_background(retriever.reader_model)  # the model that reads the best passages: once the page is up
    print(f"* Running on local URL:  {local_url}", flush=True)
    if share_url:
        print(f"* Running on public URL: {share_url}", flush=True)
    app.block_thread()  # until Ctrl-C
    return 0


if __name__ == "__main__":
    sys.exit(main())
