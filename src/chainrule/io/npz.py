"""The ``.npz`` format, bounded: :func:`npz_bytes` writes a zip of uncompressed ``.npy``
entries plus the ``__chainrule__`` metadata entry, and :func:`read_npz` reads one back,
checking the zip directory, the metadata and each entry's npy header before reading any data.
"""

from __future__ import annotations

import io
import math
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from chainrule.io.metadata import (
    META_KEY,
    TORCH_EXPORT_HINT,
    ChainruleFormatError,
    check_arrays,
    check_names,
    check_spec,
    parse_meta,
    read_exactly,
)

__all__ = ["npz_bytes", "read_npz"]

# What zipfile raises on a damaged archive (OSError is left alone: a disk fault).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    KeyError,
    ValueError,
    NotImplementedError,
    OverflowError,
)


def npz_bytes(arrays: dict[str, np.ndarray], meta_json: str) -> bytes:
    # Written with zipfile directly: np.savez's keyword names would clash with keys like 'file'.
    # ZIP_STORED always: load refuses compressed entries (they could inflate to any size).
    buf = io.BytesIO()
    meta = np.frombuffer(meta_json.encode("utf-8"), dtype=np.uint8)
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, array in {META_KEY: meta, **arrays}.items():
            with zf.open(key + ".npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, array, allow_pickle=False)
    return buf.getvalue()


def read_npz(path: Path, f: BinaryIO, size: int) -> tuple[Any, dict[str, np.ndarray]]:
    """The tree and arrays of an ``.npz``, each entry checked before its data is read.

    Order matters for safety: the zip directory (sizes, compression) is checked first, then
    the metadata, then each entry's npy header against both, and only then is data read,
    straight into an array of the announced size. Nothing unlisted is ever read.

    An ``.npz`` without chainrule's metadata (``numpy.savez`` of a state dict) gives the tree
    ``None`` and its arrays in the archive's order; each entry's npy header must then agree
    with the zip directory, which bounds it by the file's size. A zip that holds pickled data
    (a ``torch.save`` archive) or anything but ``.npy`` entries is refused.
    """
    try:
        zf = zipfile.ZipFile(f)
    except _ZIP_ERRORS as err:
        raise ChainruleFormatError(
            f"{path} is truncated or corrupted: not a complete zip archive ({err})"
        ) from None
    with zf:
        members = _zip_members(path, zf, size)
        if META_KEY not in members:
            return None, _read_plain(path, zf, members)
        raw = _read_member(path, zf, members[META_KEY], META_KEY, ["|u1", None])
        meta = parse_meta(path, raw.tobytes())
        check_names(path, meta["arrays"], [k for k in members if k != META_KEY])
        arrays = {
            key: _read_member(path, zf, members[key], key, spec)
            for key, spec in meta["arrays"].items()
        }
    check_arrays(path, meta, arrays)
    return meta["tree"], arrays


def _zip_members(path: Path, zf: zipfile.ZipFile, size: int) -> dict[str, zipfile.ZipInfo]:
    """Entry name (``.npy`` removed, as ``numpy.load`` names them) → its directory record.

    Refuses duplicate names, and entries that together claim more bytes than the file holds:
    entries made to overlap (one inside another) would otherwise multiply a small file.
    """
    members: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if key in members:
            raise ChainruleFormatError(f"{path} is corrupted: entry {key!r} appears twice")
        members[key] = info
    for key, info in members.items():
        if not 0 <= info.header_offset <= info.header_offset + info.compress_size <= size:
            raise ChainruleFormatError(
                f"{path} is truncated or corrupted: entry {key!r} lies outside the file"
            )
    claimed = sum(info.compress_size for info in members.values())
    if claimed > size:
        raise ChainruleFormatError(
            f"{path} is corrupted: its zip entries claim {claimed} bytes but the file has {size}"
        )
    return members


def _read_plain(
    path: Path, zf: zipfile.ZipFile, members: Mapping[str, zipfile.ZipInfo]
) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` another tool wrote (no chainrule metadata), in zip order."""
    pickles = [i.filename for i in members.values() if i.filename.endswith((".pkl", ".pickle"))]
    if pickles:
        raise ChainruleFormatError(
            f"{path} is a zip holding pickled data ({', '.join(pickles[:3])}), e.g. a "
            f"torch.save file; chainrule never unpickles: {TORCH_EXPORT_HINT}"
        )
    others = [i.filename for i in members.values() if not i.filename.endswith(".npy")]
    if others or not members:
        listed = ", ".join(others[:8]) + (", …" if len(others) > 8 else "")
        raise ChainruleFormatError(
            f"{path} is not an .npz: it is a zip holding "
            f"{'no entries' if not members else 'entries that are not .npy arrays: ' + listed}"
        )
    return {key: _read_member(path, zf, info, key, None) for key, info in members.items()}


def _read_member(
    path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, spec: Any
) -> np.ndarray:
    """One entry's array; ``spec`` is its ``[dtype, shape, crc]`` from the metadata (``None``
    in place of a shape accepts any 1-D shape; ``spec=None``, for a file without metadata,
    checks the header against the zip directory only). Data is read only once the header, the
    metadata and the zip directory agree on its size, and then into a preallocated buffer."""
    _check_stored(path, key, info)
    try:
        with zf.open(info) as entry:
            dtype, shape, fortran = _npy_header(path, key, entry)
            if spec is not None:
                check_spec(path, key, dtype, shape, spec)
            nbytes = math.prod(shape) * dtype.itemsize
            if entry.tell() + nbytes != info.file_size:
                raise ChainruleFormatError(
                    f"{path} is corrupted: entry {key!r} announces {shape} {dtype.str} "
                    f"({nbytes} bytes of data) but the zip directory gives it "
                    f"{info.file_size - entry.tell()}"
                )
            raw = np.empty(nbytes, np.uint8)
            read_exactly(path, entry, memoryview(raw), f"entry {key!r}")
            if entry.read(1):  # also makes zipfile compare the entry's CRC-32
                raise ChainruleFormatError(f"{path} is corrupted: entry {key!r} is too long")
    except ChainruleFormatError:
        raise  # a ValueError, but already precise
    except _ZIP_ERRORS as err:
        raise ChainruleFormatError(
            f"{path} is truncated or corrupted: entry {key!r} cannot be read ({err})"
        ) from None
    array = raw.view(dtype)
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


def _check_stored(path: Path, key: str, info: zipfile.ZipInfo) -> None:
    """chainrule writes entries uncompressed; a compressed one could inflate to any size."""
    if info.flag_bits & 0x1:
        raise ChainruleFormatError(f"{path}: entry {key!r} is encrypted; chainrule never is")
    if info.compress_type != zipfile.ZIP_STORED:
        raise ChainruleFormatError(
            f"{path}: entry {key!r} is compressed (zip method {info.compress_type}); chainrule "
            "writes entries uncompressed and refuses compressed ones, whose inflated size is "
            "not bounded by the file's: save the data again with chainrule.save (or numpy.savez, "
            "not numpy.savez_compressed)"
        )
    if info.compress_size != info.file_size:
        raise ChainruleFormatError(
            f"{path} is corrupted: entry {key!r} is stored as {info.compress_size} bytes but "
            f"claims {info.file_size}"
        )


def _npy_header(path: Path, key: str, entry: BinaryIO) -> tuple[np.dtype, tuple[int, ...], bool]:
    """dtype, shape and order from an entry's npy header, refusing object arrays."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(entry)
        if version not in ((1, 0), (2, 0)):  # what write_array writes for numeric dtypes
            raise ValueError(f"npy format version {version} is not one chainrule writes")
        reader = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, fortran, dtype = reader(entry)
    except (ValueError, TypeError, SyntaxError, EOFError) as err:
        raise ChainruleFormatError(f"{path}: entry {key!r} is corrupted ({err})") from None
    if dtype.hasobject:
        raise ChainruleFormatError(
            f"{path}: entry {key!r} holds pickled data (an object array); chainrule never unpickles"
        )
    if dtype.kind not in "biufc" or any(d < 0 for d in shape):
        raise ChainruleFormatError(
            f"{path}: entry {key!r} is corrupted (dtype {dtype}, shape {shape})"
        )
    return dtype, shape, fortran
