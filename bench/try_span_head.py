"""Could a span head on the model's own token vectors give the short answer? (It did not: docs/quality.md.)

Reproduce (from the project root; the PIAF index is built by `qa eval ../shared/data/piaf-dev` first):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/try_span_head.py ../shared/data/piaf-dev

For each PIAF dev question, the passage of its document that holds the first expected answer,
with the word pieces stored in the index: every piece gets 819 features (its int8 vector, that
vector times the question's mean piece, its best cosine with a question piece and its neighbours',
whether it repeats a question piece and how far it is from one, its sentence's relevance, digits
and capitals by kind of question) and the label "inside the answer". A logistic regression is
trained on the questions of even position and read on the odd ones: the answer is the best run
of pieces inside one sentence, widened to whole words. Prints F1 and EM on the odd half, given
the right passage, for a few biases towards shorter spans.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.embed import Pieces, get_embedder  # noqa: E402
from qa.evaluation import f1, normalise  # noqa: E402
from qa.question import analyse  # noqa: E402
from qa.store import open_store, passage_key  # noqa: E402

KINDS = ["person", "place", "organisation", "date", "number", "duration", "phrase", "other"]


def examples(data: Path, store: str) -> list[dict]:
    qrels = dict(line.split("\t")[:2] for line in (data / "qrels" / "dev.tsv").read_text().splitlines()[1:])
    reader = open_store(store).open_reader()
    embedder = get_embedder()
    found = []
    for number, line in enumerate((data / "queries.jsonl").open(encoding="utf-8")):
        query = json.loads(line)
        entry = reader.manifest.documents.get(qrels.get(query["_id"], ""))
        answers = query["metadata"]["answers"]
        if not entry or not answers:
            continue
        keys = [passage_key(p) for p in entry.passage_ids]
        located = next(((k, p) for k, p in zip(keys, reader.passages(keys), strict=True) if answers[0] in p.text), None)
        if located is None:
            continue
        key, passage = located
        start = passage.text.find(answers[0])
        pieces = reader.pieces([key])[0]
        ends = pieces.ends - (len(passage.titled_text) - len(passage.text))
        keep = ends > 0  # the title's pieces are not candidates
        asked = Pieces.of(embedder.encode_query(query["text"]), embedder.word_piece_mask)
        found.append(
            dict(
                number=number,
                answers=answers,
                text=passage.text,
                sentences=passage.sentences,
                span=(start, start + len(answers[0])),
                vectors=pieces.vectors[keep].astype(np.float32),
                ids=pieces.ids[keep],
                ends=ends[keep],
                question=asked.vectors.astype(np.float32),
                question_ids=asked.ids,
                kind=analyse(query["text"]).expects,
            )
        )
    return found


def features(ex: dict, tokenizer) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    vectors, question, n = ex["vectors"], ex["question"], len(ex["vectors"])
    sims = question @ vectors.T if len(question) else np.zeros((1, n))
    best = sims.max(0)
    tokens = [tokenizer.id_to_token(int(i)) or "" for i in ex["ids"]]
    starts = np.maximum(ex["ends"] - np.array([len(t.lstrip("▁")) for t in tokens]), 0)
    columns = []
    for width in (1, 2, 3, 5):
        columns.append(np.array([best[max(0, t - width) : t].max() if t else 0 for t in range(n)]))
        columns.append(np.array([best[t + 1 : t + 1 + width].max() if t + 1 < n else 0 for t in range(n)]))
    columns += [best, (best > 0.85).astype(float), (best > 0.9).astype(float)]
    repeated = np.isin(ex["ids"], ex["question_ids"]).astype(float)
    hot = np.where(repeated > 0)[0]
    distance = np.array([np.min(np.abs(hot - t)) if len(hot) else 50 for t in range(n)], float)
    after = np.array([(hot < t).sum() / max(len(hot), 1) for t in range(n)], float)
    columns += [repeated, np.minimum(distance, 20) / 20, distance == 1, distance <= 3, after]
    sentence_of = np.zeros(n, int)
    relevance = []
    for i, (s, e) in enumerate(ex["sentences"]):
        inside = (ex["ends"] > s) & (ex["ends"] <= e)
        sentence_of[inside] = i
        relevance.append(sims[:, inside].max(1).mean() if inside.any() else 0)
    rel = np.array(relevance or [0.0])
    columns += [rel[sentence_of], rel[sentence_of] - rel.max(), rel[sentence_of] == rel.max()]
    text = ex["text"]
    digit = np.array([any(c.isdigit() for c in text[starts[t] : ex["ends"][t]]) for t in range(n)], float)
    capital = np.array([text[starts[t] : ex["ends"][t]][:1].isupper() for t in range(n)], float)
    kind = np.zeros(len(KINDS))
    kind[KINDS.index(ex["kind"]) if ex["kind"] in KINDS else -1] = 1
    surface = np.stack([digit, capital, [t.startswith("▁") for t in tokens], np.ones(n)], 1).astype(float)
    by_kind = (surface[:, :, None] * kind[None, None, :]).reshape(n, -1)
    mean_question = question.mean(0) if len(question) else np.zeros(vectors.shape[1])
    x = np.concatenate([np.stack(columns, 1).astype(float), by_kind, vectors, vectors * mean_question], 1)
    s, e = ex["span"]
    return x.astype(np.float32), ((ex["ends"] > s) & (starts < e)).astype(np.float32), starts, sentence_of


def train(x: np.ndarray, y: np.ndarray, steps: int = 1500, l2: float = 1e-4):
    """Class-balanced logistic regression by Adam; returns the scorer of standardised features."""
    mean, scale = x.mean(0), x.std(0) + 1e-6
    xs = (x - mean) / scale
    w, b = np.zeros(x.shape[1], np.float32), 0.0
    m, v, mb, vb = np.zeros_like(w), np.zeros_like(w), 0.0, 0.0
    balance = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    for step in range(1, steps + 1):
        g = (1 / (1 + np.exp(-(xs @ w + b))) - y) * balance
        gw, gb = xs.T @ g / len(y) + l2 * w, g.mean()
        m, v = 0.9 * m + 0.1 * gw, 0.999 * v + 0.001 * gw * gw
        mb, vb = 0.9 * mb + 0.1 * gb, 0.999 * vb + 0.001 * gb * gb
        w -= 0.05 * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
        b -= 0.05 * (mb / (1 - 0.9**step)) / (np.sqrt(vb / (1 - 0.999**step)) + 1e-8)
    return lambda rows: ((rows - mean) / scale) @ w + b


def best_run(ex: dict, logits: np.ndarray, starts: np.ndarray, sentence_of: np.ndarray) -> str:
    best = (-np.inf, 0, 0)
    for sentence in np.unique(sentence_of):
        total, first = 0.0, None
        for t in np.where(sentence_of == sentence)[0]:
            if first is None or total <= 0:
                total, first = 0.0, t
            total += logits[t]
            if total > best[0] and t - first < 40:
                best = (total, first, t)
    text, start, end = ex["text"], int(starts[best[1]]), int(ex["ends"][best[2]])
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[start:end]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--store", default=str(ROOT / "embeddings" / "eval" / "piaf-dev"))
    args = parser.parse_args()
    found = examples(args.data, args.store)
    tokenizer = get_embedder().tokenizer
    rows = [features(ex, tokenizer) for ex in found]
    tune = [i for i, ex in enumerate(found) if ex["number"] % 2 == 0]
    check = [i for i, ex in enumerate(found) if ex["number"] % 2 == 1]
    score = train(np.concatenate([rows[i][0] for i in tune]), np.concatenate([rows[i][1] for i in tune]))
    print(f"{len(tune)} questions to train on, {len(check)} to check, {rows[0][0].shape[1]} features")
    for bias in (0.0, 1.0, 2.0):
        f1s, ems = [], []
        for i in check:
            x, _, starts, sentence_of = rows[i]
            predicted = best_run(found[i], score(x) - bias, starts, sentence_of)
            f1s.append(max(f1(predicted, a) for a in found[i]["answers"]))
            ems.append(max(normalise(predicted) == normalise(a) for a in found[i]["answers"]))
        print(f"bias {bias}: F1 {np.mean(f1s):.3f}, EM {np.mean(ems):.3f} (the right passage given)")


if __name__ == "__main__":
    main()
