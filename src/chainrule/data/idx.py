"""The IDX file format (MNIST's): a big-endian header, then one array of numbers.

Layout: two zero bytes, a type code, the number of dimensions ``d``; then ``d`` big-endian
uint32 sizes; then the values, row-major, big-endian. Read as one 32-bit number, the first four
bytes are the *magic number*: 2051 (``0x00000803``: unsigned bytes, 3 dimensions) for MNIST
images, 2049 (``0x00000801``: unsigned bytes, 1 dimension) for MNIST labels.

Files may be gzip-compressed; that is recognised from the content, not the file name.

Reading is bounded by what the header announces, never by what the file happens to hold: a
raw file must be exactly as long as its header says (checked before reading the data); a gzip
file is inflated in steps and reading stops one byte past the announced size, so a small file
that inflates to gigabytes (a "gzip bomb") costs no more memory than the array it claims to be.
Only regular files are read (:func:`chainrule.io.atomic.open_regular`): ``/dev/zero`` or a
named pipe is refused before anything is read.
"""

from __future__ import annotations

import contextlib
import gzip
import math
import os
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from chainrule.io.atomic import open_regular

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
# Data is inflated and read in steps of this size; small beside any real array.
_STEP = 1 << 20
#: What :func:`read_bytes` returns at most unless told otherwise (256 MiB; the largest MNIST
#: file, the training images, is 47 MB).
MAX_BYTES = 256 << 20
_INT64_MAX = int(np.iinfo(np.int64).max)


class IDXFormatError(ValueError):
    """An IDX file that is malformed, truncated, or not the kind of IDX file expected."""


