"""Normalization as functions: layer_norm, rms_norm, group_norm, instance_norm, batch_norm.

``layer_norm`` is one fused op (:class:`LayerNorm`: one pass forward, closed-form backward),
because transformers call it in every block and the chain rule through mean, var, sqrt and
division takes several times longer. group_norm and instance_norm reshape their input so that
each group (or channel) is one row, and reuse that op. rms_norm and batch_norm are compositions
of existing ops; their affine parts are ordinary multiplications and additions everywhere.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule._tensor import Tensor, as_tensor
from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import no_grad
from chainrule.ops._common import as_float
from chainrule.ops.arithmetic import add, mul
from chainrule.ops.reduction import mean, var
from chainrule.ops.shape import pad, reshape
from chainrule.ops.special import rsqrt


def _mean(a: Any, axes: tuple[int, ...]) -> Any:
    """The mean over ``axes``, kept: the sum over the count, as ``np.mean`` computes it (the
    same bits) without its Python layers. On tensors a recorded Sum and Div."""
    if a.dtype == np.float16:
        return np.mean(a, axis=axes, keepdims=True)  # accumulates in float32
    return np.add.reduce(a, axis=axes, keepdims=True) / math.prod(a.shape[ax] for ax in axes)


class LayerNorm(Function):
    """dL/dx = r(ĝ − mean ĝ − x̂·mean(ĝx̂)), ĝ = gw, x̂ = (x − μ)r, r = (σ² + ε)^−½.

    The affine part: dL/dw = Σ g·x̂ and dL/db = Σ g, over every axis but the normalized ones.
    """

    def forward(self, x, *affine, k, eps):
        axes = tuple(range(x.ndim - k, x.ndim))
        xhat = x - _mean(x, axes)
        # Centred first, then squared: the two-pass variance does not cancel catastrophically.
        variance = _mean(np.square(xhat), axes)
        self.r = 1.0 / np.sqrt(variance + x.dtype.type(eps))
        xhat = xhat * self.r  # not in place: on a twin's tensors the square read xhat
        self.xhat, self.axes, self.affine = xhat, axes, affine
        if not affine:
            # A copy (np.positive: on a twin's tensors, the value itself): xhat is saved for
            # backward, and the caller may write the output in place.
            return np.positive(xhat)
        y = xhat * affine[0]
        if len(affine) == 2:
            y += affine[1]
        return y

    def backward(self, grad):
        xhat, axes, affine = self.xhat, self.axes, self.affine
        g = grad * affine[0] if affine else grad
        dx = g - _mean(g, axes)
        dx -= xhat * _mean(g * xhat, axes)
        dx *= self.r
        if not affine:
            return (dx,)
        # The parameters' gradients sum over every leading (batch) axis.
        lead = tuple(range(grad.ndim - len(axes)))
        sums = np.add.reduce  # ndarray.sum's bits without its Python layer; on tensors, Sum
        grads = [dx, sums(grad * xhat, axis=lead) if self.needs_input_grad[1] else None]
        if len(affine) == 2:
            grads.append(sums(grad, axis=lead) if self.needs_input_grad[2] else None)
        return tuple(grads)


def _shape_tuple(normalized_shape: Any) -> tuple[int, ...]:
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def _check_trailing(op: str, x: Tensor, shape: tuple[int, ...]) -> None:
    if len(shape) == 0 or tuple(x.shape[x.ndim - len(shape) :]) != shape or x.ndim < len(shape):
        raise RuntimeError(
            f"{op}: Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in shape)}], but got input of size{list(x.shape)}"
        )


def _affine(y: Tensor, weight: Any, bias: Any, shape: tuple[int, ...] | None = None) -> Tensor:
    """``y·weight + bias`` with either left out when None; ``shape`` reshapes them first."""
    if weight is not None:
        w = as_tensor(weight)
        y = mul(y, w if shape is None else reshape(w, shape))
    if bias is not None:
        b = as_tensor(bias)
        y = add(y, b if shape is None else reshape(b, shape))
    return y


def layer_norm(
    input: Tensor,
    normalized_shape: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize over the trailing ``normalized_shape`` axes: ``(x − μ)/√(σ² + eps)·w + b``.

    σ² is the biased variance. Shapes: ``input`` ``(*, *normalized_shape)``, ``weight`` and
    ``bias`` ``normalized_shape`` → output the shape of ``input``.
    """
    x, shape = as_float(input), _shape_tuple(normalized_shape)
    _check_trailing("layer_norm", x, shape)
    if weight is None and bias is not None:
        return _affine(LayerNorm.apply(x, k=len(shape), eps=eps), None, bias)
    affine = [as_float(t) for t in (weight, bias) if t is not None]
    for t in affine:
        if tuple(t.shape) != shape:
            raise RuntimeError(
                f"layer_norm: weight and bias must have shape normalized_shape={list(shape)}; "
                f"got {list(t.shape)}"
            )
    return LayerNorm.apply(x, *affine, k=len(shape), eps=eps)


