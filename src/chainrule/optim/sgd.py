"""Stochastic gradient descent, with optional momentum (heavy-ball or Nesterov) and weight decay."""

from __future__ import annotations

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
        None (the default) or True: with momentum, weight decay or maximize, each parameter
        group's update runs over flat buffers holding the state of all its parameters of one
        dtype (a few ufunc calls for the group, two or three per parameter); False, or plain
        SGD, the per-parameter loop. Both give the same bits.
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
            first = buf is None
            if first:
                buf = state["momentum_buffer"] = np.empty(param.shape, param.dtype)
            # Reserved on the first step when dampening needs it: only a first step allocates.
            tmp = self._scratch(param, 1) if dampening != 0 or group["nesterov"] else None
            decay_momentum(buf, momentum, first)
            add_gradient(g, buf, tmp, dampening, first)
            if group["nesterov"]:
                g, g_is_temporary = nesterov_direction(g, buf, tmp, momentum), True
            else:
                g, g_is_temporary = buf, False
        out = g if g_is_temporary else self._scratch(param, 0)
        np.multiply(g, lr, out=out)
        param -= out

    # ----- the grouped update: the same functions on flat buffers -------------------------------
    def _uses_segments(self, group: dict[str, Any]) -> bool:
        # Plain SGD is one multiply and one subtraction per parameter: with the gradient arriving
        # as one array per parameter, grouping would save nothing.
        return group["momentum"] != 0 or group["weight_decay"] != 0 or group["maximize"]

    def _segment_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def _segment_key(self, param: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> Any:
        return "momentum_buffer" in state  # False: the first step, which copies the gradient

    def _update_segment(
        self, segment: FlatSegment, states: list[dict[str, Any]], group: dict[str, Any], key: Any
    ) -> None:
        lr, momentum = float(group["lr"]), float(group["momentum"])
        dampening = float(group["dampening"])
        g = self._segment_gradient(segment, float(group["weight_decay"]), group["maximize"])
        direction = "gradient"
        if momentum != 0:
            first = not key
            buf = segment.flat("momentum_buffer")
            decay_momentum(buf, momentum, first)
            names = ("momentum_buffer", "tmp") if dampening != 0 else ("momentum_buffer",)
            # Without dampening no temporary is needed: None takes its place.
            args = (dampening, first) if dampening != 0 else (None, dampening, first)
            segment.read_gradient(add_gradient, g, names, *args)
            direction = "momentum_buffer"
            if group["nesterov"]:
                names = ("momentum_buffer", "tmp")
                segment.read_gradient(nesterov_direction, g, names, momentum)
                direction = "tmp"
        # Only "momentum_buffer" is state; the other buffers are temporaries, scaled in place.
        out = "step" if direction == "momentum_buffer" else direction
        np.multiply(segment.flat(direction), lr, out=segment.flat(out))
        segment.subtract_from_params(out)


def decay_momentum(buf: np.ndarray, momentum: float, first: bool) -> None:
    """The first half of ``buf ← μ·buf + (1−τ)·g``: ``buf ← μ·buf`` in place (nothing on the
    ``first`` step, when :func:`add_gradient` copies the gradient in)."""
    if not first:
        buf *= momentum


def add_gradient(
    g: np.ndarray, buf: np.ndarray, tmp: np.ndarray | None, dampening: float, first: bool
) -> None:
    """The second half: ``buf ← buf + (1−τ)·g``, or ``buf ← g`` on the ``first`` step; ``tmp``
    is a temporary of the same shape, needed only when dampening τ ≠ 0."""
    if first:
        np.copyto(buf, g)
    elif dampening == 0:
        buf += g
    else:
        assert tmp is not None
        buf += np.multiply(g, 1 - dampening, out=tmp)


def nesterov_direction(
    g: np.ndarray, buf: np.ndarray, tmp: np.ndarray | None, momentum: float
) -> np.ndarray:
    """Nesterov's step direction ``g + μ·buf``, written to ``tmp`` (returned)."""
    assert tmp is not None
    np.multiply(buf, momentum, out=tmp)
    return np.add(g, tmp, out=tmp)
