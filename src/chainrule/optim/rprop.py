"""Rprop: per-coordinate step sizes grown or shrunk by the sign agreement of successive
gradients."""

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


class Rprop(Optimizer):
    r"""Resilient backpropagation (Riedmiller & Braun, 1993), PyTorch's variant and defaults.

    With ``g = ±∇`` (minus when ``maximize``) and the previous step's stored gradient ``p``:

        s ← clip(s·η₊, s_min, s_max)  where g·p > 0,
        s ← clip(s·η₋, s_min, s_max) and g ← 0  where g·p < 0,
        θ ← θ − sign(g)·s,  p ← g

    s starts at ``lr`` in every coordinate, p at 0. State per parameter: ``'step'`` (int),
    ``'prev'`` p and ``'step_size'`` s (the parameter's shape and dtype).

    Parameters
    ----------
    params : iterable of Tensor or of dict
        Parameters, or parameter groups with their own options.
    lr : float
        Initial step size.
    etas : tuple of two floats
        (η₋, η₊) with 0 < η₋ < 1 < η₊: the factors that shrink and grow a step.
    step_sizes : tuple of two floats
        (s_min, s_max), the bounds of every step size.
    capturable : bool
        Must be False (CUDA-graph capture does not exist here).
    foreach : bool or None
        Accepted for PyTorch compatibility; the update is already whole-array NumPy.
    maximize : bool
        Ascend the objective instead of descending it.
    differentiable : bool
        Must be False: steps are not recorded by autograd.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            etas=etas,
            step_sizes=step_sizes,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        check_number("learning rate", options["lr"])
        etas, sizes = options["etas"], options["step_sizes"]
        for name, pair in (("etas", etas), ("step_sizes", sizes)):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"{name} must be a pair of floats, got {pair!r}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        check_number("minimal step size", sizes[0])
        check_number("maximal step size", sizes[1], low=float(sizes[0]))
        check_flag("maximize", options["maximize"])
        check_common_options(options)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        eta_minus, eta_plus = (float(e) for e in group["etas"])
        size_min, size_max = (float(s) for s in group["step_sizes"])
        if not state:
            state["step"] = 0
            state["prev"] = np.zeros(param.shape, param.dtype)
            state["step_size"] = np.full(param.shape, float(group["lr"]), param.dtype)
        state["step"] += 1
        prev, size = state["prev"], state["step_size"]

        g = self._effective_grad(param, grad, 0.0, group["maximize"])
        factor = self._scratch(param, 1)
        grew, flipped = self._scratch(param, 0, bool), self._scratch(param, 1, bool)
        np.multiply(g, prev, out=factor)
        np.greater(factor, 0, out=grew)
        np.less(factor, 0, out=flipped)
        # Exact factors (not arithmetic on the sign), as the masks below compare against them.
        factor.fill(1.0)
        np.copyto(factor, eta_plus, where=grew)
        np.copyto(factor, eta_minus, where=flipped)
        size *= factor
        np.clip(size, size_min, size_max, out=size)
        # Where the sign flipped the last step overshot: no move now, and no sign remembered.
        np.copyto(prev, g)
        np.copyto(prev, 0.0, where=flipped)
        np.sign(prev, out=factor)
        factor *= size
        param -= factor