def rms_norm(
    input: Tensor,
    normalized_shape: Any,
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """``x / √(mean(x²) + eps) · w`` over the trailing ``normalized_shape`` axes.

    ``eps=None`` is ``finfo(input.dtype).eps``, as PyTorch. Shapes: ``input``
    ``(*, *normalized_shape)``, ``weight`` ``normalized_shape`` → output the shape of ``input``.
    """
    x, shape = as_float(input), _shape_tuple(normalized_shape)
    _check_trailing("rms_norm", x, shape)
    if eps is None:
        eps = float(np.finfo(x._data.dtype).eps)
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    y = mul(x, rsqrt(add(mean(mul(x, x), axes, keepdim=True), eps)))
    return _affine(y, weight, None)


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each of ``num_groups`` channel groups of every sample, then a per-channel affine.

    Shapes: ``input`` ``(N, C, *)`` with C divisible by ``num_groups``, ``weight`` and ``bias``
    ``(C,)`` → output the shape of ``input``.
    """
    x = as_float(input)
    if x.ndim < 2:
        raise RuntimeError(
            f"group_norm: Expected at least 2 dimensions for input tensor but received {x.ndim}"
        )
    n, c = x.shape[0], x.shape[1]
    if num_groups <= 0 or c % num_groups != 0:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(x.shape)} and num_groups={num_groups}"
        )
    y = reshape(LayerNorm.apply(reshape(x, (n, num_groups, -1)), k=1, eps=eps), x.shape)
    return _affine(y, weight, bias, (c,) + (1,) * (x.ndim - 2))


def _update_running(
    running_mean: Any, running_var: Any, x: Tensor, axes: tuple[int, ...], momentum: float
) -> None:
    """Fold this batch's mean and unbiased variance into the running buffers, in place."""
    data = x._data
    n = data.size // data.shape[1]
    batch_mean = data.mean(axis=axes)
    batch_var = data.var(axis=axes) * (n / (n - 1)) if n > 1 else np.full_like(batch_mean, np.nan)
    for buf, stat in ((running_mean, batch_mean), (running_var, batch_var)):
        if buf is not None:
            arr = as_tensor(buf)._data
            arr *= 1.0 - momentum
            arr += momentum * stat.reshape(arr.shape).astype(arr.dtype, copy=False)


def _channel_axes(op: str, x: Tensor) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if x.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C, *); got shape {tuple(x.shape)}")
    return (0, *range(2, x.ndim)), (x.shape[1],) + (1,) * (x.ndim - 2)


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Per-channel normalization of ``(N, C, *)`` input over every axis but C.

    Training (or without running estimates) uses the batch's mean and biased variance, and
    updates ``running_mean``/``running_var`` in place with the unbiased variance:
    ``running = (1 − momentum)·running + momentum·batch``. Otherwise the running estimates
    are used. Shapes: ``input`` ``(N, C, *)``, the others ``(C,)`` → output the shape of input.
    """
    x = as_float(input)
    axes, cshape = _channel_axes("batch_norm", x)
    if training or running_mean is None or running_var is None:
        n = x._data.size // max(x.shape[1], 1)
        if training and n <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size "
                f"{list(x.shape)}"
            )
        if training:
            with no_grad():
                _update_running(running_mean, running_var, x, axes, momentum)
        centred = x - mean(x, axes, keepdim=True)
        y = centred * rsqrt(add(var(x, axes, keepdim=True, correction=0), eps))
    else:
        rm, rv = as_tensor(running_mean)._data, as_tensor(running_var)._data
        inv_std = (1.0 / np.sqrt(rv + eps)).astype(x._data.dtype, copy=False)
        y = (x - rm.reshape(cshape).astype(x._data.dtype, copy=False)) * inv_std.reshape(cshape)
    return _affine(y, weight, bias, cshape)


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize every channel of every sample over its spatial axes, then a per-channel affine.

    With ``use_input_stats`` the sample's own statistics are used, and running buffers (if
    given) get the mean over the batch of each sample's mean and unbiased variance; without,
    the running estimates are used. Shapes: ``input`` ``(N, C, *)`` with at least one spatial
    axis, the others ``(C,)`` → output the shape of ``input``.
    """
    x = as_float(input)
    if x.ndim < 3:
        raise ValueError(
            f"instance_norm: expected input of shape (N, C, L, ...); got shape {tuple(x.shape)}"
        )
    n, c = x.shape[0], x.shape[1]
    cshape = (c,) + (1,) * (x.ndim - 2)
    if not use_input_stats:
        return batch_norm(x, running_mean, running_var, weight, bias, False, momentum, eps)
    spatial = math.prod(x.shape[2:])
    if spatial <= 1:
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size {list(x.shape)}"
        )
    if running_mean is not None or running_var is not None:
        with no_grad():
            rows = x._data.reshape(n, c, spatial)
            stats = rows.mean(axis=2).mean(axis=0), rows.var(axis=2, ddof=1).mean(axis=0)
            for buf, stat in zip((running_mean, running_var), stats, strict=True):
                if buf is not None:
                    arr = as_tensor(buf)._data
                    arr *= 1.0 - momentum
                    arr += momentum * stat.astype(arr.dtype, copy=False)
    y = reshape(LayerNorm.apply(reshape(x, (n, c, spatial)), k=1, eps=eps), x.shape)
    return _affine(y, weight, bias, cshape)


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """``x_c / (k + alpha/size · Σ x_{c'}²)^beta`` over the ``size`` channels around c.

    The window is zero-padded, ``size//2`` channels before and ``(size−1)//2`` after, as
    PyTorch. Shapes: ``input`` ``(N, C, *)`` → output the same shape.
    """
    x = as_float(input)
    if x.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {x.ndim} dimensions)")
    n, c = x.shape[0], x.shape[1]
    rows = reshape(mul(x, x), (n, c, -1))
    padded = pad(rows, (0, 0, size // 2, (size - 1) // 2))
    # A sum of `size` shifted views: the window is short, so this beats a general pooling.
    window = padded[:, 0:c]
    for shift in range(1, size):
        window = add(window, padded[:, shift : shift + c])
    scale = add(mul(reshape(window, x.shape), alpha / size), k) ** beta
    return x / scale
