"""Adagrad: per-coordinate steps shrinking with the sum of all past squared gradients."""

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


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), PyTorch's algorithm and defaults.

    With ``g = ±∇ + λθ`` (minus when ``maximize``), at step t:

        s ← s + g²,  θ ← θ − η/(1 + (t−1)·δ) · g / (√s + ε)

    where δ is ``lr_decay`` and s starts at ``initial_accumulator_value``. State per parameter:
    ``'step'`` (int) and ``'sum'`` s (the parameter's shape and dtype), created when the parameter
    joins the optimizer, as in PyTorch. Unlike PyTorch, which fills every sum with the
    constructor's value, a param group's own ``initial_accumulator_value`` is honoured.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters, or parameter groups with their own options.
    lr : float
        η.
    lr_decay : float
        δ.
    weight_decay : float
        λ.
    initial_accumulator_value : float
        Starting value of every coordinate of s.
    eps : float
        ε, added to the root.
    foreach : bool or None
        Accepted for PyTorch compatibility; the update is already whole-array NumPy, so every
        value gives the same step.
    maximize : bool
        Ascend the objective instead of descending it.
    differentiable : bool
        Must be False: steps are not recorded by autograd.
    fused : bool or None
        None or False; fused kernels do not exist here.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_number("learning rate", options["lr"])
        check_number("lr_decay", options["lr_decay"])
        check_number("weight_decay", options["weight_decay"])
        check_number("initial_accumulator_value", options["initial_accumulator_value"])
        check_number("epsilon value", options["eps"])
        check_flag("maximize", options["maximize"])
        check_common_options(options)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group (see :meth:`Optimizer.add_param_group`) and create its parameters' sums."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self.state[p] = self._initial_state(p._data, group)

    @staticmethod
    def _initial_state(param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        value = float(group["initial_accumulator_value"])
        return {"step": 0, "sum": np.full(param.shape, value, param.dtype)}

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        if not state:
            # A parameter whose state a loaded state dict did not include.
            state.update(self._initial_state(param, group))
        state["step"] += 1
        # Python floats: NumPy treats them as weak scalars, so float32 stays float32.
        lr, eps = float(group["lr"]), float(group["eps"])
        clr = lr / (1 + (state["step"] - 1) * float(group["lr_decay"]))

        g = self._effective_grad(param, grad, float(group["weight_decay"]), group["maximize"])
        total = state["sum"]
        tmp = self._scratch(param, 1)
        np.multiply(g, g, out=tmp)
        total += tmp
        np.sqrt(total, out=tmp)
        tmp += eps
        np.divide(g, tmp, out=tmp)
        tmp *= clr
        param -= tmp
