"""nn.LSTM runs each layer and direction of a padded batch as one fused op
(:class:`chainrule.ops.recurrent.LSTMLayer`): the same numbers as the step-by-step cell
(``lstm_cell``, every op recorded) in float64, float32 within rounding, second derivatives
too, and the cases that stay step by step (several lengths, proj_size)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
import chainrule.nn as nn
import chainrule.nn.rnn_unroll as rnn_unroll
from chainrule.nn.rnn_cells import lstm_cell
from chainrule.nn.utils.rnn import pack_padded_sequence


def _direction(x, h, c, weights, reverse):
    """One layer-direction, one lstm_cell per step: the reference (T, B, I) → (T, B, H)."""
    outs = [None] * x.shape[0]
    order = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    for t in order:
        h, c = lstm_cell(x[t], (h, c), *weights)
        outs[t] = h
    return F.stack(outs), h, c


def stepwise(lstm: nn.LSTM, x, h0, c0):
    """nn.LSTM (time-major input) through lstm_cell step by step."""
    directions = 2 if lstm.bidirectional else 1
    hs, cs = [], []
    for layer in range(lstm.num_layers):
        outs = []
        for d in range(directions):
            k, suffix = layer * directions + d, f"_l{layer}" + ("_reverse" if d else "")
            names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if lstm.bias else [])
            weights = [getattr(lstm, n + suffix) for n in names]
            out, h, c = _direction(x, h0[k], c0[k], weights, bool(d))
            outs.append(out)
            hs.append(h)
            cs.append(c)
        x = outs[0] if directions == 1 else F.cat(outs, 2)
    return x, F.stack(hs), F.stack(cs)


def fused(lstm: nn.LSTM, x, h0, c0):
    out, (h, c) = lstm(x, (h0, c0))
    return out, h, c


def _values_and_gradients(run, lstm, arrays, dtype):
    """Output, h_n, c_n and the gradients of a weighted sum of them with respect to the
    input, the initial states and every parameter."""
    leaves = [cr.tensor(a, requires_grad=True) for a in arrays]
    out = run(lstm, *leaves)
    pick = np.random.default_rng(1)
    loss = sum((t * cr.tensor(pick.standard_normal(t.shape).astype(dtype))).sum() for t in out)
    grads = cr.autograd.grad(loss, leaves + list(lstm.parameters()))
    return [t.detach().numpy() for t in (*out, *grads)]


def _both(dtype, bidirectional=False, bias=True, seed=0):
    lstm = nn.LSTM(3, 4, num_layers=2, bias=bias, bidirectional=bidirectional, dtype=dtype)
    lstm.reset_parameters(seed)
    rng = np.random.default_rng(seed)
    states = (2 * (2 if bidirectional else 1), 2, 4)
    arrays = [rng.standard_normal(s).astype(dtype) for s in [(5, 2, 3), states, states]]
    return [_values_and_gradients(run, lstm, arrays, dtype) for run in (fused, stepwise)]


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_fused_lstm_matches_the_step_by_step_cell_in_float64(bidirectional, bias):
    new, reference = _both(np.float64, bidirectional, bias)
    for a, b in zip(new, reference):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_fused_lstm_in_float32_agrees_with_the_step_by_step_cell_to_rounding():
    new, reference = _both(np.float32, bidirectional=True)
    for a, b in zip(new, reference):
        assert a.dtype == np.float32
        assert np.max(np.abs(a - b)) <= 1e-6 * np.max(np.abs(b))


def test_second_derivatives_through_the_fused_lstm_match_the_step_by_step_cell():
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True, dtype=np.float64, generator=3)
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(s) for s in [(4, 2, 2), (4, 2, 3), (4, 2, 3)]]
    results = []
    for run in (fused, stepwise):
        leaves = [cr.tensor(a, requires_grad=True) for a in arrays]
        out, h, c = run(lstm, *leaves)
        loss = (out * out).sum() + (h * c).sum()
        gx = cr.autograd.grad(loss, leaves[0], create_graph=True)[0]
        second = cr.autograd.grad((gx * gx).sum(), [*leaves, lstm.weight_hh_l0])
        results.append([g.numpy() for g in second])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_each_layer_and_direction_of_a_padded_batch_is_one_fused_op(monkeypatch):
    calls = []
    real = rnn_unroll.lstm_layer

    def counting(ih, h0, c0, w_hh, b_hh, reverse=False):
        calls.append((tuple(ih.shape), reverse))
        return real(ih, h0, c0, w_hh, b_hh, reverse)

    monkeypatch.setattr(rnn_unroll, "lstm_layer", counting)
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True, generator=0)
    lstm(cr.zeros(2, 7, 3))
    assert calls == [((7, 2, 20), False), ((7, 2, 20), True)] * 2


@pytest.mark.parametrize("kind", ["several lengths", "proj_size"])
def test_packed_batches_of_several_lengths_and_projections_run_step_by_step(monkeypatch, kind):
    monkeypatch.setattr(rnn_unroll, "lstm_layer", None)  # calling it would raise
    lstm = nn.LSTM(3, 5, proj_size=2 if kind == "proj_size" else 0, generator=0)
    x = cr.zeros(4, 2, 3)
    out, _ = lstm(pack_padded_sequence(x, [4, 2]) if kind == "several lengths" else x)
    assert out is not None


def test_final_states_of_the_fused_lstm_are_the_last_step_of_each_direction():
    lstm = nn.LSTM(2, 3, bidirectional=True, dtype=np.float64, generator=1)
    x = cr.tensor(np.random.default_rng(0).standard_normal((6, 2, 2)))
    out, (h, c) = lstm(x)
    np.testing.assert_array_equal(h.numpy()[0], out.numpy()[-1, :, :3])  # forward: step T−1
    np.testing.assert_array_equal(h.numpy()[1], out.numpy()[0, :, 3:])  # reverse: step 0
    assert c.shape == (2, 2, 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_first_derivatives_are_the_same_bits_with_and_without_create_graph(dtype):
    # Without create_graph the op runs its in-place loops on arrays; with it, the plain form
    # on tensors (recording): the same operations in the same order.
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=dtype, generator=5)
    x = np.random.default_rng(3).standard_normal((6, 2, 3)).astype(dtype)
    results = []
    for create_graph in (False, True):
        xt = cr.tensor(x, requires_grad=True)
        out, (h, c) = lstm(xt)
        loss = (out * out).sum() + (h * c).sum()
        grads = cr.autograd.grad(loss, [xt, *lstm.parameters()], create_graph=create_graph)
        results.append([out.detach().numpy()] + [g.detach().numpy() for g in grads])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
