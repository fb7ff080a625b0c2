"""Parity of chainrule's recurrent layers with torch.nn's, in float64.

Each case builds the torch layer, copies its ``state_dict()`` into the chainrule layer (as
NumPy arrays, ``strict=True``) and the chainrule state back into a fresh torch layer, runs the
same inputs through both, backpropagates the same random weighting of the output and the final
states, and requires outputs, final states and the gradients of the input, the initial states
and every parameter to agree. Skipped without torch.
"""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn.utils import rnn as rnn_utils

torch = pytest.importorskip("torch")
tnn = torch.nn

RTOL, ATOL = 1e-9, 1e-11
INPUT, HIDDEN, STEPS, BATCH = 3, 4, 4, 3

# (name, chainrule class, torch class, extra constructor keywords)
KINDS = {
    "rnn_tanh": (nn.RNN, tnn.RNN, {}),
    "rnn_relu": (nn.RNN, tnn.RNN, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTM, tnn.LSTM, {}),
    "lstm_proj": (nn.LSTM, tnn.LSTM, {"proj_size": 2}),
    "gru": (nn.GRU, tnn.GRU, {}),
}


def rng_for(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def close(ours: cr.Tensor, theirs: torch.Tensor, what: str) -> None:
    assert tuple(ours.shape) == tuple(theirs.shape), what
    np.testing.assert_allclose(
        ours.numpy(), theirs.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=what
    )


def make_pair(kind: str, seed: int, **kw):
    """A torch layer and a chainrule layer holding the same weights (torch → chainrule)."""
    ours_cls, theirs_cls, extra = KINDS[kind]
    torch.manual_seed(seed)
    theirs = theirs_cls(INPUT, HIDDEN, dtype=torch.float64, **extra, **kw)
    ours = ours_cls(INPUT, HIDDEN, dtype=np.float64, **extra, **kw)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()}, strict=True)
    return ours, theirs


def check_back_to_torch(ours: nn.Module, theirs: tnn.Module, kind: str, **kw) -> None:
    """chainrule → torch: a fresh torch layer loads our state and holds the same values."""
    _, theirs_cls, extra = KINDS[kind]
    fresh = theirs_cls(INPUT, HIDDEN, dtype=torch.float64, **extra, **kw)
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    for (name, a), (name_b, b) in zip(fresh.named_parameters(), theirs.named_parameters()):
        assert name == name_b
        assert torch.equal(a, b), name
    assert list(ours.state_dict()) == list(theirs.state_dict())


def state_count(kind: str) -> int:
    return 2 if kind.startswith("lstm") else 1


def initial_states(kind, ours, batch, rng, unbatched=False):
    """Random (h0,) or (h0, c0) as arrays of torch's expected shapes."""
    layers = ours.num_layers * (2 if ours.bidirectional else 1)
    sizes = [ours.proj_size or HIDDEN, HIDDEN][: state_count(kind)]
    lead = (layers,) if unbatched else (layers, batch)
    return [rng.standard_normal((*lead, s)) for s in sizes]


def as_hx(kind: str, states: list, lib):
    if not states:
        return None
    return tuple(states) if kind.startswith("lstm") else states[0]


def weighted_loss(outputs, weights, lib):
    total = None
    for out, w in zip(outputs, weights):
        term = (out * lib(w)).sum()
        total = term if total is None else total + term
    return total


def flat_results(kind: str, out, hidden) -> list:
    return [out, *(hidden if kind.startswith("lstm") else (hidden,))]


def compare_params_grads(ours: nn.Module, theirs: tnn.Module) -> None:
    theirs_params = dict(theirs.named_parameters())
    ours_params = dict(ours.named_parameters())
    assert list(ours_params) == list(theirs_params)
    for name, p in ours_params.items():
        close(p.grad, theirs_params[name].grad, f"gradient of {name}")


def run_padded(kind, ours, theirs, x, states, rng):
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    so = [cr.tensor(s, requires_grad=True) for s in states]
    st = [torch.tensor(s, requires_grad=True) for s in states]
    res_o = flat_results(kind, *ours(xo, as_hx(kind, so, cr)))
    res_t = flat_results(kind, *theirs(xt, as_hx(kind, st, torch)))
    for a, b, what in zip(res_o, res_t, ["output", "h_n", "c_n"]):
        close(a, b, what)
    weights = [rng.standard_normal(tuple(r.shape)) for r in res_t]
    weighted_loss(res_o, weights, cr.tensor).backward()
    weighted_loss(res_t, weights, torch.tensor).backward()
    close(xo.grad, xt.grad, "gradient of the input")
    for a, b, what in zip(so, st, ["h0", "c0"]):
        close(a.grad, b.grad, f"gradient of {what}")
    compare_params_grads(ours, theirs)


