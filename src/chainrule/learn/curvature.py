"""The second derivative of the article's XOR loss: a layer's Hessian, and what it says about
the learning rate.

The gradient ∇L tells gradient descent which way is down; the Hessian H = ∂²L/∂w∂w tells how
the slope itself changes. Along an eigenvector of H with eigenvalue λ, the loss near w is a
parabola ½λt², and one gradient-descent step multiplies the distance to its bottom by (1 − ηλ):
steps shrink it only while η < 2/λ. So the largest eigenvalue bounds the learning rate that
descends smoothly, and negative eigenvalues mark directions where the surface curves down (a
saddle, common in the XOR landscape).

:func:`explain_curvature` computes H for one layer's weights twice — by differentiating the
backward pass (``create_graph=True``) and by central differences of the gradient — and its
eigenvalues.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np

from chainrule import autograd, nn, tensor
from chainrule.learn.explanation import article_problem


@dataclass
class Curvature:
    """The Hessian of the loss with respect to one layer's weight matrix.

    Attributes
    ----------
    layer : int
        Which Linear layer (1 = the first), as in the article's W⁽¹⁾, W⁽²⁾.
    shape : tuple of int
        The weight's shape (out, in); H is indexed by its flattened (row-major) entries.
    hessian : ndarray of shape (n, n)
        By the chain rule applied twice (``autograd.grad(..., create_graph=True)``).
    numeric : ndarray of shape (n, n)
        By central differences of the first-order gradient.
    eigenvalues : ndarray of shape (n,)
        Of ``hessian`` (symmetric), in increasing order.
    loss : float
        The loss at the current weights.
    tolerance : float
        What :attr:`agree` allows between the two Hessians, relative to the largest entry.
    """

    layer: int
    shape: tuple[int, ...]
    hessian: np.ndarray
    numeric: np.ndarray
    eigenvalues: np.ndarray
    loss: float
    tolerance: float = 1e-6

    @property
    def worst_difference(self) -> float:
        """The largest |autograd − finite differences| over the Hessian's entries."""
        return float(np.max(np.abs(self.hessian - self.numeric), initial=0.0))

    @property
    def agree(self) -> bool:
        """True when autograd's Hessian and the finite differences agree to :attr:`tolerance`
        (relative to the largest |entry|, at least 1)."""
        scale = max(1.0, float(np.max(np.abs(self.hessian), initial=0.0)))
        return self.worst_difference <= self.tolerance * scale

    def __str__(self) -> str:
        return format_curvature(self)


def _linear_layers(model: nn.Sequential) -> list[nn.Linear]:
    return [m for m in model if isinstance(m, nn.Linear)]


def _loss(model: nn.Module, x: np.ndarray, y: np.ndarray):
    """The article's squared loss, averaged: L = mean((ŷ − y)²)."""
    return ((model(tensor(x)) - tensor(y)) ** 2).mean()


def explain_curvature(
    model: nn.Sequential | None = None,
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    layer: int = 2,
    seed: int = 0,
    eps: float = 1e-6,
) -> Curvature:
    """The Hessian of the squared loss with respect to Linear layer ``layer``'s weights.

    Parameters
    ----------
    model, x, y : optional
        A float64 ``nn.Sequential`` and its data; by default the article's 2-4-1 sigmoid
        network on the four XOR points (initial weights from ``seed``).
    layer : int
        1 for W⁽¹⁾ (4×2 = 8 weights), 2 for W⁽²⁾ (1×4), and so on.
    eps : float
        Step of the central differences.
    """
    if model is None:
        model, x, y = article_problem(seed)
    layers = _linear_layers(model)
    if not 1 <= layer <= len(layers):
        raise ValueError(f"layer must be between 1 and {len(layers)}; got {layer}")
    w = layers[layer - 1].weight
    loss = _loss(model, x, y)
    (g,) = autograd.grad(loss, w, create_graph=True)
    flat = g.reshape(-1)
    rows = [
        autograd.grad(flat[i], w, retain_graph=True)[0].numpy().ravel() for i in range(w.numel())
    ]
    hessian = np.array(rows)
    return Curvature(
        layer=layer,
        shape=tuple(w.shape),
        hessian=hessian,
        numeric=_numeric_hessian(model, w, x, y, eps),
        eigenvalues=np.linalg.eigvalsh((hessian + hessian.T) / 2),
        loss=float(loss.item()),
    )


def _numeric_hessian(model, w, x, y, eps) -> np.ndarray:
    """Column k: (∇L(w + εe_k) − ∇L(w − εe_k)) / 2ε, each gradient a first-order backward."""
    values = w.numpy().reshape(-1)  # shares memory with w: nudged and restored in place
    columns = []
    for k in range(values.size):
        grads = []
        for step in (eps, -eps):
            values[k] += step
            grads.append(autograd.grad(_loss(model, x, y), w)[0].numpy().ravel())
            values[k] -= step
        columns.append((grads[0] - grads[1]) / (2 * eps))
    return np.array(columns).T


def format_curvature(c: Curvature) -> str:
    """The printed lesson: the Hessian, the check, the eigenvalues and the learning-rate bound."""
    n = c.hessian.shape[0]
    top = c.eigenvalues[-1]
    lines = [
        f"chainrule explain --order 2: the Hessian of the loss L = mean((ŷ − y)²) = {c.loss:.6f}",
        f"with respect to W⁽{c.layer}⁾ (shape {c.shape}, {n} weights, flattened row by row):",
        "",
        "H = ∂²L/∂w∂w, by differentiating the backward pass (create_graph=True):",
        np.array2string(c.hessian, precision=5, suppress_small=True, max_line_width=100),
        "",
        f"checked against central differences of the gradient: worst difference "
        f"{c.worst_difference:.2e} ({'agree' if c.agree else 'DISAGREE'})",
        "",
        "eigenvalues of H (the curvature along its principal directions):",
        "  " + np.array2string(c.eigenvalues, precision=5, max_line_width=96),
    ]
    if top > 0:
        lines += _wrapped(
            f"largest λ = {top:.5f}: a gradient step along that direction multiplies the distance "
            f"to the bottom by (1 − ηλ), so it converges only for η < 2/λ = {2 / top:.3f}"
        )
    if c.eigenvalues[0] < 0:
        lines += _wrapped(
            f"smallest λ = {c.eigenvalues[0]:.5f} < 0: along that direction the loss curves down "
            "(a saddle, not a minimum), and gradient descent moves away from it"
        )
    return "\n".join(lines)


def _wrapped(text: str) -> list[str]:
    return textwrap.wrap(text, width=98, subsequent_indent="  ")
