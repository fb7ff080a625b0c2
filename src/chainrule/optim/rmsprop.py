"""RMSprop: steps divided by a running root-mean-square of recent gradients."""

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


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, 2012), PyTorch's algorithm and defaults.

    With ``g = ±∇ + λθ`` (minus when ``maximize``):

        v ← αv + (1−α)g²,  d = √(v − ḡ²) + ε  (ḡ ← αḡ + (1−α)g if centered, else ḡ = 0)
        b ← μb + g/d,  θ ← θ − ηb   (θ ← θ − η·g/d when μ = 0)

    State per parameter: ``'step'`` (int), ``'square_avg'`` v, and ``'momentum_buffer'`` b when
    μ > 0 and ``'grad_avg'`` ḡ when centered, each of the parameter's shape and dtype.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters, or parameter groups with their own options.
    lr : float
        η.
    alpha : float
        α, the smoothing constant of the averages.
    eps : float
        ε, added to the root.
    weight_decay : float
        λ.
    momentum : float
        μ.
    centered : bool
        Normalize by an estimate of the gradient's variance rather than its raw second moment.
    capturable : bool
        Must be False (CUDA-graph capture does not exist here).
    foreach : bool or None
        Accepted for PyTorch compatibility; the update is already whole-array NumPy, so every
        value gives the same step.
    maximize : bool
        Ascend the objective instead of descending it.
    differentiable : bool
        Must be False: steps are not recorded by autograd.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            capturable=capturable,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_number("learning rate", options["lr"])
        check_number("alpha value", options["alpha"])
        check_number("epsilon value", options["eps"])
        check_number("weight_decay", options["weight_decay"])
        check_number("momentum", options["momentum"])
        check_flag("centered", options["centered"])
        check_flag("maximize", options["maximize"])
        check_common_options(options)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        # Python floats: NumPy treats them as weak scalars, so float32 stays float32.
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        momentum = float(group["momentum"])
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros(param.shape, param.dtype)
        # Created on first use, so that switching momentum or centering on later also works.
        if momentum > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros(param.shape, param.dtype)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = np.zeros(param.shape, param.dtype)
        state["step"] += 1

        g = self._effective_grad(param, grad, float(group["weight_decay"]), group["maximize"])
        square_avg = state["square_avg"]
        denom = self._scratch(param, 1)

        square_avg *= alpha
        np.multiply(g, g, out=denom)
        denom *= 1 - alpha
        square_avg += denom
        if group["centered"]:
            grad_avg = state["grad_avg"]
            # ḡ ← ḡ + (1−α)(g − ḡ): PyTorch's lerp.
            np.subtract(g, grad_avg, out=denom)
            denom *= 1 - alpha
            grad_avg += denom
            np.multiply(grad_avg, grad_avg, out=denom)
            np.subtract(square_avg, denom, out=denom)
            np.sqrt(denom, out=denom)
        else:
            np.sqrt(square_avg, out=denom)
        denom += eps

        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            # Slot 0 holds g or is free: g is not needed after this division.
            ratio = np.divide(g, denom, out=self._scratch(param, 0))
            buf += ratio
            np.multiply(buf, lr, out=ratio)
            param -= ratio
        else:
            np.divide(g, denom, out=denom)
            denom *= lr
            param -= denom
