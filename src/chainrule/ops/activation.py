"""Activation functions, softmax and the dropout family.

Every formula here is written so that it cannot overflow: sigmoid uses e^−|x|, softplus uses
``logaddexp``, softmax and log-softmax shift by the maximum. They stay finite and exact at ±1e4.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from chainrule._tensor import Tensor, as_tensor
from chainrule.autograd.function import Function
from chainrule.ops._common import as_float, dim_alias
from chainrule.ops.arithmetic import cast
from chainrule.ops.erf import Erf
from chainrule.ops.op_call import call
from chainrule.random import GeneratorLike, resolve_generator

_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# λα, the magnitude of SELU's negative saturation −λα, which alpha dropout gives dropped
# elements before its affine correction.
_SELU_SATURATION = 1.7580993408473766


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^−x), accurate to about one ulp in both tails.

    For x below about −88 (float32) or −709 (float64) e^−x overflows to inf and σ becomes
    exactly 0; its true value there is already subnormal (below the smallest normal float). The
    overflow is expected, so its warning is silenced. The form exp(−softplus(−x)),
    ``np.exp(-np.logaddexp(0, -x))``, never overflows but is about 20× slower on float32 batches
    and rounds worse (up to 16 ulp in float64 against ~1 here); switching to this form moved
    float32 results by at most 6e-7 relative.
    """
    with np.errstate(over="ignore"):
        e = np.exp(-x)
    return 1 / (1 + e)


class Sigmoid(Function):
    """dσ(x)/dx = σ(x)(1 − σ(x))."""

    def forward(self, x):
        self.out = stable_sigmoid(x)
        return self.out

    def backward(self, grad):
        out = self.out
        return (grad * out * (1 - out),)


class Tanh(Function):
    """d tanh x/dx = 1 − tanh² x."""

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad):
        out = self.out
        return (grad * (1 - out * out),)


class ReLU(Function):
    """d relu(x)/dx = 1 where x > 0, else 0 (so relu′(0) = 0)."""

    def forward(self, x):
        # The mask is taken once here, so backward is one multiply instead of a comparison
        # and a multiply (plain form: save the output, backward grad * (out > 0)). x > 0 and
        # out > 0 are the same mask (NaN compares False in both), so the bits do not change;
        # a bool mask is a constant of the derivative in a create_graph pass, as before.
        self.positive = x > 0
        return np.maximum(x, 0)

    def backward(self, grad):
        return (grad * self.positive,)


class LeakyReLU(Function):
    """d leaky_relu(x)/dx = 1 where x > 0, else the negative slope."""

    def forward(self, x, negative_slope):
        self.positive, self.slope = x > 0, negative_slope
        return np.where(self.positive, x, x * negative_slope)

    def backward(self, grad):
        return (np.where(self.positive, grad, grad * self.slope),)


class ELU(Function):
    """d elu(x)/dx = 1 where x > 0, else α·eˣ."""

    def forward(self, x, alpha):
        self.x, self.alpha = x, alpha
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))

    def backward(self, grad):
        x = self.x
        return (np.where(x > 0, grad, grad * self.alpha * np.exp(np.minimum(x, 0))),)


class GELU(Function):
    """d gelu(x)/dx = Φ(x) + x·φ(x), Φ and φ the standard normal CDF and density."""

    def forward(self, x, approximate):
        self.x, self.approximate = x, approximate
        if approximate == "tanh":
            self.t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))
            return 0.5 * x * (1 + self.t)
        self.cdf = 0.5 * (1 + call(Erf, x / _SQRT_2))  # recorded when x is a tensor
        return x * self.cdf

    def backward(self, grad):
        x = self.x
        if self.approximate == "tanh":
            t = self.t
            du = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return (grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du),)
        density = _INV_SQRT_2PI * np.exp(-0.5 * x * x)
        return (grad * (self.cdf + x * density),)


class Softplus(Function):
    """d softplus(x)/dx = σ(βx) (and 1 above the linear threshold)."""

    def forward(self, x, beta, threshold):
        bx = x * beta
        self.bx, self.linear = bx, bx > threshold
        return np.where(self.linear, x, np.logaddexp(0, bx) / beta)

    def backward(self, grad):
        return (np.where(self.linear, grad, grad * stable_sigmoid(self.bx)),)


class Softmax(Function):
    """d softmax(x)ᵢ/dxⱼ = sᵢ(δᵢⱼ − sⱼ), so the input gradient is s ⊙ (g − Σ g⊙s)."""

    def forward(self, x, axis):
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        self.out, self.axis = e / e.sum(axis=axis, keepdims=True), axis
        return self.out

    def backward(self, grad):
        s = self.out
        return (s * (grad - (grad * s).sum(axis=self.axis, keepdims=True)),)


class LogSoftmax(Function):
    """d log_softmax(x)ᵢ/dxⱼ = δᵢⱼ − softmax(x)ⱼ, so the input gradient is g − softmax·Σg."""

    def forward(self, x, axis):
        shifted = x - x.max(axis=axis, keepdims=True)
        self.out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        self.axis = axis
        return self.out

    def backward(self, grad):
        return (grad - np.exp(self.out) * grad.sum(axis=self.axis, keepdims=True),)


