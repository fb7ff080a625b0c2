"""Adadelta: steps whose units follow from running averages of squared gradients and updates."""

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


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), PyTorch's algorithm and defaults.

    With ``g = ±∇ + λθ`` (minus when ``maximize``):

        v ← ρv + (1−ρ)g²,  Δ = √(u + ε)/√(v + ε) · g,  u ← ρu + (1−ρ)Δ²,  θ ← θ − ηΔ

    State per parameter: ``'step'`` (int), ``'square_avg'`` v and ``'acc_delta'`` u (the
    parameter's shape and dtype).

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters, or parameter groups with their own options.
    lr : float
        η, a scale on Δ (1 in the paper).
    rho : float
        ρ, in [0, 1], the smoothing constant of both averages.
    eps : float
        ε, inside both roots.
    weight_decay : float
        λ.
    foreach : bool or None
        Accepted for PyTorch compatibility; the update is already whole-array NumPy.
    capturable : bool
        Must be False (CUDA-graph capture does not exist here).
    maximize : bool
        Ascend the objective instead of descending it.
    differentiable : bool
        Must be False: steps are not recorded by autograd.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            rho=rho,
            eps=eps,
            weight_decay=weight_decay,
            foreach=foreach,
            capturable=capturable,
            maximize=maximize,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_number("learning rate", options["lr"])
        check_number("rho value", options["rho"], high=1.0, closed=True)
        check_number("epsilon value", options["eps"])
        check_number("weight_decay value", options["weight_decay"])
        check_flag("maximize", options["maximize"])
        check_common_options(options)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        # Python floats: NumPy treats them as weak scalars, so float32 stays float32.
        lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros(param.shape, param.dtype)
            state["acc_delta"] = np.zeros(param.shape, param.dtype)
        state["step"] += 1
        v, u = state["square_avg"], state["acc_delta"]

        g = self._effective_grad(param, grad, float(group["weight_decay"]), group["maximize"])
        std, delta = self._scratch(param, 1), self._scratch(param, 2)
        v *= rho
        np.multiply(g, g, out=std)
        std *= 1 - rho
        v += std
        np.add(v, eps, out=std)
        np.sqrt(std, out=std)
        np.add(u, eps, out=delta)
        np.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        u *= rho
        np.multiply(delta, delta, out=std)
        std *= 1 - rho
        u += std
        delta *= lr
        param -= delta
