"""Fully connected layer ``Linear``, and ``Identity``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule import devices, dtypes
from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn import init
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.random import GeneratorLike, resolve_generator

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def float_dtype(dtype: Any) -> np.dtype:
    """``dtype`` as a NumPy float dtype, the default float dtype when None."""
    d = dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
    if d not in _FLOATS:
        raise TypeError(f"layers hold float32 or float64 parameters; got dtype {d}")
    return d


def _check_size(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer; got {value!r}")
    return int(value)


class Linear(Module):
    """Fully connected layer: ``y = x Wᵀ + b``.

    Parameters
    ----------
    in_features : int
        Size of each input's last axis.
    out_features : int
        Size of each output's last axis.
    bias : bool
        Learn an additive bias (True by default).
    device : str or device, optional
        Only the CPU (or None); any other device is refused, naming it.
    dtype : dtype, optional
        float32 or float64; the default float dtype (float32) when omitted.
    generator : numpy.random.Generator, int seed or None
        Keyword-only (chainrule's addition). Draws the initial values; chainrule's global
        generator by default (see :func:`chainrule.manual_seed`). An int seeds a fresh
        generator, so ``Linear(2, 3, generator=0)`` is the same layer every time.

    Attributes
    ----------
    weight : Parameter of shape (out_features, in_features)
        PyTorch's layout. Initialized from U(−1/√in_features, 1/√in_features), which is
        PyTorch's ``kaiming_uniform_(weight, a=√5)``.
    bias : Parameter of shape (out_features,) or None
        Initialized from U(−1/√in_features, 1/√in_features).

    Shapes
    ------
    input ``(*, in_features)`` → output ``(*, out_features)``, ``*`` any number of leading axes.

    Examples
    --------
    >>> layer = Linear(3, 2)
    >>> layer(chainrule.tensor(np.ones((4, 3), dtype=np.float32))).shape
    (4, 2)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__()
        devices.check_cpu(device, "nn.Linear")
        self.in_features = _check_size("in_features", in_features)
        self.out_features = _check_size("out_features", out_features)
        d = float_dtype(dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=d))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=d))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: GeneratorLike = None) -> None:
        """Redraw weight and bias with PyTorch's default initialization."""
        # Resolved once: with an int seed, weight and bias must come from one stream, not
        # from two generators that start alike.
        generator = resolve_generator(generator)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, generator)

    def forward(self, input: Tensor) -> Tensor:
        """``input @ weight.T + bias``; shapes ``(*, in_features)`` → ``(*, out_features)``."""
        input = as_tensor(input)
        shape = input._data.shape
        if not shape or shape[-1] != self.in_features:
            raise ValueError(
                f"Linear(in_features={self.in_features}) got input of shape {shape}; expected "
                f"shape (..., {self.in_features}): the last axis holds the features"
            )
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Identity(Module):
    """Returns its input unchanged; a placeholder that keeps a model's structure.

    Constructor arguments are accepted and ignored, as in PyTorch.

    Shapes
    ------
    input any shape → output the same object.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        """Return ``input`` itself."""
        return input


class Bilinear(Module):
    """Bilinear layer: ``y = x₁ᵀ A x₂ + b``, one matrix ``A`` per output feature.

    Parameters
    ----------
    in1_features : int
        Size of the first input's last axis.
    in2_features : int
        Size of the second input's last axis.
    out_features : int
        Size of the output's last axis.
    bias : bool
        Learn an additive bias (True by default).
    device : str or device, optional
        Only the CPU (or None).
    dtype : dtype, optional
        float32 or float64; the default float dtype when omitted.
    generator : numpy.random.Generator, int seed or None
        Keyword-only; draws the initial values (see :class:`Linear`).

    Attributes
    ----------
    weight : Parameter of shape (out_features, in1_features, in2_features)
        Initialized from U(−1/√in1_features, 1/√in1_features), as PyTorch.
    bias : Parameter of shape (out_features,) or None
        Initialized from the same distribution.

    Shapes
    ------
    inputs ``(*, in1_features)`` and ``(*, in2_features)`` (the same leading axes) → output
    ``(*, out_features)``.
    """

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__()
        devices.check_cpu(device, "nn.Bilinear")
        self.in1_features = _check_size("in1_features", in1_features)
        self.in2_features = _check_size("in2_features", in2_features)
        self.out_features = _check_size("out_features", out_features)
        d = float_dtype(dtype)
        shape = (self.out_features, self.in1_features, self.in2_features)
        self.weight = Parameter(np.empty(shape, dtype=d))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=d))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: GeneratorLike = None) -> None:
        """Redraw weight and bias from U(−1/√in1_features, 1/√in1_features)."""
        generator = resolve_generator(generator)
        bound = 1 / math.sqrt(self.in1_features) if self.in1_features > 0 else 0.0
        init.uniform_(self.weight, -bound, bound, generator)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound, generator)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        """``y[..., o] = Σᵢⱼ input1[..., i] · weight[o, i, j] · input2[..., j] + bias[o]``."""
        input1, input2 = as_tensor(input1), as_tensor(input2)
        s1, s2 = input1._data.shape, input2._data.shape
        if not s1 or s1[-1] != self.in1_features or s2[:-1] != s1[:-1]:
            raise ValueError(
                f"Bilinear(in1_features={self.in1_features}, in2_features="
                f"{self.in2_features}) got inputs of shapes {s1} and {s2}; expected "
                f"(..., {self.in1_features}) and (..., {self.in2_features}) with the same "
                "leading axes"
            )
        if not s2 or s2[-1] != self.in2_features:
            raise ValueError(
                f"Bilinear(in2_features={self.in2_features}) got a second input of shape {s2}; "
                f"expected (..., {self.in2_features})"
            )
        out = F.einsum("...i,oij,...j->...o", input1, self.weight, input2)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