class Stream:
    """A regular file opened for reading, inflated on the fly if it is gzip.

    ``read`` translates the gzip module's errors into :class:`IDXFormatError` naming the file,
    and never returns more than asked: what is asked is what bounds memory.
    """

    def __init__(self, path: Path, raw: BinaryIO) -> None:
        self.path = path
        self.size_on_disk = os.fstat(raw.fileno()).st_size
        self.gzip = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        self._file: BinaryIO | gzip.GzipFile = (
            gzip.GzipFile(fileobj=raw, mode="rb") if self.gzip else raw
        )

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer only at the end of the data)."""
        return self._guarded(self._file.read, n)

    def readline(self, limit: int) -> bytes:
        """One line, or its first ``limit`` bytes if it is longer."""
        return self._guarded(self._file.readline, limit)

    def close(self) -> None:
        self._file.close()

    def _guarded(self, method: Callable[[int], bytes], n: int) -> bytes:
        try:
            return method(n)
        except EOFError as error:
            raise IDXFormatError(
                f"{self.path}: the gzip stream ends early (the file is truncated; "
                f"{self.size_on_disk} bytes on disk)"
            ) from error
        except (gzip.BadGzipFile, zlib.error) as error:
            raise IDXFormatError(f"{self.path}: corrupt gzip data ({error})") from error


@contextlib.contextmanager
def open_stream(path: str | os.PathLike[str]) -> Iterator[Stream]:
    """``with open_stream(path) as stream:`` a :class:`Stream` over ``path`` (raw or gzip).

    Raises :class:`IDXFormatError` if ``path`` is not a regular file (a device, a pipe, a
    directory), and ``FileNotFoundError`` / ``PermissionError`` as ``open`` does.
    """
    path = Path(path)
    with open_regular(path, IDXFormatError) as raw:
        stream = Stream(path, raw)
        try:
            yield stream
        finally:
            stream.close()


def read_bytes(path: str | os.PathLike[str], max_bytes: int = MAX_BYTES) -> bytes:
    """The contents of ``path``, decompressed if it is gzip (whatever its name says).

    Reads at most ``max_bytes`` (decompressed): a longer file raises rather than filling
    memory. Raises :class:`IDXFormatError` naming the file for a truncated or corrupt gzip
    stream, a file over ``max_bytes``, or a path that is not a regular file.
    """
    with open_stream(path) as stream:
        chunks = _read_up_to(stream, max_bytes + 1)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise IDXFormatError(
            f"{path}: larger than {max_bytes} bytes"
            + (" once decompressed" if stream.gzip else "")
            + "; refusing to read it all into memory"
        )
    return data


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
        (with expected and actual byte counts), trailing bytes after the data, or sizes whose
        product does not fit in int64.
    """
    dtype, shape, header = _parse_header(data, len(data), source, expected_magic)
    expected = header + math.prod(shape) * dtype.itemsize
    _check_length(source, shape, expected, len(data))
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    # A copy: frombuffer's view of ``bytes`` is read-only, and big-endian needs swapping anyway.
    return array.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike[str], expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (raw or gzip) into an array; see :func:`parse_idx` for the checks.

    Memory is bounded by the size the header announces (and, for a raw file, by the file's
    size): the data is never inflated past one byte beyond what the header announces.
    """
    with open_stream(path) as stream:
        head = _read_header(stream, expected_magic)
        dtype, shape, header = _parse_header(head, len(head), str(path), expected_magic)
        nbytes = math.prod(shape) * dtype.itemsize
        if stream.gzip:
            raw = _read_inflated(stream, shape, header, nbytes)
        else:
            _check_length(str(path), shape, header + nbytes, stream.size_on_disk)
            raw = np.empty(nbytes, np.uint8)
            _fill(stream, memoryview(raw), str(path), shape, header)
    array = raw.view(dtype).reshape(shape)
    if not dtype.isnative:
        array = array.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return array


# ----- helpers -----------------------------------------------------------------------------------
def _read_header(stream: Stream, expected_magic: int | None) -> bytes:
    """The magic number and the sizes: 4 + 4·d bytes (fewer if the file is shorter)."""
    head = stream.read(4)
    if len(head) == 4 and _is_idx_magic(int.from_bytes(head, "big")):
        head += stream.read(4 * head[3])
    return head


def _parse_header(
    data: bytes, available: int, source: str, expected_magic: int | None
) -> tuple[np.dtype, tuple[int, ...], int]:
    """Element type, shape and header length from the start of ``data``."""
    if available < 4:
        raise IDXFormatError(
            f"{source}: too short to be an IDX file: expected at least 4 header bytes, "
            f"got {available}"
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
    if available < header:
        raise IDXFormatError(
            f"{source}: truncated header: expected {header} bytes for {ndim} dimensions, "
            f"got {available}"
        )
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if math.prod(shape) * dtype.itemsize > _INT64_MAX:
        raise IDXFormatError(
            f"{source}: corrupt header: the sizes {shape} multiply to more bytes than int64 "
            "can count; no real file is that large"
        )
    return dtype, shape, header


def _check_length(source: str, shape: tuple[int, ...], expected: int, actual: int) -> None:
    if actual != expected:
        what = "truncated data" if actual < expected else "unexpected trailing bytes"
        raise IDXFormatError(
            f"{source}: {what}: the header announces shape {shape}, so expected {expected} "
            f"bytes, got {actual}"
        )


def _fill(stream: Stream, buffer: memoryview, source: str, shape: tuple, header: int) -> None:
    """Read exactly ``len(buffer)`` bytes into ``buffer``, in steps."""
    pos = 0
    while pos < len(buffer):
        chunk = stream.read(min(_STEP, len(buffer) - pos))
        if not chunk:  # the file shrank after it was measured
            _check_length(source, shape, header + len(buffer), header + pos)
        buffer[pos : pos + len(chunk)] = chunk
        pos += len(chunk)


def _read_up_to(stream: Stream, limit: int) -> list[bytes]:
    """Chunks of the stream, ``limit`` bytes at most in all."""
    chunks, total = [], 0
    while total < limit:
        chunk = stream.read(min(_STEP, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return chunks


def _read_inflated(stream: Stream, shape: tuple[int, ...], header: int, nbytes: int) -> np.ndarray:
    """A gzip file's data: inflated in steps, stopping one byte past the announced size.

    Nothing is allocated up front for what the header announces (it may lie); the chunks
    are then moved into one array, each freed as soon as it is copied.
    """
    chunks = _read_up_to(stream, nbytes + 1)
    got = sum(map(len, chunks))
    if got > nbytes:
        raise IDXFormatError(
            f"{stream.path}: unexpected trailing bytes: the header announces shape {shape}, so "
            f"expected {header + nbytes} bytes, got more once decompressed (reading stopped there)"
        )
    _check_length(str(stream.path), shape, header + nbytes, header + got)
    out = np.empty(nbytes, np.uint8)
    pos = 0
    chunks.reverse()
    while chunks:
        chunk = chunks.pop()
        out[pos : pos + len(chunk)] = np.frombuffer(chunk, np.uint8)
        pos += len(chunk)
    return out


def _is_idx_magic(magic: int) -> bool:
    return magic >> 16 == 0 and (magic >> 8) & 0xFF in _TYPES


def _describe_magic(magic: int) -> str:
    if not _is_idx_magic(magic):
        return "not an IDX magic number"
    dtype, ndim = _TYPES[(magic >> 8) & 0xFF], magic & 0xFF
    return f"IDX {dtype.name}, {ndim} dimension{'s' if ndim != 1 else ''}"
