"""``save`` and ``load``: state dicts and whole checkpoints on disk, with no pickle anywhere.

What can be saved is a tree of plain data: ndarrays (any numeric or bool dtype, any shape),
NumPy scalars, ``None``, bools, ints, floats (NaN and ±inf included), strings, and lists,
tuples and dicts of these (dict keys may be strings, ints, floats, bools, None or tuples). A
model's ``state_dict()`` (name → ndarray), an optimizer's or scheduler's ``state_dict()``, a
generator's ``bit_generator.state`` and ``History.to_dict()`` all are. Tensors are saved as their
arrays and load back as ndarrays.

Formats
-------
``.npz`` (the default, for any suffix but ``.safetensors``)
    A zip of ``.npy`` entries, one per array, plus ``__chainrule__``: a uint8 array holding UTF-8
    JSON with the format marker, the version, the tree (arrays replaced by references to their
    entry) and every entry's dtype, shape and CRC-32. Entries are named by their place in the tree
    (``'0.weight'``, ``'optimizer/state/0/exp_avg'``), so ``numpy.load(path)`` reads them too.
    Files are read with ``numpy.load(..., allow_pickle=False)``: an object array, or a pickle
    dressed as ``.npz``, is refused, never unpickled.
``.safetensors`` (needs ``pip install "chainrule[safetensors]"``)
    The arrays under the same names, and the JSON tree in the header's ``__metadata__``. A
    safetensors file written elsewhere (no chainrule metadata) loads as a flat state dict.

Writes are atomic: the file is written to a temporary file in the same directory, flushed,
``fsync``-ed and renamed over ``path``, so a crash, a full disk or a kill at any moment leaves
either the old file or the new one, never half of one. A process killed by SIGKILL mid-write
may leave a ``.<name>.*.tmp`` file behind (nothing can clean up after SIGKILL); it is never
read and can be deleted.

A NaN weight: :func:`load` returns arrays exactly as stored (NaN included: a checkpoint's
history may hold NaN legitimately); :func:`load_into` refuses non-finite values in a model's
weights unless ``allow_nonfinite=True``, since a model silently loaded with NaN predicts NaN.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.io import atomic

FORMAT_NAME = "chainrule"
FORMAT_VERSION = 1
META_KEY = "__chainrule__"
_INSTALL_HINT = 'pip install "chainrule[safetensors]"'
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")

PathLike = str | os.PathLike


class ChainruleFormatError(ValueError):
    """A file cannot be loaded: it is truncated, corrupted, not a chainrule file, or holds
    something chainrule refuses to read (a pickle). The message names the file and the fault."""


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
        By default ``'safetensors'`` for a ``.safetensors`` suffix and ``'npz'`` otherwise.

    Raises
    ------
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
    tree = _encode(obj, (), arrays)
    meta = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "tree": tree,
        "arrays": {key: _fingerprint(a) for key, a in arrays.items()},
    }
    # allow_nan=False: non-finite floats were tagged by _encode, so the JSON stays strict.
    meta_json = json.dumps(meta, allow_nan=False, separators=(",", ":"))
    data = _npz_bytes(arrays, meta_json) if fmt == "npz" else _safetensors_bytes(arrays, meta_json)
    atomic.write_bytes(path, data)


def load(path: PathLike) -> Any:
    """Read a file written by :func:`save` (or a plain ``.safetensors`` file) and return the tree.

    Arrays come back as ndarrays with their saved dtype and shape; tuples, int dict keys, NaN
    and ±inf come back as they were saved.

    Raises
    ------
    ChainruleFormatError
        The file is empty, truncated or corrupted, is a pickle or holds pickled data, or is not
        a chainrule file (e.g. an ``.npz`` from ``numpy.savez``); the message says which.
    FileNotFoundError, PermissionError
        As for ``open``.
    """
    path = Path(path)
    with open(path, "rb") as f:
        data = f.read()
    reader = _read_npz if _sniff(path, data) == "npz" else _read_safetensors
    return _decode_checked(path, *reader(path, data))


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
    if not isinstance(state, Mapping) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise ChainruleFormatError(f"{path} does not hold a state dict (names → arrays)")
    if not allow_nonfinite:
        bad = nonfinite_entries(state)
        if bad:
            raise ValueError(
                f"{path} holds non-finite weights: {', '.join(bad)}; refusing to load them "
                "(pass allow_nonfinite=True to load anyway)"
            )
    return model.load_state_dict(state, strict=strict)


def nonfinite_entries(state: Mapping[str, np.ndarray]) -> list[str]:
    """``"'name' (k NaN, m inf)"`` for every floating array of ``state`` with NaN or inf."""
    found = []
    for name, a in state.items():
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            nan, inf = int(np.isnan(a).sum()), int(np.isinf(a).sum())
            found.append(f"{name!r} ({nan} NaN, {inf} inf of {a.size})")
    return found


# ----- the tree <-> JSON + arrays ----------------------------------------------------------------
def _encode(obj: Any, where: tuple[str, ...], arrays: dict[str, np.ndarray]) -> Any:
    """``obj`` as JSON-able data; arrays move into ``arrays`` and leave a reference.

    Tags (one-key dicts whose key starts with ``$``) mark what JSON cannot say itself; a user
    dict whose keys could be mistaken for a tag is stored in the ``$dict`` pair-list form.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (np.number, np.bool_)):
        return {"$scalar": _add_array(np.asarray(obj), where, arrays)}
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"$float": repr(obj)}
    if isinstance(obj, (np.ndarray, Tensor)):
        array = obj.data if isinstance(obj, Tensor) else obj
        if array.dtype.kind not in "biufc":
            raise TypeError(
                f"cannot save the array at {_where(where)}: dtype {array.dtype} is not numeric or "
                "bool (object arrays would need pickle, which chainrule never uses)"
            )
        return {"$array": _add_array(array, where, arrays)}
    if isinstance(obj, tuple):
        return {"$tuple": [_encode(v, (*where, str(i)), arrays) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, (*where, str(i)), arrays) for i, v in enumerate(obj)]
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) and not k.startswith("$") for k in obj):
            return {k: _encode(v, (*where, k), arrays) for k, v in obj.items()}
        pairs = []
        for k, v in obj.items():
            if not (k is None or isinstance(k, (str, int, float, tuple))):
                raise TypeError(
                    f"cannot save the dict at {_where(where)}: key {k!r} is a "
                    f"{type(k).__name__}; keys must be str, int, float, bool, None or tuple"
                )
            key_arrays: dict[str, np.ndarray] = {}
            key = _encode(k, where, key_arrays)
            if key_arrays:
                raise TypeError(f"cannot save the dict at {_where(where)}: key {k!r} holds arrays")
            pairs.append([key, _encode(v, (*where, str(k)), arrays)])
        return {"$dict": pairs}
    raise TypeError(
        f"cannot save a {type(obj).__name__} at {_where(where)}: chainrule saves ndarrays, "
        "numbers, strings, None and lists, tuples and dicts of them (never pickle)"
    )


