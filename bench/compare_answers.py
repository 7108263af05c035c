"""Answers of two versions of the code, question by question: what changed.

Reproduce (from the project root): dump the answers of each version, then compare the dumps.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/compare_answers.py dump eval/seed_questions.jsonl \\
        --unanswerable eval/unanswerable.jsonl --store embeddings --corpus corpus --out /tmp/after.jsonl
    # the same in a checkout of the earlier commit (git worktree add /tmp/before <commit>), --out /tmp/before.jsonl
    .venv/bin/python bench/compare_answers.py diff /tmp/before.jsonl /tmp/after.jsonl

A BEIR folder (``../shared/data/piaf-dev``, with ``--half odd``) is indexed in ``--store`` first, as
``qa eval`` does. Each line of a dump is one question: whether it was answered, the short answer,
the first passage's article and its answering sentence. ``diff`` prints how many questions kept the
same reply and every one that did not.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.evaluation import history_of, load_beir, load_questions, short_text  # noqa: E402
from qa.indexer import index_documents  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402

COMPARED = ("found", "short", "article", "sentence")


def dump(args: argparse.Namespace) -> None:
    if args.data.is_dir():
        documents, cases = load_beir(args.data)
        index_documents(documents, args.store, show_progress=True)
        retriever = Retriever.open(args.store, args.data)
    else:
        cases = load_questions(args.data)
        retriever = Retriever.open(args.store, args.corpus)
    if args.half:
        cases = cases[0 if args.half == "even" else 1 :: 2]
    asked = [(c, history_of(c, {c.qid: c for c in cases})) for c in cases]
    if args.unanswerable:
        asked += [(c, list(c.history)) for c in load_questions(args.unanswerable)]
    with open(args.out, "w", encoding="utf-8") as out:
        for case, history in asked:
            answer = retriever.answer(case.question, history=history)
            first = answer.hits[0] if answer.hits else None
            record = {
                "id": case.qid or case.question,
                "question": case.question,
                "found": answer.found,
                "short": short_text(answer) if answer.found else "",
                # BEIR ids are read as records of corpus.jsonl: compare them without that prefix
                "article": first.doc_id.removeprefix("corpus.jsonl#") if first else None,
                "sentence": first.answer if first else None,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def diff(args: argparse.Namespace) -> None:
    before, after = (
        {r["id"]: r for r in map(json.loads, Path(path).read_text(encoding="utf-8").splitlines())}
        for path in (args.before, args.after)
    )
    changed = [q for q in before if q in after and any(before[q][f] != after[q][f] for f in COMPARED)]
    only = set(before) ^ set(after)
    print(f"{len(before)} questions before, {len(after)} after; {len(changed)} replies changed, {len(only)} unmatched")
    for q in changed:
        fields = [f for f in COMPARED if before[q][f] != after[q][f]]
        print(f"\n{q}: {before[q]['question']}")
        for f in fields:
            print(f"  {f}: {before[q][f]!r}\n  {' ' * len(f)}  -> {after[q][f]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("dump", help="ask every question, write one JSON line per answer")
    take.add_argument("data", type=Path, help="a question file (.jsonl) or a BEIR folder")
    take.add_argument("--unanswerable", type=Path, default=None)
    take.add_argument("--half", choices=("even", "odd"), default=None)
    take.add_argument("--store", default="embeddings")
    take.add_argument("--corpus", type=Path, default=Path("corpus"))
    take.add_argument("--out", type=Path, required=True)
    compare = commands.add_parser("diff", help="print the questions whose reply changed")
    compare.add_argument("before", type=Path)
    compare.add_argument("after", type=Path)
    args = parser.parse_args()
    dump(args) if args.command == "dump" else diff(args)


if __name__ == "__main__":
    main()
