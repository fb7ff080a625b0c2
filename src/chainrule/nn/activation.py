"""Activation modules: thin wrappers over :mod:`chainrule.functional`'s activations.

They take PyTorch's constructor signatures. ``inplace=True`` is accepted where PyTorch has it
and shows in the repr as PyTorch's does, but the result is always a new tensor. All keep their
input's shape. More activations are in :mod:`chainrule.nn.activation_extra`.
"""

from __future__ import annotations

import warnings

from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn.module import Module


class Sigmoid(Module):
    """σ(x) = 1/(1 + e^−x), elementwise. Shapes: input any shape → output the same shape."""

    def forward(self, input: Tensor) -> Tensor:
        """σ(input)."""
        return F.sigmoid(as_tensor(input))


class Tanh(Module):
    """Hyperbolic tangent, elementwise. Shapes: input any shape → output the same shape."""

    def forward(self, input: Tensor) -> Tensor:
        """tanh(input)."""
        return F.tanh(as_tensor(input))


class ReLU(Module):
    """max(x, 0), elementwise (gradient 0 at 0). Shapes: any shape → the same shape.

    Parameters
    ----------
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """max(input, 0)."""
        return F.relu(as_tensor(input))

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x where x > 0, else ``negative_slope``·x, elementwise.

    Parameters
    ----------
    negative_slope : float
        Slope for negative inputs; 0.01 by default.
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.

    Shapes
    ------
    input any shape → output the same shape.
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """leaky_relu(input)."""
        return F.leaky_relu(as_tensor(input), self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x where x > 0, else α(eˣ − 1), elementwise.

    Parameters
    ----------
    alpha : float
        Value the negative side saturates to (as −α); 1.0 by default.
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.

    Shapes
    ------
    input any shape → output the same shape.
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """elu(input)."""
        return F.elu(as_tensor(input), self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """x·Φ(x), Φ the standard normal CDF, elementwise.

    Parameters
    ----------
    approximate : {'none', 'tanh'}
        'tanh' uses the tanh approximation of Φ, as PyTorch does.

    Shapes
    ------
    input any shape → output the same shape.
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh'; got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        """gelu(input)."""
        return F.gelu(as_tensor(input), self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """log(1 + e^(βx))/β elementwise, and x itself where βx > ``threshold``.

    Parameters
    ----------
    beta : float
        Sharpness (> 0); 1.0 by default.
    threshold : float
        Above βx > threshold the function is taken as linear, as in PyTorch; 20.0 by default.

    Shapes
    ------
    input any shape → output the same shape.
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        if beta <= 0:
            raise ValueError(f"Softplus: beta must be > 0; got {beta}")
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        """softplus(input)."""
        return F.softplus(as_tensor(input), self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


def implicit_dim(name: str, ndim: int) -> int:
    """PyTorch's deprecated choice of axis when a softmax module gets ``dim=None``: 0 for 0-,
    1- and 3-D inputs, else 1, with PyTorch's warning."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


class _SoftmaxBase(Module):
    """``dim`` (None: PyTorch's implicit choice, with its warning) and the repr."""

    _name = "softmax"

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def _dim(self, x: Tensor) -> int:
        return implicit_dim(self._name, x.ndim) if self.dim is None else self.dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """e^xᵢ / Σⱼ e^xⱼ along axis ``dim``.

    Parameters
    ----------
    dim : int, optional
        The axis that sums to 1, e.g. 1 for ``(N, C)`` scores. When omitted, PyTorch's
        deprecated implicit choice (0 for 0-, 1- and 3-D inputs, else 1) with its warning.

    Shapes
    ------
    input any shape with at least ``dim + 1`` axes → output the same shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        """softmax(input) along ``dim``."""
        x = as_tensor(input)
        return F.softmax(x, self._dim(x))


class Softmin(_SoftmaxBase):
    """softmax(−x) along axis ``dim``: the smallest entries get the most weight.

    Parameters
    ----------
    dim : int, optional
        The axis that sums to 1; when omitted, PyTorch's implicit choice as for
        :class:`Softmax`.

    Shapes
    ------
    input any shape with at least ``dim + 1`` axes → output the same shape.
    """

    _name = "softmin"

    def forward(self, input: Tensor) -> Tensor:
        """softmin(input) along ``dim``."""
        x = as_tensor(input)
        return F.softmin(x, self._dim(x))


class LogSoftmax(_SoftmaxBase):
    """xᵢ − log Σⱼ e^xⱼ along axis ``dim`` (finite where log(softmax) would give −inf).

    Parameters
    ----------
    dim : int, optional
        The axis to normalize over, e.g. 1 for ``(N, C)`` scores; when omitted, PyTorch's
        implicit choice as for :class:`Softmax`.

    Shapes
    ------
    input any shape with at least ``dim + 1`` axes → output the same shape.
    """

    _name = "log_softmax"

    def forward(self, input: Tensor) -> Tensor:
        """log_softmax(input) along ``dim``."""
        x = as_tensor(input)
        return F.log_softmax(x, self._dim(x))


class Softmax2d(Module):
    """Softmax over the channels at every spatial location (dim −3).

    Shapes
    ------
    input ``(N, C, H, W)`` or ``(C, H, W)`` → output the same shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        """softmax(input) along dim −3."""
        x = as_tensor(input)
        if x.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {x.ndim}D instead")
        return F.softmax(x, -3)
