"""The cases of tests/test_double_backward_parity_seq.py: which interpolate modes, embedding and
embedding_bag settings, attention options and recurrent layers run, how their random inputs
are drawn, and PyTorch's embedding_bag composed from ops with a double backward. Importing it
skips the importing module without torch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F

torch = pytest.importorskip("torch")
tF = torch.nn.functional


def functional_of(m: Any) -> Any:
    return F if m is cr else tF


def constant(m: Any, a: Any) -> Any:
    """A constant (indices, masks, offsets) in library ``m``; None stays None."""
    return None if a is None else (cr.tensor(a) if m is cr else torch.tensor(a))


def ints(rng: np.random.Generator, low: int, high: int, n: int) -> tuple[int, ...]:
    return tuple(int(k) for k in rng.integers(low, high, n))


# ----- interpolate ------------------------------------------------------------------------------

# mode -> (spatial dims it takes, align_corners values)
MODES = {
    "nearest": ((1, 2, 3), (None,)),
    "nearest-exact": ((1, 2, 3), (None,)),
    "linear": ((1,), (False, True)),
    "bilinear": ((2,), (False, True)),
    "bicubic": ((2,), (False, True)),
    "trilinear": ((3,), (False, True)),
    "area": ((2,), (None,)),
}


INTERPOLATE = [
    (mode, dims, align, sizing)
    for mode, (all_dims, aligns) in MODES.items()
    for dims in all_dims
    for align in aligns
    for sizing in ("scale", "size", "recompute")
]


def sizing_kwargs(rng: np.random.Generator, spatial: tuple, sizing: str) -> dict[str, Any]:
    """``size``, or ``scale_factor`` (up or down; one for every axis or one per axis)."""
    if sizing == "size":
        return {"size": ints(rng, 1, 8, len(spatial))}
    factors = tuple(float(s) for s in np.round(rng.uniform(0.5, 2.6, len(spatial)), 2))
    kwargs: dict[str, Any] = {"scale_factor": factors if rng.random() < 0.7 else factors[0]}
    if sizing == "recompute":
        kwargs["recompute_scale_factor"] = True
    return kwargs


def torch_backward_shortcut(mode: str, spatial: tuple, kwargs: dict) -> bool:
    """Whether PyTorch's backward would take a shortcut its forward does not, its gradient then
    not being the adjoint of its forward (SHORTCUTS): under a scale factor that does not match
    the sizes, nearest (1-D/3-D) copies an axis that keeps its size and halves one that
    doubles; bicubic copies the gradient when no axis changes size. (Conservative: an axis of
    size 1, where both agree, is flagged too.)"""
    factor = kwargs.get("scale_factor")
    if factor is None or "recompute_scale_factor" in kwargs:
        return False
    factors = factor if isinstance(factor, tuple) else (factor,) * len(spatial)
    outs = [int(np.floor(n * s)) for n, s in zip(spatial, factors)]
    off = [s != o / n for n, s, o in zip(spatial, factors, outs)]
    if mode == "nearest" and len(spatial) != 2:
        return any(o in (n, 2 * n) and f for n, o, f in zip(spatial, outs, off))
    return mode == "bicubic" and outs == list(spatial) and any(off)


# name -> (mode, spatial size, scale factors): where PyTorch's backward takes a shortcut that
# its forward does not (torch_backward_shortcut)
SHORTCUTS = {
    "nearest-1d-doubling": ("nearest", (2,), (2.3,)),
    "nearest-1d-same-size": ("nearest", (4,), (1.1,)),
    "nearest-3d-doubling": ("nearest", (2, 1, 3), (2.3, 1.0, 1.4)),
    "bicubic-same-size": ("bicubic", (3, 2), (1.2, 1.3)),
}


# ----- embedding and embedding_bag -------------------------------------------------------------

EMBEDDING = {
    "plain": {},
    "padding_idx": {"padding_idx": 1},
    "negative-padding_idx": {"padding_idx": -1},
    "max_norm": {"max_norm": 1.0},
    "max_norm-l1": {"max_norm": 1.5, "norm_type": 1.0},
}


def lookup(rng: np.random.Generator, rows: int, n_dims: int) -> np.ndarray:
    """Indices into a table of ``rows`` rows, repeats likely, of a random ``n_dims``-D shape."""
    return rng.integers(0, rows, ints(rng, 1, 5, n_dims))


# (mode, layout, padded, per-sample weights): every mode, 2-D input or offsets (with and
# without include_last_offset, empty bags among them), padding_idx or not.
BAGS = [
    (mode, layout, padded, weighted)
    for mode in ("sum", "mean", "max")
    for layout in ("2d", "offsets", "offsets-last")
    for padded in (False, True)
    for weighted in ((False, True) if mode == "sum" else (False,))
]


def bag_layout(rng: np.random.Generator, rows: int, layout: str) -> tuple[np.ndarray, dict]:
    """Indices and the offsets arguments; ``bag`` (each index's bag) in the dict."""
    if layout == "2d":
        n_bags, length = ints(rng, 1, 4, 2)
        idx = rng.integers(0, rows, (n_bags, length))
        return idx, {"bag": np.repeat(np.arange(n_bags), length), "n_bags": n_bags}
    n = int(rng.integers(1, 9))
    starts = np.r_[0, np.sort(rng.integers(0, n + 1, int(rng.integers(0, 4))))]
    bag = np.searchsorted(starts, np.arange(n), side="right") - 1
    offsets = np.r_[starts, n] if layout == "offsets-last" else starts
    kwargs = {"offsets": offsets, "include_last_offset": layout == "offsets-last"}
    return rng.integers(0, rows, n), {"bag": bag, "n_bags": starts.size, **kwargs}


def torch_bag(w: Any, psw: Any, idx: np.ndarray, layout: dict, mode: str, pad: int | None) -> Any:
    """PyTorch's embedding_bag composed from ops with a double backward."""
    flat = idx.reshape(-1)
    rows = tF.embedding(torch.tensor(flat), w)
    if psw is not None:
        rows = rows * psw.reshape(-1, 1)
    reduce = {"sum": lambda r: r.sum(0), "mean": lambda r: r.mean(0)}
    reduce["max"] = lambda r: r.max(0).values
    outs = []
    for b in range(layout["n_bags"]):
        picks = np.flatnonzero((layout["bag"] == b) & (flat != (-1 if pad is None else pad)))
        empty = torch.zeros(w.shape[1], dtype=w.dtype)
        outs.append(reduce[mode](rows[torch.tensor(picks)]) if picks.size else empty)
    return torch.stack(outs)


def bag_fns(idx: np.ndarray, layout: dict, mode: str, pad: int | None):
    """f(lib, weight[, per_sample_weights]) for the helper (PyTorch's side composed), and
    PyTorch's native op on the same arguments."""
    kwargs = {"mode": mode, "padding_idx": pad}
    if "include_last_offset" in layout:
        kwargs["include_last_offset"] = layout["include_last_offset"]

    def call(m, w, psw):
        offsets = constant(m, layout.get("offsets"))
        return functional_of(m).embedding_bag(
            constant(m, idx), w, offsets, per_sample_weights=psw, **kwargs
        )

    def f(m, w, psw=None):
        return (call(cr, w, psw) if m is cr else torch_bag(w, psw, idx, layout, mode, pad)) ** 3

    return f, lambda w, psw=None: call(torch, w, psw) ** 3


# ----- attention -------------------------------------------------------------------------------


def bool_mask(rng: np.random.Generator, shape: tuple, dead_row: bool = False) -> np.ndarray:
    """True takes part; every query keeps key 0 unless its row is made dead."""
    mask = rng.random(shape) > 0.4
    mask[..., 0] = True
    if dead_row:
        mask[..., 0, :] = False
    return mask


def constants(m: Any, kwargs: dict) -> dict:
    """Keyword arguments with their arrays (masks) as constants of library ``m``."""
    return {k: constant(m, a) if isinstance(a, np.ndarray) else a for k, a in kwargs.items()}


# name -> (batch shapes of query, key and value; keyword arguments from (rng, L, S); whether a
# float mask, broadcasting over the batch, is a fourth differentiable input)
SDPA = {
    "broadcast-batch": (((2, 3), (3,), (1, 3)), lambda r, L, S: {}, False),
    "unbatched": (((), (), ()), lambda r, L, S: {}, False),
    "bool-mask": (
        ((2, 3), (2, 3), (2, 3)),
        lambda r, L, S: {"attn_mask": bool_mask(r, (L, S))},
        False,
    ),
    "bool-mask-dead-row": (
        ((2,), (2,), (2,)),
        lambda r, L, S: {"attn_mask": bool_mask(r, (2, L, S), dead_row=True)},
        False,
    ),
    "float-mask": (((2, 3), (3,), (3,)), lambda r, L, S: {}, True),
    "float-mask-minus-inf-dead-row": (
        ((2,), (2,), (2,)),
        lambda r, L, S: {"attn_mask": np.where(bool_mask(r, (2, L, S), True), 0.0, -np.inf)},
        False,
    ),
    "causal": (((2,), (2,), (2,)), lambda r, L, S: {"is_causal": True}, False),
    "scale-dropout-zero": (
        ((3,), (3,), (3,)),
        lambda r, L, S: {"scale": 0.7, "dropout_p": 0.0},
        False,
    ),
    "grouped-query": (((2, 4), (2, 2), (2, 2)), lambda r, L, S: {"enable_gqa": True}, False),
}


# name -> (keyword arguments from (rng, L, S, N, heads), with structure flags: "separate"
# projections with their own key/value widths, "bias_kv", "unbatched", "output" 0 or 1)
MHA = {
    "output": lambda r, L, S, N, H: {},
    "weights": lambda r, L, S, N, H: {"output": 1},
    "weights-per-head": lambda r, L, S, N, H: {"output": 1, "average_attn_weights": False},
    "no-weights": lambda r, L, S, N, H: {"need_weights": False},
    "key-padding-mask": lambda r, L, S, N, H: {"key_padding_mask": ~bool_mask(r, (N, 1, S))[:, 0]},
    "float-attn-mask": lambda r, L, S, N, H: {"attn_mask": r.standard_normal((L, S))},
    "bool-attn-mask-per-head": lambda r, L, S, N, H: {"attn_mask": ~bool_mask(r, (N * H, L, S))},
    "causal": lambda r, L, S, N, H: {
        "attn_mask": ~np.tri(L, S, dtype=bool),
        "is_causal": True,
        "need_weights": False,
    },
    "bias-kv-zero-attn": lambda r, L, S, N, H: {"bias_kv": True, "add_zero_attn": True},
    "separate-projections": lambda r, L, S, N, H: {"separate": True},
    "unbatched": lambda r, L, S, N, H: {"unbatched": True},
}


def mha_arrays(
    rng: np.random.Generator, E: int, L: int, S: int, N: int, flags: dict
) -> dict[str, np.ndarray]:
    """Inputs and parameters of multi_head_attention_forward, by keyword."""
    kdim, vdim = ints(rng, 1, 5, 2) if flags.pop("separate", False) else (E, E)
    batch = () if flags.pop("unbatched", False) else (N,)
    shapes = {"query": (L, *batch, E), "key": (S, *batch, kdim), "value": (S, *batch, vdim)}
    if (kdim, vdim) != (E, E):
        shapes |= {"q_proj_weight": (E, E), "k_proj_weight": (E, kdim), "v_proj_weight": (E, vdim)}
        flags["use_separate_proj_weight"] = True
    else:
        shapes["in_proj_weight"] = (3 * E, E)
    shapes |= {"in_proj_bias": (3 * E,), "out_proj_weight": (E, E), "out_proj_bias": (E,)}
    if flags.pop("bias_kv", False):
        shapes |= {"bias_k": (1, 1, E), "bias_v": (1, 1, E)}
    return {k: rng.standard_normal(s) for k, s in shapes.items()}


# name -> keyword arguments of nn.MultiheadAttention besides (embed_dim, num_heads)
MHA_MODULES = {
    "plain": {},
    "kdim-vdim-batch-first": {"kdim": 3, "vdim": 2, "batch_first": True},
    "bias-kv-zero-attn": {"add_bias_kv": True, "add_zero_attn": True},
    "no-bias": {"bias": False},
}


# ----- recurrent layers and cells --------------------------------------------------------------

# name -> (class, keyword arguments, initial state given, batched)
RECURRENT = {
    "RNN-tanh": ("RNN", {}, False, True),
    "RNN-relu-two-layers-bidirectional-batch-first": (
        "RNN",
        {"num_layers": 2, "nonlinearity": "relu", "bidirectional": True, "batch_first": True},
        True,
        True,
    ),
    "RNN-no-bias-unbatched": ("RNN", {"bias": False}, True, False),
    "LSTM": ("LSTM", {}, False, True),
    "LSTM-two-layers-with-state": ("LSTM", {"num_layers": 2}, True, True),
    "LSTM-no-bias": ("LSTM", {"bias": False}, True, True),
    "LSTM-projection-bidirectional": ("LSTM", {"proj_size": 1, "bidirectional": True}, True, True),
    "LSTM-unbatched-batch-first": ("LSTM", {"batch_first": True}, True, False),
    "GRU": ("GRU", {}, False, True),
    "GRU-two-layers-bidirectional-batch-first": (
        "GRU",
        {"num_layers": 2, "bidirectional": True, "batch_first": True},
        True,
        True,
    ),
    "RNNCell": ("RNNCell", {}, True, True),
    "RNNCell-relu-no-bias-no-state": (
        "RNNCell",
        {"nonlinearity": "relu", "bias": False},
        False,
        True,
    ),
    "LSTMCell": ("LSTMCell", {}, True, True),
    "LSTMCell-unbatched-no-state": ("LSTMCell", {}, False, False),
    "GRUCell": ("GRUCell", {}, True, True),
    "GRUCell-unbatched": ("GRUCell", {}, True, False),
}


def state_shapes(cls: str, kwargs: dict, batch: tuple, hidden: int) -> list[tuple]:
    """h (and c for an LSTM): (layers·directions, *batch, width) for a layer, (*batch, H) for
    a cell."""
    if cls.endswith("Cell"):
        return [(*batch, hidden)] * (2 if cls == "LSTMCell" else 1)
    lead = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    h = (lead, *batch, kwargs.get("proj_size") or hidden)
    return [h, (lead, *batch, hidden)] if cls == "LSTM" else [h]


def joined(result: Any) -> Any:
    """One tensor of a layer's (output, h or (h, c)) or a cell's h or (h, c): the first times
    the sum of the others, so that every output takes part."""
    flat = []
    for r in result if isinstance(result, tuple) else (result,):
        flat.extend(r if isinstance(r, tuple) else (r,))
    return flat[0] * sum(t.sum() for t in flat[1:]) if len(flat) > 1 else flat[0]


# name -> gates: chainrule.nn.rnn_cells' functions against torch.<name>
CELL_FUNCTIONS = {"rnn_tanh_cell": 1, "rnn_relu_cell": 1, "lstm_cell": 4, "gru_cell": 3}
