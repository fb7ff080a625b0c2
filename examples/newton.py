"""Newton's method with exact Hessians: logistic regression in a handful of steps.

Gradient descent moves against the gradient g with a step size you have to choose. Newton's
method also uses the curvature: near the minimum the loss is close to the quadratic
L(w + d) ≈ L(w) + gᵀd + ½ dᵀH d, whose minimum is at d = −H⁻¹g. For logistic regression with a
small ridge term the loss is strictly convex, and Newton's step lands so close to the minimum
that the error is roughly squared at every step ("quadratic convergence"): once |g| is small,
its number of correct digits doubles per step, as the printed log shows.

Both derivatives come from the chain rule: g by one backward pass, H by differentiating the
backward pass (``chainrule.autograd.functional.hessian``, which uses ``create_graph=True``).

    python examples/newton.py [--samples 400] [--features 5] [--steps 8] [--seed 0]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd.functional import hessian


def make_data(samples: int, features: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points from two overlapping Gaussian clouds and their 0/1 labels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, samples).astype(np.float64)
    x = rng.standard_normal((samples, features)) + (2 * y[:, None] - 1) * 0.8
    return np.hstack([x, np.ones((samples, 1))]), y  # a column of ones: the bias


def logistic_loss(x: cr.Tensor, y: cr.Tensor, ridge: float):
    """L(w) = mean(log(1 + e^{zᵢ}) − yᵢzᵢ) + ½·ridge·|w|², with z = x w."""

    def loss(w: cr.Tensor) -> cr.Tensor:
        z = x @ w
        return F.binary_cross_entropy_with_logits(z, y) + 0.5 * ridge * (w * w).sum()

    return loss


def newton(loss, w: cr.Tensor, steps: int) -> list[tuple[int, float, float]]:
    """Run ``steps`` Newton steps from ``w``; return (step, loss, |gradient|) before each."""
    log = []
    for step in range(steps + 1):
        w = w.detach().requires_grad_()
        value = loss(w)
        (g,) = cr.autograd.grad(value, w)
        log.append((step, value.item(), float(np.linalg.norm(g.numpy()))))
        if step == steps:
            break
        h = hessian(loss, w.detach())
        # d = −H⁻¹g: solve the linear system rather than inverting H.
        d = -np.linalg.solve(h.numpy(), g.numpy())
        w = cr.tensor(w.detach().numpy() + d)
    return log


def main(argv: Sequence[str] | None = None) -> list[tuple[int, float, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--features", type=int, default=5)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--ridge", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    x, y = make_data(args.samples, args.features, args.seed)
    loss = logistic_loss(cr.tensor(x), cr.tensor(y), args.ridge)
    log = newton(loss, cr.tensor(np.zeros(x.shape[1])), args.steps)
    print(f"Newton's method on logistic regression: {args.samples} points, {x.shape[1]} weights")
    print("step  loss                |gradient|")
    for step, value, norm in log:
        print(f"{step:4d}  {value:.15f}   {norm:.3e}")
    return log


if __name__ == "__main__":
    main()
