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
    The arrays under the same names, and the JSON tree in the header's ``__metadata__``. A
    safetensors file written elsewhere (no chainrule metadata) loads as a flat state dict.

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
from typing import Any, BinaryIO

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
        A path that is not a regular file (a device, a named pipe, a directory) is refused
        before anything is read.
    FileNotFoundError, PermissionError
        As for ``open``.
    """
    path = Path(path)
    with atomic.open_regular(path, ChainruleFormatError) as f:
        size = os.fstat(f.fileno()).st_size
        reader = _read_npz if _sniff(path, f, size) == "npz" else _read_safetensors
        f.seek(0)
        tree, arrays = reader(path, f, size)
    return _decode_checked(path, tree, arrays)


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
        return _encode_array(obj.data if isinstance(obj, Tensor) else obj, where, arrays)
    if isinstance(obj, tuple):
        return {"$tuple": [_encode(v, (*where, str(i)), arrays) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, (*where, str(i)), arrays) for i, v in enumerate(obj)]
    if isinstance(obj, Mapping):
        return _encode_mapping(obj, where, arrays)
    raise TypeError(
        f"cannot save a {type(obj).__name__} at {_where(where)}: chainrule saves ndarrays, "
        "numbers, strings, None and lists, tuples and dicts of them (never pickle)"
    )


def _encode_array(array: np.ndarray, where: tuple[str, ...], arrays: dict[str, np.ndarray]) -> Any:
    if array.dtype.kind not in "biufc":
        raise TypeError(
            f"cannot save the array at {_where(where)}: dtype {array.dtype} is not numeric or "
            "bool (object arrays would need pickle, which chainrule never uses)"
        )
    return {"$array": _add_array(array, where, arrays)}


def _encode_mapping(
    obj: Mapping[Any, Any], where: tuple[str, ...], arrays: dict[str, np.ndarray]
) -> Any:
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


def _npz_bytes(arrays: dict[str, np.ndarray], meta_json: str) -> bytes:
    # Written with zipfile directly: np.savez's keyword names would clash with keys like 'file'.
    # ZIP_STORED always: load refuses compressed entries (they could inflate to any size).
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
            f"writing .safetensors files needs the safetensors package: {_INSTALL_HINT}"
        ) from err
    return safetensors.numpy


def _safetensors_bytes(arrays: dict[str, np.ndarray], meta_json: str) -> bytes:
    st = _import_safetensors()
    try:
        return st.save(arrays, metadata={META_KEY: meta_json})
    except Exception as err:  # SafetensorError, or an unsupported dtype such as complex
        raise TypeError(f"cannot write these arrays as safetensors: {err}") from err


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
            "(unpickling runs arbitrary code). Save with chainrule.save instead."
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


def _tail(f: BinaryIO, size: int) -> bytes:
    """The file's last bytes, trailing whitespace removed (a protocol-0 pickle ends in '.')."""
    f.seek(max(0, size - 4096))
    return f.read(4096).rstrip()


def _read_exactly(path: Path, f: BinaryIO, buffer: memoryview, what: str) -> None:
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


def _fingerprint(array: np.ndarray) -> list[Any]:
    # The CRC guards the safetensors format, which has no checksum of its own (zip has one).
    return [array.dtype.str, list(array.shape), _crc(array)]


# Reading moves data in steps of this size: large enough to be fast, small beside any array.
_STEP = 1 << 22


# ----- reading .npz ------------------------------------------------------------------------------
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


