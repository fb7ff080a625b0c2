"""Atomic file writes: a file is either its old self or completely new, never half written.

Every file chainrule writes (saved models, checkpoints, ONNX exports, downloads, run outputs)
goes through :func:`write_bytes`: the bytes go to a temporary file in the same directory, are
``fsync``-ed, and the temporary file is renamed over the target. A crash, a full disk, Ctrl-C or
SIGKILL at any moment leaves the previous file intact. (SIGKILL may leave a ``.<name>.*.tmp``
file behind; nothing can clean up after it, and it is never read.)
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


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
