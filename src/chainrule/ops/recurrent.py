"""A whole LSTM layer as one op: the recurrence over every step, and backpropagation through time.

:func:`chainrule.nn.rnn_cells.lstm_update` is one step built from ordinary ops (a matrix
product, a chunk, three sigmoids, two tanh, products and sums): about fifteen graph nodes per
step, each with its own backward. :class:`LSTMLayer` runs the same step in a plain NumPy loop
and keeps what backward needs; its backward is the loop run backwards, then two whole-sequence
products: ``dW_hh = Σ_t dz_tᵀ h_{t−1}`` as one (4H, T·B) × (T·B, H) product and
``db_hh = Σ_t Σ_rows dz_t``, instead of a small product and a sum at every step.

Each pass is written twice, side by side. The plain form (:meth:`LSTMLayer._forward_recorded`,
:meth:`LSTMLayer._through_time`) uses NumPy calls and operators only, so under
``create_graph=True`` it runs on tensors (:mod:`chainrule.autograd.higher_order`) and records
its own graph: the op is twice differentiable. On arrays (every first-order pass) the same
operations, in the same order and so with the same bits, run in place
(:func:`_run_in_place`, :func:`_bptt_in_place`): each step writes into preallocated arrays
instead of allocating temporaries and stacking them at the end.

Rounding: the forward pass adds in the order of ``lstm_update`` (``ih + (h W_hhᵀ + b_hh)``,
``σ(f) c + σ(i) tanh(g)``), with :func:`chainrule.ops.activation.stable_sigmoid`
(``1 / (1 + e^−x)``); the backward pass sums W_hh's gradient in another order (one product
over all steps). Results agree with the
step-by-step graph to float rounding, not bit for bit: on the char-LSTM benchmark (2 layers of
256, 32 × 64 steps, float32) outputs, final states and every gradient differ from it by at most
4.8e-7 of their largest entry; in float64 by ~1e-15.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd.function import Function
from chainrule.ops.activation import stable_sigmoid as sigmoid

__all__ = ["LSTMLayer", "lstm_layer"]


def _time_order(steps: int, reverse: bool) -> range:
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _previous(first: Any, seq: Any, reverse: bool) -> Any:
    """The state each step starts from, in time order: ``first`` then ``seq`` shifted by one
    step (by one step the other way when the layer runs from the last step to the first)."""
    first = first.reshape((1,) + tuple(first.shape))
    pieces = [seq[1:], first] if reverse else [first, seq[:-1]]
    return np.concatenate(pieces, axis=0)


def _sigmoid_(x: np.ndarray) -> None:
    """x ← σ(x) = 1 / (1 + e^−x) in place (as ``stable_sigmoid``, the same bits)."""
    np.negative(x, out=x)
    with np.errstate(over="ignore"):  # e^−x = inf below about −88 (float32): σ = 0, its limit
        np.exp(x, out=x)
    x += 1
    np.divide(1, x, out=x)


def _run_in_place(
    ih: np.ndarray, h0: np.ndarray, c0: np.ndarray, w: np.ndarray, b: np.ndarray, order: range
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The forward loop on arrays, each step written into preallocated outputs (no
    temporaries, no copies); the same operations, in the same order, as
    :meth:`LSTMLayer._forward_recorded`. Returns out (2, T, B, H), the gates i, f, g, o
    after their nonlinearities (T, B, 4H) and tanh c (T, B, H)."""
    steps, batch, gates = ih.shape
    size = gates // 4
    out = np.empty((2, steps, batch, size), ih.dtype)
    acts = np.empty_like(ih)
    tanh_cs = np.empty((steps, batch, size), ih.dtype)
    h, c, w_t, ig = h0, c0, w.T, np.empty((batch, size), ih.dtype)
    with np.errstate(over="ignore"):  # as in sigmoid()
        for t in order:
            z = acts[t]
            np.matmul(h, w_t, out=z)  # z = ih[t] + (h W_hhᵀ + b_hh)
            z += b
            z += ih[t]
            i, f, g, o = (z[:, k * size : (k + 1) * size] for k in range(4))
            _sigmoid_(z[:, : 2 * size])
            np.tanh(g, out=g)
            _sigmoid_(o)
            c_new, tanh_c, h = out[1, t], tanh_cs[t], out[0, t]
            np.multiply(f, c, out=c_new)  # c' = f c + i g
            np.multiply(i, g, out=ig)
            c_new += ig
            np.tanh(c_new, out=tanh_c)
            np.multiply(o, tanh_c, out=h)  # h' = o tanh c'
            c = c_new
    return out, acts, tanh_cs


