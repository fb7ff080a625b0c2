"""ASGD: stochastic gradient descent with a decaying step and a running (Polyak) average."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.optim.optimizer import (
    Optimizer,
    ParamsT,
    check_common_options,
    check_flag,
    check_number,
)


class ASGD(Optimizer):
    r"""Averaged SGD (Polyak & Juditsky, 1992), PyTorch's algorithm and defaults.

    With ``g = ±∇ + λθ`` (minus when ``maximize``), at step t:

        θ ← θ(1 − κηₜ) − ηₜg,  θ̄ ← θ̄ + μₜ(θ − θ̄),
        ηₜ₊₁ = η/(1 + κηt)^α,  μₜ₊₁ = 1/max(1, t − t₀)

    with η₁ = η and μ₁ = 1. θ̄ is the averaged iterate; the parameters themselves keep the plain
    SGD trajectory. State per parameter: ``'step'`` (int), ``'eta'`` ηₜ and ``'mu'`` μₜ (floats),
    and ``'ax'`` θ̄ (the parameter's shape and dtype).

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters, or parameter groups with their own options.
    lr : float
        η.
    lambd : float
        κ, the decay term.
    alpha : float
        α, the power of the step's decay.
    t0 : float
        t₀, the step at which averaging starts.
    weight_decay : float
        λ.
    foreach : bool or None
        Accepted for PyTorch compatibility; the update is already whole-array NumPy.
    maximize : bool
        Ascend the objective instead of descending it.
    differentiable : bool
        Must be False: steps are not recorded by autograd.
    capturable : bool
        Must be False (CUDA-graph capture does not exist here).
    """

    _scalar_state = ("step", "eta", "mu")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            lambd=lambd,
            alpha=alpha,
            t0=t0,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_number("learning rate", options["lr"])
        check_number("lambd", options["lambd"])
        check_number("alpha", options["alpha"])
        check_number("t0", options["t0"])
        check_number("weight_decay value", options["weight_decay"])
        check_flag("maximize", options["maximize"])
        check_common_options(options)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        # Python floats: NumPy treats them as weak scalars, so float32 stays float32.
        lr, lambd = float(group["lr"]), float(group["lambd"])
        if not state:
            state["step"] = 0
            state["eta"] = lr
            state["mu"] = 1.0
            state["ax"] = np.zeros(param.shape, param.dtype)
        state["step"] += 1
        step, eta, mu = state["step"], float(state["eta"]), float(state["mu"])
        ax = state["ax"]

        g = self._effective_grad(param, grad, float(group["weight_decay"]), group["maximize"])
        tmp = self._scratch(param, 1)
        param *= 1 - lambd * eta
        np.multiply(g, eta, out=tmp)
        param -= tmp
        if mu != 1:
            np.subtract(param, ax, out=tmp)
            tmp *= mu
            ax += tmp
        else:
            np.copyto(ax, param)
        state["eta"] = lr / ((1 + lambd * lr * step) ** float(group["alpha"]))
        state["mu"] = 1 / max(1, step - float(group["t0"]))
