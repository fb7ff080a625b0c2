"""Adamax: Adam with the second moment replaced by an exponentially weighted infinity norm."""

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


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2015, section 7), PyTorch's algorithm and defaults.

    With ``g = ±∇ + λθ`` (minus when ``maximize``), at step t:

        m ← β₁m + (1−β₁)g,  u ← max(β₂u, |g| + ε),  θ ← θ − η/(1−β₁ᵗ) · m/u

    State per parameter: ``'step'`` (int), ``'exp_avg'`` m and ``'exp_inf'`` u (the parameter's
    shape and dtype).

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters, or parameter groups with their own options.
    lr : float
        η.
    betas : tuple of two floats
        (β₁, β₂), each in [0, 1).
    eps : float
        ε, added to |g| so that u is never zero.
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

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_number("learning rate", options["lr"])
        check_betas(options["betas"])
        check_number("epsilon value", options["eps"])
        check_number("weight_decay value", options["weight_decay"])
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
            state["exp_inf"] = np.zeros(param.shape, param.dtype)
        state["step"] += 1
        m, u = state["exp_avg"], state["exp_inf"]

        g = self._effective_grad(param, grad, wd, group["maximize"])
        tmp = self._scratch(param, 1)
        np.subtract(g, m, out=tmp)  # m ← m + (1−β₁)(g − m), PyTorch's lerp
        tmp *= 1 - beta1
        m += tmp
        np.abs(g, out=tmp)
        tmp += eps
        u *= beta2
        np.maximum(u, tmp, out=u)
        np.divide(m, u, out=tmp)
        tmp *= lr / (1 - beta1 ** state["step"])
        param -= tmp
