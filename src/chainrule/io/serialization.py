"""``save`` and ``load``: state dicts and whole checkpoints on disk, with no pickle anywhere.

What can be saved is a tree of plain data: ndarrays (any numeric or bool dtype, any shape),
NumPy scalars, ``None``, bools, ints, floats (NaN and ±inf included), strings, and lists,
tuples and dicts of these (dict keys may be strings, ints, floats, bools, None or tuples). A
model's ``state_dict()`` (name → ndarray), an optimizer's or scheduler's ``state_dict()``, a
generator's ``bit_generator.state`` and ``History.to_dict()`` all are. Tensors are saved as their
arrays and load back as ndarrays.

Formats
-------
The name chooses the format: a path must end in ``.npz`` or ``.safetensors`` (any case);
``save`` refuses any other suffix rather than write an npz under a name that says otherwise.

``.npz``
    A zip of ``.npy`` entries, one per array, plus ``__chainrule__``: a uint8 array holding UTF-8
    JSON with the format marker, the version, the tree (arrays replaced by references to their
    entry) and every entry's dtype, shape and CRC-32. Entries are named by their place in the tree
    (``'0.weight'``, ``'optimizer/state/0/exp_avg'``), so ``numpy.load(path)`` reads them too.
    Entries are stored uncompressed. No pickle is ever read: an object array, or a pickle
    dressed as ``.npz``, is refused, never unpickled.
``.safetensors`` (writing needs ``pip install "chainrule[safetensors]"``; reading does not)
    The arrays under the same names, and the JSON tree in the header's ``__metadata__``.

Files written elsewhere
-----------------------
An ``.npz`` or ``.safetensors`` file without chainrule's metadata (``numpy.savez`` of a
PyTorch state dict, ``safetensors.torch.save_file``, ``safetensors.numpy.save_file``) loads as
a flat state dict, as ``torch.load`` gives one: an ``OrderedDict`` of name → :class:`Tensor`
(npz entries in the archive's order, safetensors tensors by name), dtypes kept, so
``model.load_state_dict(chainrule.load(path))`` works. safetensors' ``BF16`` (which NumPy
cannot hold) is widened to float32, exactly; the FP8 types are refused. What PyTorch writes with
pickle (``torch.save`` files, named ``.pt``, ``.pth``, ``.bin``, ``.ckpt`` or anything else, and
recognised by their content: a zip holding ``data.pkl``, or pickle bytes) is refused with the
one-line way to export the weights without pickle, never unpickled.

Loading is bounded: nothing a file says makes ``load`` use much more memory than the file's own
size, or read forever. Only regular files are opened (``/dev/zero`` or a named pipe is refused
before anything is read). In an ``.npz``, the zip directory is checked first (entries inside the
file, not overlapping, none compressed or encrypted: a compressed entry could inflate to any
size, and chainrule never writes one), then the metadata, then each entry's npy header against
the metadata and the directory; only then is the entry's data read, straight into an array of
that size. An entry the metadata does not list is refused without being read. In a
``.safetensors`` file, the header length is bounded (100 MB, and the file's size) and every
tensor's offsets must lie inside the file, agree with its dtype and shape and not overlap.
Loading an ordinary file needs about its size in memory (arrays are read in place, and CRCs
are computed on the arrays themselves, without a copy).

Writes are atomic: the file is written to a temporary file in the same directory, flushed,
``fsync``-ed and renamed over ``path``, so a crash, a full disk or a kill at any moment leaves
either the old file or the new one, never half of one. A process killed by SIGKILL mid-write
may leave a ``.<name>.*.tmp`` file behind (nothing can clean up after SIGKILL); it is never
read and can be deleted.

A NaN weight: :func:`load` returns arrays exactly as stored (NaN included: a checkpoint's
history may hold NaN legitimately); :func:`load_into` refuses non-finite values in a model's
weights unless ``allow_nonfinite=True``, since a model silently loaded with NaN predicts NaN.

This module chooses the format and dispatches; the tree's JSON form is
:mod:`~chainrule.io.tree`'s, the metadata and its checks :mod:`~chainrule.io.metadata`'s, and
the bounded readers and the writers :mod:`~chainrule.io.npz`'s and
:mod:`~chainrule.io.safetensors_format`'s.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from chainrule._tensor import Tensor
from chainrule.devices import check_cpu, device
from chainrule.io import atomic
from chainrule.io.metadata import (
    FORMAT_NAME,
    FORMAT_VERSION,
    META_KEY,
    TORCH_EXPORT_HINT,
    ChainruleFormatError,
    fingerprint,
)
from chainrule.io.npz import npz_bytes, read_npz
from chainrule.io.safetensors_format import read_safetensors, safetensors_bytes
from chainrule.io.tree import decode_checked, encode

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "META_KEY",
    "ChainruleFormatError",
    "PathLike",
    "load",
    "load_into",
    "nonfinite_entries",
    "save",
]

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")

PathLike = str | os.PathLike


# ----- the public API ----------------------------------------------------------------------------
def save(obj: Any, path: PathLike, *, format: str | None = None) -> None:
    """Write ``obj`` (a state dict or any tree of plain data, see the module docstring) to
    ``path``, atomically.

    Parameters
    ----------
    obj : tree of ndarrays, numbers, strings, None, lists, tuples, dicts
    path : str or PathLike
        The directory must exist. An existing file is replaced only once the new one is
        completely on disk.
    format : {'npz', 'safetensors'}, optional
        The format is the suffix's; ``format`` may say it again but never contradict it.

    Raises
    ------
    ValueError
        ``path`` does not end in ``.npz`` or ``.safetensors``, or ``format`` contradicts it.
    TypeError
        ``obj`` holds something that is not plain data (the message gives its place).
    ImportError
        ``format='safetensors'`` without the safetensors package.
    OSError
        The file could not be written (read-only directory, full disk, …); the previous file,
        if any, is left as it was and no temporary file remains.
    """
    path = Path(path)
    fmt = _choose_format(path, format)
    arrays: dict[str, np.ndarray] = {}
    tree = encode(obj, (), arrays)
    meta = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "tree": tree,
        "arrays": {key: fingerprint(a) for key, a in arrays.items()},
    }
    # allow_nan=False: non-finite floats were tagged by encode, so the JSON stays strict.
    meta_json = json.dumps(meta, allow_nan=False, separators=(",", ":"))
    data = npz_bytes(arrays, meta_json) if fmt == "npz" else safetensors_bytes(arrays, meta_json)
    atomic.write_bytes(path, data)


def load(
    path: PathLike,
    map_location: Any = None,
    pickle_module: Any = None,
    *,
    weights_only: bool | None = None,
    mmap: bool | None = None,
) -> Any:
    """Read a file written by :func:`save`, or a state dict another tool wrote, and return it.

    Parameters
    ----------
    path : str or PathLike
    map_location : None, 'cpu' or the CPU device
        As ``torch.load``'s; everything loads on the CPU, the only device, so any other device
        is refused.
    pickle_module, mmap
        ``torch.load``'s; only their defaults (``None``, or ``mmap=False``) are accepted:
        chainrule never unpickles and reads arrays into memory.
    weights_only : bool, optional
        Accepted for ``torch.load`` code; chainrule's files hold only data either way.

    Returns
    -------
    tree or OrderedDict of str → Tensor
        For a file :func:`save` wrote, the tree as saved: arrays as ndarrays with their saved
        dtype and shape; tuples, int dict keys, NaN and ±inf as they were. For an ``.npz`` or
        ``.safetensors`` file without chainrule's metadata (see "Files written elsewhere" in
        the module docstring), an ``OrderedDict`` of name → Tensor of shape as stored.

    Raises
    ------
    ChainruleFormatError
        The file is empty, truncated or corrupted, is a pickle, holds pickled data or is named
        as a PyTorch pickle (``.pt``, ``.pth``, ``.bin``, ``.ckpt``: the message says how to
        export it without pickle), or is neither an npz nor a safetensors file.
        A path that is not a regular file (a device, a named pipe, a directory) is refused
        before anything is read.
    FileNotFoundError, PermissionError
        As for ``open``.
    """
    _check_torch_load_options(map_location, pickle_module, weights_only, mmap)
    path = Path(path)
    with atomic.open_regular(path, ChainruleFormatError) as f:
        size = os.fstat(f.fileno()).st_size
        fmt = _sniff(path, f, size)
        _refuse_torch_suffix(path)
        f.seek(0)
        tree, arrays = (read_npz if fmt == "npz" else read_safetensors)(path, f, size)
    if tree is None:  # written elsewhere: a flat state dict, as torch.load returns one
        return OrderedDict((key, Tensor._wrap(a)) for key, a in arrays.items())
    return decode_checked(path, tree, arrays)


def load_into(
    model: Any, path: PathLike, *, strict: bool = True, allow_nonfinite: bool = False
) -> Any:
    """Load the state dict saved at ``path`` into ``model`` (in place) and return what
    ``model.load_state_dict`` returns.

    Same as ``model.load_state_dict(chainrule.load(path))``, plus a check for NaN/inf: a file
    holding non-finite weights raises ``ValueError`` naming them, and the model is unchanged,
    unless ``allow_nonfinite=True``. A checkpoint written by ``fit(checkpoint=...)`` works too:
    its model state is used.

    Raises
    ------
    ChainruleFormatError
        As :func:`load`, or the file holds no state dict.
    ValueError
        Non-finite values (without ``allow_nonfinite``).
    RuntimeError
        ``load_state_dict``'s error listing every missing, unexpected or mismatched entry.
    """
    state = load(path)
    if isinstance(state, Mapping) and "chainrule_checkpoint" in state and "model" in state:
        state = state["model"]
    if not isinstance(state, Mapping) or not all(
        isinstance(v, (np.ndarray, Tensor)) for v in state.values()
    ):
        raise ChainruleFormatError(f"{path} does not hold a state dict (names → arrays)")
    if not allow_nonfinite:
        bad = nonfinite_entries(state)
        if bad:
            raise ValueError(
                f"{path} holds non-finite weights: {', '.join(bad)}; refusing to load them "
                "(pass allow_nonfinite=True to load anyway)"
            )
    return model.load_state_dict(state, strict=strict)


def nonfinite_entries(state: Mapping[str, np.ndarray | Tensor]) -> list[str]:
    """``"'name' (k NaN, m inf)"`` for every floating array of ``state`` with NaN or inf."""
    found = []
    for name, value in state.items():
        a = value._data if isinstance(value, Tensor) else value
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            nan, inf = int(np.isnan(a).sum()), int(np.isinf(a).sum())
            found.append(f"{name!r} ({nan} NaN, {inf} inf of {a.size})")
    return found


def _check_torch_load_options(
    map_location: Any, pickle_module: Any, weights_only: Any, mmap: Any
) -> None:
    """``torch.load``'s options: what is meaningful here is checked, the rest refused by name."""
    if map_location is not None and not isinstance(map_location, (str, device)):
        raise TypeError(
            "chainrule.load supports map_location=None, 'cpu' or the CPU device only (every "
            f"array loads on the CPU); got a {type(map_location).__name__}"
        )
    check_cpu(map_location, "chainrule.load(map_location=...)")
    if pickle_module is not None:
        raise TypeError("chainrule.load does not support pickle_module: it never unpickles")
    if mmap:
        raise TypeError("chainrule.load does not support mmap=True: arrays are read into memory")
    if weights_only is not None and not isinstance(weights_only, bool):
        raise TypeError(f"weights_only must be a bool or None; got {weights_only!r}")


