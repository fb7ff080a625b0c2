"""Scans along one dimension: cumsum, cumprod, cummax, cummin, logcumsumexp.

``dim`` is required (as in PyTorch; NumPy's ``axis`` is its alias). A 0-d tensor scans as one
element. Integer and bool inputs of cumsum/cumprod give int64, as in PyTorch.

Subgradients follow PyTorch: cumprod is exact at zeros (no division by a zero element);
cummax/cummin send each output's gradient to the index it reports (the last of equal maxima);
logcumsumexp never overflows, and its gradient is NaN only where PyTorch's is (an element at
−inf whose running sum is still −inf).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import return_types
from chainrule._tensor import Tensor, as_tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import one_dim, refuse_out
from chainrule.ops.sorting import Selection


def _reverse_cumsum(a: np.ndarray, axis: int) -> np.ndarray:
    """Σ over k ≥ i along ``axis``."""
    return np.flip(np.cumsum(np.flip(a, axis), axis=axis), axis)


class CumSum(Function):
    """d(Σₖ≤ᵢ xₖ)/dxⱼ = 1 for j ≤ i."""

    def forward(self, x, axis):
        self.axis = axis
        return np.cumsum(x.reshape(x.shape or (1,)), axis=axis).reshape(x.shape)

    def backward(self, grad):
        if grad.ndim == 0:
            return (grad,)
        return (_reverse_cumsum(grad, self.axis),)


class CumProd(Function):
    """d(Πₖ≤ᵢ xₖ)/dxⱼ = Πₖ≤ᵢ,ₖ≠ⱼ xₖ for j ≤ i (computed without dividing by zeros)."""

    def forward(self, x, axis):
        self.x, self.axis = x, axis
        self.out = np.cumprod(x.reshape(x.shape or (1,)), axis=axis).reshape(x.shape)
        return self.out

    def backward(self, grad):
        if grad.ndim == 0:
            return (grad,)
        x, ax = self.x, self.axis
        g = _cumprod_grad(x, self.out, grad, ax)
        if not isinstance(x, np.ndarray):  # terms of value 0: only tensors need them
            g = _after_first_zero(x, grad, ax, g)
        return (g,)


def _after_first_zero(x, grad, ax, g):
    """``g`` with the terms its derivative needs after the first zero xz along ``ax``: there
    the gradient is 0 but its derivative by xz is not; it is xz·h, h the gradient with xz taken
    as 1. The terms are 0 in value, so the first-order pass (on arrays) goes without them."""
    zero = x == 0
    if not np.any(zero):
        return g
    first = zero & (np.cumsum(zero, axis=ax) == 1)
    y = np.where(first, 1, x)
    h = _cumprod_grad(y, np.cumprod(y, axis=ax), grad, ax)
    x_first = np.sum(np.where(first, x, 0), axis=ax, keepdims=True)
    after = (np.cumsum(first, axis=ax) > 0) & ~first
    return np.where(after, x_first * h, g)


def _cumprod_grad(x, out, grad, ax):
    """Σᵢ≥ⱼ gᵢ·Πₖ≤ᵢ,ₖ≠ⱼ xₖ up to the first zero along ``ax`` (0 after it), ``out`` = cumprod x."""
    zero = x == 0
    seen = np.cumsum(zero, axis=ax)  # zeros up to and including each position
    before_first = seen == 0
    first = zero & (seen == 1)
    safe = np.where(zero, 1, x)
    # Before the first zero: Σᵢ≥ⱼ gᵢ·outᵢ/xⱼ (out is 0 from the first zero on).
    g_before = _reverse_cumsum(grad * out, ax) / safe
    # At the first zero: the same sums with that zero taken as 1.
    out_one = np.cumprod(np.where(first, 1, x), axis=ax)
    g_first = _reverse_cumsum(np.where(seen >= 1, grad * out_one, 0), ax)
    return np.where(before_first, g_before, np.where(first, g_first, 0))


class LogCumSumExp(Function):
    """d(log Σₖ≤ᵢ exp xₖ)/dxⱼ = exp(xⱼ − outᵢ) for j ≤ i."""

    def forward(self, x, axis):
        self.x, self.axis = x, axis
        with np.errstate(invalid="ignore"):
            out = np.logaddexp.accumulate(x.reshape(x.shape or (1,)), axis=axis)
        self.out = out.reshape(x.shape)
        return self.out

    def backward(self, grad):
        if grad.ndim == 0:
            return (grad,)
        x, out, ax = self.x, self.out, self.axis
        # An empty term's log is the lowest finite value, not −inf: the same sums, and their
        # own derivative (on tensors) meets no −inf − (−inf) and no derivative of log at 0.
        lowest = np.finfo(x.dtype).min
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # Σᵢ≥ⱼ gᵢ exp(−outᵢ), split by the sign of g (NaN in both), each summed in log space.
            log_abs = np.log(np.where(grad != 0, np.abs(grad), 1))
            parts = []
            for empty in (grad <= 0, grad >= 0):
                log_terms = np.where(empty, lowest, log_abs) - out
                acc = np.flip(np.logaddexp.accumulate(np.flip(log_terms, ax), axis=ax), ax)
                parts.append(np.exp(x + acc))
            return (parts[0] - parts[1],)


class CumMax(Selection):
    """d cummax(x)ᵢ/dxⱼ = 1 if j is the index cummax reports at i, else 0."""


class CumMin(Selection):
    """d cummin(x)ᵢ/dxⱼ = 1 if j is the index cummin reports at i, else 0."""


def _scan(name: str, op: type[Function], input: Any, dim: Any, axis: Any, dtype: Any) -> Tensor:
    x = as_tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    elif x._data.dtype.kind in "biu":
        x = Tensor._wrap(x._data.astype(np.int64))
    return op.apply(x, axis=one_dim(name, dim, axis, x.ndim))


def cumsum(
    input: Tensor,
    dim: int | None = None,
    *,
    dtype: Any = None,
    axis: int | None = None,
    out: None = None,
) -> Tensor:
    """Running sums along ``dim``. Shape: ``input.shape``."""
    refuse_out("cumsum", out)
    return _scan("cumsum", CumSum, input, dim, axis, dtype)


def cumprod(
    input: Tensor,
    dim: int | None = None,
    *,
    dtype: Any = None,
    axis: int | None = None,
    out: None = None,
) -> Tensor:
    """Running products along ``dim``. Shape: ``input.shape``."""
    refuse_out("cumprod", out)
    return _scan("cumprod", CumProd, input, dim, axis, dtype)


def logcumsumexp(
    input: Tensor, dim: int | None = None, *, axis: int | None = None, out: None = None
) -> Tensor:
    """log Σₖ≤ᵢ exp(xₖ) along ``dim``, without overflow. Shape: ``input.shape``."""
    refuse_out("logcumsumexp", out)
    x = as_tensor(input)
    if x._data.dtype.kind != "f":
        raise TypeError(f"logcumsumexp() needs a floating-point tensor; got {x.dtype}")
    return LogCumSumExp.apply(x, axis=one_dim("logcumsumexp", dim, axis, x.ndim))


def _running(name, op, ufunc, result, input, dim, axis, out):
    refuse_out(name, out)
    x = as_tensor(input)
    ax = one_dim(name, dim, axis, x.ndim)
    a = x._data if x.ndim else x._data.reshape(1)
    running = ufunc.accumulate(a, axis=ax)
    shape = [1] * a.ndim
    shape[ax] = a.shape[ax]
    pos = np.arange(a.shape[ax]).reshape(shape)
    # x reaches the running extreme at i: the reported index moves there (the last on ties).
    idx = np.maximum.accumulate(np.where(a == running, pos, 0), axis=ax)
    values = op.apply(x, indices=idx, axis=ax, shape=x.shape)
    return result(values, Tensor._wrap(idx.reshape(x.shape).astype(np.int64, copy=False)))


def cummax(
    input: Tensor, dim: int | None = None, *, axis: int | None = None, out: None = None
) -> return_types.cummax:
    """``(values, indices)``: running maxima along ``dim`` and the (last) index of each."""
    return _running("cummax", CumMax, np.maximum, return_types.cummax, input, dim, axis, out)


def cummin(
    input: Tensor, dim: int | None = None, *, axis: int | None = None, out: None = None
) -> return_types.cummin:
    """``(values, indices)``: running minima along ``dim`` and the (last) index of each."""
    return _running("cummin", CumMin, np.minimum, return_types.cummin, input, dim, axis, out)
