"""The reader model with its own word-embedding table against the one that reads the embedding model's:
disk, resident memory, and whether its outputs change.

Reproduce (from the project root, after `make install` and `qa index`, which builds the reader model):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/bench_reader_memory.py

"Own copy" is the reader's ONNX file with the table written back into it (as every export was before
qa.embed.shared_table): 118 MB. Each variant is loaded in a fresh process beside the embedding model,
both used once (a question embedded, 8 PIAF dev passages read), and the process's resident memory is
read from /proc: in all, anonymous (the process's own) and file-backed (pages of mapped files, which
the page cache shares between processes). Then both variants read the same 40 passages with their
questions, and the largest difference of any logit (start, end, answers) is printed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PIAF = ROOT.parent / "shared" / "data" / "piaf-dev"
OWN_COPY = Path("/tmp/qa-reader-own-table.onnx")


def samples(count: int) -> list[tuple[str, str]]:
    """(question, its relevant passage's text) from PIAF dev."""
    corpus = {}
    with open(PIAF / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            data = json.loads(line)
            corpus[data["_id"]] = data["text"][:600]
    relevant = dict(line.split("\t")[:2] for line in (PIAF / "qrels" / "dev.tsv").read_text().splitlines()[1:])
    pairs = []
    with open(PIAF / "queries.jsonl", encoding="utf-8") as f:
        for line in f:
            data = json.loads(line)
            pairs.append((data["text"], corpus[relevant[data["_id"]]]))
            if len(pairs) >= count:
                break
    return pairs


def memory() -> dict[str, float]:
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {name: int(status[name].split()[0]) / 1024 for name in ("VmRSS", "RssAnon", "RssFile")}


def reader(path: Path):
    """The reader model loaded from ``path`` (its weights and tokenizer as qa loads them)."""
    import qa.reader_model as module
    from qa.embed import DEFAULT_MODEL, model_folder

    original = module.ensure_reader_model
    module.ensure_reader_model = lambda folder, weights=module.WEIGHTS: path  # type: ignore[assignment]
    try:
        return module.ReaderModel(model_folder(DEFAULT_MODEL))
    finally:
        module.ensure_reader_model = original


def logits(model, pairs) -> np.ndarray:
    """Every logit the model gives for these (question, passage) pairs, one after the other."""
    from qa.reader_model import PASSAGE_PROMPT, QUESTION_PROMPT

    values = []
    for question, passage in pairs:
        encoding = model.tokenizer.encode(QUESTION_PROMPT + question, PASSAGE_PROMPT + passage)
        ids = np.array([encoding.ids], dtype=np.int64)
        outputs = model.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        values.extend(np.ravel(o) for o in outputs)
    return np.concatenate(values)


def one_process(path: Path) -> None:
    """Run in a fresh process: the embedding model and this reader loaded and used; prints memory as JSON."""
    from qa.embed import DEFAULT_MODEL, get_embedder

    before = memory()
    embedder = get_embedder(DEFAULT_MODEL, "onnx")
    embedder.encode_query("Qui dirige le bureau ?")
    model = reader(path)
    pairs = samples(8)
    model.read(pairs[0][0], [p for _, p in pairs])
    after = memory()
    print(json.dumps({name: after[name] - before[name] for name in after} | {"process VmRSS": after["VmRSS"]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--passages", type=int, default=40)
    args = parser.parse_args()
    if args.one:
        one_process(args.one)
        return
    import onnx

    from qa.embed import DEFAULT_MODEL, model_folder
    from qa.reader_model import ensure_reader_model

    shared = ensure_reader_model(model_folder(DEFAULT_MODEL))
    onnx.save(onnx.load(str(shared)), str(OWN_COPY))  # the table read from the embedding model, written back in
    rows = {}
    for name, path in (("own copy", OWN_COPY), ("shared table", shared)):
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(path)], check=True, capture_output=True, text=True
        ).stdout
        rows[name] = json.loads(out.strip().splitlines()[-1]) | {"file MB": path.stat().st_size / 1e6}
    print("| reader file | file MB | RSS added MB (embedding + reader) | anonymous | file-backed | process RSS MB |")
    print("|---|---|---|---|---|---|")
    for name, row in rows.items():
        print(
            f"| {name} | {row['file MB']:.0f} | {row['VmRSS']:.0f} | {row['RssAnon']:.0f} | {row['RssFile']:.0f} "
            f"| {row['process VmRSS']:.0f} |"
        )
    pairs = samples(args.passages)
    difference = np.abs(logits(reader(OWN_COPY), pairs) - logits(reader(shared), pairs)).max()
    print(f"\nlargest logit difference over {len(pairs)} question-passage pairs: {difference:.3g}")
    OWN_COPY.unlink()


if __name__ == "__main__":
    main()
