"""Stochastic gradient descent, with optional momentum (heavy-ball or Nesterov) and weight decay."""

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


class SGD(Optimizer):
    r"""Stochastic gradient descent (PyTorch's algorithm and defaults).

    With ``g = ±∇ + λθ`` (minus when ``maximize``), each step is

        b ← μ·b + (1−τ)·g  (b = g on the first step),  θ ← θ − η·(g + μ·b if nesterov else b)

    and ``θ ← θ − η·g`` when ``momentum`` μ is 0. η is ``lr``, λ ``weight_decay``, τ
    ``dampening``. State per parameter: ``'momentum_buffer'`` (shape of the parameter), only when
    μ ≠ 0.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters, or parameter groups with their own options.
    lr : float
    momentum : float
    dampening : float
    weight_decay : float
        L2 penalty λ, added to the gradient.
    nesterov : bool
        Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
    maximize : bool
        Ascend the objective instead of descending it.
    foreach : bool or None
        Accepted for PyTorch compatibility; the update is already whole-array NumPy, so every
        value gives the same step.
    differentiable : bool
        Must be False: steps are not recorded by autograd.
    fused : bool or None
        None or False; fused kernels do not exist here.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
            foreach=foreach,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_number("learning rate", options["lr"])
        check_number("momentum", options["momentum"])
        # Stricter than PyTorch, which accepts any dampening: outside [0, 1] the buffer would grow
        # without bound or flip the gradient's sign.
        check_number("dampening", options["dampening"], high=1.0, closed=True)
        check_number("weight_decay", options["weight_decay"])
        check_flag("nesterov", options["nesterov"])
        check_flag("maximize", options["maximize"])
        check_common_options(options)
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        # Python floats: NumPy treats them as weak scalars, so float32 stays float32.
        lr, momentum = float(group["lr"]), float(group["momentum"])
        dampening = float(group["dampening"])
        g = self._effective_grad(param, grad, float(group["weight_decay"]), group["maximize"])
        # g is about to be scaled by lr; it may be scaled in place only if it is a temporary.
        g_is_temporary = g is not grad
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.empty(param.shape, param.dtype)
                np.copyto(buf, g)
                if dampening != 0:
                    # Reserve now the temporary later steps need: only a first step allocates.
                    self._scratch(param, 1)
            else:
                buf *= momentum
                if dampening == 0:
                    buf += g
                else:
                    tmp = np.multiply(g, 1 - dampening, out=self._scratch(param, 1))
                    buf += tmp
            if group["nesterov"]:
                tmp = np.multiply(buf, momentum, out=self._scratch(param, 1))
                g, g_is_temporary = np.add(g, tmp, out=tmp), True
            else:
                g, g_is_temporary = buf, False
        out = g if g_is_temporary else self._scratch(param, 0)
        np.multiply(g, lr, out=out)
        param -= out
