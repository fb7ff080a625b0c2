"""All parameters as one vector and back, as ``torch.nn.utils.convert_parameters``."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from chainrule import functional as F
from chainrule._tensor import Tensor
from chainrule.autograd import inplace

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Every parameter flattened and concatenated, in order.

    Parameters
    ----------
    parameters : iterable of Tensor
        E.g. ``model.parameters()``; shapes ``s₁, s₂, …``.

    Returns
    -------
    Tensor of shape ``(Σ numel(sᵢ),)``
        A new tensor, differentiable with respect to the parameters (as PyTorch's view and
        ``cat``).
    """
    if isinstance(parameters, Tensor):
        raise TypeError(
            "parameters_to_vector expects an iterable of Tensors (e.g. model.parameters()); "
            "got a single Tensor"
        )
    flat = [F.reshape(p, (-1,)) for p in parameters]
    if not flat:
        raise RuntimeError("parameters_to_vector: expected a non-empty list of Tensors")
    return F.cat(flat)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into each parameter's values, in order.

    Parameters
    ----------
    vec : Tensor of shape ``(Σ numel(sᵢ),)``
        As :func:`parameters_to_vector` gives.
    parameters : iterable of Tensor
        Filled in place, keeping their dtype (an optimizer holding them sees the new values).
        Nothing is recorded in the graph.

    Raises
    ------
    TypeError
        If ``vec`` is not a Tensor (PyTorch's message).
    ValueError
        If ``vec`` is not 1-D or its length is not the parameters' total size; nothing is
        written then.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(
            f"vector_to_parameters: vec must be 1-D with {total} elements (the parameters' "
            f"total size); got shape {vec.shape}"
        )
    start = 0
    for p in params:
        n = p.numel()
        np.copyto(p._data, vec._data[start : start + n].reshape(p.shape), casting="same_kind")
        inplace.bump(p)  # an in-place write, counted as PyTorch counts one
        start += n
