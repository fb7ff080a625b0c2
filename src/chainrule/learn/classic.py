"""Backpropagation the way the article writes it: an MLP in pure NumPy, one equation per line.

This module does not use the autodiff engine at all. It exists to be read next to the math and
to be checked against the engine (``tests/test_classic.py``: equal to 1e-12 in float64).

Notation (m samples, layer ``l`` = 1 … L, ``a⁽⁰⁾ = x``)::

    z⁽ˡ⁾ = a⁽ˡ⁻¹⁾ W⁽ˡ⁾ᵀ + b⁽ˡ⁾            W⁽ˡ⁾ of shape (n_l, n_{l−1}), PyTorch's Linear layout
    a⁽ˡ⁾ = f(z⁽ˡ⁾)
    δ⁽ᴸ⁾ = ∂ℓ/∂z⁽ᴸ⁾                      ℓ the loss of one sample, so L = mean over samples of ℓ
    δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾) ⊙ f′(z⁽ˡ⁾)
    ∇W⁽ˡ⁾ = δ⁽ˡ⁾ᵀ a⁽ˡ⁻¹⁾ / m             the one and only division by m (the article's bug 3)
    ∇b⁽ˡ⁾ = mean over samples of δ⁽ˡ⁾
    W⁽ˡ⁾ ← W⁽ˡ⁾ − η ∇W⁽ˡ⁾

The losses match chainrule's ``reduction='mean'`` modules: MSE and L1 average over every
element, so with k outputs one sample's loss is the mean over its k values.

Example::

    net = ClassicMLP.from_sequential(model, loss="bce")
    result = net.backprop(x, y)          # result.grad_W[0] has the shape of model[0].weight
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Array = np.ndarray


# ----- activations: f and f′ ---------------------------------------------------------------------
def sigmoid(z: Array) -> Array:
    """σ(z) = 1/(1 + e^−z), written so that neither tail overflows."""
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


#: name → (f, f′ written in terms of z and a = f(z)); f′ takes both because σ′ and tanh′ are
#: cheapest (and, for σ, most exact) from a, while relu′ needs z.
ACTIVATIONS: dict[str, tuple[Callable[[Array], Array], Callable[[Array, Array], Array]]] = {
    "sigmoid": (sigmoid, lambda z, a: a * (1.0 - a)),  # σ′(z) = σ(z)(1 − σ(z)) = a(1 − a)
    "tanh": (np.tanh, lambda z, a: 1.0 - a * a),  # tanh′(z) = 1 − tanh²(z) = 1 − a²
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(z.dtype)),
    "identity": (lambda z: z, lambda z, a: np.ones_like(z)),
}

#: name → a short formula, printed by ``chainrule explain``.
ACTIVATION_RULES = {
    "sigmoid": "σ′(z) = a(1 − a)",
    "tanh": "tanh′(z) = 1 − a²",
    "relu": "relu′(z) = 1 where z > 0, else 0",
    "identity": "f′(z) = 1",
}

LOSSES = ("mse", "l1", "bce", "cross_entropy")

#: name → the per-sample output error δ⁽ᴸ⁾ = ∂ℓ/∂z⁽ᴸ⁾, as printed by ``chainrule explain``.
LOSS_RULES = {
    "mse": "ℓ = mean_k (a − y)²  ⇒  δ⁽ᴸ⁾ = 2(a − y)/k ⊙ f′(z⁽ᴸ⁾)",
    "l1": "ℓ = mean_k |a − y|  ⇒  δ⁽ᴸ⁾ = sign(a − y)/k ⊙ f′(z⁽ᴸ⁾)",
    "bce": "ℓ = −mean_k [y log a + (1 − y) log(1 − a)], a = σ(z)  ⇒  δ⁽ᴸ⁾ = (a − y)/k",
    "cross_entropy": "ℓ = −log softmax(z)_y  ⇒  δ⁽ᴸ⁾ = softmax(z) − onehot(y)",
}


@dataclass
class Layer:
    """One fully connected layer and the activation that follows it.

    ``W`` has shape (n_out, n_in) and ``b`` shape (n_out,), as ``nn.Linear``'s weight and bias.
    ``has_bias=False`` (``Linear(bias=False)``): ``b`` stays zero; its gradient is reported as 0.
    """

    W: Array
    b: Array
    activation: str = "identity"
    has_bias: bool = True


@dataclass
class Backprop:
    """Everything one forward and backward pass computed, indexed by layer (0-based: the
    article's layer l is index l − 1).

    ``z[i]`` and ``a[i + 1]`` have shape (m, n_l); ``a[0]`` is the input x of shape (m, n_0);
    ``delta[i]`` has the shape of ``z[i]``; ``grad_W[i]`` and ``grad_b[i]`` the shapes of the
    layer's W and b.
    """

    z: list[Array]
    a: list[Array]
    loss: float
    delta: list[Array]
    grad_W: list[Array]
    grad_b: list[Array]
    m: int = field(default=0)


class ClassicMLP:
    """A multi-layer perceptron trained by the article's δ-rule, in plain NumPy.

    Parameters
    ----------
    layers : list of Layer
        The layers in order; each Layer's activation follows its affine map.
    loss : {'mse', 'l1', 'bce', 'cross_entropy'}
        ``'bce'`` needs a sigmoid output layer; ``'cross_entropy'`` an identity output (the
        logits) and integer class targets of shape (m,).
    """

    def __init__(self, layers: list[Layer], loss: str = "mse") -> None:
        if not layers:
            raise ValueError("ClassicMLP needs at least one layer")
        for layer in layers:
            if layer.activation not in ACTIVATIONS:
                raise ValueError(
                    f"activation {layer.activation!r} is not one of {sorted(ACTIVATIONS)}"
                )
        if loss not in LOSSES:
            raise ValueError(f"loss {loss!r} is not one of {LOSSES}")
        if loss == "bce" and layers[-1].activation != "sigmoid":
            raise ValueError("loss 'bce' is the log loss of a sigmoid output: end with Sigmoid")
        if loss == "cross_entropy" and layers[-1].activation != "identity":
            raise ValueError("loss 'cross_entropy' takes the logits: end with a Linear layer")
        self.layers = layers
        self.loss = loss

    @classmethod
    def from_sequential(cls, model: Any, loss: str = "mse", dtype: Any = np.float64) -> ClassicMLP:
        """Copy the weights of an ``nn.Sequential`` of Linear layers each followed by an optional
        Sigmoid, Tanh, ReLU or Identity (the copies are ``dtype``; the model is not changed)."""
        from chainrule import nn

        kinds = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ReLU: "relu", nn.Identity: None}
        layers: list[Layer] = []
        for module in model:
            if isinstance(module, nn.Linear):
                has_bias = module.bias is not None
                bias = module.bias._data if has_bias else np.zeros(len(module.weight))
                weight = module.weight._data.astype(dtype)
                layers.append(Layer(weight, bias.astype(dtype), has_bias=has_bias))
            elif type(module) in kinds:
                if not layers or layers[-1].activation != "identity":
                    raise ValueError(f"{type(module).__name__} must follow a Linear layer")
                layers[-1].activation = kinds[type(module)] or "identity"
            else:
                raise ValueError(
                    f"ClassicMLP reads Linear, Sigmoid, Tanh and ReLU layers; got "
                    f"{type(module).__name__}"
                )
        return cls(layers, loss)

    # ----- forward ------------------------------------------------------------------------------
    def forward(self, x: Array) -> tuple[list[Array], list[Array]]:
        """z⁽ˡ⁾ and a⁽ˡ⁾ for every layer: lists ``z`` (L arrays) and ``a`` (L + 1, a[0] = x)."""
        a = [np.asarray(x)]
        z: list[Array] = []
        for layer in self.layers:
            f, _ = ACTIVATIONS[layer.activation]
            z.append(a[-1] @ layer.W.T + layer.b)  # z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ᵀ + b⁽ˡ⁾
            a.append(f(z[-1]))  # a⁽ˡ⁾ = f(z⁽ˡ⁾)
        return z, a

    def loss_value(self, z_out: Array, a_out: Array, y: Array) -> float:
        """L, the mean of the per-sample loss ℓ over the m samples."""
        if self.loss == "mse":
            return float(np.mean((a_out - y) ** 2))
        if self.loss == "l1":
            return float(np.mean(np.abs(a_out - y)))
        if self.loss == "bce":
            # Clamp each log at −100, as chainrule and PyTorch do, so a saturated a is finite.
            with np.errstate(divide="ignore"):
                log_a = np.maximum(np.log(a_out), -100.0)
                log_1ma = np.maximum(np.log1p(-a_out), -100.0)
            return float(-np.mean(y * log_a + (1 - y) * log_1ma))
        shifted = z_out - z_out.max(axis=1, keepdims=True)  # log-sum-exp without overflow
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-np.mean(log_p[np.arange(len(y)), y]))

    def output_delta(self, z_out: Array, a_out: Array, y: Array) -> Array:
        """δ⁽ᴸ⁾ = ∂ℓ/∂z⁽ᴸ⁾ for each sample; shape (m, n_L)."""
        k = a_out.shape[1]
        _, f_prime = ACTIVATIONS[self.layers[-1].activation]
        if self.loss == "mse":
            return 2.0 * (a_out - y) / k * f_prime(z_out, a_out)
        if self.loss == "l1":
            return np.sign(a_out - y) / k * f_prime(z_out, a_out)
        if self.loss == "bce":
            # σ′ cancels against the log loss's 1/(a(1 − a)): no σ′ here (the article's bug 4).
            return (a_out - y) / k
        p = np.exp(z_out - z_out.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(y)), y] -= 1.0  # softmax(z) − onehot(y)
        return p

    # ----- backward -----------------------------------------------------------------------------
    def backprop(self, x: Array, y: Array) -> Backprop:
        """One forward and backward pass on the batch (x of shape (m, n_0), y the targets)."""
        z, a = self.forward(x)
        m = len(x)
        L = len(self.layers)
        delta: list[Array] = [np.empty(0)] * L
        delta[L - 1] = self.output_delta(z[-1], a[-1], y)
        for i in range(L - 2, -1, -1):
            _, f_prime = ACTIVATIONS[self.layers[i].activation]
            # δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾) ⊙ f′(z⁽ˡ⁾)
            delta[i] = (delta[i + 1] @ self.layers[i + 1].W) * f_prime(z[i], a[i + 1])
        grad_W = [delta[i].T @ a[i] / m for i in range(L)]  # ∇W⁽ˡ⁾ = δ⁽ˡ⁾ᵀ a⁽ˡ⁻¹⁾ / m
        grad_b = [self._grad_b(i, delta[i]) for i in range(L)]  # ∇b⁽ˡ⁾ = mean δ⁽ˡ⁾
        return Backprop(z, a, self.loss_value(z[-1], a[-1], y), delta, grad_W, grad_b, m)

    def _grad_b(self, i: int, delta: Array) -> Array:
        layer = self.layers[i]
        return delta.mean(axis=0) if layer.has_bias else np.zeros_like(layer.b)

    def step(self, result: Backprop, lr: float) -> None:
        """Gradient descent: W⁽ˡ⁾ ← W⁽ˡ⁾ − η∇W⁽ˡ⁾, b⁽ˡ⁾ ← b⁽ˡ⁾ − η∇b⁽ˡ⁾ (each its own gradient:
        the article's bug 2)."""
        for layer, gW, gb in zip(self.layers, result.grad_W, result.grad_b):
            layer.W = layer.W - lr * gW
            layer.b = layer.b - lr * gb

    def parameters(self) -> list[Array]:
        """[W⁽¹⁾, b⁽¹⁾, W⁽²⁾, …]: the arrays themselves (changing them changes the network)."""
        return [p for layer in self.layers for p in (layer.W, layer.b)]

    def loss_at(self, x: Array, y: Array) -> float:
        """L for the current weights (for numeric gradients)."""
        z, a = self.forward(x)
        return self.loss_value(z[-1], a[-1], y)

    def numeric_gradients(self, x: Array, y: Array, eps: float = 1e-6) -> list[Array]:
        """Central differences (L(w + ε) − L(w − ε))/2ε for every parameter, in
        :meth:`parameters` order. Costs two forward passes per parameter: use small networks."""
        grads = []
        fixed = {id(layer.b) for layer in self.layers if not layer.has_bias}
        for p in self.parameters():
            g = np.zeros_like(p)
            if id(p) in fixed:  # the zero bias of a bias-free layer is not a parameter
                grads.append(g)
                continue
            flat, gflat = p.reshape(-1), g.reshape(-1)  # views: writing flat[j] moves p
            for j in range(flat.size):
                saved = flat[j]
                flat[j] = saved + eps
                up = self.loss_at(x, y)
                flat[j] = saved - eps
                down = self.loss_at(x, y)
                flat[j] = saved
                gflat[j] = (up - down) / (2 * eps)
            grads.append(g)
        return grads
