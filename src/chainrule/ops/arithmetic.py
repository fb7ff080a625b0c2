"""Arithmetic: + - * / ** @, negation, the fused affine map ``linear``, and dtype casts.

Binary ops broadcast like NumPy. Their backward returns gradients of the broadcast shape; the
engine sums them back to each input's shape.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule import dtypes
from chainrule._tensor import Tensor, as_tensor
from chainrule.autograd.function import Function


def operands(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands as tensors of one dtype, following the promotion rules in dtypes."""
    if type(a) is Tensor and type(b) is Tensor and a._data.dtype == b._data.dtype:
        return a, b
    a_is, b_is = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_is and not b_is:
        b = as_tensor(b, a)
        # A bool array (a mask) is promoted below, as a bool tensor is: never the other way.
        if a._data.dtype != b._data.dtype and b._data.dtype.kind != "b":
            a = cast(a, b._data.dtype)
    elif b_is and not a_is:
        a = as_tensor(a, b)
        if b._data.dtype != a._data.dtype and a._data.dtype.kind != "b":
            b = cast(b, a._data.dtype)
    else:
        a, b = as_tensor(a), as_tensor(b)
    if a._data.dtype != b._data.dtype:
        target = dtypes.result_dtype(a._data.dtype, b._data.dtype)
        a, b = cast(a, target), cast(b, target)
    return a, b


class Add(Function):
    """d(a + b)/da = 1,  d(a + b)/db = 1."""

    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad


class Sub(Function):
    """d(a − b)/da = 1,  d(a − b)/db = −1."""

    def forward(self, a, b):
        return a - b

    def backward(self, grad):
        return grad, (-grad if self.needs_input_grad[1] else None)


