"""Activation modules: thin wrappers over :mod:`chainrule.functional`'s activations.

They take PyTorch's argument names (``dim`` for softmax, where chainrule.functional says
``axis``), and all keep their input's shape.
"""

from __future__ import annotations

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
    """max(x, 0), elementwise (gradient 0 at 0). Shapes: any shape → the same shape."""

    def forward(self, input: Tensor) -> Tensor:
        """max(input, 0)."""
        return F.relu(as_tensor(input))


class LeakyReLU(Module):
    """x where x > 0, else ``negative_slope``·x, elementwise.

    Parameters
    ----------
    negative_slope : float
        Slope for negative inputs; 0.01 by default.

    Shapes
    ------
    input any shape → output the same shape.
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, input: Tensor) -> Tensor:
        """leaky_relu(input)."""
        return F.leaky_relu(as_tensor(input), self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x where x > 0, else α(eˣ − 1), elementwise.

    Parameters
    ----------
    alpha : float
        Value the negative side saturates to (as −α); 1.0 by default.

    Shapes
    ------
    input any shape → output the same shape.
    """

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, input: Tensor) -> Tensor:
        """elu(input)."""
        return F.elu(as_tensor(input), self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


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


class Softmax(Module):
    """e^xᵢ / Σⱼ e^xⱼ along axis ``dim``.

    Parameters
    ----------
    dim : int
        The axis that sums to 1, e.g. 1 for ``(N, C)`` scores. Required: PyTorch's implicit
        choice when it is omitted is deprecated and depends on the input's rank.

    Shapes
    ------
    input any shape with at least ``dim + 1`` axes → output the same shape.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        """softmax(input) along ``dim``."""
        return F.softmax(as_tensor(input), self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """xᵢ − log Σⱼ e^xⱼ along axis ``dim`` (finite where log(softmax) would give −inf).

    Parameters
    ----------
    dim : int
        The axis to normalize over, e.g. 1 for ``(N, C)`` scores. Required, as for
        :class:`Softmax`.

    Shapes
    ------
    input any shape with at least ``dim + 1`` axes → output the same shape.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        """log_softmax(input) along ``dim``."""
        return F.log_softmax(as_tensor(input), self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
