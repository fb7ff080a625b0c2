"""More activation modules, one per function of :mod:`chainrule.functional`: SiLU, Mish,
ReLU6, Hardtanh, Hardswish, Hardsigmoid, SELU, CELU, LogSigmoid, Softsign, Tanhshrink,
Softshrink, Hardshrink, Threshold, GLU, PReLU (a learned slope) and RReLU (random slopes).

Constructor signatures and reprs are PyTorch's. ``inplace=True`` is accepted where PyTorch has
it, but the result is always a new tensor. All but GLU keep their input's shape.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule import devices
from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn import init
from chainrule.nn.linear import float_dtype
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.random import GeneratorLike, resolve_generator


class _Unary(Module):
    """An elementwise function without arguments."""

    _fn: Callable[[Tensor], Tensor]

    def forward(self, input: Tensor) -> Tensor:
        """The function applied to every element of ``input``."""
        return type(self)._fn(as_tensor(input))


class _Pointwise(_Unary):
    """An elementwise function with only ``inplace``; the repr shows ``inplace=True`` where
    PyTorch's does."""

    _show_inplace = True

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace and self._show_inplace else ""


class SiLU(_Pointwise):
    """x·σ(x) (the swish), elementwise. ``inplace`` is accepted; the result is a new tensor.

    Shapes: input any shape → output the same shape.
    """

    _fn = staticmethod(F.silu)


class Mish(_Pointwise):
    """x·tanh(softplus(x)), elementwise. ``inplace`` is accepted; the result is a new tensor.

    Shapes: input any shape → output the same shape.
    """

    _fn = staticmethod(F.mish)


class ReLU6(_Pointwise):
    """min(max(x, 0), 6), elementwise. ``inplace`` is accepted; the result is a new tensor.

    Shapes: input any shape → output the same shape.
    """

    _fn = staticmethod(F.relu6)


class Hardswish(_Pointwise):
    """x·relu6(x + 3)/6, elementwise. ``inplace`` is accepted (and, as in PyTorch, not shown
    in the repr); the result is a new tensor.

    Shapes: input any shape → output the same shape.
    """

    _fn = staticmethod(F.hardswish)
    _show_inplace = False


class Hardsigmoid(_Pointwise):
    """relu6(x + 3)/6, elementwise. ``inplace`` is accepted (not shown in the repr, as in
    PyTorch); the result is a new tensor.

    Shapes: input any shape → output the same shape.
    """

    _fn = staticmethod(F.hardsigmoid)
    _show_inplace = False


class SELU(_Pointwise):
    """λ·elu(x, α), λ ≈ 1.0507, α ≈ 1.6733 (self-normalizing). ``inplace`` is accepted; the
    result is a new tensor.

    Shapes: input any shape → output the same shape.
    """

    _fn = staticmethod(F.selu)


class LogSigmoid(_Unary):
    """log σ(x), finite for every finite x. Shapes: input any shape → output the same shape."""

    _fn = staticmethod(F.logsigmoid)


class Softsign(_Unary):
    """x/(1 + |x|), elementwise. Shapes: input any shape → output the same shape."""

    _fn = staticmethod(F.softsign)


class Tanhshrink(_Unary):
    """x − tanh(x), elementwise. Shapes: input any shape → output the same shape."""

    _fn = staticmethod(F.tanhshrink)


class Hardtanh(Module):
    """x clipped to [``min_val``, ``max_val``]; the gradient passes strictly inside.

    Parameters
    ----------
    min_val, max_val : float
        The clipping range, -1 and 1 by default; ``max_val`` must exceed ``min_val``.
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.
    min_value, max_value : float, optional
        PyTorch's deprecated names of ``min_val`` and ``max_val`` (they warn).

    Shapes
    ------
    input any shape → output the same shape.
    """

    def __init__(
        self,
        min_val: float = -1.0,
        max_val: float = 1.0,
        inplace: bool = False,
        min_value: float | None = None,
        max_value: float | None = None,
    ) -> None:
        super().__init__()
        # PyTorch's old keyword names still work, with its FutureWarning.
        for name, value in (("min_value", min_value), ("max_value", max_value)):
            if value is not None:
                warnings.warn(
                    f"keyword argument `{name}` is deprecated and renamed to `{name[:3]}_val`",
                    FutureWarning,
                    stacklevel=2,
                )
        min_val = min_val if min_value is None else min_value
        max_val = max_val if max_value is None else max_value
        if not max_val > min_val:
            raise ValueError(
                f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})"
            )
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:
        """hardtanh(input, min_val, max_val)."""
        return F.hardtanh(as_tensor(input), self.min_val, self.max_val)

    def extra_repr(self) -> str:
        inplace = ", inplace=True" if self.inplace else ""
        return f"min_val={self.min_val}, max_val={self.max_val}{inplace}"


