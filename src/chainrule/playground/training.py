"""The playground's training step, shared word for word by the live session and the exported
script (:mod:`chainrule.playground.export` copies these functions' source into the script, so
the script cannot drift from what the page ran).

One step: the next batch from :class:`Batches`, the data loss plus the optional L1/L2 penalty
on the weights (not the biases), ``backward()``, and ``optim.SGD``'s update.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chainrule import nn, optim
from chainrule._tensor import Tensor, tensor

ACTIVATION_MODULES = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "linear": None}


def build_model(n_in: int, hidden: list[int], activation: str, problem: str) -> nn.Sequential:
    """Linear → activation per hidden width, then one output: a sigmoid unit (the probability of
    class 1) for classification, a linear unit for regression; float64 throughout.

    Draws from chainrule's global generator: call ``chainrule.manual_seed`` first.
    """
    layers: list[nn.Module] = []
    width = n_in
    act = ACTIVATION_MODULES[activation]
    for h in hidden:
        layers.append(nn.Linear(width, h))
        if act is not None:  # "linear" hidden units have no activation module at all
            layers.append(act())
        width = h
    layers.append(nn.Linear(width, 1))
    if problem == "classification":
        layers.append(nn.Sigmoid())
    return nn.Sequential(*layers).double()


def loss_module(problem: str) -> nn.Module:
    """Log loss on the sigmoid output (classification) or mean squared error (regression)."""
    return nn.BCELoss() if problem == "classification" else nn.MSELoss()


class Batches:
    """Mini-batches in a fresh seeded order each epoch; the batch size may change between steps.

    A batch takes the next ``batch_size`` indices of the epoch's order, or what is left of it,
    so every sample is seen once per epoch whatever the sizes were.
    """

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed = n, seed
        self.epoch, self.cursor = 0, 0
        self.order = np.random.default_rng([seed, 0]).permutation(n)

    def next(self, batch_size: int) -> np.ndarray:
        """The indices of the next batch (the epoch counter moves on after its last batch)."""
        idx = self.order[self.cursor : self.cursor + batch_size]
        self.cursor += len(idx)
        if self.cursor >= self.n:
            self.epoch, self.cursor = self.epoch + 1, 0
            self.order = np.random.default_rng([self.seed, self.epoch]).permutation(self.n)
        return idx


def penalty(model: nn.Sequential, kind: str, rate: float) -> Tensor:
    """The regularization term added to the loss: rate·Σ|w| (L1) or rate·½Σw² (L2), weights
    only (a penalty on biases would pull every boundary through the origin)."""
    weights = [m.weight for m in model if isinstance(m, nn.Linear)]
    if kind == "l1":
        total = weights[0].abs().sum()
        for w in weights[1:]:
            total = total + w.abs().sum()
        return total * rate
    total = (weights[0] * weights[0]).sum()
    for w in weights[1:]:
        total = total + (w * w).sum()
    return total * (0.5 * rate)


def train_step(
    model: nn.Sequential,
    loss_fn: nn.Module,
    optimizer: optim.SGD,
    xb: np.ndarray,
    yb: np.ndarray,
    regularization: str,
    rate: float,
) -> float:
    """One SGD step on the batch (xb, yb); returns the batch's data loss (before the step)."""
    optimizer.zero_grad()
    data_loss = loss_fn(model(tensor(xb)), yb)
    total = data_loss
    if regularization != "none" and rate > 0:
        total = data_loss + penalty(model, regularization, rate)
    total.backward()
    optimizer.step()
    return data_loss.item()


@dataclass
class StepRecord:
    """What a step used and produced, for the gradient panel: the batch, the weights before
    the step, the autograd gradients it applied, and the options in force."""

    step: int
    idx: np.ndarray
    before: list[np.ndarray]
    grads: list[np.ndarray]
    lr: float
    regularization: str
    rate: float
