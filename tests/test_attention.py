"""Attention and Transformer without PyTorch: worked examples, gradient checks, dropout in
training and evaluation, initialisation, layer copies, and the errors for wrong shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
import chainrule.nn as nn

sdpa = F.scaled_dot_product_attention


def _t(rng, *shape, grad=False):
    return cr.tensor(rng.normal(size=shape), requires_grad=grad)


# ----- scaled dot-product attention: worked examples ------------------------------------------


def test_identical_keys_average_the_values():
    rng = np.random.default_rng(0)
    q = _t(rng, 3, 4)
    k = cr.tensor(np.tile(rng.normal(size=(1, 4)), (5, 1)))
    v = _t(rng, 5, 2)
    out = sdpa(q, k, v)
    np.testing.assert_allclose(out.numpy(), np.tile(v.numpy().mean(0), (3, 1)), atol=1e-6)


def test_causal_first_query_sees_only_the_first_value():
    rng = np.random.default_rng(1)
    q, k, v = _t(rng, 4, 3), _t(rng, 4, 3), _t(rng, 4, 2)
    out = sdpa(q, k, v, is_causal=True).numpy()
    np.testing.assert_allclose(out[0], v.numpy()[0], rtol=1e-6)
    # The last query sees every key: the same as without a mask.
    np.testing.assert_allclose(out[-1], sdpa(q, k, v).numpy()[-1], rtol=1e-6)


def test_bool_mask_true_takes_part():
    rng = np.random.default_rng(2)
    q, k, v = _t(rng, 2, 3), _t(rng, 4, 3), _t(rng, 4, 5)
    mask = np.zeros((2, 4), dtype=bool)
    mask[0, 2] = mask[1, 3] = True
    out = sdpa(q, k, v, attn_mask=cr.tensor(mask)).numpy()
    np.testing.assert_allclose(out, v.numpy()[[2, 3]], rtol=1e-6)


def test_softmax_formula_and_default_scale_by_hand():
    q = np.array([[1.0, 0.0]])
    k = np.array([[1.0, 0.0], [0.0, 1.0]])
    v = np.array([[2.0], [4.0]])
    w = np.exp([1 / math.sqrt(2), 0.0])
    w /= w.sum()
    out = sdpa(*(cr.tensor(a) for a in (q, k, v)))
    np.testing.assert_allclose(out.numpy(), [[w @ v[:, 0]]], rtol=1e-12)
    w3 = np.exp([3.0, 0.0]) / np.exp([3.0, 0.0]).sum()
    out = sdpa(*(cr.tensor(a) for a in (q, k, v)), scale=3.0)
    np.testing.assert_allclose(out.numpy(), [[w3 @ v[:, 0]]], rtol=1e-12)


def test_a_float_mask_constant_along_the_keys_changes_nothing():
    rng = np.random.default_rng(3)
    q, k, v = _t(rng, 2, 3, 4), _t(rng, 2, 5, 4), _t(rng, 2, 5, 2)
    shift = cr.tensor(np.full((3, 1), 7.0))
    np.testing.assert_allclose(
        sdpa(q, k, v, attn_mask=shift).numpy(), sdpa(q, k, v).numpy(), rtol=1e-12
    )


def test_fully_masked_query_gets_zero_output_and_zero_gradient():
    rng = np.random.default_rng(4)
    q, k, v = _t(rng, 3, 4, grad=True), _t(rng, 5, 4, grad=True), _t(rng, 5, 2, grad=True)
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False
    out = sdpa(q, k, v, attn_mask=cr.tensor(mask))
    out.sum().backward()
    assert np.all(out.numpy()[1] == 0) and np.all(q.grad.numpy()[1] == 0)
    assert np.isfinite(k.grad.numpy()).all() and np.isfinite(v.grad.numpy()).all()


def test_grouped_query_attention_equals_repeated_heads():
    rng = np.random.default_rng(5)
    q, k, v = _t(rng, 2, 4, 3, 4), _t(rng, 2, 2, 5, 4), _t(rng, 2, 2, 5, 3)
    rep = [cr.tensor(np.repeat(t.numpy(), 2, axis=1)) for t in (k, v)]
    np.testing.assert_allclose(
        sdpa(q, k, v, enable_gqa=True).numpy(), sdpa(q, *rep).numpy(), rtol=1e-12
    )


# ----- gradient checks ----------------------------------------------------------------------------


def test_gradcheck_sdpa_with_causal_mask():
    rng = np.random.default_rng(6)
    inputs = [_t(rng, 2, 3, 4, grad=True), _t(rng, 2, 3, 4, grad=True), _t(rng, 2, 3, 2, grad=True)]
    assert cr.gradcheck(lambda q, k, v: sdpa(q, k, v, is_causal=True), inputs)


def test_gradcheck_sdpa_with_float_mask_and_scale():
    rng = np.random.default_rng(7)
    inputs = [_t(rng, 3, 4, grad=True), _t(rng, 5, 4, grad=True), _t(rng, 5, 2, grad=True)]
    inputs.append(_t(rng, 3, 5, grad=True))
    assert cr.gradcheck(lambda q, k, v, m: sdpa(q, k, v, attn_mask=m, scale=0.7), inputs)


def test_gradcheck_multihead_attention_forward():
    rng = np.random.default_rng(8)
    mha = nn.MultiheadAttention(4, 2, kdim=3, add_bias_kv=True, dtype=np.float64, generator=0)
    padding = cr.tensor(np.array([[False, False, True], [False, False, False]]))
    mask = cr.tensor(np.triu(np.ones((2, 3), dtype=bool), 2))

    def fn(q, k, v):
        out, weights = mha(q, k, v, key_padding_mask=padding, attn_mask=mask)
        return (out * out).sum() + (weights * weights).sum()

    inputs = [_t(rng, 2, 2, 4, grad=True), _t(rng, 3, 2, 3, grad=True), _t(rng, 3, 2, 4, grad=True)]
    assert cr.gradcheck(fn, inputs)


def test_gradcheck_functional_multi_head_attention_weights():
    rng = np.random.default_rng(9)
    x = _t(rng, 3, 2, 4)

    def fn(in_w, in_b, out_w, out_b):
        return F.multi_head_attention_forward(
            x, x, x, 4, 2, in_w, in_b, None, None, False, 0.0, out_w, out_b, need_weights=False
        )[0]

    inputs = [_t(rng, 12, 4, grad=True), _t(rng, 12, grad=True)]
    inputs += [_t(rng, 4, 4, grad=True), _t(rng, 4, grad=True)]
    assert cr.gradcheck(fn, inputs)


# ----- MultiheadAttention behaviour --------------------------------------------------------------


def test_initialisation_as_pytorch():
    mha = nn.MultiheadAttention(16, 4, add_bias_kv=True, generator=0)
    assert mha.in_proj_weight.shape == (48, 16) and mha.in_proj_bias.shape == (48,)
    assert not mha.in_proj_bias.numpy().any() and not mha.out_proj.bias.numpy().any()
    bound = math.sqrt(6 / (16 + 48))  # xavier_uniform_ over fan_in 16, fan_out 48
    w = mha.in_proj_weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert mha.bias_k.shape == mha.bias_v.shape == (1, 1, 16)
    assert mha.q_proj_weight is None and mha.in_proj_weight.dtype == np.float32
    again = nn.MultiheadAttention(16, 4, add_bias_kv=True, generator=0)
    np.testing.assert_array_equal(again.in_proj_weight.numpy(), w)


def test_separate_projections_when_kdim_or_vdim_differ():
    mha = nn.MultiheadAttention(8, 2, kdim=3, vdim=5)
    assert mha.in_proj_weight is None
    assert (mha.q_proj_weight.shape, mha.k_proj_weight.shape, mha.v_proj_weight.shape) == (
        (8, 8), (8, 3), (8, 5),
    )  # fmt: skip


def test_batch_first_and_unbatched_agree_with_sequence_first():
    rng = np.random.default_rng(10)
    seq = nn.MultiheadAttention(8, 2, generator=1)
    bf = nn.MultiheadAttention(8, 2, batch_first=True, generator=1)
    x = rng.normal(size=(4, 3, 8)).astype(np.float32)
    out, w = seq(*(cr.tensor(x),) * 3)
    out_bf, w_bf = bf(*(cr.tensor(x.transpose(1, 0, 2)),) * 3)
    np.testing.assert_allclose(out_bf.numpy().transpose(1, 0, 2), out.numpy(), rtol=1e-5)
    np.testing.assert_allclose(w_bf.numpy(), w.numpy(), rtol=1e-5)
    one, w_one = seq(*(cr.tensor(x[:, 1]),) * 3)
    assert one.shape == (4, 8) and w_one.shape == (4, 4)
    np.testing.assert_allclose(one.numpy(), out.numpy()[:, 1], rtol=1e-5, atol=1e-6)


def test_weights_per_head_average_to_the_returned_weights():
    rng = np.random.default_rng(11)
    mha = nn.MultiheadAttention(8, 4, generator=2)
    x = cr.tensor(rng.normal(size=(5, 2, 8)).astype(np.float32))
    _, avg = mha(x, x, x)
    _, per_head = mha(x, x, x, average_attn_weights=False)
    assert per_head.shape == (2, 4, 5, 5)
    np.testing.assert_allclose(per_head.numpy().mean(1), avg.numpy(), rtol=1e-5)
    np.testing.assert_allclose(avg.numpy().sum(-1), 1.0, rtol=1e-5)
    assert mha(x, x, x, need_weights=False)[1] is None


def test_causal_hint_gives_the_result_of_the_causal_mask():
    rng = np.random.default_rng(12)
    mha = nn.MultiheadAttention(8, 2, dtype=np.float64, generator=3)
    x = cr.tensor(rng.normal(size=(4, 2, 8)))
    causal = nn.Transformer.generate_square_subsequent_mask(4, dtype=np.float64)
    hinted, _ = mha(x, x, x, attn_mask=causal, is_causal=True, need_weights=False)
    explicit, _ = mha(x, x, x, attn_mask=causal)
    np.testing.assert_allclose(hinted.numpy(), explicit.numpy(), rtol=1e-12)


def test_dropout_changes_training_outputs_and_not_evaluation_outputs():
    rng = np.random.default_rng(13)
    cr.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, generator=4)
    plain = nn.MultiheadAttention(8, 2, generator=4)
    x = cr.tensor(rng.normal(size=(6, 2, 8)).astype(np.float32))
    first, second = mha(x, x, x)[0].numpy(), mha(x, x, x)[0].numpy()
    assert not np.allclose(first, second)
    mha.eval()
    evaluated = mha(x, x, x)[0].numpy()
    np.testing.assert_array_equal(evaluated, mha(x, x, x)[0].numpy())
    np.testing.assert_allclose(evaluated, plain(x, x, x)[0].numpy(), rtol=1e-6)
    assert not np.allclose(first, evaluated)


def test_sdpa_dropout_is_reproducible_under_a_seed():
    rng = np.random.default_rng(14)
    q, k, v = _t(rng, 2, 5, 4), _t(rng, 2, 6, 4), _t(rng, 2, 6, 3)
    cr.manual_seed(5)
    a = sdpa(q, k, v, dropout_p=0.4).numpy()
    cr.manual_seed(5)
    b = sdpa(q, k, v, dropout_p=0.4).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, sdpa(q, k, v).numpy())


def test_encoder_layer_dropout_in_train_and_eval_modes():
    rng = np.random.default_rng(15)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.3, generator=6)
    x = cr.tensor(rng.normal(size=(5, 2, 8)).astype(np.float32))
    assert not np.allclose(layer(x).numpy(), layer(x).numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())


# ----- Transformer structure -------------------------------------------------------------------


def test_encoder_deep_copies_the_layer():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, generator=7)
    encoder = nn.TransformerEncoder(layer, 3)
    assert len(encoder.layers) == 3 and encoder.num_layers == 3
    w0, w1 = (encoder.layers[i].linear1.weight for i in (0, 1))
    assert w0 is not w1 and w0 is not layer.linear1.weight
    np.testing.assert_array_equal(w0.numpy(), layer.linear1.weight.numpy())
    with cr.no_grad():
        w0.mul_(0.0)
    assert w1.numpy().any() and layer.linear1.weight.numpy().any()
    assert "layers.2.self_attn.in_proj_weight" in encoder.state_dict()


def test_transformer_redraws_every_matrix_with_xavier_uniform():
    model = nn.Transformer(8, 2, 2, 1, 16, generator=8)
    layers = model.encoder.layers
    assert not np.array_equal(layers[0].linear1.weight.numpy(), layers[1].linear1.weight.numpy())
    bound = math.sqrt(6 / (8 + 16))
    assert np.abs(layers[0].linear1.weight.numpy()).max() <= bound
    # Vectors are left alone: the attention biases stay 0, LayerNorm weights stay 1.
    assert not layers[0].self_attn.in_proj_bias.numpy().any()
    np.testing.assert_array_equal(layers[0].norm1.weight.numpy(), 1.0)
    assert isinstance(model.encoder.norm, nn.LayerNorm) and model.decoder.norm is not None


def test_generate_square_subsequent_mask_values():
    mask = nn.Transformer.generate_square_subsequent_mask(3).numpy()
    expected = np.array([[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]], dtype=np.float32)
    np.testing.assert_array_equal(mask, expected)
    assert mask.dtype == np.float32


def test_encoder_detects_a_causal_mask():
    rng = np.random.default_rng(16)
    layer = nn.TransformerEncoderLayer(8, 2, 16, 0.0, dtype=np.float64, generator=9)
    encoder = nn.TransformerEncoder(layer, 2)
    x = cr.tensor(rng.normal(size=(4, 2, 8)))
    causal = nn.Transformer.generate_square_subsequent_mask(4, dtype=np.float64)
    as_bool = cr.tensor(np.triu(np.ones((4, 4), dtype=bool), 1))
    detected = encoder(x, mask=causal).numpy()
    np.testing.assert_allclose(encoder(x, mask=as_bool).numpy(), detected, rtol=1e-12)
    np.testing.assert_allclose(encoder(x, mask=causal, is_causal=False).numpy(), detected,
                               rtol=1e-12)  # fmt: skip
    assert not np.allclose(encoder(x).numpy(), detected)


def test_activation_choices():
    assert nn.TransformerEncoderLayer(8, 2, activation="gelu").activation_relu_or_gelu == 2
    assert nn.TransformerEncoderLayer(8, 2).activation_relu_or_gelu == 1
    assert nn.TransformerEncoderLayer(8, 2, activation=nn.GELU()).activation_relu_or_gelu == 2
    assert nn.TransformerEncoderLayer(8, 2, activation=F.silu).activation_relu_or_gelu == 0
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerDecoderLayer(8, 2, activation="tanh")


# ----- errors -----------------------------------------------------------------------------------


def test_embed_dim_must_be_divisible_by_num_heads():
    with pytest.raises(AssertionError, match="embed_dim=10 and num_heads=3"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(AssertionError, match="divisible by num_heads"):
        nn.TransformerEncoderLayer(10, 4)
    with pytest.raises(ValueError, match="greater than 0"):
        nn.MultiheadAttention(8, 0)


QKV = ((3, 4), (5, 4), (5, 2))


@pytest.mark.parametrize(
    "kwargs, shapes, match",
    [
        ({"attn_mask": np.ones((4, 5), dtype=bool)}, QKV, "does not broadcast"),
        ({"attn_mask": np.ones((3, 5), dtype=np.int64)}, QKV, "bool or float"),
        ({"attn_mask": np.ones((3, 5), dtype=bool), "is_causal": True},
         QKV, "must not be set when is_causal"),
        ({}, ((3, 4), (5, 3), (5, 2)), "last axis"),
        ({}, ((3, 4), (5, 4), (6, 2)), "same sequence length"),
        ({}, ((4,), (4,), (4,)), "at least 2-D"),
        ({"enable_gqa": True}, ((2, 4, 3, 4), (2, 3, 5, 4), (2, 3, 5, 4)), "must divide"),
    ],
)  # fmt: skip
def test_sdpa_errors(kwargs, shapes, match):
    rng = np.random.default_rng(17)
    q, k, v = (_t(rng, *s) for s in shapes)
    kwargs = {n: cr.tensor(a) if isinstance(a, np.ndarray) else a for n, a in kwargs.items()}
    with pytest.raises(RuntimeError, match=match):
        sdpa(q, k, v, **kwargs)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"attn_mask": np.ones((4, 6), dtype=bool)}, RuntimeError, r"2D attn_mask is \(4, 6\)"),
        ({"attn_mask": np.ones((3, 4, 5), dtype=bool)}, RuntimeError, r"should be \(4, 4, 5\)"),
        ({"key_padding_mask": np.ones((2, 4), dtype=bool)}, AssertionError, r"\(2, 5\)"),
        ({"key_padding_mask": np.ones(5, dtype=bool)}, AssertionError, "2-D"),
        ({"attn_mask": np.ones((1, 1, 4, 5), dtype=bool)}, AssertionError, "2-D or 3-D"),
        ({"attn_mask": np.ones((4, 5), dtype=np.int64)}, AssertionError, "bool and floating"),
        ({"is_causal": True}, RuntimeError, "Need attn_mask"),
    ],
)  # fmt: skip
def test_multihead_attention_mask_errors(kwargs, error, match):
    rng = np.random.default_rng(18)
    mha = nn.MultiheadAttention(8, 2)
    q, kv = _t(rng, 4, 2, 8), _t(rng, 5, 2, 8)
    kwargs = {n: cr.tensor(a) if isinstance(a, np.ndarray) else a for n, a in kwargs.items()}
    with pytest.raises(error, match=match):
        mha(q, kv, kv, **kwargs)


def test_multihead_attention_input_errors():
    rng = np.random.default_rng(19)
    mha = nn.MultiheadAttention(8, 2)
    x = _t(rng, 4, 2, 8)
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 8"):
        mha(_t(rng, 4, 2, 6), x, x)
    with pytest.raises(AssertionError, match="unbatched 2D or batched 3D"):
        mha(_t(rng, 1, 4, 2, 8), x, x)
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D"):
        mha(x, _t(rng, 4, 8), x)
    with pytest.raises(AssertionError, match="does not match value shape"):
        mha(x, x, _t(rng, 5, 2, 8))


def test_transformer_input_errors():
    rng = np.random.default_rng(20)
    model = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="batch number of src and tgt"):
        model(_t(rng, 5, 2, 8), _t(rng, 4, 3, 8))
    with pytest.raises(RuntimeError, match="feature number of src and tgt"):
        model(_t(rng, 5, 2, 8), _t(rng, 4, 2, 6))
