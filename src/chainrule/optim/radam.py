"""RAdam: Adam whose adaptive step is switched on only once the second moment's variance is
tractable, and then rectified."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.optim.optimizer import (
    Optimizer,
    ParamsT,
    check_betas,
    check_common_options,
    check_flag,
    check_number,
)


class RAdam(Optimizer):
    r"""RAdam (Liu et al., 2020), PyTorch's algorithm and defaults.

    With ``g = ±∇ + λθ`` (minus when ``maximize``; λθ only without decoupled decay), at step t:

        m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  m̂ = m/(1−β₁ᵗ),
        ρ∞ = 2/(1−β₂) − 1,  ρₜ = ρ∞ − 2tβ₂ᵗ/(1−β₂ᵗ),
        θ ← θ − η·m̂·rₜ·√(1−β₂ᵗ)/(√v + ε)   if ρₜ > 5,   else θ ← θ − η·m̂

    with the rectification ``rₜ = √((ρₜ−4)(ρₜ−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρₜ))``. With
    ``decoupled_weight_decay`` the gradient is left alone and ``θ ← θ(1 − ηλ)`` first. State per
    parameter: ``'step'`` (int), ``'exp_avg'`` m and ``'exp_avg_sq'`` v.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters, or parameter groups with their own options.
    lr : float
        η.
    betas : tuple of two floats
        (β₁, β₂), each in [0, 1).
    eps : float
        ε, added to √v.
    weight_decay : float
        λ.
    decoupled_weight_decay : bool
        Shrink the parameters directly instead of adding λθ to the gradient.
    foreach : bool or None
        Accepted for PyTorch compatibility; the update is already whole-array NumPy.
    maximize : bool
        Ascend the objective instead of descending it.
    capturable : bool
        Must be False (CUDA-graph capture does not exist here).
    differentiable : bool
        Must be False: steps are not recorded by autograd.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_number("learning rate", options["lr"])
        check_betas(options["betas"])
        check_number("epsilon value", options["eps"])
        check_number("weight_decay value", options["weight_decay"])
        check_flag("decoupled_weight_decay", options["decoupled_weight_decay"])
        check_flag("maximize", options["maximize"])
        check_common_options(options)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        # Python floats: NumPy treats them as weak scalars, so float32 stays float32.
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros(param.shape, param.dtype)
            state["exp_avg_sq"] = np.zeros(param.shape, param.dtype)
        state["step"] += 1
        step = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]

        decoupled = group["decoupled_weight_decay"]
        if decoupled and wd != 0:
            param *= 1 - lr * wd
        g = self._effective_grad(param, grad, 0.0 if decoupled else wd, group["maximize"])
        tmp = self._scratch(param, 1)
        np.subtract(g, m, out=tmp)  # m ← m + (1−β₁)(g − m), PyTorch's lerp
        tmp *= 1 - beta1
        m += tmp
        v *= beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v += tmp

        bias1, bias2 = 1 - beta1**step, 1 - beta2**step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * beta2**step / bias2
        if rho_t > 5.0:
            # The variance of the adaptive rate is finite: rectify it.
            rect = math.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            np.sqrt(v, out=tmp)
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= lr * rect * math.sqrt(bias2) / bias1
        else:
            # Too early for a trustworthy second moment: plain momentum SGD.
            np.multiply(m, lr / bias1, out=tmp)
        param -= tmp