class Mul(Function):
    """d(a·b)/da = b,  d(a·b)/db = a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad):
        ga, gb = self.needs_input_grad
        return (grad * self.b if ga else None), (grad * self.a if gb else None)


class Div(Function):
    """d(a/b)/da = 1/b,  d(a/b)/db = −a/b²."""

    def forward(self, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = a / b
        self.b, self.out = b, out
        return out

    def backward(self, grad):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ga = grad / self.b
            gb = -ga * self.out if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    """d(−x)/dx = −1."""

    def forward(self, x):
        return -x

    def backward(self, grad):
        return (-grad,)


class PowScalar(Function):
    """d(xᵖ)/dx = p·xᵖ⁻¹ for a constant exponent p (0 where p = 0)."""

    def forward(self, x, exponent):
        self.x, self.p = x, exponent
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return x**exponent

    def backward(self, grad):
        p = self.p
        if p == 0:
            return (np.zeros_like(grad),)
        if p == 2:
            return (grad * (2 * self.x),)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return (grad * (p * self.x ** (p - 1)),)


class Pow(Function):
    """d(aᵇ)/da = b·aᵇ⁻¹,  d(aᵇ)/db = aᵇ·ln a (taken as 0 where a = 0 and b ≥ 0)."""

    def forward(self, a, b):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = a**b
        self.a, self.b, self.out = a, b, out
        return out

    def backward(self, grad):
        a, b, out = self.a, self.b, self.out
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.needs_input_grad[0]:
                ga = grad * np.where(b == 0, 0.0, b * a ** (b - 1))
            if self.needs_input_grad[1]:
                gb = grad * np.where((a == 0) & (b >= 0), 0.0, out * np.log(a))
        return ga, gb


class MatMul(Function):
    """d(A@B)/dA = G@Bᵀ,  d(A@B)/dB = Aᵀ@G (1-D operands as in NumPy's matmul)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a @ b

    def backward(self, grad):
        a, b = self.a, self.b
        need_a, need_b = self.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:
            return (grad @ b.T if need_a else None), (a.T @ grad if need_b else None)
        # Lift 1-D operands to matrices, as matmul itself does, then drop the added axis.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = grad[..., None] if b.ndim == 1 else grad
        g2 = g2[..., None, :] if a.ndim == 1 else g2
        ga = gb = None
        if need_a:
            ga = g2 @ np.swapaxes(b2, -1, -2)
            ga = ga.reshape(ga.shape[:-2] + (ga.shape[-1],)) if a.ndim == 1 else ga
        if need_b:
            gb = np.swapaxes(a2, -1, -2) @ g2
            gb = gb.reshape(gb.shape[:-2] + (gb.shape[-2],)) if b.ndim == 1 else gb
        return ga, gb


def _rows(x):
    """``x`` as a matrix of rows: ``(N, …, F) → (N·…, F)``, and ``(F,) → (1, F)``.

    One matrix product over all the rows runs 1.5–2.5× faster in BLAS than NumPy's stacked
    matmul, which multiplies one ``(…, F)`` matrix at a time.
    """
    # An explicit row count, not -1: a (…, 0) input has no rows to infer it from.
    return x if x.ndim == 2 else x.reshape(math.prod(x.shape[:-1]), x.shape[-1])


class Linear(Function):
    """y = x Wᵀ + b:  dy/dx = G W,  dy/dW = Gᵀ x,  dy/db = Σ_rows G."""

    def forward(self, x, weight, bias=None):
        self.x, self.weight = x, weight
        # plain form: x @ weight.T, the rows folded into one product. BLAS reads the
        # transposed view directly; a contiguous (in, out) copy of the weight, made once per
        # step since the weight changes, cost more than it saved (MLP step 1.14x at batch 32,
        # 1.09x at 128, 0.99x at 1024; CPU time, one BLAS thread).
        out = _rows(x) @ weight.T
        if bias is not None:
            out += bias
        return out if x.ndim == 2 else out.reshape(x.shape[:-1] + (weight.shape[0],))

    def backward(self, grad):
        x, w = self.x, self.weight
        need = self.needs_input_grad
        gx = None
        if need[0]:
            gx = grad @ w if grad.ndim == 2 else (_rows(grad) @ w).reshape(x.shape)  # = grad @ w
        gw = gb = None
        if len(need) > 1 and (need[1] or (len(need) > 2 and need[2])):
            if grad.ndim != 2:  # fold leading batch axes into one
                grad, x = _rows(grad), _rows(x)
            if need[1]:
                # Computed in the parameter's own (out, in) layout. The other orientation,
                # (x.T @ grad).T, costs the same in BLAS but is a transposed view that the
                # engine must copy (a strided pass) before it can become .grad: the MLP step
                # was 1.47x (batch 32) and 1.11x (batch 128) slower with it, within noise at 1024
                # (CPU time, one BLAS thread).
                gw = grad.T @ x
            if len(need) > 2 and need[2]:
                # np.add.reduce is what grad.sum(axis=0) runs, without ndarray.sum's Python
                # layer (the same bits; on tensors it records a sum, as .sum would).
                gb = np.add.reduce(grad, axis=0)
        return gx, gw, gb


class Cast(Function):
    """d cast(x)/dx = 1 (the gradient is cast back to x's dtype)."""

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, grad):
        return (grad,)


def add(a: Any, b: Any) -> Tensor:
    """Elementwise ``a + b`` with broadcasting."""
    return Add.apply(*operands(a, b))


def sub(a: Any, b: Any) -> Tensor:
    """Elementwise ``a - b`` with broadcasting."""
    return Sub.apply(*operands(a, b))


def mul(a: Any, b: Any) -> Tensor:
    """Elementwise ``a * b`` with broadcasting."""
    return Mul.apply(*operands(a, b))