class Dropout(Function):
    """d dropout(x)/dx = mask/(1 − p), the same mask as the forward pass."""

    def forward(self, x, mask):
        self.mask = mask
        return x * mask

    def backward(self, grad):
        return (grad * self.mask,)


def sigmoid(input: Tensor) -> Tensor:
    """σ(x) = 1/(1 + e^−x), exact at both limits (no overflow)."""
    return Sigmoid.apply(as_float(input))


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return Tanh.apply(as_float(input))


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0); its gradient at 0 is 0. ``inplace`` is accepted and ignored (a new tensor)."""
    return ReLU.apply(as_tensor(input))


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else ``negative_slope``·x. ``inplace`` is accepted and ignored."""
    x = as_tensor(input)
    return LeakyReLU.apply(x, negative_slope=x._data.dtype.type(negative_slope))


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else α(eˣ − 1). ``inplace`` is accepted and ignored."""
    x = as_float(input)
    return ELU.apply(x, alpha=x._data.dtype.type(alpha))


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x·Φ(x), Φ the standard normal CDF; ``approximate='tanh'`` uses the tanh formula."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh'; got {approximate!r}")
    return GELU.apply(as_float(x), approximate=approximate)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(βx))/β, and x itself where βx > ``threshold`` (as PyTorch)."""
    if beta <= 0:
        raise ValueError(f"softplus: beta must be > 0; got {beta}")
    x = as_float(x)
    return Softplus.apply(x, beta=x._data.dtype.type(beta), threshold=threshold)


def _softmax_input(input: Tensor, dim: int | None, dtype: Any, axis: int | None, name: str):
    """The input (cast to ``dtype`` first, as PyTorch does) and its axis: ``dim``, or its alias
    ``axis``, or the last one. A 0-d tensor takes dim 0 or -1."""
    if axis is not None:
        dim = dim_alias(name, dim, axis, "dim and its alias axis")
    if dim is None:
        dim = -1
    x = as_float(input) if dtype is None else cast(as_tensor(input), dtype)
    nd = x._data.ndim
    if not -nd <= dim < (nd or 1):
        raise IndexError(
            f"{name}: dimension out of range (expected to be in range of "
            f"[{-(nd or 1)}, {(nd or 1) - 1}], but got {dim})"
        )
    return x, (dim if nd else None)


def softmax(
    input: Tensor,
    dim: int | None = None,
    _stacklevel: int = 3,
    dtype: Any = None,
    *,
    axis: int | None = None,
) -> Tensor:
    """e^xᵢ / Σⱼ e^xⱼ along ``dim`` (alias ``axis``; the last if neither is given, where PyTorch's
    deprecated implicit choice may differ). ``dtype`` casts the input first. Shape unchanged."""
    x, dim = _softmax_input(input, dim, dtype, axis, "softmax")
    return Softmax.apply(x, axis=dim)


def log_softmax(
    input: Tensor,
    dim: int | None = None,
    _stacklevel: int = 3,
    dtype: Any = None,
    *,
    axis: int | None = None,
) -> Tensor:
    """xᵢ − log Σⱼ e^xⱼ along ``dim`` (alias ``axis``; the last by default); finite wherever the
    input is, unlike log(softmax). ``dtype`` casts the input first. Shape unchanged."""
    x, dim = _softmax_input(input, dim, dtype, axis, "log_softmax")
    return LogSoftmax.apply(x, axis=dim)


def check_dropout_p(p: float) -> float:
    """``p`` as a float, or PyTorch's ValueError when it is not a probability."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _float_kind(x: Tensor) -> np.dtype:
    return x._data.dtype if x._data.dtype.kind == "f" else np.dtype(np.float64)


def _keep(shape: tuple[int, ...], p: float, dtype: np.dtype, generator: GeneratorLike):
    """1 with probability 1 − p, else 0, drawn in ``dtype``'s precision."""
    rng = resolve_generator(generator)
    uniform = rng.random(shape, dtype=np.float64 if dtype == np.float64 else np.float32)
    return (uniform >= p).astype(dtype)


def _masked(x: Tensor, p: float, shape: tuple[int, ...], alpha: bool, generator) -> Tensor:
    """Inverted dropout of ``x`` with a keep-mask of ``shape`` (broadcast against ``x``); with
    ``alpha``, dropped values go to SELU's saturation and the result is rescaled to keep zero
    mean and unit variance (PyTorch's affine correction)."""
    dtype = _float_kind(x)
    if p == 1.0:
        return Dropout.apply(x, mask=np.zeros((1,) * x.ndim, dtype=dtype))
    keep = _keep(shape, p, dtype, generator)
    if not alpha:
        return Dropout.apply(x, mask=keep * dtype.type(1.0 / (1.0 - p)))
    s = _SELU_SATURATION
    a = 1.0 / math.sqrt((s * s * p + 1) * (1 - p))
    # Kept: a·x + s·a·p; dropped: −s·a + s·a·p (PyTorch's order of operations).
    shift = ((keep - 1) * (s * a) + s * a * p).astype(dtype)
    return Dropout.apply(x, mask=(keep * dtype.type(a))) + shift


