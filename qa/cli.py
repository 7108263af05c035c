"""Command line: `qa index` builds or updates the index, `qa ask` answers questions, `qa eval` measures."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from . import limits, offline  # noqa: F401  (offline: the libraries' calls home off before any of them loads)
from .answer import Answer, Citation, Hit, ShortAnswer
from .cluster import ClusterError
from .embed import BACKENDS, DEFAULT_BACKEND, DEFAULT_DEVICE, DEFAULT_MODEL, DEVICES, ModelError, get_embedder
from .indexer import EmbeddingRunner, update_index
from .ingest import DEFAULT_CORPUS_DIR, CorpusError, is_article_name
from .ingest.dates import parse_day
from .ingest.lines import bounded_lines
from .limits import (
    DEFAULT_MAX_FILE_MB,
    FILE_SETTING,
    MAX_QUESTION_CHARS,
    RAY_SETTING,
    SHOWN_INPUT_CHARS,
    QuestionError,
    SettingError,
    megabytes_to_bytes,
)
from .model_process import ModelProcessRunner
from .ranking import RANKING_STAGES
from .store import DEFAULT_STORE, IndexBusy, IndexUnusable, StoreUnavailable, open_store, public_location

if TYPE_CHECKING:
    from .retrieval import Retriever  # imported when a question is asked: `qa index` needs none of it

USER_ERRORS = (ValueError, CorpusError, IndexUnusable, IndexBusy, ModelError, StoreUnavailable, ClusterError)


def add_index_options(parser: argparse.ArgumentParser) -> None:
    """The options that say which articles, index and model: shared by `qa` and `app.py`."""
    parser.add_argument(
        "--corpus", type=Path, default=DEFAULT_CORPUS_DIR, help="folder of articles (default: %(default)s)"
    )
    parser.add_argument(
        "--store",
        "--index",
        dest="store",
        default=DEFAULT_STORE,
        metavar="FOLDER|URI",
        help="index folder, or a postgresql:// URI (default: $QA_STORE or %(default)s)",
    )
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help="sentence-transformers model name or folder (default: %(default)s)"
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=DEFAULT_BACKEND,
        help="embedding backend: onnx (int8, fast), torch (float32) or hash (no model, for tests) "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--device",
        choices=DEVICES,
        default=DEFAULT_DEVICE,
        help="where the torch backend runs: cpu, cuda or auto (cuda when torch sees one) (default: %(default)s)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Ask questions to a folder of news articles.")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", help="build or update the index from the corpus")
    add_index_options(index)
    index.add_argument("--full", action="store_true", help="rebuild everything instead of updating")
    index.add_argument("--watch", action="store_true", help="keep running and re-index whenever the corpus changes")
    index.add_argument(
        "--max-file-mb",
        dest="max_file_bytes",
        type=_max_file_bytes,
        default=None,  # the indexer reads $QA_MAX_FILE_MB when it needs it: a bad value stops `qa index` only
        metavar="MB",
        help=f"skip article files larger than this (default: ${FILE_SETTING} or {DEFAULT_MAX_FILE_MB:g})",
    )
    index.add_argument(
        "--ray",
        type=_ray_address,
        default=None,  # read when indexing: a bad $QA_RAY stops `qa index` only
        metavar="ADDRESS",
        help=f"embed on the Ray cluster at ADDRESS (host:port, ray://host:port, auto, or local for one of this "
        f"machine alone); needs pip install -e '.[cluster]' (default: ${RAY_SETTING}, else on this machine)",
    )
    index.add_argument(
        "--ray-workers",
        type=_workers,
        default=None,
        metavar="N",
        help="model copies on the Ray cluster, one CPU each, and one GPU with --device cuda "
        "(default: as many as the cluster holds)",
    )

    ask = commands.add_parser("ask", help="answer a question with cited passages")
    add_index_options(ask)
    ask.add_argument("question", help="the question, or - to read one question per line from stdin")
    ask.add_argument("-k", type=int, default=5, help="number of passages (default: %(default)s)")
    ask.add_argument("--json", action="store_true", help="print JSON (one object per question)")
    for option, side in (("--since", "on or after"), ("--until", "on or before")):
        ask.add_argument(
            option,
            type=_day,
            default=None,
            metavar="YYYY-MM-DD",
            help=f"only articles dated {side} this day (from their dateline or metadata); "
            "articles without a date are then left out",
        )

    evaluate = commands.add_parser("eval", help="measure retrieval quality on a question set")
    add_index_options(evaluate)
    evaluate.add_argument(
        "data",
        type=Path,
        nargs="?",
        default=None,
        help="a BEIR folder (corpus.jsonl, queries.jsonl, qrels/) or a JSONL question file for --corpus",
    )
    evaluate.add_argument(
        "--feedback",
        type=Path,
        default=None,
        metavar="FILE",
        help="the questions of a feedback file (feedback.jsonl beside the index) instead: answers marked right, "
        "and the right answers given with those marked wrong, are expected",
    )
    evaluate.add_argument(
        "-k", "--k", type=int, default=10, help="passages retrieved per question (default: %(default)s)"
    )
    evaluate.add_argument("--split", default="dev", help="BEIR qrels split (default: %(default)s)")
    evaluate.add_argument("--limit", type=int, default=None, help="only the first N questions")
    evaluate.add_argument(
        "--half",
        choices=("even", "odd"),
        default=None,
        help="only the questions at even positions (those bench/ trainers fit on) or odd ones (those they check on)",
    )
    evaluate.add_argument(
        "--stage", choices=sorted(RANKING_STAGES), default="default", help="ranking to evaluate (default: %(default)s)"
    )
    evaluate.add_argument(
        "--unanswerable", type=Path, default=None, help="a JSONL file of questions the corpus does not answer"
    )
    evaluate.add_argument("--misses", action="store_true", help="also list the questions whose first passage is wrong")
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON")
    return parser


def _max_file_bytes(value: str) -> int:
    try:
        return megabytes_to_bytes(value, "--max-file-mb")
    except SettingError as exc:  # argparse names the option itself
        raise argparse.ArgumentTypeError(exc.problem) from None


def _ray_address(value: str) -> str:
    try:
        return limits.ray_address(value, "--ray")
    except SettingError as exc:  # argparse names the option itself
        raise argparse.ArgumentTypeError(exc.problem) from None


def _workers(value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= 10_000:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 10000, not {limits.shown(value)}")
    return int(value)


def _day(value: str) -> str:
    try:
        return parse_day(value)
    except ValueError as exc:  # argparse names the option itself
        raise argparse.ArgumentTypeError(str(exc)) from None


def run_eval(args: argparse.Namespace) -> int:
    from .evaluation import evaluate, load_beir, load_questions
    from .indexer import index_documents

    if (args.data is None) == (args.feedback is None):
        raise ValueError("qa eval takes a question set or --feedback FILE, one of the two")
    if args.feedback is not None:
        cases = feedback_cases(args.feedback)
        retriever = open_or_build(args)
    elif args.data.is_dir():
        documents, cases = load_beir(args.data, args.split)
        store = (
            args.store if args.store != DEFAULT_STORE else str(Path(DEFAULT_STORE) / "eval" / args.data.resolve().name)
        )
        indexed = index_documents(documents, store, args.model, args.backend, show_progress=True, device=args.device)
        print(indexed.summary(), file=sys.stderr)
        from .retrieval import Retriever

        retriever = Retriever.open(store, args.data, args.model, args.backend)
    else:
        cases = load_questions(args.data)
        retriever = open_or_build(args)
    unanswerable = load_questions(args.unanswerable) if args.unanswerable else []
    if args.half:
        cases = cases[0 if args.half == "even" else 1 :: 2]
    report = evaluate(
        retriever, cases[: args.limit], k=args.k, ranking=RANKING_STAGES[args.stage], unanswerable=unanswerable
    )
    source = args.feedback or args.data
    if args.json:
        print(json.dumps({"data": str(source), "stage": args.stage, "figures": report.figures}, indent=1))
    else:
        print(f"{source} — stage {args.stage}\n{report.table()}")
    if args.misses:
        for miss in report.misses:
            print(json.dumps(miss, ensure_ascii=False), file=sys.stderr)
    return 0


def feedback_cases(path: Path) -> list:
    """The question set of a feedback file; the lines it skips are listed, each with the reason."""
    from .feedback import load_feedback

    if not path.is_file():
        raise ValueError(f"no feedback file {path}")
    found = load_feedback(path)
    for line, why in found.skipped:
        print(f"{path} line {line} skipped: {why}", file=sys.stderr)
    print(f"{path}: {len(found.cases)} questions, {len(found.skipped)} lines skipped", file=sys.stderr)
    if not found.cases:
        raise ValueError(f"{path} gives no question to measure with (no answer marked right or corrected)")
    return found.cases


def format_hit(hit: Hit) -> str:
    c = hit.citation
    body = textwrap.fill(" ".join(hit.text.split()), width=100, initial_indent="    ", subsequent_indent="    ")
    page = f"{_pages(c)}{' (read by OCR)' if c.ocr else ''}, " if c.page is not None else ""
    date = f"  ({c.date})" if c.date is not None else ""
    return (
        f"[{hit.rank}] {hit.score:.3f}  {c.title}{date}\n"
        f"    {c.path}, {page}lines {c.lines[0]}-{c.lines[1]} (characters {c.start}-{c.end})\n"
        f"    > {hit.answer}\n{body}"
    )


def _pages(c: Citation) -> str:
    """ "page 2", or "pages 1-2" for a text that goes on over a page break."""
    return f"pages {c.pages[0]}-{c.pages[-1]}" if len(c.pages) > 1 else f"page {c.page}"


def older_note(older: ShortAnswer) -> str:
    """What the reply says when an older article answers otherwise (qa.recency)."""
    c = older.citation
    where = f"{c.path} ({c.date}), lines {c.lines[0]}-{c.lines[1]}"
    return f"An older article says otherwise: {older.text}  [{older.hit_rank}] {where}"


def format_answer(answer: Answer) -> str:
    """The answer for a person: the short answer and its citation, then the passages."""
    if not answer.found:
        lead = f"Nothing in the articles answers this. {answer.why_not or ''}".strip()
        lead += "\nThe closest passages, which are not answers:\n\n"
    elif answer.short_answer is not None:
        short = answer.short_answer
        c = short.citation
        date = f" ({c.date})" if c.date is not None else ""
        page = f", {_pages(c)}" if c.page is not None else ""
        lead = f"Answer: {short.text}  [{short.hit_rank}] {c.path}{date}{page}, lines {c.lines[0]}-{c.lines[1]}\n\n"
    else:
        lead = "No short answer stands out; the sentence marked > in [1] answers.\n\n"
    if answer.older_differs is not None:
        lead += older_note(answer.older_differs) + "\n\n"
    return lead + ("\n\n".join(format_hit(h) for h in answer.hits) or "No passage found.")


def run_index(args: argparse.Namespace) -> int:
    _index_once(args, full=args.full)
    _prepare_reader_model(args.backend)
    if args.watch:
        import watchfiles

        print(f"watching {args.corpus} for changes (Ctrl-C to stop)", flush=True)
        for _changes in watchfiles.watch(args.corpus, watch_filter=_is_article):
            try:
                _index_once(args, full=False)
            except USER_ERRORS as exc:  # keep watching: the next save may fix it
                print(f"qa: error: {exc}", file=sys.stderr, flush=True)
    return 0


def _prepare_reader_model(backend: str) -> None:
    """Build the reader model now (about a minute, once), so that the first question does not wait for it."""
    if backend == "hash":
        return
    from .embed import model_folder
    from .reader_model import ensure_reader_model

    try:
        ensure_reader_model(model_folder(DEFAULT_MODEL))
    except ModelError as exc:
        print(f"qa: warning: {exc}; passages will be ranked without reading them", file=sys.stderr, flush=True)


def _is_article(_change, path: str) -> bool:
    return is_article_name(Path(path).name)


SKIPPED_SHOWN = 100  # a collection with many bad lines: the rest are in the log


def _index_once(args: argparse.Namespace, full: bool) -> None:
    # the limit is read before the index is touched: a bad QA_MAX_FILE_MB stops here, naming itself
    max_file_bytes = limits.max_file_bytes() if args.max_file_bytes is None else args.max_file_bytes
    runner = _runner(args)
    try:
        report = update_index(
            args.corpus,
            args.store,
            args.model,
            args.backend,
            full=full,
            show_progress=True,
            max_file_bytes=max_file_bytes,
            device=args.device,
            runner=runner,
        )
    finally:
        if runner is not None:
            runner.close()
    if report.boilerplate:
        print(report.boilerplate, flush=True)
    for name, why in report.skipped[:SKIPPED_SHOWN]:
        print(f"skipped {name}: {why}", flush=True)
    if len(report.skipped) > SKIPPED_SHOWN:
        print(f"... and {len(report.skipped) - SKIPPED_SHOWN} more skipped (see the warnings above)", flush=True)
    print(report.summary(), flush=True)
    if report.passages_embedded:
        print(f"{report.passages_embedded} passages embedded into {public_location(args.store)}", flush=True)


def _runner(args: argparse.Namespace) -> EmbeddingRunner | None:
    """The Ray cluster of --ray (else $QA_RAY) to embed on; else, for one run with the ONNX model, a process
    of its own that loads it while this one opens the index (qa.model_process); or None: in this process,
    where `--watch` keeps it loaded for every update."""
    address = args.ray if args.ray is not None else limits.ray_cluster()
    if address is None:
        if args.ray_workers is not None:
            raise SettingError("--ray-workers", f"needs a Ray cluster: --ray ADDRESS or ${RAY_SETTING}")
        if args.backend == "onnx" and not args.watch:
            return ModelProcessRunner(functools.partial(get_embedder, args.model, args.backend, args.device))
        return None
    from .cluster import RayRunner, import_ray

    import_ray()  # before the index is touched: without Ray, say how to add it
    return RayRunner(address, workers=args.ray_workers, gpus_per_worker=1.0 if args.device == "cuda" else 0.0)


def open_or_build(args: argparse.Namespace) -> Retriever:
    """The retriever over ``args.store``; the index is built from ``args.corpus`` first when there is none."""
    from .retrieval import Retriever

    if open_store(args.store).read_manifest() is None:
        update_index(args.corpus, args.store, args.model, args.backend, show_progress=True, device=args.device)
    return Retriever.open(args.store, args.corpus, args.model, args.backend)


def run_ask(args: argparse.Namespace) -> int:
    from .retrieval import Retriever

    if args.question != "-":
        Retriever.start_loading_for(args.question, args.backend)
    retriever = open_or_build(args)
    if args.question != "-":
        answer = retriever.answer(args.question, k=args.k, since=args.since, until=args.until)
        print(json.dumps(answer.as_dict(), ensure_ascii=False) if args.json else format_answer(answer))
        return 0
    status = 0
    # A line longer than this cannot be a question within the limit (4 bytes a character at most):
    # it is read on in chunks and refused by its size, never held whole (a pasted file, a stray binary).
    line_limit = 4 * MAX_QUESTION_CHARS
    for line in bounded_lines(sys.stdin.buffer, line_limit):
        question = line.data.decode("utf-8", errors="surrogateescape").strip()
        if not question and not line.cut:
            continue
        try:
            if line.cut:
                raise QuestionError(
                    f"the question is {line.length:,} bytes long; the limit is {MAX_QUESTION_CHARS:,} characters"
                )
            answer = retriever.answer(question, k=args.k, since=args.since, until=args.until)
            record, text = answer.as_dict(), format_answer(answer)
        except QuestionError as exc:
            shown = _echo(question, f"{line.length:,} bytes" if line.cut else f"{len(question):,} characters")
            record, text, status = {"question": shown, "line": line.number, "error": str(exc)}, f"error: {exc}", 2
        if args.json:
            print(json.dumps(record, ensure_ascii=False), flush=True)
        else:
            print(f"# {record['question']}\n{text}\n", flush=True)
    return status


def _echo(question: str, length: str) -> str:
    """The question as an error record repeats it: valid text, cut after SHOWN_INPUT_CHARS with its length."""
    shown = question.encode("utf-8", errors="replace").decode("utf-8")
    return shown if len(shown) <= SHOWN_INPUT_CHARS else f"{shown[:SHOWN_INPUT_CHARS]}… ({length})"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
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
    except BrokenPipeError:  # the reader (head, less) left early: not an error
        sys.stderr.close()
        return 0


def configure_logging() -> None:
    """Our messages at INFO; libraries only when they warn (no DEBUG lines, no per-request logs).

    The filter is on the handler, not on the loggers: a library that sets its own
    logger to DEBUG (bm25s does) still reaches the handler, which drops the record.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger("qa").setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler and not any(isinstance(f, _OursOrWarnings) for f in handler.filters):
            handler.addFilter(_OursOrWarnings())


class _OursOrWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.name == "qa" or record.name.startswith("qa.")
