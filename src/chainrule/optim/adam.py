"""Adam and AdamW: steps scaled by running estimates of the gradient's first and second moments."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.optim.optimizer import (
    Optimizer,
    ParamsT,
    check_common_options,
    check_flag,
    check_number,
)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), PyTorch's algorithm and defaults.

    With ``g = ±∇ + λθ`` (minus when ``maximize``; λθ only without decoupled decay), at step t:

        m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  θ ← θ − η/(1−β₁ᵗ) · m / (√v̂/√(1−β₂ᵗ) + ε)

    where v̂ is v, or with ``amsgrad`` the running maximum of v. With
    ``decoupled_weight_decay`` (AdamW) the gradient is left alone and ``θ ← θ(1 − ηλ)`` first.
    State per parameter: ``'step'`` (int), ``'exp_avg'`` m and ``'exp_avg_sq'`` v (and
    ``'max_exp_avg_sq'`` with amsgrad), each of the parameter's shape and dtype.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters, or parameter groups with their own options.
    lr : float
        η.
    betas : tuple of two floats
        (β₁, β₂), each in [0, 1).
    eps : float
        ε, added to the bias-corrected √v (not inside the root).
    weight_decay : float
        λ.
    amsgrad : bool
        Divide by the largest second-moment estimate seen so far.
    maximize : bool
        Ascend the objective instead of descending it.
    foreach : bool or None
        Accepted for PyTorch compatibility; the update is already whole-array NumPy, so every
        value gives the same step.
    capturable : bool
        Must be False (CUDA-graph capture does not exist here).
    differentiable : bool
        Must be False: steps are not recorded by autograd.
    fused : bool or None
        None or False; fused kernels do not exist here.
    decoupled_weight_decay : bool
        Shrink the parameters directly instead of adding λθ to the gradient (AdamW).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_number("learning rate", options["lr"])
        betas = options["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair of floats, got {betas!r}")
        check_number("beta parameter at index 0", betas[0], high=1.0)
        check_number("beta parameter at index 1", betas[1], high=1.0)
        check_number("epsilon value", options["eps"])
        check_number("weight_decay", options["weight_decay"])
        check_flag("amsgrad", options["amsgrad"])
        check_flag("maximize", options["maximize"])
        check_flag("decoupled_weight_decay", options["decoupled_weight_decay"])
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
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            # Also reached when amsgrad is switched on mid-training (PyTorch raises KeyError);
            # starting from zeros, as on a first step, makes the maximum begin at this step's v.
            state["max_exp_avg_sq"] = np.zeros(param.shape, param.dtype)
        state["step"] += 1
        step = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]

        decoupled = group["decoupled_weight_decay"]
        if decoupled and wd != 0:
            param *= 1 - lr * wd
        g = self._effective_grad(param, grad, 0.0 if decoupled else wd, group["maximize"])
        tmp = self._scratch(param, 1)

        # m ← m + (1−β₁)(g − m): PyTorch's lerp, the same average as β₁m + (1−β₁)g.
        np.subtract(g, m, out=tmp)
        tmp *= 1 - beta1
        m += tmp
        v *= beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - beta2
        v += tmp

        if group["amsgrad"]:
            vmax = state["max_exp_avg_sq"]
            np.maximum(vmax, v, out=vmax)
            v = vmax
        # Bias corrections as Python floats, so they round like PyTorch's and never upcast.
        step_size = lr / (1 - beta1**step)
        np.sqrt(v, out=tmp)
        tmp /= math.sqrt(1 - beta2**step)
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= step_size
        param -= tmp


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), PyTorch's defaults.

        θ ← θ(1 − ηλ),  then Adam's step on the unmodified gradient

    Identical to ``Adam(..., decoupled_weight_decay=True)``, with ``weight_decay`` λ defaulting
    to 1e-2. See :class:`Adam` for the rest of the rule, the state and the parameters.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )
