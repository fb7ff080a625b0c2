"""Table look-up as functions: ``embedding`` (rows of a weight matrix picked by index) and
``embedding_bag`` (those rows summed, averaged or maxed per bag, composed from ``embedding``).

The backward scatters the output gradient back into the rows it came from. Repeated indices
must accumulate, so a plain ``grad_w[idx] += g`` is wrong; ``np.add.at`` is right but slow.
Measured on (12·64) indices into a (65, 128) table, the backward took 4.0 ms with
``np.add.at``, 1.5 ms with one ``np.bincount`` per column, 0.6 ms sorting the indices and
summing runs with ``np.add.reduceat``; on (32·3) indices into (27, 10), 35 µs with
``np.add.at`` and 7 µs as a one-hot matrix product. So: the one-hot product while the one-hot
matrix is small (:data:`ONE_HOT_LIMIT`), sorted runs beyond. A recorded backward
(``create_graph=True``) runs on tensors, and ``np.add.reduceat`` has no recorded form: there the
sum beyond the limit is ``index_add``, whose own backward is the gather of the rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule._tensor import Tensor, as_tensor
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import no_grad
from chainrule.ops.arithmetic import div, matmul, mul
from chainrule.ops.reduction import max as max_
from chainrule.ops.selection import index_add
from chainrule.ops.shape import stack, unsqueeze

#: Above this many entries in the (num_embeddings, n_indices) one-hot matrix, the backward
#: sums sorted runs of indices instead of multiplying by it.
ONE_HOT_LIMIT = 1 << 14


def scatter_rows(
    indices: np.ndarray, grad: np.ndarray | Tensor, num_rows: int
) -> np.ndarray | Tensor:
    """``out[i] = Σ grad[k]`` over every k with ``indices[k] == i``; shape ``(num_rows, D)``.

    ``indices`` is 1-D of length n, ``grad`` ``(n, D)`` (an array, or a tensor when the
    backward is recorded).
    """
    n = indices.size
    if num_rows * n <= ONE_HOT_LIMIT:
        one_hot = np.zeros((num_rows, n), dtype=grad.dtype)
        one_hot[indices, np.arange(n)] = 1
        return one_hot @ grad
    if isinstance(grad, Tensor):
        # The recorded pass of a double backward: the same sums, as an op with a backward of
        # its own (np.add.reduceat, below, has none and would drop the graph).
        return index_add(
            as_tensor(np.zeros((num_rows, grad.shape[1]), grad.dtype)), 0, indices, grad
        )
    out = np.zeros((num_rows, grad.shape[1]), dtype=grad.dtype)
    order = np.argsort(indices, kind="stable")
    ordered = indices[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    out[ordered[starts]] = np.add.reduceat(grad[order], starts, axis=0)
    return out


class Embedding(Function):
    """dy/dW: dW[i] = Σ_{k: idx_k = i} g_k for y = W[idx] (÷ count(i) if scaled; 0 at padding)."""

    def forward(self, weight, indices, padding_idx, scale_grad_by_freq):
        self.indices, self.rows = indices, weight.shape[0]
        self.padding_idx, self.scale = padding_idx, scale_grad_by_freq
        return weight[indices]

    def backward(self, grad):
        flat = self.indices.reshape(-1)
        g = grad.reshape(flat.size, -1)
        if self.scale:
            counts = np.bincount(flat, minlength=self.rows)
            g = g / counts[flat, None].astype(g.dtype)
        out = scatter_rows(flat, g, self.rows)
        if self.padding_idx is not None:
            out[self.padding_idx] = 0
        return (out,)


def check_indices(op: str, indices: np.ndarray, num_rows: int) -> np.ndarray:
    """``indices`` as an int64 array, refused unless integer and within ``[-0, num_rows)``."""
    if not np.issubdtype(indices.dtype, np.integer) or indices.dtype == np.bool_:
        raise RuntimeError(
            f"Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {indices.dtype} instead (while checking arguments for "
            f"{op})"
        )
    if indices.size and (indices.min() < 0 or indices.max() >= num_rows):
        bad = indices[(indices < 0) | (indices >= num_rows)].reshape(-1)[0]
        raise IndexError(
            f"{op}: index {int(bad)} is out of range for a table of {num_rows} rows "
            f"(valid indices are 0 to {num_rows - 1})"
        )
    return indices.astype(np.int64, copy=False)


def resolve_padding_idx(padding_idx: int | None, num_rows: int) -> int | None:
    """``padding_idx`` made non-negative; PyTorch's assertion message when out of range."""
    if padding_idx is None:
        return None
    if padding_idx > 0 and padding_idx >= num_rows:
        raise AssertionError("Padding_idx must be within num_embeddings")
    if padding_idx < 0 and padding_idx < -num_rows:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return int(padding_idx) + num_rows if padding_idx < 0 else int(padding_idx)


