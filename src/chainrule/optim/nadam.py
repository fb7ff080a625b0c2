"""NAdam: Adam with Nesterov momentum, the first moment looked one step ahead."""

from __future__ import annotations

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


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016), PyTorch's algorithm and defaults.

    With ``g = ±∇ + λθ`` (minus when ``maximize``; λθ only without decoupled decay), at step t:

        μₜ = β₁(1 − ½·0.96^(tψ)),  Πₜ = Π_{i≤t} μᵢ,
        m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  d = √(v/(1−β₂ᵗ)) + ε,
        θ ← θ − η(1−μₜ)/(1−Πₜ) · g/d − ημₜ₊₁/(1−Πₜμₜ₊₁) · m/d

    where ψ is ``momentum_decay``. With ``decoupled_weight_decay`` the gradient is left alone and
    ``θ ← θ(1 − ηλ)`` first (NAdamW). State per parameter: ``'step'`` (int), ``'mu_product'`` Πₜ
    (float), ``'exp_avg'`` m and ``'exp_avg_sq'`` v (the parameter's shape and dtype).

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters, or parameter groups with their own options.
    lr : float
        η.
    betas : tuple of two floats
        (β₁, β₂), each in [0, 1).
    eps : float
        ε, added to the bias-corrected root.
    weight_decay : float
        λ.
    momentum_decay : float
        ψ, how fast the momentum coefficient μₜ approaches β₁.
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

    _scalar_state = ("step", "mu_product")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
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
            momentum_decay=momentum_decay,
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
        check_number("momentum_decay value", options["momentum_decay"])
        check_flag("decoupled_weight_decay", options["decoupled_weight_decay"])
        check_flag("maximize", options["maximize"])
        check_common_options(options)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        # Python floats: NumPy treats them as weak scalars, so float32 stays float32.
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        psi = float(group["momentum_decay"])
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
            state["exp_avg"] = np.zeros(param.shape, param.dtype)
            state["exp_avg_sq"] = np.zeros(param.shape, param.dtype)
        state["step"] += 1
        step = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]

        decoupled = group["decoupled_weight_decay"]
        if decoupled and wd != 0:
            param *= 1 - lr * wd
        g = self._effective_grad(param, grad, 0.0 if decoupled else wd, group["maximize"])

        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
        mu_product = state["mu_product"] = float(state["mu_product"]) * mu
        tmp, denom = self._scratch(param, 1), self._scratch(param, 2)

        np.subtract(g, m, out=tmp)  # m ← m + (1−β₁)(g − m), PyTorch's lerp
        tmp *= 1 - beta1
        m += tmp
        v *= beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v += tmp

        np.divide(v, 1 - beta2**step, out=denom)
        np.sqrt(denom, out=denom)
        denom += eps
        np.divide(g, denom, out=tmp)
        tmp *= lr * (1 - mu) / (1 - mu_product)
        param -= tmp
        np.divide(m, denom, out=tmp)
        tmp *= lr * mu_next / (1 - mu_product * mu_next)
        param -= tmp
