"""One copy of the word-embedding table for two ONNX models made from the same weights.

The reader model (qa.reader_model) is the embedding model with a low-rank adaptation merged into the
transformer's matrices and heads on top: its word-embedding table (250,037 pieces × 384, one byte
each: 96 MB of its 118 MB) is left as it was, and its int8 export holds the same bytes, scale and zero
point as the embedding model's export. So the reader's file is written without them: its table is
"external data" that points at those bytes inside the embedding model's file (:func:`point_at_table`),
and when the reader is loaded, those bytes are mapped from that file and handed to onnxruntime as the
initializer (:func:`table_options`), which uses them in place: no second copy on disk or in memory,
only the pages of the pieces actually read are loaded, and they are the page cache's, shared by every
process reading the same file. docs/benchmarks.md "One copy of the word embeddings" has the figures.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
from pathlib import Path
from typing import Any

import numpy as np

TABLE = "embeddings.word_embeddings.weight_quantized"  # the end of the table's initializer name in both models
_PROBE = 1 << 16  # bytes of the table searched for in the other file; the whole table is then compared


def _table_of(model: Any) -> Any:
    """The word-embedding table initializer of an ONNX model (None if it has none)."""
    return next((t for t in model.graph.initializer if t.name.endswith(TABLE)), None)


def _quantisation(model: Any, table: Any) -> list[list[float]]:
    """The table's scale and zero point (their values: the names differ from model to model)."""
    from onnx import numpy_helper

    names = [table.name.removesuffix("_quantized") + suffix for suffix in ("_scale", "_zero_point")]
    found = {t.name: numpy_helper.to_array(t).ravel().tolist() for t in model.graph.initializer if t.name in names}
    return [found.get(name, []) for name in names]


def point_at_table(path: Path, owner: Path) -> bool:
    """Rewrite the ONNX file ``path`` so that its word-embedding table is read from the same bytes in
    ``owner`` (another ONNX file in the same folder), when both hold the same table with the same scale
    and zero point; returns whether it did (if not, ``path`` keeps its own copy)."""
    import onnx
    from onnx import TensorProto

    model, other = onnx.load(str(path)), onnx.load(str(owner))
    table, own = _table_of(model), _table_of(other)
    if table is None or own is None or table.raw_data != own.raw_data or list(table.dims) != list(own.dims):
        return False
    if _quantisation(model, table) != _quantisation(other, own):
        return False
    data = own.raw_data
    with open(owner, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        offset = mapped.find(data[:_PROBE])
        if offset < 0 or mapped[offset : offset + len(data)] != data:
            return False
    table.ClearField("raw_data")
    table.data_location = TensorProto.EXTERNAL
    del table.external_data[:]
    for key, value in (("location", owner.name), ("offset", str(offset)), ("length", str(len(data)))):
        entry = table.external_data.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    _write_place(
        path, table.name, owner.name, offset, list(table.dims), onnx.helper.tensor_dtype_to_np_dtype(table.data_type)
    )
    return True


def _place_file(path: Path) -> Path:
    return path.with_suffix(".table.json")


def _stamp(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _write_place(path: Path, name: str, location: str, offset: int, shape: list[int], dtype: Any) -> dict:
    """Where ``path``'s table lies, written beside it (best effort) and returned: reading it back needs no
    ONNX parser (``import onnx`` and parsing the file take about 0.6 s, which a one-off question would wait
    for)."""
    place = {"stamp": _stamp(path), "name": name, "location": location, "offset": offset, "shape": shape}
    place["dtype"] = np.dtype(dtype).str
    temporary = _place_file(path).with_suffix(f".{os.getpid()}.tmp")
    with contextlib.suppress(OSError):
        temporary.write_text(json.dumps(place), encoding="utf-8")
        os.replace(temporary, _place_file(path))
    return place


def _read_place(path: Path) -> dict | None:
    """The place written by :func:`_write_place`, if it is there and ``path`` has not changed since."""
    try:
        place = json.loads(_place_file(path).read_text(encoding="utf-8"))
        return place if place.get("stamp") == _stamp(path) else None
    except (OSError, ValueError):
        return None


def table_options(path: Path, options: Any) -> tuple[np.ndarray, Any] | None:
    """If the ONNX file ``path`` reads its word-embedding table from another file, map those bytes and
    give them to ``options`` (onnxruntime SessionOptions) as that initializer. Returns the mapped array
    and onnxruntime's value over it, which must both live as long as the session; None when the model
    holds its own table."""
    import onnxruntime as ort

    place = _read_place(path)
    if place is None:
        import onnx

        table = _table_of(onnx.load(str(path), load_external_data=False))
        if table is None or table.data_location != onnx.TensorProto.EXTERNAL:
            return None
        where = {entry.key: entry.value for entry in table.external_data}
        dtype = onnx.helper.tensor_dtype_to_np_dtype(table.data_type)
        shape = [int(n) for n in table.dims]
        place = _write_place(path, table.name, where["location"], int(where["offset"]), shape, dtype)
    mapped = np.memmap(
        path.parent / place["location"],
        dtype=np.dtype(place["dtype"]),
        mode="r",
        offset=int(place["offset"]),
        shape=tuple(int(n) for n in place["shape"]),
    )
    value = ort.OrtValue.ortvalue_from_numpy(mapped)
    options.add_initializer(place["name"], value)
    return mapped, value