def div(input: Any, other: Any, *, rounding_mode: str | None = None, out: None = None) -> Tensor:
    """Elementwise ``input / other`` with broadcasting (true division; integers give floats).

    ``rounding_mode='trunc'`` rounds the quotient toward zero, ``'floor'`` down (Python's
    ``//``); those keep integer dtypes and have zero gradients, as in PyTorch. Also ``divide``
    and ``true_divide``.
    """
    a, b = operands(input, other)
    if rounding_mode is not None or out is not None:
        from chainrule.ops._common import refuse_out
        from chainrule.ops.rounding import rounded_div

        refuse_out("div", out)
        if rounding_mode is not None:
            return rounded_div(a, b, rounding_mode)
    if a._data.dtype.kind != "f":
        a, b = cast(a, dtypes.get_default_dtype()), cast(b, dtypes.get_default_dtype())
    return Div.apply(a, b)


def neg(x: Tensor) -> Tensor:
    """``-x``."""
    return Neg.apply(as_tensor(x))


def pow(base: Any, exponent: Any) -> Tensor:
    """Elementwise ``base ** exponent``; a scalar exponent is a constant."""
    if isinstance(base, Tensor) and dtypes.is_scalar(exponent):
        # A Python number keeps the base's dtype; a NumPy float64 scalar would upcast it.
        exponent = np.asarray(exponent).item()
        if base._data.dtype.kind != "f" and isinstance(exponent, float):
            base = cast(base, dtypes.get_default_dtype())
        return PowScalar.apply(base, exponent=exponent)
    return Pow.apply(*operands(base, exponent))


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product ``a @ b`` with NumPy's rules for 1-D and batched operands.

    Shapes: ``(..., n, k) @ (..., k, m) -> (..., n, m)``.
    """
    a, b = operands(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"MatMul: both operands need at least 1 dimension; got shapes {a.shape} and {b.shape}"
        )
    return MatMul.apply(a, b)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The affine map of a fully connected layer: ``x @ weight.T + bias``.

    Shapes: x ``(..., in)``, weight ``(out, in)`` (PyTorch's layout), bias ``(out,)`` ->
    ``(..., out)``. One node in the graph instead of three. An input of another dtype is
    cast to the weight's dtype.
    """
    x, weight = as_tensor(x), as_tensor(weight)
    xs, ws = x._data.shape, weight._data.shape
    if len(ws) != 2 or not xs or xs[-1] != ws[1]:
        raise ValueError(
            f"Linear: input of shape {x.shape} does not fit weight of shape {weight.shape}; "
            f"expected input (..., {weight.shape[1] if weight.ndim == 2 else 'in'})"
        )
    if x._data.dtype is not weight._data.dtype:
        # The layer's dtype wins (as in Keras): float64 data fed to a float32 layer is computed
        # in float32 instead of silently turning the whole network into float64.
        dtype = weight._data.dtype if weight._data.dtype.kind == "f" else x._data.dtype
        x, weight = cast(x, dtype), cast(weight, dtype)
    if bias is None:
        return Linear.apply(x, weight)
    bias = cast(as_tensor(bias), x._data.dtype)
    if bias._data.shape != (ws[0],):
        raise ValueError(f"Linear: bias has shape {bias.shape}; expected ({weight.shape[0]},)")
    return Linear.apply(x, weight, bias)


def cast(x: Tensor, dtype: Any) -> Tensor:
    """``x`` converted to ``dtype`` (differentiable between float dtypes)."""
    if not isinstance(x, Tensor):
        x = as_tensor(x)
    if x._data.dtype is dtype:
        return x
    dtype = np.dtype(dtype)
    if x._data.dtype == dtype:
        return x
    if dtype.kind != "f":
        return Tensor._wrap(x._data.astype(dtype))
    return Cast.apply(x, dtype=dtype)


class Clone(Function):
    """d clone(x)/dx = 1."""

    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return (grad,)


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """A copy of ``input`` that stays in the graph: gradients flow back through it.

    Shape: ``input.shape``. ``memory_format`` is accepted and ignored (every array here is
    one contiguous block).
    """
    return Clone.apply(as_tensor(input))