# ----- which format ------------------------------------------------------------------------------
_SUFFIXES = {".npz": "npz", ".safetensors": "safetensors"}


def _choose_format(path: Path, fmt: str | None) -> str:
    """The format the name says; ``format=`` may repeat it but never contradict it.

    Why the name decides: other tools (``numpy.load``, safetensors, a file manager) recognise
    these files by their suffix, so an npz written under another name would mislead them.
    """
    if fmt is not None and fmt not in _SUFFIXES.values():
        raise ValueError(f"format must be 'npz' or 'safetensors'; got {fmt!r}")
    named = _SUFFIXES.get(path.suffix.lower())
    if named is None:
        raise ValueError(
            f"cannot save to {path}: the name must end in .npz or .safetensors (the suffix "
            f"chooses the format), not {path.suffix or 'no suffix'!r}"
        )
    if fmt is not None and fmt != named:
        raise ValueError(
            f"cannot save to {path} with format={fmt!r}: its suffix {path.suffix!r} says "
            f"{named!r}; name the file .npz or .safetensors to match the format"
        )
    return named


def _sniff(path: Path, f: BinaryIO, size: int) -> str:
    """'npz' or 'safetensors', from the content (not the name); otherwise a precise error."""
    head = f.read(16)
    if not head:
        raise ChainruleFormatError(f"{path} is empty (0 bytes): not a chainrule file")
    if head[:4] in _ZIP_MAGICS:
        return "npz"
    if len(head) >= 9 and head[8:9] == b"{":
        return "safetensors"
    if head[:1] == b"\x80" or head[:1] in (b"(", b"]", b"}") and _tail(f, size).endswith(b"."):
        raise ChainruleFormatError(
            f"{path} is a Python pickle, not a chainrule file; chainrule never unpickles "
            "(unpickling runs arbitrary code). Save with chainrule.save instead, or "
            f"{TORCH_EXPORT_HINT}"
        )
    if head[:6] == b"\x93NUMPY":
        raise ChainruleFormatError(
            f"{path} is a single .npy array (numpy.save), not a chainrule file; read it with "
            "numpy.load(path, allow_pickle=False)"
        )
    raise ChainruleFormatError(
        f"{path} is not a chainrule file: it is neither a zip (.npz) nor a safetensors file "
        f"(it starts with {head[:8]!r})"
    )


_TORCH_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")


def _refuse_torch_suffix(path: Path) -> None:
    """Refuse a name PyTorch gives its pickles, even over npz or safetensors content.

    Why: such a name says ``torch.save`` wrote it, and a loader that sometimes accepts these
    names teaches users to rename pickles until one gets through.
    """
    if path.suffix.lower() in _TORCH_SUFFIXES:
        raise ChainruleFormatError(
            f"{path} is named as a PyTorch pickle ({path.suffix}), which chainrule never "
            f"reads; {TORCH_EXPORT_HINT}"
        )


def _tail(f: BinaryIO, size: int) -> bytes:
    """The file's last bytes, trailing whitespace removed (a protocol-0 pickle ends in '.')."""
    f.seek(max(0, size - 4096))
    return f.read(4096).rstrip()