def _read_npz(path: Path, f: BinaryIO, size: int) -> tuple[Any, dict[str, np.ndarray]]:
    """The tree and arrays of a chainrule ``.npz``, each entry checked before its data is read.

    Order matters for safety: the zip directory (sizes, compression) is checked first, then
    the metadata, then each entry's npy header against both, and only then is data read,
    straight into an array of the announced size. Nothing unlisted is ever read.
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
            what = _what_zip(members)
            raise ChainruleFormatError(f"{path} is not a chainrule file: it is {what}")
        raw = _read_member(path, zf, members[META_KEY], META_KEY, ["|u1", None])
        meta = _parse_meta(path, raw.tobytes())
        _check_names(path, meta["arrays"], [k for k in members if k != META_KEY])
        arrays = {
            key: _read_member(path, zf, members[key], key, spec)
            for key, spec in meta["arrays"].items()
        }
    _check_arrays(path, meta, arrays)
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


def _what_zip(members: Mapping[str, zipfile.ZipInfo]) -> str:
    """What a zip without chainrule metadata is, for the error message."""
    pickles = [i.filename for i in members.values() if i.filename.endswith((".pkl", ".pickle"))]
    if pickles:
        return (
            f"a zip holding pickled data ({', '.join(pickles)}), e.g. a torch.save file; "
            "chainrule never unpickles"
        )
    names = list(members)
    return (
        f"an .npz without chainrule's {META_KEY!r} entry (arrays: "
        f"{', '.join(names[:8]) or 'none'}{', …' if len(names) > 8 else ''}); read it "
        "with numpy.load(path, allow_pickle=False)"
    )


def _check_names(path: Path, listed: Mapping[str, Any], present: list[str]) -> None:
    """The entries are exactly those the metadata lists (checked before reading any)."""
    problems = [f"missing entry {k!r}" for k in listed if k not in present]
    problems += [f"unexpected entry {k!r}" for k in present if k not in listed]
    if problems:
        raise ChainruleFormatError(
            f"{path} is corrupted: its arrays do not match its metadata: " + "; ".join(problems)
        )


def _read_member(
    path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, spec: Any
) -> np.ndarray:
    """One entry's array; ``spec`` is its ``[dtype, shape, crc]`` from the metadata (``None``
    in place of a shape accepts any 1-D shape). Data is read only once the header, the
    metadata and the zip directory agree on its size, and then into a preallocated buffer."""
    _check_stored(path, key, info)
    try:
        with zf.open(info) as entry:
            dtype, shape, fortran = _npy_header(path, key, entry)
            _check_spec(path, key, dtype, shape, spec)
            nbytes = math.prod(shape) * dtype.itemsize
            if entry.tell() + nbytes != info.file_size:
                raise ChainruleFormatError(
                    f"{path} is corrupted: entry {key!r} announces {shape} {dtype.str} "
                    f"({nbytes} bytes of data) but the zip directory gives it "
                    f"{info.file_size - entry.tell()}"
                )
            raw = np.empty(nbytes, np.uint8)
            _read_exactly(path, entry, memoryview(raw), f"entry {key!r}")
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
            "not bounded by the file's: save the data again with chainrule.save"
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


def _check_spec(path: Path, key: str, dtype: np.dtype, shape: tuple[int, ...], spec: Any) -> None:
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
    """Every entry the metadata lists is there, with its dtype, shape and CRC, and nothing else."""
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


# ----- reading .safetensors ----------------------------------------------------------------------
# The format's own limit on its JSON header (the safetensors library refuses larger ones too).
_MAX_SAFETENSORS_HEADER = 100_000_000
# safetensors dtype names → NumPy (little-endian, as the format stores them). BF16 and the FP8
# types have no NumPy dtype, so a file holding them cannot be read as NumPy arrays.
_SAFETENSORS_DTYPES = {
    "BOOL": "|b1", "U8": "|u1", "I8": "|i1", "U16": "<u2", "I16": "<i2", "F16": "<f2",
    "U32": "<u4", "I32": "<i4", "F32": "<f4", "U64": "<u8", "I64": "<i8", "F64": "<f8",
}  # fmt: skip


def _read_safetensors(path: Path, f: BinaryIO, size: int) -> tuple[Any, dict[str, np.ndarray]]:
    """The tree and arrays of a ``.safetensors`` file, read without the safetensors package.

    The header is bounded (at most 100 MB and at most the file), every tensor's offsets must
    lie inside the file, match its dtype and shape and not overlap another's, so no tensor can
    claim more memory than the file's size; each is then read into a preallocated array.
    """
    header, data_start = _safetensors_header(path, f, size)
    metadata = header.pop("__metadata__", None)
    meta_json = metadata.get(META_KEY) if isinstance(metadata, dict) else None
    entries = _safetensors_entries(path, header, size - data_start)
    meta = None if meta_json is None else _parse_meta(path, meta_json)
    if meta is not None:
        _check_names(path, meta["arrays"], list(entries))
    arrays = {}
    for key, (dtype, shape, begin, end) in entries.items():
        if meta is not None:
            _check_spec(path, key, dtype, shape, meta["arrays"][key])
        raw = np.empty(end - begin, np.uint8)
        f.seek(data_start + begin)
        _read_exactly(path, f, memoryview(raw), f"tensor {key!r}")
        arrays[key] = raw.view(dtype).reshape(shape)
    if meta is None:  # written by another tool: a flat state dict
        return {k: {"$array": k} for k in sorted(arrays)}, arrays
    _check_arrays(path, meta, arrays)
    return meta["tree"], arrays


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
        dtype = np.dtype(_SAFETENSORS_DTYPES[spec["dtype"]])
        shape = tuple(spec["shape"])
        begin, end = spec["data_offsets"]
        ints = [*shape, begin, end]
        if not all(type(n) is int and n >= 0 for n in ints):  # bool is not a size
            raise ValueError("shape and offsets must be non-negative integers")
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
