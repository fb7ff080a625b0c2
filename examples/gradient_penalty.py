"""A WGAN-GP critic on 2-D data: a loss that contains the gradient of the network.

The Wasserstein-1 distance between two distributions P and Q is the largest value of
E_P[f] − E_Q[f] over functions f whose slope is at most 1 everywhere (1-Lipschitz). A WGAN's
critic is a network trained to be that f. The "gradient penalty" (WGAN-GP) keeps its slope near
1 by adding to the loss

    λ · mean over x̂ of (|∇ₓ f(x̂)| − 1)²,   x̂ = a random point between a real and a fake sample.

∇ₓ f is computed by the chain rule with ``create_graph=True``, so the penalty is itself a
tensor with a graph, and training differentiates it again with respect to the weights.

Here P = N((0, 0), I) ("real") and Q = N((shift, 0), I) ("fake"): for two Gaussians that differ
by a translation the distance is exactly |shift|, and the best critic is a ramp f(x) = −s·x₁
of slope s. The penalty is soft: E_P[f] − E_Q[f] − λ(s − 1)² = W·s − λ(s − 1)² is largest at
s = 1 + W/2λ, a little above 1 (1.15 for W = 3, λ = 10). So the trained critic's slope settles
there, its estimate near W·s, and estimate ÷ slope recovers the distance W (about 3.05 here).

    python examples/gradient_penalty.py [--steps 1500] [--shift 3.0] [--seed 0]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

import chainrule as cr
from chainrule import nn


def make_critic(width: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(2, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(), nn.Linear(width, 1)
    ).double()


def gradient_norms(critic: nn.Module, points: cr.Tensor) -> cr.Tensor:
    """|∇ₓ f(x)| at each point (shape (n,)), as a tensor with a graph back to the weights."""
    points = points.detach().requires_grad_()
    (grad,) = cr.autograd.grad(critic(points).sum(), points, create_graph=True)
    return ((grad**2).sum(dim=1) + 1e-12).sqrt()


def critic_loss(critic, real, fake, lam: float, rng: np.random.Generator):
    """E_Q[f] − E_P[f] + λ·mean((|∇f(x̂)| − 1)²): minimising it maximises the estimate."""
    t = cr.tensor(rng.uniform(size=(real.shape[0], 1)))
    between = t * real + (1 - t) * fake
    penalty = ((gradient_norms(critic, between) - 1) ** 2).mean()
    return critic(fake).mean() - critic(real).mean() + lam * penalty


def estimate(critic, shift: float, rng: np.random.Generator, n: int = 4000) -> tuple[float, float]:
    """The critic's distance estimate E_P[f] − E_Q[f] and the mean slope between P and Q."""
    real, fake = sample(rng, n, 0.0), sample(rng, n, shift)
    t = cr.tensor(rng.uniform(size=(n, 1)))
    slope = gradient_norms(critic, t * real + (1 - t) * fake).mean().item()
    with cr.no_grad():
        distance = (critic(real).mean() - critic(fake).mean()).item()
    return distance, slope


def sample(rng: np.random.Generator, n: int, shift: float) -> cr.Tensor:
    return cr.tensor(rng.standard_normal((n, 2)) + np.array([shift, 0.0]))


def main(argv: Sequence[str] | None = None) -> tuple[float, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--shift", type=float, default=3.0)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--penalty", type=float, default=10.0, help="λ")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    cr.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    critic = make_critic(64)
    opt = cr.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))
    for step in range(1, args.steps + 1):
        real, fake = sample(rng, args.batch, 0.0), sample(rng, args.batch, args.shift)
        opt.zero_grad()
        critic_loss(critic, real, fake, args.penalty, rng).backward()
        opt.step()
        if step % max(args.steps // 5, 1) == 0:
            distance, slope = estimate(critic, args.shift, rng)
            print(f"step {step:5d}  distance estimate {distance:.3f}  mean slope {slope:.3f}")
    distance, slope = estimate(critic, args.shift, rng)
    print(
        f"true distance {abs(args.shift):.3f}; critic's estimate {distance:.3f}, "
        f"mean |∇f| between the samples {slope:.3f} "
        f"(best slope 1 + W/2λ = {1 + abs(args.shift) / (2 * args.penalty):.3f}); "
        f"estimate ÷ slope {distance / slope:.3f}"
    )
    return distance, slope


if __name__ == "__main__":
    main()