def dropout(
    input: Tensor,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    *,
    generator: GeneratorLike = None,
) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1 − p).

    ``input`` itself when ``training`` is False or ``p`` is 0. ``generator`` (a NumPy
    Generator, or an int seed for a fresh one: the same mask at every call) draws the mask; by
    default chainrule's global generator (see :func:`chainrule.manual_seed`). ``inplace`` is
    accepted and computes out of place (a new tensor). Shapes: any → the same.
    """
    p = check_dropout_p(p)
    x = as_tensor(input)
    if not training or p == 0.0 or x._data.size == 0:
        return x
    return _masked(x, p, x.shape, False, generator)


def alpha_dropout(
    input: Tensor,
    p: float = 0.5,
    training: bool = False,
    inplace: bool = False,
    *,
    generator: GeneratorLike = None,
) -> Tensor:
    """Dropout for SELU networks: dropped elements become −λα ≈ −1.7581, then ``a·x + b`` with
    PyTorch's constants keeps zero mean and unit variance.

    Note ``training`` is False by default, as in PyTorch. ``inplace`` computes out of place.
    Shapes: any → the same.
    """
    p = check_dropout_p(p)
    x = as_float(input)
    if not training or p == 0.0 or x._data.size == 0:
        return x
    return _masked(x, p, x.shape, True, generator)


def _feature_dropout(x: Tensor, p: float, training: bool, alpha: bool, batched: bool, gen):
    """Dropout of whole channels: one draw per (sample, channel), or per channel of an
    unbatched input (``batched`` False: dim 0 is the channel dim)."""
    if not training or p == 0.0 or x._data.size == 0:
        return x
    lead = 2 if batched else 1
    if x.ndim < lead:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    shape = x.shape[:lead] + (1,) * (x.ndim - lead)
    return _masked(x, p, shape, alpha, gen)


def dropout1d(
    input: Tensor,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    *,
    generator: GeneratorLike = None,
) -> Tensor:
    """Zero whole channels with probability ``p``, scaling the rest by 1/(1 − p).

    Shapes: ``(N, C, L)`` or ``(C, L)`` → the same. ``inplace`` computes out of place.
    """
    p = check_dropout_p(p)
    x = as_tensor(input)
    if x.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {x.ndim}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs)."
        )
    return _feature_dropout(x, p, training, False, x.ndim == 3, generator)


def _rank_warning(name: str, ndim: int, spatial: int) -> None:
    warnings.warn(
        f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will result "
        "in an error in a future release. To retain the behavior and silence this warning, "
        f"please use dropout instead. Note that {name} exists to provide channel-wise dropout "
        f"on inputs with {spatial} spatial dimensions, a channel dimension, and an optional "
        f"batch dimension (i.e. {spatial + 1}D or {spatial + 2}D inputs).",
        stacklevel=3,
    )


def dropout2d(
    input: Tensor,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    *,
    generator: GeneratorLike = None,
) -> Tensor:
    """Zero whole channels (2-D feature maps) with probability ``p``, scaling the rest by
    1/(1 − p).

    Shapes: ``(N, C, H, W)`` → the same. As in PyTorch, a 3-D input is read as ``(N, C, L)``
    (with PyTorch's warning), and other ranks warn and drop per (dim 0, dim 1) entry.
    ``inplace`` computes out of place.
    """
    p = check_dropout_p(p)
    x = as_tensor(input)
    if x.ndim not in (3, 4):
        _rank_warning("dropout2d", x.ndim, 2)
    if x.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    return _feature_dropout(x, p, training, False, True, generator)


def dropout3d(
    input: Tensor,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    *,
    generator: GeneratorLike = None,
) -> Tensor:
    """Zero whole channels (3-D feature maps) with probability ``p``, scaling the rest by
    1/(1 − p).

    Shapes: ``(N, C, D, H, W)`` or ``(C, D, H, W)`` → the same; other ranks warn as in
    PyTorch. ``inplace`` computes out of place.
    """
    p = check_dropout_p(p)
    x = as_tensor(input)
    if x.ndim not in (4, 5):
        _rank_warning("dropout3d", x.ndim, 3)
    return _feature_dropout(x, p, training, False, x.ndim == 5, generator)


def feature_alpha_dropout(
    input: Tensor,
    p: float = 0.5,
    training: bool = False,
    inplace: bool = False,
    *,
    generator: GeneratorLike = None,
) -> Tensor:
    """:func:`alpha_dropout` of whole channels: one draw per (sample, channel).

    Shapes: ``(N, C, *)`` → the same. ``training`` is False by default, as in PyTorch.
    """
    p = check_dropout_p(p)
    return _feature_dropout(as_float(input), p, training, True, True, generator)