GRID = list(itertools.product(KINDS, [1, 2], [False, True], [False, True], [False, True]))


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize(
    "kind,num_layers,bidirectional,batch_first,with_state",
    GRID,
    ids=[f"{k}-L{n}-bi{int(b)}-bf{int(f)}-h0{int(s)}" for k, n, b, f, s in GRID],
)
def test_padded_batch_matches_torch(kind, num_layers, bidirectional, batch_first, with_state, bias):
    name = f"{kind}{num_layers}{bidirectional}{batch_first}{with_state}{bias}"
    kw = dict(
        num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias
    )
    ours, theirs = make_pair(kind, zlib.crc32(name.encode()), **kw)
    check_back_to_torch(ours, theirs, kind, **kw)
    rng = rng_for(name)
    shape = (BATCH, STEPS, INPUT) if batch_first else (STEPS, BATCH, INPUT)
    x = rng.standard_normal(shape)
    states = initial_states(kind, ours, BATCH, rng) if with_state else []
    run_padded(kind, ours, theirs, x, states, rng)


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("with_state", [False, True], ids=["zeros", "h0"])
def test_unbatched_input_matches_torch(kind, with_state):
    ours, theirs = make_pair(kind, 7, num_layers=2, bidirectional=True, batch_first=True)
    rng = rng_for(f"unbatched{kind}{with_state}")
    x = rng.standard_normal((STEPS, INPUT))
    states = initial_states(kind, ours, None, rng, unbatched=True) if with_state else []
    run_padded(kind, ours, theirs, x, states, rng)


PACKED = list(itertools.product(KINDS, [True, False], [1, 2], [False, True], [False, True]))


@pytest.mark.parametrize(
    "kind,enforce_sorted,num_layers,bidirectional,with_state",
    PACKED,
    ids=[f"{k}-sorted{int(e)}-L{n}-bi{int(b)}-h0{int(s)}" for k, e, n, b, s in PACKED],
)
def test_packed_batch_matches_torch(kind, enforce_sorted, num_layers, bidirectional, with_state):
    name = f"packed{kind}{enforce_sorted}{num_layers}{bidirectional}{with_state}"
    ours, theirs = make_pair(
        kind, zlib.crc32(name.encode()), num_layers=num_layers, bidirectional=bidirectional
    )
    rng = rng_for(name)
    lengths = [5, 3, 3, 1] if enforce_sorted else [2, 5, 1, 4]
    x = rng.standard_normal((5, len(lengths), INPUT))
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    po = rnn_utils.pack_padded_sequence(xo, lengths, enforce_sorted=enforce_sorted)
    pt = tnn.utils.rnn.pack_padded_sequence(xt, lengths, enforce_sorted=enforce_sorted)
    states = initial_states(kind, ours, len(lengths), rng) if with_state else []
    so = [cr.tensor(s, requires_grad=True) for s in states]
    st = [torch.tensor(s, requires_grad=True) for s in states]
    out_o, hid_o = ours(po, as_hx(kind, so, cr))
    out_t, hid_t = theirs(pt, as_hx(kind, st, torch))
    assert isinstance(out_o, rnn_utils.PackedSequence)
    assert out_o.batch_sizes.tolist() == out_t.batch_sizes.tolist()
    if enforce_sorted:
        assert out_o.sorted_indices is None
    else:
        assert out_o.sorted_indices.tolist() == out_t.sorted_indices.tolist()
    pad_o, len_o = rnn_utils.pad_packed_sequence(out_o, batch_first=True, padding_value=-1.0)
    pad_t, len_t = tnn.utils.rnn.pad_packed_sequence(out_t, batch_first=True, padding_value=-1.0)
    assert len_o.tolist() == len_t.tolist() == lengths
    res_o = [out_o.data, pad_o, *flat_results(kind, pad_o, hid_o)[1:]]
    res_t = [out_t.data, pad_t, *flat_results(kind, pad_t, hid_t)[1:]]
    for a, b, what in zip(res_o, res_t, ["packed output", "padded output", "h_n", "c_n"]):
        close(a, b, what)
    weights = [rng.standard_normal(tuple(r.shape)) for r in res_t]
    weighted_loss(res_o, weights, cr.tensor).backward()
    weighted_loss(res_t, weights, torch.tensor).backward()
    close(xo.grad, xt.grad, "gradient of the padded input")
    for a, b, what in zip(so, st, ["h0", "c0"]):
        close(a.grad, b.grad, f"gradient of {what}")
    compare_params_grads(ours, theirs)


