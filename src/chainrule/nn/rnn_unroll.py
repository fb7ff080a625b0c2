"""Backpropagation through time's forward half: a stacked recurrent network unrolled over
packed steps.

The data is in the packed layout of :class:`~chainrule.nn.utils.rnn.PackedSequence`: ``data``
of shape (N, features) holds step 0 of every sequence, then step 1, and so on, with
``batch_sizes[t]`` sequences (sorted by decreasing length) at step ``t``; a padded batch is
T steps of B. Per layer and direction the input projection of all N rows is one matrix
product; each step then costs one product ``h W_hhᵀ`` for all gates (the cell updates of
:mod:`chainrule.nn.rnn_cells`). The graph is the engine's ordinary one, so ``backward()``
runs back through every step.

An LSTM layer-direction without a projection on a padded batch (every sequence as long) is
instead one op, :func:`chainrule.ops.recurrent.lstm_layer`: the same step in a NumPy loop,
with backpropagation through time written beside it (about fifteen graph nodes per step fewer,
and W_hh's gradient one product over all steps). It agrees with the step-by-step graph to float
rounding (see that module). Packed batches of several lengths, ``proj_size`` and the other
cells run step by step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn.rnn_cells import UPDATES, State
from chainrule.ops.recurrent import lstm_layer

__all__ = ["Weights", "recurrent_layers"]

#: One layer-direction's weights: (w_ih, w_hh, b_ih, b_hh, w_hr), None where absent.
Weights = tuple[Tensor, Tensor, Tensor | None, Tensor | None, Tensor | None]


def _run_forward(
    update: Callable[..., State],
    steps: Sequence[Tensor],
    state: State,
    sizes: Sequence[int],
    weights: tuple,
) -> tuple[list[Tensor], State]:
    """Steps 0 … T−1. Sequences are sorted by length, so the ones that end are the last rows:
    they are set aside, and put back below the running rows at the end."""
    outputs, finished = [], []
    for ih, size in zip(steps, sizes):
        if size < state[0].shape[0]:
            finished.append(tuple(s[size:] for s in state))
            state = tuple(s[:size] for s in state)
        state = update(ih, state, *weights)
        outputs.append(state[0])
    if finished:
        state = tuple(F.cat([s, *(f[k] for f in reversed(finished))]) for k, s in enumerate(state))
    return outputs, state


def _run_reverse(
    update: Callable[..., State],
    steps: Sequence[Tensor],
    state0: State,
    sizes: Sequence[int],
    weights: tuple,
) -> tuple[list[Tensor], State]:
    """Steps T−1 … 0. A sequence starts (from its initial state) at its own last step, so rows
    join the running state as the step index falls."""
    outputs: list[Tensor] = [None] * len(steps)  # type: ignore[list-item]
    state = tuple(s[: sizes[-1]] for s in state0) if sizes[-1] < sizes[0] else state0
    for t in range(len(steps) - 1, -1, -1):
        rows = state[0].shape[0]
        if sizes[t] > rows:
            state = tuple(F.cat([s, s0[rows : sizes[t]]]) for s, s0 in zip(state, state0))
        state = update(steps[t], state, *weights)
        outputs[t] = state[0]
    return outputs, state


def _fused_lstm(
    ih: Tensor, state: State, sizes: Sequence[int], weights: Weights, reverse: bool
) -> tuple[Tensor, State]:
    """An LSTM layer-direction as one :func:`~chainrule.ops.recurrent.lstm_layer` op: the
    same step as :func:`~chainrule.nn.rnn_cells.lstm_update`, its loop and backward in NumPy.

    ``ih`` (T·B, 4H) is the packed input projection of T steps of B sequences; returns the
    hidden states (T·B, H) and the final ``(h, c)``."""
    _, w_hh, _, b_hh, _ = weights
    if b_hh is None:  # a layer without biases adds zeros
        b_hh = as_tensor(np.zeros(w_hh.shape[0], dtype=w_hh.dtype))
    steps, batch = len(sizes), sizes[0]
    out = lstm_layer(F.reshape(ih, (steps, batch, ih.shape[1])), *state, w_hh, b_hh, reverse)
    last = 0 if reverse else steps - 1
    return F.reshape(out[0], (steps * batch, out.shape[3])), (out[0, last], out[1, last])


def _fusable(mode: str, sizes: Sequence[int], weights: Weights) -> bool:
    """Whether a layer-direction can run as one op: an LSTM without a projection, on a padded
    batch (every sequence as long); packed sequences of several lengths and proj_size > 0
    run step by step."""
    return mode == "LSTM" and weights[4] is None and sizes[-1] == sizes[0]


def recurrent_layers(
    mode: str,
    data: Tensor,
    batch_sizes: Sequence[int],
    hx: State,
    weights: Sequence[Weights],
    num_layers: int,
    bidirectional: bool = False,
    dropout: float = 0.0,
    training: bool = False,
) -> tuple[Tensor, State]:
    """Run a stacked (and possibly bidirectional) recurrent network on packed data.

    Parameters
    ----------
    mode : {'RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU'}
        The cell.
    data : Tensor of shape (N, I)
        Packed steps (see the module docstring); N = Σ batch_sizes.
    batch_sizes : sequence of int, length T
        Non-increasing; sequences running at each step.
    hx : tuple of Tensor
        Initial states, each ``(num_layers · D, B, ·)``: ``(h0,)``, or ``(h0, c0)`` for LSTM;
        D = 2 if bidirectional else 1, B = batch_sizes[0].
    weights : sequence of (w_ih, w_hh, b_ih, b_hh, w_hr)
        One tuple per layer and direction (layer-major: l0, l0_reverse, l1, …); None for an
        absent bias or projection.
    num_layers : int
    bidirectional : bool
    dropout : float
        Probability of dropping each output of every layer but the last, when ``training``.
    training : bool

    Returns
    -------
    output : Tensor of shape (N, D · P)
        The last layer's outputs (both directions side by side), packed like ``data``.
    final : tuple of Tensor
        Final states, shaped like ``hx``.
    """
    update = UPDATES[mode]
    directions = 2 if bidirectional else 1
    sizes = [int(s) for s in batch_sizes]
    finals: list[State] = []
    x = data
    for layer in range(num_layers):
        if layer and dropout and training:
            x = F.dropout(x, dropout, True)
        outs = []
        for d in range(directions):
            k = layer * directions + d
            w_ih, w_hh, b_ih, b_hh, w_hr = weights[k]
            ih, state0 = F.linear(x, w_ih, b_ih), tuple(h[k] for h in hx)
            if _fusable(mode, sizes, weights[k]):
                out, state = _fused_lstm(ih, state0, sizes, weights[k], bool(d))
            else:
                run = _run_reverse if d else _run_forward
                steps = F.split(ih, sizes, 0)
                outputs, state = run(update, steps, state0, sizes, (w_hh, b_hh, w_hr))
                out = F.cat(outputs)
            outs.append(out)
            finals.append(state)
        x = outs[0] if directions == 1 else F.cat(outs, 1)
    return x, tuple(F.stack([f[i] for f in finals]) for i in range(len(hx)))
