"""Flat segments: the state of several parameters in one buffer per name, for grouped updates.

A per-parameter update calls about ten ufuncs per parameter, and for small parameters (biases)
the calls cost more than the arithmetic. A :class:`FlatSegment` lays the state of the parameters
of one group that share a dtype and a step (e.g. Adam's ``exp_avg`` of every such parameter) end
to end in one flat array, and hands out each parameter's slice as a view of the parameter's
shape. The optimizer's per-parameter state entries *are* those views, so ``state_dict()``, a
user's ``opt.state[p]['exp_avg']`` and the grouped update all see the same numbers, while the
update runs each elementwise operation once over the whole flat array.

The parameters themselves are not moved into a flat buffer: ``p.data`` stays the user's array
(PyTorch's semantics: an alias taken before the first step sees every update), so the step is
still subtracted from each parameter separately, and the gradient, which arrives as one array
per parameter, is read per parameter by the first operation that needs it.

Elementwise ufuncs give the same bits on a slice of a flat array as on a separate array, so a
grouped step equals the per-parameter step exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule._tensor import Tensor

#: What a list of segments was built for: per segment, its state names, dtype, and the ids and
#: shapes of its parameters.
Signature = tuple[tuple[tuple[str, ...], str, tuple[int, ...], tuple[tuple[int, ...], ...]], ...]


class FlatSegment:
    """Parameters of one dtype whose state and temporaries live in shared flat buffers.

    Parameters
    ----------
    params : list of Tensor
        The parameters, in group order; all of ``dtype``.
    dtype : numpy dtype
    state_names : tuple of str
        The per-parameter state arrays held flat (e.g. ``('exp_avg', 'exp_avg_sq')``).

    Attributes
    ----------
    params : list of Tensor
    grads : list of ndarray
        This step's gradients, one per parameter (set by the optimizer before each update).
    """

    def __init__(self, params: list[Tensor], dtype: np.dtype, state_names: tuple[str, ...]):
        self.params = params
        self.grads: Sequence[np.ndarray] = ()
        self.dtype = dtype
        self.state_names = state_names
        self._shapes = [p._data.shape for p in params]
        sizes = [int(np.prod(s, dtype=np.int64)) for s in self._shapes]
        self._bounds = np.cumsum([0, *sizes]).tolist()
        self._flat: dict[str, np.ndarray] = {}
        self._views: dict[str, list[np.ndarray]] = {}

    def flat(self, name: str) -> np.ndarray:
        """The whole flat buffer ``name`` (1-d, the total size of the parameters); scratch
        buffers are created on first use and their contents are garbage between updates."""
        buf = self._flat.get(name)
        if buf is None:
            buf = self._flat[name] = np.zeros(self._bounds[-1], self.dtype)
        return buf

    def views(self, name: str) -> list[np.ndarray]:
        """Each parameter's slice of :meth:`flat` ``(name)``, in the parameter's shape."""
        views = self._views.get(name)
        if views is None:
            buf, b = self.flat(name), self._bounds
            views = [buf[b[i] : b[i + 1]].reshape(s) for i, s in enumerate(self._shapes)]
            self._views[name] = views
        return views

    def read_gradient(
        self,
        rule: Callable[..., Any],
        gradient: np.ndarray | None,
        names: tuple[str, ...],
        *args: Any,
    ) -> None:
        """Run ``rule(g, *buffers, *args)``, the part of an update that reads the gradient:
        once on the flat buffers when ``gradient`` is flat, else per parameter on this step's
        gradients and the views (the same arithmetic, element by element)."""
        if gradient is not None:
            rule(gradient, *(self.flat(n) for n in names), *args)
            return
        for g, *buffers in zip(self.grads, *(self.views(n) for n in names)):
            rule(g, *buffers, *args)

    def subtract_from_params(self, name: str) -> None:
        """``θ ← θ − step`` for every parameter, ``step`` its slice of buffer ``name``; the
        parameters keep their own arrays (an alias of ``p.data`` sees the update)."""
        for p, step in zip(self.params, self.views(name)):
            p._data -= step

    def bind(self, states: Sequence[dict[str, Any]]) -> None:
        """Make every parameter's state arrays the segment's views.

        An entry that is already the view costs one identity check. One that is missing gets
        the view (whose contents the update's first step writes); one that was replaced, e.g. by
        ``load_state_dict`` or by the user, is copied into the view, which then replaces it.
        """
        for name in self.state_names:
            for state, view in zip(states, self.views(name)):
                held = state.get(name)
                if held is not view:
                    if held is not None:
                        np.copyto(view, held)
                    state[name] = view


def signature(layout: list[tuple[tuple[str, ...], str, list[Tensor]]]) -> Signature:
    """What identifies a segment layout: which parameters, of which shapes and dtype, hold
    which state. ``layout`` lists (state names, dtype string, parameters) per segment."""
    return tuple(
        (names, dtype, tuple(map(id, params)), tuple([p._data.shape for p in params]))
        for names, dtype, params in layout
    )