def _gate_grads_(
    dz: np.ndarray,
    act: np.ndarray,
    dc: np.ndarray,
    dh: np.ndarray,
    c_prev: np.ndarray,
    tanh_c: np.ndarray,
) -> None:
    """dz ← one step's gradient with respect to the four pre-activations, in place."""
    size = dc.shape[1]
    di, df, dg, do = (dz[:, k * size : (k + 1) * size] for k in range(4))
    i, f, g, o = (act[:, k * size : (k + 1) * size] for k in range(4))
    np.multiply(dc, g, out=di)
    np.multiply(dc, c_prev, out=df)
    np.multiply(dc, i, out=dg)
    np.multiply(dh, tanh_c, out=do)
    # σ′ = σ(1 − σ) for i and f (side by side), o; tanh′ = 1 − g² for g
    for gate, grad in ((act[:, : 2 * size], dz[:, : 2 * size]), (o, do)):
        grad *= gate * (1 - gate)
    dg *= 1 - g * g


def _bptt_in_place(
    grad: np.ndarray,
    acts: np.ndarray,
    tanh_cs: np.ndarray,
    c_prev: np.ndarray,
    w: np.ndarray,
    order: range,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The backward loop on arrays, each step's dz written into one (T, B, 4H) array; the
    same operations as :meth:`LSTMLayer._through_time`. Returns dz, dh and dc before the
    first step."""
    dz = np.empty_like(acts)
    size = tanh_cs.shape[2]
    dh_next = dc_next = None
    for t in reversed(order):
        dh, dc = grad[0, t], grad[1, t]
        if dh_next is not None:
            dh, dc = dh + dh_next, dc + dc_next
        o, tanh_c = acts[t, :, 3 * size :], tanh_cs[t]
        dc = dc + dh * (o * (1 - tanh_c * tanh_c))  # through h = o tanh c
        _gate_grads_(dz[t], acts[t], dc, dh, c_prev[t], tanh_c)
        dh_next, dc_next = dz[t] @ w, dc * acts[t, :, size : 2 * size]
    return dz, dh_next, dc_next


class LSTMLayer(Function):
    """dL/dz_t = [dc·g·σ′(i), dc·c_{t−1}·σ′(f), dc·i·tanh′(g), dh·tanh(c_t)·σ′(o)], dz = dL/dz.

    Then ``dh_{t−1} = dz_t W``. With ``dh = ∂L/∂h_t`` (from the output and from step t+1) and
    ``dc = ∂L/∂c_t + dc_{t+1}·f_{t+1} + dh·o·tanh′(c_t)``; W = W_hh, ``dih_t = dz_t``,
    ``dW_hh = Σ_t dz_tᵀ h_{t−1}``, ``db_hh = Σ_t Σ_rows dz_t``, ``dc_{−1} = dc_0·f_0``.
    """

    def forward(self, ih, h0, c0, w_hh, b_hh, reverse=False):
        """ih (T, B, 4H) = x W_ihᵀ + b_ih; h0, c0 (B, H); w_hh (4H, H); b_hh (4H,)
        → (2, T, B, H): the hidden states, then the cell states, of every step."""
        self.h0, self.c0, self.w_hh, self.reverse = h0, c0, w_hh, reverse
        order = _time_order(ih.shape[0], reverse)
        if isinstance(ih, np.ndarray):  # the first-order pass: the in-place loop below
            self.out, self.acts, self.tanh_cs = _run_in_place(ih, h0, c0, w_hh, b_hh, order)
            return self.out
        return self._forward_recorded(ih, h0, c0, w_hh, b_hh)

    def _forward_recorded(self, ih, h0, c0, w_hh, b_hh):
        """The step in plain NumPy calls, which on tensors (``create_graph=True``, see the
        module docstring) record a graph: what :func:`_run_in_place` does without copies."""
        size, reverse = h0.shape[1], self.reverse
        h, c = h0, c0
        hs, cs, acts, tanh_cs = [], [], [], []
        for t in _time_order(ih.shape[0], reverse):
            z = ih[t] + (h @ w_hh.T + b_hh)  # plain form: z = ih[t] + linear(h, w_hh, b_hh)
            # σ over all four gates (g's σ is unused: one call instead of three slices), and
            # tanh on g alone.
            act = sigmoid(z)
            i, f, o = act[:, :size], act[:, size : 2 * size], act[:, 3 * size :]
            g = np.tanh(z[:, 2 * size : 3 * size])
            c = f * c + i * g
            tanh_c = np.tanh(c)
            h = o * tanh_c
            acts.append(np.concatenate([act[:, : 2 * size], g, o], axis=1))  # i, f, g, o
            hs.append(h)
            cs.append(c)
            tanh_cs.append(tanh_c)
        if reverse:  # back to time order
            for seq in (hs, cs, acts, tanh_cs):
                seq.reverse()
        out = np.stack(hs + cs).reshape((2, ih.shape[0]) + tuple(h0.shape))
        self.out, self.acts, self.tanh_cs = out, np.stack(acts), np.stack(tanh_cs)
        return out

    def _slopes(self) -> Any:
        """(T, B, 4H): each gate's derivative with respect to its pre-activation, one pass:
        σ′ = σ(1 − σ) for i, f and o, tanh′ = 1 − tanh² for g."""
        acts, size = self.acts, self.h0.shape[1]
        sig = acts * (1 - acts)
        g = acts[..., 2 * size : 3 * size]
        return np.concatenate([sig[..., : 2 * size], 1 - g * g, sig[..., 3 * size :]], axis=2)

    def _through_time(self, grad: Any) -> tuple[Any, Any, Any]:
        """dz of every step (T, B, 4H) in time order, and dh and dc before the first step, in
        plain NumPy calls (they record on tensors): :func:`_bptt_in_place` without copies."""
        acts, tanh_cs, size = self.acts, self.tanh_cs, self.h0.shape[1]
        slopes = self._slopes()
        c_prev = _previous(self.c0, self.out[1], self.reverse)
        # ∂h/∂c through tanh, for every step in one pass
        o = acts[..., 3 * size :]
        h_to_c = o * (1 - tanh_cs * tanh_cs)
        dzs: list[Any] = [None] * acts.shape[0]
        dh_next = dc_next = None
        for t in reversed(_time_order(acts.shape[0], self.reverse)):
            dh, dc = grad[0][t], grad[1][t]
            if dh_next is not None:
                dh, dc = dh + dh_next, dc + dc_next
            dc = dc + dh * h_to_c[t]
            act = acts[t]
            i, f, g = act[:, :size], act[:, size : 2 * size], act[:, 2 * size : 3 * size]
            pieces = [dc * g, dc * c_prev[t], dc * i, dh * tanh_cs[t]]
            dz = np.concatenate(pieces, axis=1) * slopes[t]
            dzs[t] = dz
            dh_next, dc_next = dz @ self.w_hh, dc * f
        return np.stack(dzs), dh_next, dc_next

    def backward(self, grad):
        need = self.needs_input_grad
        if isinstance(grad, np.ndarray):
            c_prev = _previous(self.c0, self.out[1], self.reverse)
            order = _time_order(grad.shape[1], self.reverse)
            dz, dh0, dc0 = _bptt_in_place(grad, self.acts, self.tanh_cs, c_prev, self.w_hh, order)
        else:
            dz, dh0, dc0 = self._through_time(grad)
        steps, batch, gates = dz.shape
        flat = dz.reshape((steps * batch, gates))
        dw = db = None
        if need[3]:
            h_prev = _previous(self.h0, self.out[0], self.reverse)
            dw = flat.T @ h_prev.reshape((steps * batch, h_prev.shape[2]))
        if need[4]:
            # Each step's rows, then the steps: a blocked sum, about as accurate in float32 as
            # the step-by-step graph's (one sum of all T·B rows in a row drifts ~4× further).
            db = np.add.reduce(np.add.reduce(dz, axis=1), axis=0)
        return dz, dh0 if need[1] else None, dc0 if need[2] else None, dw, db


def lstm_layer(
    ih: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor, b_hh: Tensor, reverse: bool = False
) -> Tensor:
    """One LSTM layer over a whole sequence: PyTorch's gate order i, f, g, o.

    Parameters
    ----------
    ih : Tensor of shape (T, B, 4H)
        The input projection of every step, ``x W_ihᵀ + b_ih``.
    h0, c0 : Tensor of shape (B, H)
        The initial hidden and cell states.
    w_hh : Tensor of shape (4H, H)
    b_hh : Tensor of shape (4H,)
        Zeros for a layer without biases.
    reverse : bool
        Run from the last step to the first (a bidirectional layer's second direction).

    Returns
    -------
    Tensor of shape (2, T, B, H)
        ``[0]`` the hidden states, ``[1]`` the cell states, of every step in time order; the
        final states are ``[:, -1]`` (``[:, 0]`` when ``reverse``).
    """
    return LSTMLayer.apply(ih, h0, c0, w_hh, b_hh, reverse=reverse)
