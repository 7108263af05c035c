"""The fast backend: the model exported once to ONNX, quantised to int8, run by onnxruntime.

Questions never import torch: a fresh ``qa ask`` needs onnxruntime, the
tokenizer and numpy only. The export (torch + transformers, about half a
minute) happens on first use and is cached in the model folder, under
``onnx/model_qint8_<cpu>.onnx`` as sentence-transformers names its own exports.

The int8 configuration follows the processor, as sentence-transformers'
``export_dynamic_quantized_onnx_model`` does (arm64, avx2, avx512,
avx512_vnni): dynamic quantisation of every matrix product, weights per
channel. Attention is exported in its plain form so that onnxruntime's
transformer optimiser can fuse it into one quantised ``Attention`` operator,
which doubles the speed over the plain export.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import numpy as np
from filelock import FileLock

from .base import (
    E5_PROMPTS,
    ModelError,
    TokenVectors,
    cached_mask,
    length_sorted_batches,
    normalised,
    word_piece_mask,
)

log = logging.getLogger(__name__)

ONNX_FOLDER = "onnx"
_EXPORT_FORMAT = 1  # bump when the export changes: cached files of older formats are not used


def quantisation_config() -> str:
    """The int8 configuration for this processor: arm64, avx512_vnni, avx512 or avx2."""
    if platform.machine().lower() in ("arm64", "aarch64"):
        return "arm64"
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        flags = ""
    if "avx512_vnni" in flags:
        return "avx512_vnni"
    if "avx512f" in flags:
        return "avx512"
    return "avx2"


def onnx_file_name(config: str) -> str:
    return f"{ONNX_FOLDER}/model_qint8_{config}.v{_EXPORT_FORMAT}.onnx"


def ensure_onnx_model(folder: Path, config: str | None = None) -> Path:
    """The int8 ONNX file of the sentence-transformers model in ``folder``, exported on first use."""
    config = config or quantisation_config()
    return build_once(folder / onnx_file_name(config), lambda out: export_int8(folder, out, config))


def build_once(target: Path, export: Callable[[Path], None]) -> Path:
    """``target``, built on first use by ``export(folder)`` (which writes ``model_int8.onnx`` into
    ``folder``) under a file lock, then moved into place whole: a crash leaves no half file."""
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target.parent / ".export.lock")):
        if target.is_file():  # another process exported it while we waited
            return target
        log.warning("building %s for this processor, once: about half a minute", target.name)
        started = time.perf_counter()
        tmp = target.parent / f".tmp-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            with warnings.catch_warnings(), _quiet_libraries():
                warnings.simplefilter("ignore")  # tracer and deprecation chatter of a one-off export
                export(tmp)
            os.replace(tmp / "model_int8.onnx", target)
        except Exception as exc:
            raise ModelError(f"cannot build {target}: {exc}") from exc
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.info("built %s in %.0f s", target, time.perf_counter() - started)
    return target


def export_int8(
    folder: Path,
    out: Path,
    config: str,
    wrap: Callable | None = None,
    outputs: tuple[str, ...] = ("last_hidden_state",),
    per_text: tuple[str, ...] = (),
) -> None:
    """torch.onnx export of the transformer in ``folder``, operator fusion, then dynamic int8
    quantisation, into ``out/model_int8.onnx``. ``wrap(model)`` may adapt the model and put a head on
    its last hidden state (a module taking ``input_ids, attention_mask``, returning ``outputs``); the
    outputs named in ``per_text`` have one value per input text, the others one per word piece."""
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoConfig, AutoModel

    model_config = AutoConfig.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()

    class Encoder(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=torch.zeros_like(input_ids)
            ).last_hidden_state

    example = torch.ones((2, 8), dtype=torch.long)
    dynamic = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            wrap(Encoder(model)) if wrap else Encoder(model),
            (example, example),
            str(out / "model.onnx"),
            input_names=["input_ids", "attention_mask"],
            output_names=list(outputs),
            opset_version=17,
            dynamo=False,
            dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic}
            | {name: {0: "batch"} if name in per_text else dynamic for name in outputs},
        )
    del model
    fused = out / "model_fused.onnx"
    if model_config.model_type in ("bert", "xlm-roberta", "roberta"):
        optimised = optimize_model(
            str(out / "model.onnx"),
            model_type="bert",
            num_heads=model_config.num_attention_heads,
            hidden_size=model_config.hidden_size,
            opt_level=0,
        )
        optimised.save_model_to_file(str(fused))
    else:
        shutil.copy(out / "model.onnx", fused)
    quantize_dynamic(
        str(fused),
        str(out / "model_int8.onnx"),
        per_channel=True,
        weight_type=QuantType.QUInt8 if config == "avx2" else QuantType.QInt8,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def session_options(threads: int | None = None):
    """onnxruntime settings for every model of the project: its own threads (up to 4, or as many as
    OMP_NUM_THREADS says: Ray sets it to the CPUs of each worker), all graph optimisations, warnings only."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    given = os.environ.get("OMP_NUM_THREADS", "")
    default = int(given) if given.isdigit() and int(given) > 0 else min(os.cpu_count() or 1, 4)
    options.intra_op_num_threads = threads or default
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return options


