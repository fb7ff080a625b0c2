"""The article's XOR network on raw tensors: no layers, no optimizer, just the chain rule.

``examples/seed_xor.py`` trains the same network with ``nn`` and ``optim``; this version writes
every parameter and update out by hand, the way the article writes it:

    z1 = X W1 + b1,   a1 = σ(z1)          (hidden layer, 4 units)
    z2 = a1 W2 + b2,  a2 = σ(z2)          (output, the probability of a 1)
    cost = −mean[y log a2 + (1 − y) log(1 − a2)]

``cost.backward()`` computes every ∂cost/∂w by the chain rule, and gradient descent updates each
parameter with w := w − η ∂cost/∂w. Run it:

    python examples/xor_raw_tensors.py [--epochs 1000] [--lr 3.0] [--seed 0]

With the defaults it converges (all four predictions on the right side of 0.5, cost below
0.05) for every seed from 0 to 499; the test suite checks a range of seeds.
"""

from __future__ import annotations

import argparse

import numpy as np

import chainrule as cr
import chainrule.functional as F

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


def init_parameters(seed: int) -> list[cr.Tensor]:
    """Random weights, uniform in ±1/√fan_in (small enough to start in sigmoid's linear range)."""
    rng = np.random.default_rng(seed)

    def uniform(shape: tuple[int, ...], fan_in: int) -> cr.Tensor:
        bound = 1.0 / np.sqrt(fan_in)
        values = rng.uniform(-bound, bound, size=shape).astype(np.float32)
        return cr.tensor(values, requires_grad=True)

    w1, b1 = uniform((2, 4), 2), uniform((4,), 2)
    w2, b2 = uniform((4, 1), 4), uniform((1,), 4)
    return [w1, b1, w2, b2]


def forward(params: list[cr.Tensor], x: cr.Tensor) -> cr.Tensor:
    """The network's output a2 = σ(σ(x W1 + b1) W2 + b2), shape (n, 1)."""
    w1, b1, w2, b2 = params
    a1 = (x @ w1 + b1).sigmoid()
    return (a1 @ w2 + b2).sigmoid()


def train(epochs: int = 1000, lr: float = 3.0, seed: int = 0, verbose: bool = True):
    """Full-batch gradient descent on the four XOR points; returns (params, final cost)."""
    params = init_parameters(seed)
    x, y = cr.tensor(X), cr.tensor(Y)
    cost = None
    for epoch in range(1, epochs + 1):
        a2 = forward(params, x)
        cost = F.binary_cross_entropy(a2, y)
        cost.backward()
        for p in params:
            p.data -= lr * p.grad.data  # outside the graph, as in PyTorch
            p.grad = None
        if verbose and (epoch == 1 or epoch % 10 == 0):
            print(f"Epoch {epoch:4d}/{epochs} Cost: {cost.item():.6f}")
    return params, cost.item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    params, _ = train(args.epochs, args.lr, args.seed)
    with cr.no_grad():
        predictions = forward(params, cr.tensor(X)).numpy()
    print("\nPredictions after training:")
    for (a, b), target, p in zip(X.astype(int), Y[:, 0].astype(int), predictions[:, 0]):
        print(f"  {a} XOR {b} = {target}   predicted {p:.4f} -> {int(p > 0.5)}")


if __name__ == "__main__":
    main()
