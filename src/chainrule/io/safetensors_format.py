"""The ``.safetensors`` format, bounded: :func:`safetensors_bytes` writes one with the
safetensors package (an optional extra), and :func:`read_safetensors` reads one without it,
bounding the header and checking every tensor's offsets before reading any data.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from chainrule.io.metadata import (
    META_KEY,
    ChainruleFormatError,
    check_arrays,
    check_names,
    check_spec,
    parse_meta,
    read_exactly,
)

__all__ = ["read_safetensors", "safetensors_bytes"]

_INSTALL_HINT = 'pip install "chainrule[safetensors]"'


def _import_safetensors() -> Any:
    try:
        import safetensors.numpy
    except ImportError as err:
        raise ImportError(
            f"writing .safetensors files needs the safetensors package: {_INSTALL_HINT}"
        ) from err
    return safetensors.numpy


def safetensors_bytes(arrays: dict[str, np.ndarray], meta_json: str) -> bytes:
    st = _import_safetensors()
    try:
        return st.save(arrays, metadata={META_KEY: meta_json})
    except Exception as err:  # SafetensorError, or an unsupported dtype such as complex
        raise TypeError(f"cannot write these arrays as safetensors: {err}") from err


# ----- reading .safetensors ----------------------------------------------------------------------
# The format's own limit on its JSON header (the safetensors library refuses larger ones too).
_MAX_SAFETENSORS_HEADER = 100_000_000
# safetensors dtype names → NumPy (little-endian, as the format stores them). The FP8 types
# have no NumPy dtype, so a file holding them cannot be read as NumPy arrays.
_SAFETENSORS_DTYPES = {
    "BOOL": "|b1", "U8": "|u1", "I8": "|i1", "U16": "<u2", "I16": "<i2", "F16": "<f2",
    "U32": "<u4", "I32": "<i4", "F32": "<f4", "U64": "<u8", "I64": "<i8", "F64": "<f8",
}  # fmt: skip
# bfloat16 (NumPy has none) is read as its 16-bit patterns and widened to float32 exactly:
# a bf16 value is a float32 whose low 16 bits are zero.
_BF16 = "BF16"


def read_safetensors(path: Path, f: BinaryIO, size: int) -> tuple[Any, dict[str, np.ndarray]]:
    """The tree and arrays of a ``.safetensors`` file, read without the safetensors package.

    The header is bounded (at most 100 MB and at most the file), every tensor's offsets must
    lie inside the file, match its dtype and shape and not overlap another's, so no tensor can
    claim more memory than the file's size; each is then read into a preallocated array.
    A file without chainrule metadata gives the tree ``None`` and its tensors by name.
    ``BF16`` tensors (only in files written elsewhere) come back as float32, exactly.
    """
    header, data_start = _safetensors_header(path, f, size)
    metadata = header.pop("__metadata__", None)
    meta_json = metadata.get(META_KEY) if isinstance(metadata, dict) else None
    entries = _safetensors_entries(path, header, size - data_start)
    meta = None if meta_json is None else parse_meta(path, meta_json)
    if meta is not None:
        check_names(path, meta["arrays"], list(entries))
    arrays = {}
    for key, (dtype, shape, begin, end) in entries.items():
        if meta is not None:
            check_spec(path, key, dtype, shape, meta["arrays"][key])
        raw = np.empty(end - begin, np.uint8)
        f.seek(data_start + begin)
        read_exactly(path, f, memoryview(raw), f"tensor {key!r}")
        arrays[key] = raw.view(dtype).reshape(shape)
        if header[key]["dtype"] == _BF16:
            arrays[key] = _widen_bf16(arrays[key])
    if meta is None:  # written by another tool: a flat state dict
        return None, {k: arrays[k] for k in sorted(arrays)}
    check_arrays(path, meta, arrays)
    return meta["tree"], arrays


def _widen_bf16(bits: np.ndarray) -> np.ndarray:
    """float32 from bfloat16 bit patterns (uint16): the same value, exactly."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def _safetensors_header(path: Path, f: BinaryIO, size: int) -> tuple[dict[str, Any], int]:
    """The JSON header (bounded before it is read) and where the data starts."""
    f.seek(0)
    length = int.from_bytes(f.read(8), "little")
    if 8 + length > size:
        raise ChainruleFormatError(
            f"{path} is truncated: its safetensors header claims {length} bytes but the file has "
            f"{size}"
        )
    if length > _MAX_SAFETENSORS_HEADER:
        raise ChainruleFormatError(
            f"{path} is corrupted: its safetensors header claims {length} bytes, more than the "
            f"format allows ({_MAX_SAFETENSORS_HEADER})"
        )
    try:
        header = json.loads(f.read(length).decode("utf-8"))
    except (ValueError, RecursionError) as err:  # UnicodeDecodeError is a ValueError
        raise ChainruleFormatError(f"{path}: the safetensors header is corrupted ({err})") from None
    if not isinstance(header, dict):
        raise ChainruleFormatError(f"{path}: the safetensors header is corrupted (not an object)")
    return header, 8 + length


def _safetensors_entries(
    path: Path, header: dict[str, Any], data_size: int
) -> dict[str, tuple[np.dtype, tuple[int, ...], int, int]]:
    """name → (dtype, shape, begin, end), each checked; refuses overlapping tensors."""
    entries = {key: _safetensors_entry(path, key, spec, data_size) for key, spec in header.items()}
    previous_end, previous = 0, None
    for key, (_, _, begin, end) in sorted(entries.items(), key=lambda item: item[1][2:]):
        if begin < previous_end:
            raise ChainruleFormatError(
                f"{path} is corrupted: tensors {previous!r} and {key!r} overlap in the file"
            )
        previous_end, previous = end, key
    return entries


def _safetensors_entry(
    path: Path, key: str, spec: Any, data_size: int
) -> tuple[np.dtype, tuple[int, ...], int, int]:
    try:
        name = spec["dtype"]
        if name not in _SAFETENSORS_DTYPES and name != _BF16:
            raise ChainruleFormatError(
                f"{path}: tensor {key!r} has dtype {name!r}, which chainrule cannot hold "
                f"(it reads {', '.join(sorted([*_SAFETENSORS_DTYPES, _BF16]))})"
            )
        dtype = np.dtype("<u2" if name == _BF16 else _SAFETENSORS_DTYPES[name])
        shape = tuple(spec["shape"])
        begin, end = spec["data_offsets"]
        ints = [*shape, begin, end]
        if not all(type(n) is int and n >= 0 for n in ints):  # bool is not a size
            raise ValueError("shape and offsets must be non-negative integers")
    except ChainruleFormatError:
        raise  # a ValueError, but already precise
    except (KeyError, TypeError, ValueError) as err:
        raise ChainruleFormatError(
            f"{path}: the safetensors header is corrupted (tensor {key!r}: {err!r})"
        ) from None
    nbytes = math.prod(shape) * dtype.itemsize
    if not begin <= end <= data_size or end - begin != nbytes:
        raise ChainruleFormatError(
            f"{path} is truncated or corrupted: tensor {key!r} ({spec['dtype']} {list(shape)}, "
            f"{nbytes} bytes) is given bytes {begin}..{end} of a {data_size}-byte data section"
        )
    return dtype, shape, begin, end
