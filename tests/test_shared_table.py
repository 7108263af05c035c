"""One word-embedding table for two ONNX models (qa.embed.shared_table), on small made models: the second
model's file loses its copy, and reads the same as before from the first one's bytes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from qa.embed.shared_table import point_at_table, table_options

ROWS, DIM = 5000, 16


def made_model(path: Path, prefix: str, table: np.ndarray, scale: float = 0.01) -> Path:
    """Token ids -> dequantised table rows times a weight of the model's own, as the models' embedding
    layers read their uint8 table with a scale and zero point."""
    name = f"{prefix}embeddings.word_embeddings.weight"
    graph = helper.make_graph(
        [
            helper.make_node("Gather", [f"{name}_quantized", "ids"], ["rows"]),
            helper.make_node("DequantizeLinear", ["rows", f"{name}_scale", f"{name}_zero_point"], ["values"]),
            helper.make_node("Mul", ["values", "weight"], ["out"]),
        ],
        "made",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [None])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, DIM])],
        initializer=[
            numpy_helper.from_array(table, f"{name}_quantized"),
            numpy_helper.from_array(np.array(scale, dtype=np.float32), f"{name}_scale"),
            numpy_helper.from_array(np.array(128, dtype=np.uint8), f"{name}_zero_point"),
            numpy_helper.from_array(np.arange(DIM, dtype=np.float32) + len(prefix), "weight"),
        ],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def run(path: Path, ids: np.ndarray) -> np.ndarray:
    options = ort.SessionOptions()
    kept = table_options(path, options)
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    result = session.run(None, {"ids": ids})[0]
    del session, kept
    return result


def test_the_second_model_reads_the_first_ones_table_in_place(tmp_path):
    table = np.random.default_rng(0).integers(0, 256, (ROWS, DIM), dtype=np.uint8)
    owner = made_model(tmp_path / "model.onnx", "model.", table)
    reader = made_model(tmp_path / "reader.onnx", "encoder.model.", table)
    ids = np.array([0, 7, 4999, 7], dtype=np.int64)
    before = run(reader, ids)
    size = reader.stat().st_size
    assert point_at_table(reader, owner)
    assert reader.stat().st_size < size - table.nbytes + 1000  # the table is gone from its file
    stored = next(t for t in onnx.load(str(reader), load_external_data=False).graph.initializer if "word" in t.name)
    assert stored.data_location == TensorProto.EXTERNAL
    np.testing.assert_array_equal(run(reader, ids), before)
    assert table_options(owner, ort.SessionOptions()) is None  # the owner keeps its table
    np.testing.assert_allclose(run(owner, ids)[:, 0], before[:, 0] / len("encoder.model.") * len("model."), rtol=1e-6)


def test_a_model_with_another_table_or_scale_keeps_its_own(tmp_path):
    table = np.random.default_rng(0).integers(0, 256, (ROWS, DIM), dtype=np.uint8)
    owner = made_model(tmp_path / "model.onnx", "model.", table)
    other = made_model(tmp_path / "other.onnx", "encoder.model.", table[::-1].copy())
    rescaled = made_model(tmp_path / "rescaled.onnx", "encoder.model.", table, scale=0.02)
    for path in (other, rescaled):
        size = path.stat().st_size
        assert not point_at_table(path, owner)
        assert path.stat().st_size == size


@pytest.mark.slow  # the real models
def test_the_reader_model_reads_the_embedding_models_table_from_its_file():
    from qa.embed import DEFAULT_MODEL, model_folder
    from qa.reader_model import ReaderModel, ensure_reader_model

    path = ensure_reader_model(model_folder(DEFAULT_MODEL))
    assert path.stat().st_size < 40e6  # 118 MB with a table of its own
    reader = ReaderModel(model_folder(DEFAULT_MODEL))
    assert reader._table is not None
    (reading,) = reader.read("Qui dirige le bureau de Mongolie ?", ["Saruul Bat dirige le bureau de Mongolie."])
    assert reading.has_span and np.isfinite(reading.answers)


def test_where_the_table_lies_is_read_without_parsing_the_model_until_the_file_changes(tmp_path, monkeypatch):
    table = np.random.default_rng(1).integers(0, 256, (ROWS, DIM), dtype=np.uint8)
    owner = made_model(tmp_path / "model.onnx", "model.", table)
    reader = made_model(tmp_path / "reader.onnx", "encoder.model.", table)
    ids = np.array([3, 4998], dtype=np.int64)
    before = run(reader, ids)
    assert point_at_table(reader, owner)
    parsed = []
    real_load = onnx.load
    monkeypatch.setattr(onnx, "load", lambda *a, **k: parsed.append(a) or real_load(*a, **k))
    np.testing.assert_array_equal(run(reader, ids), before)
    assert not parsed  # the place written beside the model
    (tmp_path / "reader.table.json").write_text("{not json", encoding="utf-8")
    np.testing.assert_array_equal(run(reader, ids), before)
    assert len(parsed) == 1  # a damaged place: the model is parsed, and the place written again
    np.testing.assert_array_equal(run(reader, ids), before)
    assert len(parsed) == 1
    stat = reader.stat()
    os.utime(reader, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    np.testing.assert_array_equal(run(reader, ids), before)
    assert len(parsed) == 2  # the file changed since: its place is read from it again
