"""The IDX file format (MNIST's): a big-endian header, then one array of numbers.

Layout: two zero bytes, a type code, the number of dimensions ``d``; then ``d`` big-endian
uint32 sizes; then the values, row-major, big-endian. Read as one 32-bit number, the first four
bytes are the *magic number*: 2051 (``0x00000803``: unsigned bytes, 3 dimensions) for MNIST
images, 2049 (``0x00000801``: unsigned bytes, 1 dimension) for MNIST labels.

Files may be gzip-compressed; that is recognised from the content, not the file name.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

# IDX type code -> element type (big-endian on disk).
_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXFormatError(ValueError):
    """An IDX file that is malformed, truncated, or not the kind of IDX file expected."""


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The contents of ``path``, decompressed if it is gzip (whatever its name says).

    Raises :class:`IDXFormatError` naming the file for a truncated or corrupt gzip stream.
    """
    path = Path(path)
    raw = path.read_bytes()
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError as error:
        raise IDXFormatError(
            f"{path}: the gzip stream ends early (the file is truncated; {len(raw)} bytes on disk)"
        ) from error
    except (gzip.BadGzipFile, zlib.error) as error:
        raise IDXFormatError(f"{path}: corrupt gzip data ({error})") from error


def parse_idx(
    data: bytes, source: str = "<bytes>", expected_magic: int | None = None
) -> np.ndarray:
    """Parse the bytes of an IDX file into an array in native byte order.

    Parameters
    ----------
    data : bytes
        The whole (decompressed) file.
    source : str
        What to call the data in error messages, usually its path.
    expected_magic : int, optional
        Refuse any other magic number (e.g. 2051 for MNIST images).

    Returns
    -------
    ndarray of shape ``(size_0, ..., size_{d-1})``, of the file's element type.

    Raises
    ------
    IDXFormatError
        Wrong magic number, unknown type code, a header or body shorter than it announces
        (with expected and actual byte counts), or trailing bytes after the data.
    """
    if len(data) < 4:
        raise IDXFormatError(
            f"{source}: too short to be an IDX file: expected at least 4 header bytes, "
            f"got {len(data)}"
        )
    magic = int.from_bytes(data[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise IDXFormatError(
            f"{source}: wrong magic number: expected {expected_magic} "
            f"({_describe_magic(expected_magic)}), got {magic}"
            + (f" ({_describe_magic(magic)})" if _is_idx_magic(magic) else "")
        )
    if not _is_idx_magic(magic):
        raise IDXFormatError(
            f"{source}: not an IDX file: magic number {magic} (0x{magic:08x}) does not start "
            "with two zero bytes and a known type code"
        )
    dtype, ndim = _TYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXFormatError(
            f"{source}: truncated header: expected {header} bytes for {ndim} dimensions, "
            f"got {len(data)}"
        )
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated data" if len(data) < expected else "unexpected trailing bytes"
        raise IDXFormatError(
            f"{source}: {what}: the header announces shape {shape}, so expected {expected} "
            f"bytes, got {len(data)}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    # A copy: frombuffer's view of ``bytes`` is read-only, and big-endian needs swapping anyway.
    return array.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike[str], expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (raw or gzip) into an array; see :func:`parse_idx` for the checks."""
    return parse_idx(read_bytes(path), str(path), expected_magic)


def _is_idx_magic(magic: int) -> bool:
    return magic >> 16 == 0 and (magic >> 8) & 0xFF in _TYPES


def _describe_magic(magic: int) -> str:
    if not _is_idx_magic(magic):
        return "not an IDX magic number"
    dtype, ndim = _TYPES[(magic >> 8) & 0xFF], magic & 0xFF
    return f"IDX {dtype.name}, {ndim} dimension{'s' if ndim != 1 else ''}"