def test_dropout_of_one_zeroes_the_inputs_of_every_layer_but_the_first_as_torch():
    """p = 1 makes dropout deterministic: it must act between layers, never after the last."""
    for kind in ("lstm", "gru", "rnn_tanh"):
        ours, theirs = make_pair(kind, 3, num_layers=3, dropout=1.0)
        x = rng_for(kind).standard_normal((STEPS, BATCH, INPUT))
        res_o = flat_results(kind, *ours(cr.tensor(x)))
        res_t = flat_results(kind, *theirs(torch.from_numpy(x)))
        for a, b in zip(res_o, res_t):
            close(a, b, f"{kind} with dropout=1 in training mode")
        assert np.abs(res_o[0].numpy()).max() > 0  # the last layer's output is not dropped
        ours.eval()
        theirs.eval()
        close(ours(cr.tensor(x))[0], theirs(torch.from_numpy(x))[0], f"{kind} in eval mode")


CELLS = {
    "rnn_tanh": (nn.RNNCell, tnn.RNNCell, {}),
    "rnn_relu": (nn.RNNCell, tnn.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTMCell, tnn.LSTMCell, {}),
    "gru": (nn.GRUCell, tnn.GRUCell, {}),
}
CELL_GRID = list(itertools.product(CELLS, [True, False], [False, True], [True, False]))


@pytest.mark.parametrize(
    "kind,bias,with_state,batched",
    CELL_GRID,
    ids=[f"{k}-bias{int(b)}-h{int(s)}-batched{int(n)}" for k, b, s, n in CELL_GRID],
)
def test_cell_matches_torch(kind, bias, with_state, batched):
    ours_cls, theirs_cls, extra = CELLS[kind]
    torch.manual_seed(zlib.crc32(kind.encode()))
    theirs = theirs_cls(INPUT, HIDDEN, bias=bias, dtype=torch.float64, **extra)
    ours = ours_cls(INPUT, HIDDEN, bias=bias, dtype=np.float64, **extra)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    fresh = theirs_cls(INPUT, HIDDEN, bias=bias, dtype=torch.float64, **extra)
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    for a, b in zip(fresh.parameters(), theirs.parameters()):
        assert torch.equal(a, b)
    rng = rng_for(f"cell{kind}{bias}{with_state}{batched}")
    lead = (BATCH,) if batched else ()
    x = rng.standard_normal((*lead, INPUT))
    states = [rng.standard_normal((*lead, HIDDEN)) for _ in range(state_count(kind))]
    states = states if with_state else []
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    so = [cr.tensor(s, requires_grad=True) for s in states]
    st = [torch.tensor(s, requires_grad=True) for s in states]
    res_o, res_t = ours(xo, as_hx(kind, so, cr)), theirs(xt, as_hx(kind, st, torch))
    res_o = list(res_o) if kind == "lstm" else [res_o]
    res_t = list(res_t) if kind == "lstm" else [res_t]
    for a, b in zip(res_o, res_t):
        close(a, b, "cell output")
    weights = [rng.standard_normal(tuple(r.shape)) for r in res_t]
    weighted_loss(res_o, weights, cr.tensor).backward()
    weighted_loss(res_t, weights, torch.tensor).backward()
    close(xo.grad, xt.grad, "gradient of the input")
    for a, b in zip(so, st):
        close(a.grad, b.grad, "gradient of the state")
    compare_params_grads(ours, theirs)


def test_float32_layer_matches_torch_to_float32_tolerance():
    torch.manual_seed(0)
    theirs = tnn.LSTM(INPUT, HIDDEN, num_layers=2, bidirectional=True)
    ours = nn.LSTM(INPUT, HIDDEN, num_layers=2, bidirectional=True)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng_for("f32").standard_normal((STEPS, BATCH, INPUT)).astype(np.float32)
    out_o, (h_o, c_o) = ours(cr.tensor(x))
    out_t, (h_t, c_t) = theirs(torch.from_numpy(x))
    assert out_o.dtype == np.float32
    for a, b in ((out_o, out_t), (h_o, h_t), (c_o, c_t)):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_parameter_names_and_shapes_are_torchs_for_a_projected_bidirectional_lstm():
    torch.manual_seed(0)
    theirs = tnn.LSTM(5, 6, num_layers=2, bidirectional=True, proj_size=3, bias=False)
    ours = nn.LSTM(5, 6, num_layers=2, bidirectional=True, proj_size=3, bias=False)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()
    ]
    assert [[tuple(w.shape) for w in ws] for ws in ours.all_weights] == [
        [tuple(w.shape) for w in ws] for ws in theirs.all_weights
    ]
    assert ours.extra_repr() == theirs.extra_repr()
