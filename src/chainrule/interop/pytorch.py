"""PyTorch weights in and out, without PyTorch: state dicts as ``.npz`` or ``.safetensors`` files.

chainrule's layers keep PyTorch's parameter names and layouts, so a PyTorch state dict loads
into the equivalent chainrule model as it is. On the PyTorch side::

    state = {k: v.detach().cpu().numpy() for k, v in torch_model.state_dict().items()}
    numpy.savez("weights.npz", **state)
    # or: safetensors.torch.save_file(torch_model.state_dict(), "weights.safetensors")

and in chainrule::

    chainrule.interop.load_torch_weights(model, "weights.npz")
    chainrule.interop.save_torch_weights(model, "finetuned.npz")

Back in PyTorch: ``torch_model.load_state_dict({k: torch.from_numpy(v) for k, v in
numpy.load("finetuned.npz").items()})``. ``.npz`` files are read with ``allow_pickle=False``:
loading weights never runs code from the file.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.io import atomic
from chainrule.nn.module import IncompatibleKeys, Module

_SAFETENSORS_HINT = (
    ".safetensors files need the safetensors package: "
    'pip install "chainrule[safetensors]" (or pip install safetensors)'
)


def _format(path: Path, format: str | None) -> str:
    fmt = format or path.suffix.lstrip(".").lower()
    if fmt not in ("npz", "safetensors"):
        raise ValueError(
            f"unknown weights format {fmt!r} for {str(path)!r}: use a .npz or .safetensors "
            "file, or pass format='npz' or 'safetensors'"
        )
    return fmt


def _safetensors_numpy() -> Any:
    try:
        import safetensors.numpy
    except ImportError as exc:
        raise ImportError(_SAFETENSORS_HINT) from exc
    return safetensors.numpy


def read_state_dict(
    path: str | os.PathLike[str], format: str | None = None
) -> dict[str, np.ndarray]:
    """Read a state dict (names like ``'0.weight'`` → arrays) from a ``.npz`` or ``.safetensors``.

    Parameters
    ----------
    path : str or PathLike
        The file.
    format : {'npz', 'safetensors'}, optional
        Taken from the file's suffix when omitted.

    Returns
    -------
    dict of str to ndarray
        The arrays in the file, in its order, with their stored shapes and dtypes.
    """
    path = Path(path)
    if _format(path, format) == "safetensors":
        return dict(_safetensors_numpy().load_file(str(path)))
    with np.load(path, allow_pickle=False) as archive:
        if not hasattr(archive, "files"):  # np.load on a .npy gives one bare array
            raise ValueError(f"{str(path)!r} holds one array, not a state dict (.npz archive)")
        return {name: archive[name] for name in archive.files}


def load_torch_weights(
    model: Module,
    source: str | os.PathLike[str] | Mapping[str, Any],
    strict: bool = True,
    format: str | None = None,
) -> IncompatibleKeys:
    """Copy a PyTorch state dict into ``model``, checking every name, shape and dtype first.

    Parameters
    ----------
    model : Module
        The chainrule model equivalent to the PyTorch one: same layers in the same order (so
        the same names, e.g. ``Sequential`` children ``0``, ``1``, ...), in the saved dtype.
    source : path or mapping of str to ndarray
        A ``.npz`` or ``.safetensors`` file, or an already-read state dict.
    strict : bool
        Require exactly the model's names, as :meth:`Module.load_state_dict`.
    format : {'npz', 'safetensors'}, optional
        For a path whose suffix is neither.

    Returns
    -------
    IncompatibleKeys
        Missing and unexpected names (both empty after a strict load).

    Raises
    ------
    RuntimeError
        Listing every missing, unexpected or mismatched entry; the model is then unchanged.
    """
    state = source if isinstance(source, Mapping) else read_state_dict(source, format)
    return model.load_state_dict(state, strict=strict)


def save_torch_weights(
    model: Module, path: str | os.PathLike[str], format: str | None = None
) -> Path:
    """Write ``model.state_dict()`` with PyTorch's names to a ``.npz`` or ``.safetensors`` file.

    The file is written through a temporary file in the same folder and renamed, so it is never
    half-written. Returns ``path``.
    """
    path = Path(path)
    fmt = _format(path, format)
    state = {name: np.ascontiguousarray(value) for name, value in model.state_dict().items()}
    if fmt == "safetensors":
        data = _safetensors_numpy().save(state)
    else:
        buffer = io.BytesIO()
        np.savez(buffer, **state)
        data = buffer.getvalue()
    atomic.write_bytes(path, data)
    return path
