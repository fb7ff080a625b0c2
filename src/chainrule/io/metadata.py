"""The chainrule metadata every saved file carries, and the checks a reader makes against it.

The metadata is JSON: the format marker and version, the tree (arrays replaced by references to
their entry) and every entry's dtype, shape and CRC-32 (:func:`fingerprint`). Both readers,
:mod:`~chainrule.io.npz` and :mod:`~chainrule.io.safetensors_format`, parse it
(:func:`parse_meta`), check the entries' names against it before reading any
(:func:`check_names`), each entry's header before reading its data (:func:`check_spec`), the
arrays read (:func:`check_arrays`), and read announced sizes exactly (:func:`read_exactly`);
what does not match raises :class:`ChainruleFormatError`.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "META_KEY",
    "TORCH_EXPORT_HINT",
    "ChainruleFormatError",
    "check_arrays",
    "check_names",
    "check_spec",
    "fingerprint",
    "parse_meta",
    "read_exactly",
]

FORMAT_NAME = "chainrule"
FORMAT_VERSION = 1
META_KEY = "__chainrule__"
#: How a PyTorch user writes weights chainrule can read, for the errors refusing pickles.
TORCH_EXPORT_HINT = (
    "export the weights from PyTorch without pickle, e.g. "
    "numpy.savez('weights.npz', **{k: v.numpy() for k, v in model.state_dict().items()}) "
    "or safetensors.torch.save_file(model.state_dict(), 'weights.safetensors'), "
    "then chainrule.load that file"
)
# Reading moves data in steps of this size: large enough to be fast, small beside any array.
_STEP = 1 << 22


class ChainruleFormatError(ValueError):
    """A file cannot be loaded: it is truncated, corrupted, not a chainrule file, or holds
    something chainrule refuses to read (a pickle). The message names the file and the fault."""


def parse_meta(path: Path, text: bytes | str) -> dict[str, Any]:
    """The chainrule metadata JSON, checked for the marker and a version this code reads."""
    try:
        meta = json.loads(text)
    except (ValueError, RecursionError) as err:  # UnicodeDecodeError is a ValueError
        raise ChainruleFormatError(
            f"{path}: the chainrule metadata is unreadable ({err})"
        ) from None
    if (
        not isinstance(meta, dict)
        or meta.get("format") != FORMAT_NAME
        or "tree" not in meta
        or not isinstance(meta.get("arrays"), dict)
    ):
        raise ChainruleFormatError(f"{path}: the {META_KEY!r} entry is not chainrule metadata")
    version = meta.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ChainruleFormatError(
            f"{path} uses chainrule format version {version!r}; this chainrule reads versions up "
            f"to {FORMAT_VERSION}: upgrade chainrule"
        )
    return meta


def check_arrays(path: Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Every entry the metadata lists is there, with its dtype, shape and CRC, and nothing else."""
    listed = meta["arrays"]
    problems = [f"missing entry {k!r}" for k in listed if k not in arrays]
    problems += [f"unexpected entry {k!r}" for k in arrays if k not in listed]
    for key, spec in listed.items():
        a = arrays.get(key)
        if a is None:
            continue
        found = fingerprint(a)
        if found[:2] != spec[:2]:
            problems.append(f"entry {key!r} is {a.dtype.str} {a.shape}, expected {spec[:2]}")
        elif found != spec:
            problems.append(f"entry {key!r} fails its checksum (its bytes changed)")
    if problems:
        raise ChainruleFormatError(
            f"{path} is corrupted: its arrays do not match its metadata: " + "; ".join(problems)
        )


def check_names(path: Path, listed: Mapping[str, Any], present: list[str]) -> None:
    """The entries are exactly those the metadata lists (checked before reading any)."""
    problems = [f"missing entry {k!r}" for k in listed if k not in present]
    problems += [f"unexpected entry {k!r}" for k in present if k not in listed]
    if problems:
        raise ChainruleFormatError(
            f"{path} is corrupted: its arrays do not match its metadata: " + "; ".join(problems)
        )


def check_spec(path: Path, key: str, dtype: np.dtype, shape: tuple[int, ...], spec: Any) -> None:
    """The npy header says what the metadata says (before any data is read)."""
    if not isinstance(spec, list) or len(spec) < 2:
        raise ChainruleFormatError(f"{path}: the chainrule metadata is damaged (entry {key!r})")
    wanted_shape = list(shape) if spec[1] is None and len(shape) == 1 else spec[1]
    if [dtype.str, list(shape)] != [spec[0], wanted_shape]:
        where = f"the {META_KEY!r} entry" if key == META_KEY else f"entry {key!r}"
        raise ChainruleFormatError(
            f"{path} is corrupted: its arrays do not match its metadata: {where} is "
            f"{dtype.str} {shape}, expected {spec[:2]}"
        )


def read_exactly(path: Path, f: BinaryIO, buffer: memoryview, what: str) -> None:
    """Fill ``buffer`` from ``f`` in steps (no second copy of the data), or say it is short."""
    pos = 0
    while pos < len(buffer):
        n = f.readinto(buffer[pos : pos + _STEP])
        if not n:
            raise ChainruleFormatError(
                f"{path} is truncated: {what} should hold {len(buffer)} bytes, found {pos}"
            )
        pos += n


def _crc(array: np.ndarray) -> int:
    # crc32 reads a C-contiguous array's buffer in place: no copy of a possibly huge array.
    return zlib.crc32(array if array.flags.c_contiguous else array.tobytes())


def fingerprint(array: np.ndarray) -> list[Any]:
    # The CRC guards the safetensors format, which has no checksum of its own (zip has one).
    return [array.dtype.str, list(array.shape), _crc(array)]
