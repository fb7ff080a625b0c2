"""Files on disk: atomic writes, and reading a user's path only when it is a regular file.

Writes: a file is either its old self or completely new, never half written. Every file
chainrule writes (saved models, checkpoints, ONNX exports, downloads, run outputs)
goes through :func:`write_bytes`: the bytes go to a temporary file in the same directory, are
``fsync``-ed, and the temporary file is renamed over the target. A crash, a full disk, Ctrl-C or
SIGKILL at any moment leaves the previous file intact. (SIGKILL may leave a ``.<name>.*.tmp``
file behind; nothing can clean up after it, and it is never read.)

Every path a user hands chainrule to read (``load``, ``load_into``, IDX and CSV files, files
already in a download folder) is opened through :func:`open_regular`, which refuses anything
that is not a regular file: reading ``/dev/zero`` never ends, and a named pipe blocks until
someone writes to it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO

# What a non-regular file is, for the error message (the S_IS* tests, in this order).
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` by a file holding ``data``, all or nothing.

    Raises ``OSError`` (with the original errno) saying that the previous file is unchanged.
    A new file gets mode 0o644; a replaced one keeps its mode.
    """
    path = Path(path)
    directory = path.parent
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = 0o644  # mkstemp's 0o600 would make a saved model unreadable to others
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise type(err)(
            err.errno, f"cannot write {path}: cannot create a file in {directory} ({err.strerror})"
        ) from err
    try:
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            _write_fully(fd, data)
            os.fsync(fd)  # the bytes must be on disk before the rename makes them the file
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            message = f"cannot write {path} ({err.strerror or err}); the previous file is unchanged"
            raise (type(err)(err.errno, message) if err.errno else type(err)(message)) from err
        raise
    _fsync_directory(directory)


def _write_fully(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (``os.write`` may write less than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every OS/filesystem, hence best effort.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def open_regular(path: str | os.PathLike[str], error: type[Exception] = OSError) -> BinaryIO:
    """Open ``path`` for reading in binary mode if, and only if, it is a regular file.

    A device (``/dev/zero`` never ends), a named pipe (blocks until written to), a socket or
    a directory raises ``error`` naming ``path`` and what it is, before anything is read.
    The check is made twice: with ``os.stat`` before opening (so a FIFO is never opened
    blocking) and with ``os.fstat`` on the opened descriptor (so a file swapped for a FIFO in
    between is caught too); ``O_NONBLOCK`` makes that open return at once even on a FIFO and
    has no effect on reading a regular file. Symbolic links are followed.

    Raises ``FileNotFoundError`` / ``PermissionError`` as ``open`` does.
    """
    _refuse_non_regular(path, os.stat(path).st_mode, error)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        _refuse_non_regular(path, os.fstat(fd).st_mode, error)
        if flags & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)  # regular files ignore it; reset so nothing else is surprised
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _refuse_non_regular(path: str | os.PathLike[str], mode: int, error: type[Exception]) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise error(f"{os.fspath(path)} is {kind}, not a regular file; refusing to read it")
