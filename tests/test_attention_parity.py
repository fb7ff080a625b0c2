"""Scaled dot-product attention and MultiheadAttention against PyTorch in float64: outputs,
attention weights and the gradients of every input, mask and parameter."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from attention_parity_support import assert_same, compare, torch, twin

TF = torch.nn.functional
F = cr.functional


# ----- scaled_dot_product_attention -------------------------------------------------------------


def _qkv(rng, batch, L, S, E, Ev):
    return {
        "query": rng.normal(size=batch + (L, E)),
        "key": rng.normal(size=batch + (S, E)),
        "value": rng.normal(size=batch + (S, Ev)),
    }


def _bool_mask(rng, shape, dead_row=False):
    mask = rng.random(shape) > 0.35
    mask[..., 0] = True  # every query keeps a key unless a row is made dead below
    if dead_row:
        mask[..., 1, :] = False
    return mask


SDPA_CASES = {
    "unbatched": ((), 3, 4, 5, 6, lambda rng: {}),
    "batched": ((2,), 3, 4, 5, 2, lambda rng: {}),
    "heads": ((2, 3), 4, 4, 8, 8, lambda rng: {}),
    "five_dims": ((2, 1, 3), 2, 5, 4, 3, lambda rng: {}),
    "bool_mask": ((2, 3), 4, 5, 4, 4, lambda rng: {"attn_mask": _bool_mask(rng, (4, 5))}),
    "bool_mask_broadcast_batch": (
        (2, 3), 4, 5, 4, 4, lambda rng: {"attn_mask": _bool_mask(rng, (2, 1, 4, 5))},
    ),
    "bool_mask_fully_masked_row": (
        (2, 3), 4, 5, 4, 4, lambda rng: {"attn_mask": _bool_mask(rng, (4, 5), dead_row=True)},
    ),
    "float_mask": ((2, 3), 4, 5, 4, 4, lambda rng: {"attn_mask": rng.normal(size=(3, 4, 5))}),
    "float_mask_with_minus_inf": (
        (2,), 3, 4, 4, 4,
        lambda rng: {"attn_mask": np.where(_bool_mask(rng, (3, 4), True), 0.0, -np.inf)},
    ),
    "causal_square": ((2, 3), 5, 5, 4, 4, lambda rng: {"is_causal": True}),
    "causal_more_keys": ((2,), 3, 6, 4, 4, lambda rng: {"is_causal": True}),
    "causal_fewer_keys": ((2,), 5, 3, 4, 4, lambda rng: {"is_causal": True}),
    "scale": ((2, 2), 3, 4, 4, 4, lambda rng: {"scale": 0.3}),
    "scale_and_mask": (
        (2, 2), 3, 4, 4, 4, lambda rng: {"scale": 2.0, "attn_mask": _bool_mask(rng, (3, 4))},
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(SDPA_CASES))
def test_sdpa_matches_torch_outputs_and_gradients(name):
    batch, L, S, E, Ev, extra = SDPA_CASES[name]
    rng = np.random.default_rng(len(name))
    inputs = {**_qkv(rng, batch, L, S, E, Ev), **extra(rng)}
    compare(TF.scaled_dot_product_attention, F.scaled_dot_product_attention, inputs)


def test_sdpa_grouped_query_attention_matches_torch():
    rng = np.random.default_rng(3)
    inputs = {
        "query": rng.normal(size=(2, 4, 3, 4)),
        "key": rng.normal(size=(2, 2, 5, 4)),
        "value": rng.normal(size=(2, 2, 5, 3)),
        "enable_gqa": True,
    }
    compare(TF.scaled_dot_product_attention, F.scaled_dot_product_attention, inputs)


def test_sdpa_fully_masked_row_is_zero_like_torch_without_warnings():
    rng = np.random.default_rng(4)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False
    theirs = TF.scaled_dot_product_attention(*map(torch.tensor, (q, k, v, mask)))
    ours = F.scaled_dot_product_attention(*map(cr.tensor, (q, k, v, mask)))
    assert_same(ours.numpy(), theirs.numpy(), "output")
    assert np.all(ours.numpy()[1] == 0.0)


# ----- MultiheadAttention ------------------------------------------------------------------------

# (constructor keywords, forward-mask maker, forward keywords)
MHA_CASES = {
    "default": ({}, None, {}),
    "batch_first": ({"batch_first": True}, None, {}),
    "no_bias": ({"bias": False}, None, {}),
    "kdim_vdim": ({"kdim": 3, "vdim": 5}, None, {}),
    "add_bias_kv": ({"add_bias_kv": True}, None, {}),
    "add_zero_attn": ({"add_zero_attn": True}, None, {}),
    "bias_kv_zero_attn_kdim_masks": (
        {"add_bias_kv": True, "add_zero_attn": True, "kdim": 6, "batch_first": True},
        "both_bool", {},
    ),
    "key_padding_mask": ({}, "padding", {}),
    "key_padding_mask_float": ({}, "padding_float", {}),
    "attn_mask_bool": ({}, "attn_bool", {}),
    "attn_mask_float_3d": ({}, "attn_float_3d", {}),
    "both_masks": ({"batch_first": True}, "both_bool", {}),
    "no_weights": ({}, "both_bool", {"need_weights": False}),
    "per_head_weights": ({}, "both_bool", {"average_attn_weights": False}),
    "causal_hint": ({}, "causal", {"is_causal": True, "need_weights": False}),
    "causal_hint_with_weights": ({}, "causal", {"is_causal": True}),
    "causal_hint_with_padding": ({}, "causal_padding", {"is_causal": True}),
}  # fmt: skip

E, HEADS, L, S, N = 8, 2, 4, 5, 3


def _masks(kind, rng):
    padding = rng.random((N, S)) > 0.7
    padding[:, 0] = False  # no fully padded sequence here (see the dedicated test)
    attn = rng.random((L, S)) > 0.75
    attn[:, 1] = False
    causal = np.triu(np.ones((L, S), dtype=bool), 1)
    return {
        None: {},
        "padding": {"key_padding_mask": padding},
        "padding_float": {"key_padding_mask": np.where(padding, -1e9, 0.0)},
        "attn_bool": {"attn_mask": attn},
        "attn_float_3d": {"attn_mask": rng.normal(size=(N * HEADS, L, S))},
        "both_bool": {"key_padding_mask": padding, "attn_mask": attn},
        "causal": {"attn_mask": causal},
        "causal_padding": {"attn_mask": causal, "key_padding_mask": padding},
    }[kind]


def _mha_inputs(config, rng, kind, extra, unbatched=False):
    kdim, vdim = config.get("kdim", E), config.get("vdim", E)
    lead = (N,) if config.get("batch_first") else ()
    mid = () if config.get("batch_first") else (N,)
    if unbatched:
        lead = mid = ()
    inputs = {
        "query": rng.normal(size=lead + (L,) + mid + (E,)),
        "key": rng.normal(size=lead + (S,) + mid + (kdim,)),
        "value": rng.normal(size=lead + (S,) + mid + (vdim,)),
    }
    return {**inputs, **_masks(kind, rng), **extra}


@pytest.mark.parametrize("name", sorted(MHA_CASES))
def test_multihead_attention_matches_torch(name):
    config, kind, extra = MHA_CASES[name]
    theirs, ours = twin(torch.nn.MultiheadAttention, cr.nn.MultiheadAttention, E, HEADS, **config)
    rng = np.random.default_rng(len(name))
    inputs = _mha_inputs(config, rng, kind, extra)
    compare(theirs, ours, inputs, (theirs, ours))


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_unbatched_matches_torch(batch_first):
    theirs, ours = twin(
        torch.nn.MultiheadAttention, cr.nn.MultiheadAttention, E, HEADS, batch_first=batch_first
    )
    rng = np.random.default_rng(7)
    inputs = _mha_inputs({}, rng, None, {}, unbatched=True)
    inputs["key_padding_mask"] = np.array([False, True, False, False, True])
    compare(theirs, ours, inputs, (theirs, ours))


def test_multihead_self_attention_with_one_tensor_matches_torch():
    theirs, ours = twin(torch.nn.MultiheadAttention, cr.nn.MultiheadAttention, E, HEADS)
    x = np.random.default_rng(8).normal(size=(L, N, E))
    compare(lambda x: theirs(x, x, x), lambda x: ours(x, x, x), {"x": x}, (theirs, ours))


@pytest.mark.parametrize("need_weights", [True, False])
def test_fully_padded_sequence_behaves_as_torch(need_weights):
    # PyTorch: NaN weights and outputs for that sequence when it computes the weights
    # explicitly, zero attention (out_proj's bias) through scaled_dot_product_attention.
    theirs, ours = twin(torch.nn.MultiheadAttention, cr.nn.MultiheadAttention, E, HEADS)
    with torch.no_grad():
        theirs.out_proj.bias.normal_()
    ours.load_state_dict({k: cr.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(9)
    x = rng.normal(size=(L, N, E))
    padding = np.zeros((N, L), dtype=bool)
    padding[1] = True
    t_out, t_w = theirs(*(torch.tensor(x),) * 3, key_padding_mask=torch.tensor(padding),
                        need_weights=need_weights)  # fmt: skip
    c_out, c_w = ours(*(cr.tensor(x),) * 3, key_padding_mask=cr.tensor(padding),
                      need_weights=need_weights)  # fmt: skip
    np.testing.assert_allclose(c_out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert np.isnan(c_out.numpy()[:, 1]).all() == need_weights
    assert np.isfinite(c_out.numpy()[:, [0, 2]]).all()
    if need_weights:
        np.testing.assert_allclose(c_w.numpy(), t_w.detach().numpy(), rtol=1e-10, atol=1e-12)
    else:
        assert c_w is None and t_w is None


def test_fully_padded_sequence_gradients_match_torch_without_weights():
    theirs, ours = twin(torch.nn.MultiheadAttention, cr.nn.MultiheadAttention, E, HEADS)
    rng = np.random.default_rng(10)
    padding = np.zeros((N, S), dtype=bool)
    padding[2] = True
    inputs = _mha_inputs({}, rng, None, {"need_weights": False, "key_padding_mask": padding})
    compare(theirs, ours, inputs, (theirs, ours))


def test_mismatched_mask_types_warn_as_torch():
    theirs, ours = twin(torch.nn.MultiheadAttention, cr.nn.MultiheadAttention, E, HEADS)
    rng = np.random.default_rng(11)
    x = rng.normal(size=(L, N, E))
    padding = np.zeros((N, L), dtype=bool)
    attn = np.zeros((L, L))
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        theirs(*(torch.tensor(x),) * 3, key_padding_mask=torch.tensor(padding),
               attn_mask=torch.tensor(attn))  # fmt: skip
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        ours(*(cr.tensor(x),) * 3, key_padding_mask=cr.tensor(padding),
             attn_mask=cr.tensor(attn))  # fmt: skip


@pytest.mark.parametrize("kdim", [None, 6])
def test_multihead_attention_state_dict_names_match_torch(kdim):
    theirs, ours = twin(
        torch.nn.MultiheadAttention, cr.nn.MultiheadAttention, E, HEADS, kdim=kdim,
        add_bias_kv=True,
    )  # fmt: skip
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, value in theirs.state_dict().items():
        assert ours.state_dict()[name].shape == tuple(value.shape)


@pytest.mark.parametrize("need_weights", [True, False])
def test_functional_multi_head_attention_with_static_keys_matches_torch(need_weights):
    rng = np.random.default_rng(12)
    head_dim, src_len = E // HEADS, 6
    inputs = {
        "query": rng.normal(size=(L, N, E)),
        "key": rng.normal(size=(S, N, E)),
        "value": rng.normal(size=(S, N, E)),
        "in_proj_weight": rng.normal(size=(3 * E, E)),
        "in_proj_bias": rng.normal(size=3 * E),
        "out_proj_weight": rng.normal(size=(E, E)),
        "out_proj_bias": rng.normal(size=E),
        "static_k": rng.normal(size=(N * HEADS, src_len, head_dim)),
        "static_v": rng.normal(size=(N * HEADS, src_len, head_dim)),
        "key_padding_mask": np.eye(N, src_len, dtype=bool),
    }
    fixed = dict(
        embed_dim_to_check=E, num_heads=HEADS, bias_k=None, bias_v=None, add_zero_attn=True,
        dropout_p=0.0, need_weights=need_weights,
    )  # fmt: skip

    def call(fn):
        return lambda **kw: fn(**kw, **fixed)

    compare(call(TF.multi_head_attention_forward), call(F.multi_head_attention_forward), inputs)