def renorm_rows(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale the rows of ``weight`` that ``indices`` pick to norm ≤ ``max_norm``, in place.

    As PyTorch: rows with norm above max_norm get ``max_norm / (norm + 1e-7)``; not recorded.
    """
    with no_grad():
        data = weight._data
        rows = np.unique(indices)
        norms = np.linalg.norm(data[rows], ord=norm_type, axis=1)
        over = norms > max_norm
        scale = (max_norm / (norms[over] + 1e-7)).astype(data.dtype)
        data[rows[over]] *= scale[:, None]


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of ``weight`` picked by the integer ``input``.

    Shapes: ``input`` ``(*)`` integer, ``weight`` ``(num_embeddings, embedding_dim)`` → output
    ``(*, embedding_dim)``. The ``padding_idx`` row gets no gradient; ``max_norm`` renormalizes
    the looked-up rows of ``weight`` in place first; ``scale_grad_by_freq`` divides each row's
    gradient by how often its index occurs in ``input``. That division is a convention, so a
    second derivative through it is one too: chainrule divides at each pass through the look-up
    (the weight-weight term by the count squared), PyTorch's double backward by the count once.
    """
    if sparse:
        raise ValueError(
            "embedding: sparse=True is not supported: chainrule has no sparse tensors; "
            "use sparse=False (the gradient is a dense table)"
        )
    w = as_tensor(weight)
    if w.ndim != 2:
        raise RuntimeError(f"'weight' must be 2-D; got shape {tuple(w.shape)}")
    idx = check_indices("embedding", as_tensor(input)._data, w.shape[0])
    pad = resolve_padding_idx(padding_idx, w.shape[0])
    if max_norm is not None:
        renorm_rows(w, idx, max_norm, norm_type)
    return Embedding.apply(w, indices=idx, padding_idx=pad, scale_grad_by_freq=scale_grad_by_freq)


def _bags(idx: np.ndarray, offsets: Any, include_last_offset: bool) -> tuple[np.ndarray, int]:
    """The bag of every index (−1 for indices past the last bag) and the number of bags."""
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "embedding_bag: offsets must be None when input is 2-D (each row is one bag); "
                f"got offsets of type {type(offsets).__name__}"
            )
        return np.repeat(np.arange(idx.shape[0]), idx.shape[1]), idx.shape[0]
    if idx.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    off = as_tensor(offsets)._data
    if off.ndim != 1 or not np.issubdtype(off.dtype, np.integer):
        raise ValueError(f"offsets has to be a 1D integer Tensor; got shape {off.shape}")
    if off.size and off[0] != 0:
        raise ValueError(
            f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
            f"from position 0. However, got {int(off[0])}"
        )
    if off.size > 1 and (np.any(np.diff(off) < 0) or off[-1] > idx.size):
        raise ValueError(f"offsets must be non-decreasing and at most {idx.size}; got {off}")
    # With include_last_offset the last bag still runs to the end of input, as PyTorch's CPU
    # kernel does: the final offset only says how many bags there are.
    starts = off[:-1] if include_last_offset else off
    ends = np.r_[starts[1:], idx.size].astype(np.int64)
    bag = np.full(idx.size, -1, dtype=np.int64)
    for b, (lo, hi) in enumerate(zip(starts, ends, strict=True)):
        bag[lo:hi] = b
    return bag, starts.size


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """Per bag, the sum, mean or max of the embedding rows its indices pick.

    Shapes: ``input`` ``(B, L)`` (B bags of L indices) or ``(n,)`` with ``offsets`` ``(B,)``
    giving where each bag starts (``(B + 1,)`` with ``include_last_offset``), ``weight``
    ``(num_embeddings, D)`` → output ``(B, D)``. Empty bags give zeros; ``padding_idx``
    entries are left out of every bag (and of the mean's count). ``per_sample_weights``
    (the shape of ``input``) scales each row before the sum, in ``mode='sum'`` only.
    """
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max; got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights is only supported for mode='sum' (got "
            f"mode='{mode}')"
        )
    w = as_tensor(weight)
    idx = as_tensor(input)._data
    bag, n_bags = _bags(idx, offsets, include_last_offset)
    flat = idx.reshape(-1)
    pad = resolve_padding_idx(padding_idx, w.shape[0]) if w.ndim == 2 else None
    rows = embedding(flat, w, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)
    if per_sample_weights is not None:
        psw = as_tensor(per_sample_weights)
        if tuple(psw.shape) != tuple(idx.shape):
            raise ValueError(
                f"embedding_bag: per_sample_weights must have the shape of input "
                f"{tuple(idx.shape)}; got {tuple(psw.shape)}"
            )
        rows = mul(rows, unsqueeze(psw.reshape(-1), 1))
    used = (bag >= 0) & (flat != (-1 if pad is None else pad))
    if mode == "max":
        zeros = np.zeros(w.shape[1], dtype=w._data.dtype)
        picks = [np.flatnonzero(used & (bag == b)) for b in range(n_bags)]
        outs = [max_(rows[p], 0)[0] if p.size else as_tensor(zeros) for p in picks]
        return stack(outs) if outs else as_tensor(np.zeros((0, w.shape[1]), w._data.dtype))
    # One (bags × indices) 0/1 matrix: its product with the rows sums every bag at once.
    member = np.zeros((n_bags, flat.size), dtype=w._data.dtype)
    member[bag[used], np.flatnonzero(used)] = 1
    out = matmul(as_tensor(member), rows)
    if mode == "mean":
        counts = np.maximum(member.sum(axis=1, keepdims=True), 1)
        out = div(out, as_tensor(counts))
    return out