def _add_array(array: np.ndarray, where: tuple[str, ...], arrays: dict[str, np.ndarray]) -> str:
    # Names from the tree keep a state dict's entries readable by numpy.load / other tools.
    base = "/".join(where) or "value"
    key, n = base, 1
    while key in arrays or key == META_KEY:
        key, n = f"{base}~{n}", n + 1
    # Not np.ascontiguousarray: it turns a 0-d array into a 1-d one.
    arrays[key] = array if array.flags.c_contiguous else np.array(array, order="C")
    return key


def _where(where: tuple[str, ...]) -> str:
    return "the top level" if not where else "'" + "/".join(where) + "'"


def _decode_checked(path: Path, tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    try:
        return _decode(tree, arrays)
    except (KeyError, TypeError, ValueError, IndexError, RecursionError) as err:
        raise ChainruleFormatError(f"{path}: the chainrule metadata is damaged ({err})") from None


def _decode(node: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((tag, value),) = node.items()
        if tag == "$array":
            return arrays[value]
        if tag == "$scalar":
            return arrays[value][()]
        if tag == "$float":
            if value not in ("nan", "inf", "-inf"):
                raise ValueError(f"unknown float {value!r}")
            return float(value)
        if tag == "$tuple":
            return tuple(_decode(v, arrays) for v in value)
        if tag == "$dict":
            # A list key (unhashable) can only come from a damaged file: TypeError, reported.
            return {_decode(k, arrays): _decode(v, arrays) for k, v in value}
    if any(k.startswith("$") for k in node):
        raise ValueError(f"unknown tag in {sorted(node)}")
    return {k: _decode(v, arrays) for k, v in node.items()}


# ----- formats -----------------------------------------------------------------------------------
def _choose_format(path: Path, fmt: str | None) -> str:
    if fmt is None:
        fmt = "safetensors" if path.suffix.lower() == ".safetensors" else "npz"
    if fmt not in ("npz", "safetensors"):
        raise ValueError(f"format must be 'npz' or 'safetensors'; got {fmt!r}")
    return fmt


def _npz_bytes(arrays: dict[str, np.ndarray], meta_json: str) -> bytes:
    # Written with zipfile directly: np.savez's keyword names would clash with keys like 'file'.
    buf = io.BytesIO()
    meta = np.frombuffer(meta_json.encode("utf-8"), dtype=np.uint8)
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, array in {META_KEY: meta, **arrays}.items():
            with zf.open(key + ".npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, array, allow_pickle=False)
    return buf.getvalue()


def _import_safetensors() -> Any:
    try:
        import safetensors.numpy
    except ImportError as err:
        raise ImportError(
            f"reading and writing .safetensors files needs the safetensors package: {_INSTALL_HINT}"
        ) from err
    return safetensors.numpy


def _safetensors_bytes(arrays: dict[str, np.ndarray], meta_json: str) -> bytes:
    st = _import_safetensors()
    try:
        return st.save(arrays, metadata={META_KEY: meta_json})
    except Exception as err:  # SafetensorError, or an unsupported dtype such as complex
        raise TypeError(f"cannot write these arrays as safetensors: {err}") from err


def _sniff(path: Path, data: bytes) -> str:
    """'npz' or 'safetensors', from the content (not the name); otherwise a precise error."""
    if not data:
        raise ChainruleFormatError(f"{path} is empty (0 bytes): not a chainrule file")
    if data[:4] in _ZIP_MAGICS:
        return "npz"
    if len(data) >= 9 and data[8:9] == b"{":
        return "safetensors"
    if data[:1] == b"\x80" or data[:1] in (b"(", b"]", b"}") and data.rstrip().endswith(b"."):
        raise ChainruleFormatError(
            f"{path} is a Python pickle, not a chainrule file; chainrule never unpickles "
            "(unpickling runs arbitrary code). Save with chainrule.save instead."
        )
    if data[:6] == b"\x93NUMPY":
        raise ChainruleFormatError(
            f"{path} is a single .npy array (numpy.save), not a chainrule file; read it with "
            "numpy.load(path, allow_pickle=False)"
        )
    raise ChainruleFormatError(
        f"{path} is not a chainrule file: it is neither a zip (.npz) nor a safetensors file "
        f"(it starts with {data[:8]!r})"
    )


# What zipfile and numpy.load raise on a damaged archive (OSError is left alone: a disk fault).
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, KeyError)
_NPZ_ERRORS = (*_ZIP_ERRORS, ValueError, NotImplementedError, OverflowError)


def _read_npz(path: Path, data: bytes) -> tuple[Any, dict[str, np.ndarray]]:
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
    except _NPZ_ERRORS as err:
        raise ChainruleFormatError(
            f"{path} is truncated or corrupted: not a complete zip archive ({err})"
        ) from None
    with npz:
        names = list(npz.files)
        if META_KEY not in names:
            pickles = [n for n in npz.zip.namelist() if n.endswith((".pkl", ".pickle"))]
            what = (
                f"a zip holding pickled data ({', '.join(pickles)}), e.g. a torch.save file; "
                "chainrule never unpickles"
                if pickles
                else f"an .npz without chainrule's {META_KEY!r} entry (arrays: "
                f"{', '.join(names[:8]) or 'none'}{', …' if len(names) > 8 else ''}); read it "
                "with numpy.load(path, allow_pickle=False)"
            )
            raise ChainruleFormatError(f"{path} is not a chainrule file: it is {what}")
        raw = _read_entry(path, npz, META_KEY)
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise ChainruleFormatError(f"{path}: the {META_KEY!r} entry is not a uint8 array")
        meta = _parse_meta(path, raw.tobytes())
        arrays = {key: _read_entry(path, npz, key) for key in names if key != META_KEY}
    _check_arrays(path, meta, arrays)
    return meta["tree"], arrays


def _read_entry(path: Path, npz: Any, key: str) -> np.ndarray:
    try:
        return npz[key]
    except ValueError as err:
        if "pickle" in str(err).lower():
            raise ChainruleFormatError(
                f"{path}: entry {key!r} holds pickled data (an object array); chainrule never "
                "unpickles"
            ) from None
        raise ChainruleFormatError(f"{path}: entry {key!r} is corrupted ({err})") from None
    except _NPZ_ERRORS as err:
        raise ChainruleFormatError(
            f"{path} is truncated or corrupted: entry {key!r} cannot be read ({err})"
        ) from None


def _parse_meta(path: Path, text: bytes | str) -> dict[str, Any]:
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


def _check_arrays(path: Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Every entry the metadata lists is there, with its dtype and shape, and nothing else."""
    listed = meta["arrays"]
    problems = [f"missing entry {k!r}" for k in listed if k not in arrays]
    problems += [f"unexpected entry {k!r}" for k in arrays if k not in listed]
    for key, spec in listed.items():
        a = arrays.get(key)
        if a is None:
            continue
        found = _fingerprint(a)
        if found[:2] != spec[:2]:
            problems.append(f"entry {key!r} is {a.dtype.str} {a.shape}, expected {spec[:2]}")
        elif found != spec:
            problems.append(f"entry {key!r} fails its checksum (its bytes changed)")
    if problems:
        raise ChainruleFormatError(
            f"{path} is corrupted: its arrays do not match its metadata: " + "; ".join(problems)
        )


def _fingerprint(array: np.ndarray) -> list[Any]:
    # The CRC guards the safetensors format, which has no checksum of its own (zip has one).
    return [array.dtype.str, list(array.shape), zlib.crc32(array.tobytes())]


def _read_safetensors(path: Path, data: bytes) -> tuple[Any, dict[str, np.ndarray]]:
    size = int.from_bytes(data[:8], "little")
    if 8 + size > len(data):
        raise ChainruleFormatError(
            f"{path} is truncated: its safetensors header claims {size} bytes but the file has "
            f"{len(data)}"
        )
    try:
        header = json.loads(data[8 : 8 + size].decode("utf-8"))
        metadata = header.get("__metadata__") or {}
        meta_json = metadata.get(META_KEY) if isinstance(metadata, dict) else None
    except (ValueError, UnicodeDecodeError, AttributeError, RecursionError) as err:
        raise ChainruleFormatError(f"{path}: the safetensors header is corrupted ({err})") from None
    st = _import_safetensors()
    try:
        arrays = dict(st.load(data))
    except Exception as err:  # SafetensorError: the library's one error type
        raise ChainruleFormatError(
            f"{path} is truncated or corrupted: safetensors cannot read it ({err})"
        ) from None
    if meta_json is None:  # written by another tool: a flat state dict
        return {k: {"$array": k} for k in sorted(arrays)}, arrays
    meta = _parse_meta(path, meta_json)
    _check_arrays(path, meta, arrays)
    return meta["tree"], arrays
