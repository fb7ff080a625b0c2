"""Transformer layers, stacks and the full model against PyTorch in float64 (dropout 0):
state_dict names, outputs and the gradients of the inputs and of every parameter."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import chainrule as cr
from attention_parity_support import compare, torch, twin

D, HEADS, FF, S, T, N = 8, 2, 12, 5, 4, 3


def _seq(rng, length, batch_first, unbatched=False):
    if unbatched:
        return rng.normal(size=(length, D))
    return rng.normal(size=(N, length, D) if batch_first else (length, N, D))


def _padding(rng, length, as_float=False):
    mask = rng.random((N, length)) > 0.7
    mask[:, 0] = False
    return np.where(mask, -np.inf, 0.0) if as_float else mask


LAYER_OPTIONS = [
    pytest.param(norm_first, activation, batch_first, id=f"{nf}-{activation}-{bf}")
    for norm_first, nf in ((False, "post_norm"), (True, "pre_norm"))
    for activation in ("relu", "gelu")
    for batch_first, bf in ((False, "seq_first"), (True, "batch_first"))
]


def _layer_kwargs(norm_first, activation, batch_first):
    return dict(
        dim_feedforward=FF, dropout=0.0, activation=activation, batch_first=batch_first,
        norm_first=norm_first,
    )  # fmt: skip


@pytest.mark.parametrize("norm_first, activation, batch_first", LAYER_OPTIONS)
def test_encoder_layer_matches_torch(norm_first, activation, batch_first):
    kwargs = _layer_kwargs(norm_first, activation, batch_first)
    pair = twin(torch.nn.TransformerEncoderLayer, cr.nn.TransformerEncoderLayer, D, HEADS, **kwargs)
    rng = np.random.default_rng(1)
    inputs = {
        "src": _seq(rng, S, batch_first),
        "src_mask": rng.random((S, S)) > 0.8,
        "src_key_padding_mask": _padding(rng, S),
    }
    compare(*pair, inputs, pair)


@pytest.mark.parametrize("norm_first, activation, batch_first", LAYER_OPTIONS)
def test_decoder_layer_matches_torch(norm_first, activation, batch_first):
    kwargs = _layer_kwargs(norm_first, activation, batch_first)
    pair = twin(torch.nn.TransformerDecoderLayer, cr.nn.TransformerDecoderLayer, D, HEADS, **kwargs)
    rng = np.random.default_rng(2)
    inputs = {
        "tgt": _seq(rng, T, batch_first),
        "memory": _seq(rng, S, batch_first),
        "tgt_mask": np.triu(np.full((T, T), -np.inf), 1),
        "memory_mask": rng.random((T, S)) > 0.8,
        "tgt_key_padding_mask": _padding(rng, T, as_float=True),
        "memory_key_padding_mask": _padding(rng, S),
    }
    compare(*pair, inputs, pair)


def test_layers_with_a_callable_activation_and_no_bias_match_torch():
    rng = np.random.default_rng(3)
    for torch_cls, cr_cls in (
        (torch.nn.TransformerEncoderLayer, cr.nn.TransformerEncoderLayer),
        (torch.nn.TransformerDecoderLayer, cr.nn.TransformerDecoderLayer),
    ):
        torch.manual_seed(0)
        theirs = torch_cls(D, HEADS, FF, 0.0, torch.nn.functional.silu, bias=False,
                           dtype=torch.float64)  # fmt: skip
        ours = cr_cls(D, HEADS, FF, 0.0, cr.functional.silu, bias=False, dtype=np.float64)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        ours.load_state_dict({k: cr.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
        x = _seq(rng, S, False)
        if torch_cls is torch.nn.TransformerEncoderLayer:
            compare(theirs, ours, {"src": x}, (theirs, ours))
        else:
            compare(theirs, ours, {"tgt": x, "memory": _seq(rng, T, False)}, (theirs, ours))


@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_stack_matches_torch_with_causal_and_padding_masks(batch_first):
    torch.manual_seed(0)
    kwargs = _layer_kwargs(False, "relu", batch_first)
    theirs_layer = torch.nn.TransformerEncoderLayer(D, HEADS, **kwargs, dtype=torch.float64)
    theirs = torch.nn.TransformerEncoder(
        theirs_layer, 2, torch.nn.LayerNorm(D, dtype=torch.float64), enable_nested_tensor=False
    )
    ours_layer = cr.nn.TransformerEncoderLayer(D, HEADS, **kwargs, dtype=np.float64)
    ours = cr.nn.TransformerEncoder(ours_layer, 2, cr.nn.LayerNorm(D, dtype=np.float64))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: cr.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(4)
    inputs = {
        "src": _seq(rng, S, batch_first),
        "mask": np.triu(np.full((S, S), -np.inf), 1),
        "src_key_padding_mask": _padding(rng, S, as_float=True),
    }
    compare(theirs, ours, inputs, (theirs, ours))
    del inputs["src_key_padding_mask"]  # the causal mask alone: detected as causal
    compare(theirs, ours, inputs, (theirs, ours))


def test_decoder_stack_matches_torch():
    torch.manual_seed(0)
    kwargs = _layer_kwargs(True, "gelu", False)
    theirs = torch.nn.TransformerDecoder(
        torch.nn.TransformerDecoderLayer(D, HEADS, **kwargs, dtype=torch.float64), 2
    )
    ours = cr.nn.TransformerDecoder(
        cr.nn.TransformerDecoderLayer(D, HEADS, **kwargs, dtype=np.float64), 2
    )
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: cr.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(5)
    inputs = {
        "tgt": _seq(rng, T, False),
        "memory": _seq(rng, S, False),
        "tgt_mask": np.triu(np.ones((T, T), dtype=bool), 1),
        "memory_key_padding_mask": _padding(rng, S),
    }
    compare(theirs, ours, inputs, (theirs, ours))


def _transformer(**kwargs):
    options = dict(
        d_model=D, nhead=HEADS, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=FF,
        dropout=0.0,
    )  # fmt: skip
    return twin(torch.nn.Transformer, cr.nn.Transformer, **options, **kwargs)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_torch_with_every_mask(norm_first, batch_first):
    pair = _transformer(norm_first=norm_first, batch_first=batch_first, activation="gelu")
    rng = np.random.default_rng(6)
    inputs = {
        "src": _seq(rng, S, batch_first),
        "tgt": _seq(rng, T, batch_first),
        "src_mask": rng.random((S, S)) > 0.8,
        "tgt_mask": torch.nn.Transformer.generate_square_subsequent_mask(
            T, dtype=torch.float64
        ).numpy(),
        "memory_mask": rng.random((T, S)) > 0.8,
        "src_key_padding_mask": _padding(rng, S),
        "tgt_key_padding_mask": _padding(rng, T, as_float=True),
        "memory_key_padding_mask": _padding(rng, S),
    }
    compare(*pair, inputs, pair)


def test_transformer_unbatched_matches_torch():
    pair = _transformer()
    rng = np.random.default_rng(7)
    inputs = {
        "src": _seq(rng, S, False, unbatched=True),
        "tgt": _seq(rng, T, False, unbatched=True),
        "tgt_mask": np.triu(np.full((T, T), -np.inf), 1),
        "src_key_padding_mask": np.array([0.0, 0.0, -np.inf, 0.0, -np.inf]),
    }
    compare(*pair, inputs, pair)


def test_transformer_state_dict_names_and_shapes_match_torch():
    theirs, ours = _transformer()
    assert "encoder.layers.0.self_attn.in_proj_weight" in ours.state_dict()
    assert "decoder.layers.0.multihead_attn.out_proj.bias" in ours.state_dict()
    for name, value in theirs.state_dict().items():
        assert ours.state_dict()[name].shape == tuple(value.shape), name


def test_generate_square_subsequent_mask_matches_torch():
    theirs = torch.nn.Transformer.generate_square_subsequent_mask(5)
    ours = cr.nn.Transformer.generate_square_subsequent_mask(5)
    assert ours.dtype == np.float32 and theirs.dtype == torch.float32
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def _parameters(fn):
    """(name, kind, default) of each parameter; functions as defaults by name, and without
    chainrule's keyword-only ``generator``."""
    out = []
    for p in inspect.signature(fn).parameters.values():
        if p.name == "generator" and p.kind is p.KEYWORD_ONLY:
            continue
        default = getattr(p.default, "__name__", p.default)
        out.append((p.name, p.kind, default))
    return out


@pytest.mark.parametrize(
    "name",
    [
        "MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer",
        "TransformerEncoder", "TransformerDecoder", "Transformer",
    ],
)  # fmt: skip
def test_signatures_match_torch(name):
    theirs, ours = getattr(torch.nn, name), getattr(cr.nn, name)
    assert _parameters(ours.__init__) == _parameters(theirs.__init__)
    assert _parameters(ours.forward) == _parameters(theirs.forward)


def test_functional_signatures_match_torch():
    assert _parameters(cr.functional.multi_head_attention_forward) == _parameters(
        torch.nn.functional.multi_head_attention_forward
    )
    assert _parameters(cr.nn.Transformer.generate_square_subsequent_mask) == _parameters(
        torch.nn.Transformer.generate_square_subsequent_mask
    )
    # PyTorch's scaled_dot_product_attention is a builtin without a signature: its documented
    # one is `(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
    # enable_gqa=False)`.
    params = inspect.signature(cr.functional.scaled_dot_product_attention).parameters
    assert [(p.name, p.default) for p in params.values()][3:] == [
        ("attn_mask", None), ("dropout_p", 0.0), ("is_causal", False), ("scale", None),
        ("enable_gqa", False),
    ]  # fmt: skip