class OnnxEmbedder:
    backend = "onnx"

    def __init__(self, model_name: str, folder: Path, threads: int | None = None):
        import onnxruntime as ort

        self.model_name = model_name
        self.folder = Path(folder)
        self._path = ensure_onnx_model(self.folder)
        self.fingerprint = f"onnx:{self._path.relative_to(self.folder).as_posix()}"
        options = session_options(threads)
        self.max_tokens = max_tokens_of(self.folder)
        self.prompts = dict(_read_json(self.folder / "config_sentence_transformers.json").get("prompts") or {})
        if "e5" in model_name.lower():
            for key, prompt in E5_PROMPTS.items():
                self.prompts.setdefault(key, prompt)
        pooling = _read_json(self.folder / "1_Pooling" / "config.json")
        self.cls_pooling = bool(pooling.get("pooling_mode_cls_token"))
        # Loading takes about a second, mostly the tokenizer's 250,000-piece vocabulary: it happens in the
        # background while the caller opens its index; the first use waits for it.
        pool = ThreadPoolExecutor(1, thread_name_prefix="qa-model-load")
        self._loading = pool.submit(self._load, ort, options)
        pool.shutdown(wait=False)  # the thread ends once the model is loaded
        self.dim = int(pooling.get("word_embedding_dimension") or self.session.get_outputs()[0].shape[-1] or 0)

    def _load(self, ort, options) -> tuple:
        with ThreadPoolExecutor(1) as pool:
            reading = pool.submit(shared_tokenizer, self.folder)
            session = ort.InferenceSession(str(self._path), options, providers=["CPUExecutionProvider"])
            tokenizer = reading.result()
        return session, tokenizer

    def _loaded(self) -> tuple:
        try:
            return self._loading.result()
        except Exception as exc:
            raise ModelError(f"cannot load {self._path}: {exc}") from exc

    @property
    def session(self):
        return self._loaded()[0]

    @property
    def tokenizer(self):
        return self._loaded()[1]

    @property
    def vocab_size(self) -> int:
        return int(self.tokenizer.get_vocab_size())

    @cached_property
    def word_piece_mask(self) -> np.ndarray:
        return cached_mask(self.folder / ONNX_FOLDER / "word_pieces.npy", self.vocab_size, self._word_piece_mask)

    def _word_piece_mask(self) -> np.ndarray:
        tokens = [self.tokenizer.id_to_token(i) or "" for i in range(self.vocab_size)]
        specials = [i for i, t in enumerate(tokens) if t.startswith("<") and t.endswith(">") or t in ("[CLS]", "[SEP]")]
        return word_piece_mask(tokens, specials)

    def encode_documents(self, texts: Sequence[str]) -> list[TokenVectors]:
        return self._encode(texts, self.prompts.get("document", ""))

    def encode_query(self, text: str) -> TokenVectors:
        return self._encode([text], self.prompts.get("query", ""))[0]

    def _encode(self, texts: Sequence[str], prompt: str) -> list[TokenVectors]:
        encodings = self.tokenizer.encode_batch([prompt + t for t in texts])
        results: list[TokenVectors | None] = [None] * len(texts)
        for batch in length_sorted_batches([len(e.ids) for e in encodings]):
            width = max(len(encodings[i].ids) for i in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                ids[row, : len(encodings[i].ids)] = encodings[i].ids
                mask[row, : len(encodings[i].ids)] = 1
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            for row, i in enumerate(batch):
                enc = encodings[i]
                n = len(enc.ids)
                token_hidden = np.ascontiguousarray(hidden[row, :n], dtype=np.float32)
                pooled = token_hidden[0] if self.cls_pooling else token_hidden.mean(axis=0)
                ends = np.array([end - len(prompt) for _, end in enc.offsets], dtype=np.int64)
                content = (np.array(enc.special_tokens_mask) == 0) & (ends > 0)
                results[i] = TokenVectors(
                    vector=normalised(pooled),
                    hidden=token_hidden,
                    ids=np.array(enc.ids, dtype=np.int64),
                    ends=np.where(content, ends, 0),
                    content=content,
                )
        return [r for r in results if r is not None]


@contextmanager
def _quiet_libraries() -> Iterator[None]:
    """No progress bars or advice from transformers and onnxruntime's quantiser during the export."""
    from transformers.utils import logging as transformers_logging

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        root.setLevel(level)
        transformers_logging.enable_progress_bar()


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def max_tokens_of(folder: Path) -> int:
    """How many word pieces the model in ``folder`` reads at most."""
    return int(_read_json(Path(folder) / "sentence_bert_config.json").get("max_seq_length") or 512)


_tokenizers: dict[Path, object] = {}
_tokenizers_lock = threading.Lock()


def shared_tokenizer(folder: Path):
    """The tokenizer of the model in ``folder`` (no padding, truncation at :func:`max_tokens_of`), parsed
    once per process: its 250,000-piece vocabulary takes 0.66 s to parse, and the embedding model and the
    reader model (qa.reader_model) read the same file. Callers must not change its settings; it is safe
    across threads."""
    from tokenizers import Tokenizer

    key = Path(folder).resolve()
    with _tokenizers_lock:
        if key not in _tokenizers:
            tokenizer = Tokenizer.from_file(str(key / "tokenizer.json"))
            tokenizer.no_padding()
            tokenizer.enable_truncation(max_tokens_of(key))
            _tokenizers[key] = tokenizer
        return _tokenizers[key]
