"""Command line: `qa index` builds or updates the index, `qa ask` answers questions."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap
from pathlib import Path

from .corpus import SUFFIXES, CorpusError
from .embedding import DEFAULT_MODEL, Embedder, ModelError
from .index import IndexUnusable
from .indexer import IndexBusy, index_documents, update_index
from .retrieval import DEFAULT_CORPUS_DIR, DEFAULT_INDEX_DIR, RANKING_STAGES, Hit, Retriever

USER_ERRORS = (ValueError, CorpusError, IndexUnusable, IndexBusy, ModelError)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS_DIR, help="folder of articles (default: %(default)s)")
    parser.add_argument("--index", type=Path, default=DEFAULT_INDEX_DIR, help="index folder (default: %(default)s)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="sentence-transformers model name or folder (default: %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Ask questions to a folder of news articles.")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", help="build or update the index from the corpus")
    _common(index)
    index.add_argument("--full", action="store_true", help="rebuild everything instead of updating")
    index.add_argument("--watch", action="store_true", help="keep running and re-index whenever the corpus changes")

    ask = commands.add_parser("ask", help="answer a question with cited passages")
    _common(ask)
    ask.add_argument("question", help="the question, or - to read one question per line from stdin")
    ask.add_argument("-k", type=int, default=5, help="number of passages (default: %(default)s)")
    ask.add_argument("--json", action="store_true", help="print JSON (one object per question)")

    evaluate = commands.add_parser("eval", help="measure retrieval quality on a question set")
    _common(evaluate)
    evaluate.add_argument("data", type=Path, help="a BEIR folder (corpus.jsonl, queries.jsonl, qrels/) or a JSONL question file for --corpus")
    evaluate.add_argument("-k", "--k", type=int, default=10, help="passages retrieved per question (default: %(default)s)")
    evaluate.add_argument("--split", default="dev", help="BEIR qrels split (default: %(default)s)")
    evaluate.add_argument("--limit", type=int, default=None, help="only the first N questions")
    evaluate.add_argument("--stage", choices=sorted(RANKING_STAGES), default="default", help="ranking to evaluate (default: %(default)s)")
    evaluate.add_argument("--misses", action="store_true", help="also list the questions whose first passage is wrong")
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser


def run_eval(args: argparse.Namespace) -> int:
    from .evaluation import evaluate, load_beir, load_questions

    if args.data.is_dir():
        documents, cases = load_beir(args.data, args.split)
        index_dir = args.index if args.index != DEFAULT_INDEX_DIR else DEFAULT_INDEX_DIR / "eval" / args.data.resolve().name
        report = index_documents(documents, index_dir, args.model, show_progress=True)
        print(report.summary(), file=sys.stderr)
        retriever = Retriever(report.index, Embedder(args.model), args.data, index_dir)
    else:
        cases = load_questions(args.data)
        retriever = Retriever.open(args.index, args.corpus, args.model)
    retriever.ranking = RANKING_STAGES[args.stage]
    report = evaluate(retriever, cases[: args.limit], k=args.k)
    if args.json:
        print(json.dumps({"data": str(args.data), "stage": args.stage, "figures": report.figures}, indent=1))
    else:
        print(f"{args.data} — stage {args.stage}\n{report.table()}")
    if args.misses:
        for miss in report.misses:
            print(json.dumps(miss, ensure_ascii=False), file=sys.stderr)
    return 0


def format_hit(hit: Hit) -> str:
    c = hit.citation
    body = textwrap.fill(" ".join(hit.text.split()), width=100, initial_indent="    ", subsequent_indent="    ")
    return (
        f"[{hit.rank}] {hit.score:.3f}  {c.title}\n"
        f"    {c.path}, lines {c.lines[0]}-{c.lines[1]} (characters {c.start}-{c.end})\n"
        f"    > {hit.answer}\n{body}"
    )


def run_index(args: argparse.Namespace) -> int:
    _index_once(args, full=args.full)
    if args.watch:
        import watchfiles

        print(f"watching {args.corpus} for changes (Ctrl-C to stop)", flush=True)
        for _changes in watchfiles.watch(args.corpus, watch_filter=_is_article):
            try:
                _index_once(args, full=False)
            except USER_ERRORS as exc:  # keep watching: the next save may fix it
                print(f"qa: error: {exc}", file=sys.stderr, flush=True)
    return 0


def _is_article(_change, path: str) -> bool:
    return Path(path).suffix.lower() in SUFFIXES


def _index_once(args: argparse.Namespace, full: bool) -> None:
    report = update_index(args.corpus, args.index, args.model, full=full, show_progress=True)
    print(report.summary(), flush=True)
    if report.passages_embedded:
        print(f"{report.passages_embedded} passages embedded into {args.index}", flush=True)


def run_ask(args: argparse.Namespace) -> int:
    retriever = Retriever.open(args.index, args.corpus, args.model)
    if args.question != "-":
        hits = retriever.retrieve(args.question, k=args.k)
        if args.json:
            print(json.dumps({"question": args.question, "hits": [h.as_dict() for h in hits]}, ensure_ascii=False))
        else:
            print("\n\n".join(format_hit(h) for h in hits) or "No passage found.")
        return 0
    status = 0
    for line in sys.stdin:
        question = line.strip()
        if not question:
            continue
        try:
            hits = retriever.retrieve(question, k=args.k)
            record = {"question": question, "hits": [h.as_dict() for h in hits]}
            text = "\n\n".join(format_hit(h) for h in hits) or "No passage found."
        except ValueError as exc:
            record, text, status = {"question": question, "error": str(exc)}, f"error: {exc}", 2
        if args.json:
            print(json.dumps(record, ensure_ascii=False), flush=True)
        else:
            print(f"# {question}\n{text}\n", flush=True)
    return status


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    try:
        if args.command == "index":
            return run_index(args)
        if args.command == "eval":
            return run_eval(args)
        return run_ask(args)
    except USER_ERRORS as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