class CELU(Module):
    """x where x > 0, else α(e^(x/α) − 1).

    Parameters
    ----------
    alpha : float
        Scale of the negative side (not 0); 1.0 by default.
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.

    Shapes
    ------
    input any shape → output the same shape.
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        """celu(input, alpha)."""
        return F.celu(as_tensor(input), self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Threshold(Module):
    """x where x > ``threshold``, else ``value``.

    Parameters
    ----------
    threshold : float
        Inputs at or below it are replaced.
    value : float
        What replaces them.
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.

    Shapes
    ------
    input any shape → output the same shape.
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input: Tensor) -> Tensor:
        """threshold(input, threshold, value)."""
        return F.threshold(as_tensor(input), self.threshold, self.value)

    def extra_repr(self) -> str:
        inplace = ", inplace=True" if self.inplace else ""
        return f"threshold={self.threshold}, value={self.value}{inplace}"


class Softshrink(Module):
    """x − λ·sign(x) where |x| > λ, else 0.

    Parameters
    ----------
    lambd : float
        λ ≥ 0; 0.5 by default.

    Shapes
    ------
    input any shape → output the same shape.
    """

    _fn = staticmethod(F.softshrink)

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        """The shrink of ``input`` by ``lambd``."""
        return type(self)._fn(as_tensor(input), self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Softshrink):
    """x where |x| > λ, else 0. Parameters as :class:`Softshrink`.

    Shapes
    ------
    input any shape → output the same shape.
    """

    _fn = staticmethod(F.hardshrink)


class GLU(Module):
    """a·σ(b), where a and b are the two halves of the input along ``dim``.

    Parameters
    ----------
    dim : int
        The axis to halve (its size must be even); -1 by default.

    Shapes
    ------
    input ``(*, 2n, *)`` → output ``(*, n, *)``.
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        """glu(input, dim)."""
        return F.glu(as_tensor(input), self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class PReLU(Module):
    """x where x > 0, else a·x, with a learned slope ``a`` per channel or shared.

    Parameters
    ----------
    num_parameters : int
        1 (one slope for every channel) or the number of channels (dim 1 of the input).
    init : float
        The slopes' initial value; 0.25 by default.
    device : None or 'cpu'
        Only the CPU is supported.
    dtype : dtype, optional
        float32 or float64; the default float dtype when omitted.

    Attributes
    ----------
    weight : Parameter of shape (num_parameters,)
        The slopes, filled with ``init``.

    Shapes
    ------
    input ``(N, C, *)`` (any shape when ``num_parameters`` is 1) → output the same shape.
    """

    def __init__(
        self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        devices.check_cpu(device, "nn.PReLU")
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(np.empty(num_parameters, dtype=float_dtype(dtype)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Fill ``weight`` with ``init`` again."""
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        """prelu(input, weight)."""
        return F.prelu(as_tensor(input), self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """Randomized leaky ReLU: x where x > 0, else a·x with a ~ U(lower, upper) drawn per
    element in training mode, and a = (lower + upper)/2 in evaluation mode.

    Parameters
    ----------
    lower, upper : float
        The slopes' range, 1/8 and 1/3 by default.
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.
    generator : numpy.random.Generator, int seed or None
        Keyword-only (not in PyTorch): draws the slopes; chainrule's global generator by
        default. An int seeds a generator owned by this layer.

    Shapes
    ------
    input any shape → output the same shape.
    """

    def __init__(
        self,
        lower: float = 1.0 / 8,
        upper: float = 1.0 / 3,
        inplace: bool = False,
        *,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace
        self.generator = None if generator is None else resolve_generator(generator)

    def forward(self, input: Tensor) -> Tensor:
        """rrelu(input): random slopes in training mode, their mean in evaluation mode."""
        x = as_tensor(input)
        return F.rrelu(x, self.lower, self.upper, self.training, generator=self.generator)

    def extra_repr(self) -> str:
        inplace = ", inplace=True" if self.inplace else ""
        return f"lower={self.lower}, upper={self.upper}{inplace}"
