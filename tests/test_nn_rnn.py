"""The recurrent layers on their own: gradcheck through time, initialization, modes, the
structure of the unrolled computation, and the argument errors (PyTorch's messages)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
import chainrule.nn as nn
from chainrule.nn.rnn_cells import gru_cell, lstm_cell
from chainrule.nn.rnn_unroll import recurrent_layers
from chainrule.nn.utils.rnn import pack_padded_sequence


def leaf(rng: np.random.Generator, *shape: int) -> cr.Tensor:
    return cr.tensor(rng.standard_normal(shape) * 0.7, requires_grad=True)


# ----- gradcheck --------------------------------------------------------------------------


def test_gradcheck_unrolled_lstm_of_five_steps_through_inputs_states_and_weights():
    rng = np.random.default_rng(0)
    hidden = 2
    x = leaf(rng, 5, 2, 3)
    h0, c0 = leaf(rng, 2, hidden), leaf(rng, 2, hidden)
    weights = [leaf(rng, 4 * hidden, 3), leaf(rng, 4 * hidden, hidden)]
    biases = [leaf(rng, 4 * hidden), leaf(rng, 4 * hidden)]

    def unrolled(x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        h, c = h0, c0
        for t in range(5):
            h, c = lstm_cell(x[t], (h, c), w_ih, w_hh, b_ih, b_hh)
        return F.cat([h, c], 1)

    assert cr.gradcheck(unrolled, [x, h0, c0, *weights, *biases])


def test_gradcheck_lstm_layers_with_projection_through_inputs_and_weights():
    rng = np.random.default_rng(1)
    hidden, proj = 3, 2
    data = leaf(rng, 5, 2)  # packed: batch sizes 2, 2, 1
    h0, c0 = leaf(rng, 1, 2, proj), leaf(rng, 1, 2, hidden)
    w = [leaf(rng, 4 * hidden, 2), leaf(rng, 4 * hidden, proj), leaf(rng, 4 * hidden)]
    w_hr = leaf(rng, proj, hidden)

    def network(data, h0, c0, w_ih, w_hh, b, w_hr):
        out, (h, c) = recurrent_layers(
            "LSTM", data, [2, 2, 1], (h0, c0), [(w_ih, w_hh, b, None, w_hr)], 1
        )
        return F.cat([F.reshape(out, (-1,)), F.reshape(h, (-1,)), F.reshape(c, (-1,))])

    assert cr.gradcheck(network, [data, h0, c0, *w, w_hr])


def test_gradcheck_bidirectional_two_layer_gru_on_a_packed_batch_through_weights():
    rng = np.random.default_rng(2)
    hidden = 2
    data = leaf(rng, 6, 2)  # batch sizes 3, 2, 1
    h0 = leaf(rng, 4, 3, hidden)
    weights = []
    for layer in range(2):
        for _ in range(2):
            width = 2 if layer == 0 else 2 * hidden
            weights += [
                leaf(rng, 3 * hidden, width),
                leaf(rng, 3 * hidden, hidden),
                leaf(rng, 3 * hidden),
                leaf(rng, 3 * hidden),
            ]

    def network(data, h0, *flat):
        per = [(*flat[i : i + 4], None) for i in range(0, len(flat), 4)]
        out, (h,) = recurrent_layers("GRU", data, [3, 2, 1], (h0,), per, 2, bidirectional=True)
        return F.cat([F.reshape(out, (-1,)), F.reshape(h, (-1,))])

    assert cr.gradcheck(network, [data, h0, *weights], fast_mode=True)
    # in full, the first layer's forward weights (the rest held fixed)
    fixed = [w.detach() for w in weights[4:]]
    assert cr.gradcheck(network, [data, h0, *weights[:4], *fixed])


def test_gradcheck_gru_cell_through_input_state_and_weights():
    rng = np.random.default_rng(3)
    args = [
        leaf(rng, 2, 3),
        leaf(rng, 2, 2),
        leaf(rng, 6, 3),
        leaf(rng, 6, 2),
        leaf(rng, 6),
        leaf(rng, 6),
    ]
    assert cr.gradcheck(gru_cell, args)


def test_gradcheck_lstm_module_through_its_input_and_initial_states():
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True, dtype=np.float64, generator=0)
    rng = np.random.default_rng(4)
    x, h0, c0 = leaf(rng, 4, 2, 2), leaf(rng, 4, 2, 3), leaf(rng, 4, 2, 3)

    def run(x, h0, c0):
        out, (h, c) = lstm(x, (h0, c0))
        return F.cat([F.reshape(out, (-1,)), F.reshape(h, (-1,)), F.reshape(c, (-1,))])

    assert cr.gradcheck(run, [x, h0, c0])


# ----- structure -------------------------------------------------------------------------


def test_one_input_projection_per_layer_and_direction_and_one_hidden_product_per_step(
    monkeypatch,
):
    calls = []
    real_linear = F.linear

    def counting(x, weight, bias=None):
        calls.append(tuple(weight.shape))
        return real_linear(x, weight, bias)

    monkeypatch.setattr(F, "linear", counting)
    # The GRU runs step by step (nn.LSTM's fused layer is pinned in test_nn_lstm_fused.py).
    gru = nn.GRU(3, 5, num_layers=2, bidirectional=True, generator=0)
    gru(cr.zeros(7, 2, 3))
    ih = [c for c in calls if c[1] != 5]
    hh = [c for c in calls if c == (15, 5)]
    assert ih == [(15, 3), (15, 3), (15, 10), (15, 10)]  # whole sequences, all 3 gates at once
    assert len(hh) == 2 * 2 * 7 and len(calls) == len(ih) + len(hh)


def test_final_state_of_a_packed_batch_is_each_sequences_state_at_its_last_step():
    gru = nn.GRU(2, 3, dtype=np.float64, generator=1)
    x = cr.tensor(np.random.default_rng(0).standard_normal((4, 3, 2)))
    lengths = [2, 4, 1]
    out, h_n = gru(pack_padded_sequence(x, lengths, enforce_sorted=False))
    padded, _ = nn.utils.rnn.pad_packed_sequence(out)
    for b, n in enumerate(lengths):
        np.testing.assert_allclose(h_n.numpy()[0, b], padded.numpy()[n - 1, b])
        alone, h_alone = gru(x[:n, b])  # the same sequence, unbatched and unpadded
        np.testing.assert_allclose(h_alone.numpy()[0], h_n.numpy()[0, b], rtol=1e-12)
        np.testing.assert_allclose(alone.numpy(), padded.numpy()[:n, b], rtol=1e-12)


def test_backprop_through_time_trains_an_lstm_to_remember_the_first_step():
    cr.manual_seed(0)
    lstm, head = nn.LSTM(1, 8, generator=0), nn.Linear(8, 1, generator=0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 16, 1)).astype(np.float32)
    target = cr.tensor(x[0])
    params = [*lstm.parameters(), *head.parameters()]
    opt = cr.optim.Adam(params, lr=0.05)
    losses = []
    for _ in range(60):
        out, _ = lstm(cr.tensor(x))
        loss = F.mse_loss(head(out[-1]), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]


# ----- initialization, dtype, modes ---------------------------------------------------


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_every_parameter_is_drawn_from_uniform_minus_to_plus_one_over_sqrt_hidden(cls):
    layer = cls(20, 64, generator=0)
    bound = 1 / math.sqrt(64)
    for name, p in layer.named_parameters():
        values = p.numpy()
        assert values.dtype == np.float32, name
        assert np.abs(values).max() <= bound, name
        assert np.abs(values).max() > 0.9 * bound, name
        assert abs(values.mean()) < 0.15 * bound, name
    again = cls(20, 64, generator=0)
    assert all(
        np.array_equal(a.numpy(), b.numpy()) for a, b in zip(layer.parameters(), again.parameters())
    )


def test_reset_parameters_redraws_every_weight():
    lstm = nn.LSTM(3, 4, num_layers=2, proj_size=2, generator=0)
    before = [p.numpy().copy() for p in lstm.parameters()]
    lstm.reset_parameters(generator=1)
    assert all(not np.array_equal(a, p.numpy()) for a, p in zip(before, lstm.parameters()))


def test_float64_input_runs_in_the_layers_float32_and_stays_differentiable():
    rnn = nn.RNN(2, 3, generator=0)
    x = cr.tensor(np.ones((4, 2, 2)), requires_grad=True)
    out, h = rnn(x)
    assert out.dtype == np.float32 and h.dtype == np.float32
    out.sum().backward()
    assert x.grad is not None and x.grad.shape == (4, 2, 2)


def test_dropout_acts_only_in_training_mode():
    lstm = nn.LSTM(3, 6, num_layers=2, dropout=0.5, generator=0)
    plain = nn.LSTM(3, 6, num_layers=2, generator=0)
    x = cr.tensor(np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32))
    cr.manual_seed(0)
    first, second = lstm(x)[0].numpy(), lstm(x)[0].numpy()
    reference = plain(x)[0].numpy()
    assert not np.allclose(first, second)
    assert not np.allclose(first, reference)
    lstm.eval()
    np.testing.assert_array_equal(lstm(x)[0].numpy(), reference)


def test_all_weights_flat_weights_and_flatten_parameters_for_compatibility():
    gru = nn.GRU(3, 4, num_layers=2, bidirectional=True, generator=0)
    names = [[n for n, _ in gru.named_parameters()][i : i + 4] for i in range(0, 16, 4)]
    assert [[id(w) for w in ws] for ws in gru.all_weights] == [
        [id(getattr(gru, n)) for n in ns] for ns in names
    ]
    assert names[1] == [
        "weight_ih_l0_reverse",
        "weight_hh_l0_reverse",
        "bias_ih_l0_reverse",
        "bias_hh_l0_reverse",
    ]
    assert len(gru._flat_weights) == 16
    x = cr.zeros(2, 1, 3)
    before = gru(x)[0].numpy()
    assert gru.flatten_parameters() is None
    np.testing.assert_array_equal(gru(x)[0].numpy(), before)


def test_relu_rnn_uses_relu_and_has_the_relu_mode():
    rnn = nn.RNN(2, 3, nonlinearity="relu", generator=0)
    assert rnn.mode == "RNN_RELU" and rnn.nonlinearity == "relu"
    out, _ = rnn(cr.tensor(np.random.default_rng(0).standard_normal((6, 4, 2)), dtype=cr.float32))
    assert out.numpy().min() == 0.0
    assert nn.RNN(2, 3, 1, "relu").mode == "RNN_RELU"  # nonlinearity is the 4th positional


def test_cell_repr_and_bias_free_cell():
    cell = nn.RNNCell(3, 4, bias=False, nonlinearity="relu")
    assert cell.extra_repr() == "3, 4, bias=False, nonlinearity=relu"
    assert cell.bias_ih is None and cell.bias_hh is None
    assert [n for n, _ in cell.named_parameters()] == ["weight_ih", "weight_hh"]


# ----- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
def test_wrong_input_size_is_refused_with_torchs_message(cls):
    layer = cls(3, 4)
    with pytest.raises(
        RuntimeError,
        match=r"input.size\(-1\) must be equal to input_size. "
        r"Expected 3, got 5",
    ):
        layer(cr.zeros(2, 1, 5))
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D"):
        layer(cr.zeros(2, 1, 3, 1))


def test_wrong_h0_shape_is_refused_with_torchs_message():
    rnn = nn.GRU(3, 4, num_layers=2)
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 5, 4\), got \[1, 5, 4\]"):
        rnn(cr.zeros(6, 5, 3), cr.zeros(1, 5, 4))
    with pytest.raises(
        RuntimeError, match="For batched 3-D input, hx should also be 3-D but got 2-D tensor"
    ):
        rnn(cr.zeros(6, 5, 3), cr.zeros(5, 4))
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, hx should also be 2-D"):
        rnn(cr.zeros(6, 3), cr.zeros(2, 1, 4))


def test_wrong_lstm_state_shapes_are_refused_with_torchs_messages():
    lstm = nn.LSTM(3, 4, proj_size=2)
    x = cr.zeros(6, 5, 3)
    with pytest.raises(
        RuntimeError,
        match=r"Expected hidden\[0\] size \(1, 5, 2\), got "
        r"\[1, 5, 4\]",
    ):
        lstm(x, (cr.zeros(1, 5, 4), cr.zeros(1, 5, 4)))
    with pytest.raises(
        RuntimeError,
        match=r"Expected hidden\[1\] size \(1, 5, 4\), got "
        r"\[1, 5, 2\]",
    ):
        lstm(x, (cr.zeros(1, 5, 2), cr.zeros(1, 5, 2)))
    with pytest.raises(RuntimeError, match="hx and cx should also be 3-D"):
        lstm(x, (cr.zeros(5, 2), cr.zeros(1, 5, 4)))
    with pytest.raises(TypeError, match=r"tuple \(h_0, c_0\)"):
        lstm(x, cr.zeros(1, 5, 2))


def test_bad_nonlinearity_is_refused():
    with pytest.raises(
        ValueError, match="Unknown nonlinearity 'sigmoid'. Select from 'tanh' or 'relu'."
    ):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    cell = nn.RNNCell(3, 4, nonlinearity="gelu")  # PyTorch checks the cell's when called
    with pytest.raises(RuntimeError, match="Unknown nonlinearity: gelu"):
        cell(cr.zeros(2, 3))


@pytest.mark.parametrize("dropout", [-0.1, 1.5, True, "0.2"])
def test_dropout_out_of_range_is_refused(dropout):
    with pytest.raises(ValueError, match=r"dropout should be a number in range \[0, 1\]"):
        nn.LSTM(3, 4, num_layers=2, dropout=dropout)


def test_dropout_with_a_single_layer_warns_as_torch():
    with pytest.warns(
        UserWarning,
        match="non-zero dropout expects num_layers greater than 1, "
        "but got dropout=0.3 and num_layers=1",
    ):
        nn.GRU(3, 4, dropout=0.3)


def test_bad_sizes_and_flags_are_refused_with_torchs_messages():
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.RNN(3, 0)
    with pytest.raises(TypeError, match="input_size should be of type int, got: float"):
        nn.GRU(3.0, 4)
    with pytest.raises(ValueError, match="num_layers must be greater than zero"):
        nn.LSTM(3, 4, num_layers=0)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size should be a positive integer or zero"):
        nn.LSTM(3, 4, proj_size=-1)
    with pytest.raises(TypeError, match="batch_first should be of type bool, got: int"):
        nn.LSTM(3, 4, batch_first=1)
    with pytest.raises(ValueError, match="Unrecognized RNN mode: SRU"):
        nn.RNNBase("SRU", 3, 4)


def test_cell_errors_are_torchs():
    cell = nn.LSTMCell(3, 4)
    with pytest.raises(ValueError, match="LSTMCell: Expected input to be 1D or 2D, got 3D"):
        cell(cr.zeros(1, 2, 3))
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 2 expected 3"):
        cell(cr.zeros(5, 2))
    with pytest.raises(
        RuntimeError, match="hidden1 has inconsistent hidden_size: got 3, expected 4"
    ):
        cell(cr.zeros(5, 3), (cr.zeros(5, 4), cr.zeros(5, 3)))
    with pytest.raises(RuntimeError, match="Input batch size 5 doesn't match hidden0 batch size 2"):
        nn.GRUCell(3, 4)(cr.zeros(5, 3), cr.zeros(2, 4))
    with pytest.raises(ValueError, match="GRUCell: Expected hidden to be 1D or 2D, got 3D"):
        nn.GRUCell(3, 4)(cr.zeros(5, 3), cr.zeros(1, 5, 4))
