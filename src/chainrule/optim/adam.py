"""Adam and AdamW: steps scaled by running estimates of the gradient's first and second moments."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.optim.foreach import FlatSegment
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
        None (the default) or True: each parameter group's update runs over flat buffers
        holding the state of all its parameters of one dtype and step count, a dozen ufunc
        calls for the group plus three per parameter; False: the plain per-parameter loop.
        Both give the same bits.
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

    def _prepare_state(
        self, param: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Create a parameter's state on its first step (and the maximum when amsgrad is on)."""
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros(param.shape, param.dtype)
            state["exp_avg_sq"] = np.zeros(param.shape, param.dtype)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            # Also reached when amsgrad is switched on mid-training (PyTorch raises KeyError);
            # starting from zeros, as on a first step, makes the maximum begin at this step's v.
            state["max_exp_avg_sq"] = np.zeros(param.shape, param.dtype)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        self._prepare_state(param, state, group)
        state["step"] += 1
        lr, wd = float(group["lr"]), float(group["weight_decay"])
        decoupled = group["decoupled_weight_decay"]
        if decoupled and wd != 0:
            param *= 1 - lr * wd
        g = self._effective_grad(param, grad, 0.0 if decoupled else wd, group["maximize"])
        diff, square = self._scratch(param, 1), self._scratch(param, 2)
        moment_terms(g, state["exp_avg"], diff, square)
        vmax = state["max_exp_avg_sq"] if group["amsgrad"] else None
        adam_step(diff, square, state["exp_avg"], state["exp_avg_sq"], vmax, group, state["step"])
        param -= diff

    # ----- the grouped update: the same two functions on flat buffers --------------------------
    def _uses_segments(self, group: dict[str, Any]) -> bool:
        return True

    def _segment_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        names = ("exp_avg", "exp_avg_sq")
        return (*names, "max_exp_avg_sq") if group["amsgrad"] else names

    def _segment_key(self, param: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> Any:
        if not state or (group["amsgrad"] and "max_exp_avg_sq" not in state):
            self._prepare_state(param, state, group)
        return state["step"]  # the bias corrections depend on it

    def _update_segment(
        self, segment: FlatSegment, states: list[dict[str, Any]], group: dict[str, Any], key: Any
    ) -> None:
        step = key + 1
        for state in states:
            state["step"] = step
        lr, wd = float(group["lr"]), float(group["weight_decay"])
        decoupled = group["decoupled_weight_decay"]
        if decoupled and wd != 0:
            for p in segment.params:
                p._data *= 1 - lr * wd
        g = self._segment_gradient(segment, 0.0 if decoupled else wd, group["maximize"])
        segment.read_gradient(moment_terms, g, ("exp_avg", "diff", "square"))
        m, v, diff = segment.flat("exp_avg"), segment.flat("exp_avg_sq"), segment.flat("diff")
        vmax = segment.flat("max_exp_avg_sq") if group["amsgrad"] else None
        adam_step(diff, segment.flat("square"), m, v, vmax, group, step)
        segment.subtract_from_params("diff")


def moment_terms(g: np.ndarray, m: np.ndarray, diff: np.ndarray, square: np.ndarray) -> None:
    """The two terms of Adam's moment updates that read the gradient ``g``: ``diff ← g − m`` and
    ``square ← g²`` (all arrays of one shape)."""
    np.subtract(g, m, out=diff)
    np.multiply(g, g, out=square)


def adam_step(
    diff: np.ndarray,
    square: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    vmax: np.ndarray | None,
    group: dict[str, Any],
    step: int,
) -> None:
    """Update the moments ``m``, ``v`` (and with amsgrad ``vmax``) in place from
    :func:`moment_terms`' ``diff`` and ``square``, and leave in ``diff`` the amount to subtract
    from the parameter at ``step`` (≥ 1). All arrays have one shape: a parameter's, or a flat
    segment's."""
    # Python floats: NumPy treats them as weak scalars, so float32 stays float32.
    lr, eps = float(group["lr"]), float(group["eps"])
    beta1, beta2 = (float(b) for b in group["betas"])
    # m ← m + (1−β₁)(g − m): PyTorch's lerp, the same average as β₁m + (1−β₁)g.
    diff *= 1 - beta1
    m += diff
    # v ← β₂v + (1−β₂)g²
    v *= beta2
    square *= 1 - beta2
    v += square
    if vmax is not None:
        np.maximum(vmax, v, out=vmax)
        v = vmax
    # Bias corrections as Python floats, so they round like PyTorch's and never upcast.
    # step = η/(1−β₁ᵗ) · m / (√v̂/√(1−β₂ᵗ) + ε), one in-place operation at a time:
    step_size = lr / (1 - beta1**step)
    np.sqrt(v, out=diff)
    diff /= math.sqrt(1 - beta2**step)
    diff += eps
    np.divide(m, diff, out=diff)
    diff *= step_size


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
