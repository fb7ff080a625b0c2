"""Attention: scaled dot-product attention and the multi-head attention forward pass.

Both are compositions of differentiable ops (matmul, masked_fill, softmax, dropout, linear), so
autograd derives their gradients with no hand-written backward. Two mask conventions meet
here, as in PyTorch: :func:`scaled_dot_product_attention` takes a bool mask whose True entries
*take part*, while :func:`multi_head_attention_forward` takes bool masks whose True entries are
*left out*; a float mask is added to the scores in both.

A query row whose keys are all masked has no softmax (every score is −∞). Scaled dot-product
attention gives it zero weights, hence a zero output and zero gradient, as PyTorch 2.13 does;
the multi-head forward with ``need_weights=True`` gives it NaN weights, as PyTorch's explicit
softmax does there. Neither leaks a NumPy warning.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from chainrule._tensor import Tensor, as_tensor
from chainrule.ops.activation import dropout, softmax
from chainrule.ops.arithmetic import cast, linear, matmul
from chainrule.ops.layout import chunk, repeat_interleave
from chainrule.ops.reduction import mean
from chainrule.ops.selection import masked_fill
from chainrule.ops.shape import concatenate, expand, pad, reshape, squeeze, transpose, unsqueeze

_NEG_INF = float("-inf")


# ----- scaled dot-product attention ------------------------------------------------------------


def _check_qkv(query: Tensor, key: Tensor, value: Tensor, enable_gqa: bool) -> None:
    """PyTorch's requirements on the three operands, as RuntimeErrors naming the shapes."""
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(
            "scaled_dot_product_attention: query, key and value must be at least 2-D "
            f"(..., L, E), (..., S, E), (..., S, Ev); got shapes {query.shape}, {key.shape}, "
            f"{value.shape}"
        )
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(
            f"scaled_dot_product_attention: query's last axis ({query.shape[-1]}) and key's "
            f"({key.shape[-1]}) must match; got shapes {query.shape} and {key.shape}"
        )
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: key and value need the same sequence length S; "
            f"got shapes {key.shape} and {value.shape}"
        )
    if enable_gqa and min(query.ndim, key.ndim, value.ndim) >= 3:
        heads = query.shape[-3]
        if heads % key.shape[-3] or heads % value.shape[-3]:
            raise RuntimeError(
                "scaled_dot_product_attention: with enable_gqa the number of heads in key "
                f"({key.shape[-3]}) and value ({value.shape[-3]}) must divide the number of "
                f"heads in query ({heads})"
            )


def _grouped(x: Tensor, heads: int, enable_gqa: bool) -> Tensor:
    """Key or value with each head repeated so that ``heads`` query heads share it (GQA)."""
    if not enable_gqa or x.ndim < 3 or x.shape[-3] == heads:
        return x
    return repeat_interleave(x, heads // x.shape[-3], dim=-3)


def _broadcasts(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether ``shape`` broadcasts to ``target`` itself (not to a larger shape)."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _apply_mask(scores: Tensor, attn_mask: Any, is_causal: bool) -> Tensor:
    """Scores with the causal pattern, a bool mask (False → −∞) or a float mask (added)."""
    L, S = scores.shape[-2:]
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(
                "scaled_dot_product_attention: an explicit attn_mask must not be set when "
                "is_causal=True (the causal mask is built from L and S)"
            )
        return masked_fill(scores, ~np.tri(L, S, dtype=bool), _NEG_INF)
    if attn_mask is None:
        return scores
    mask = as_tensor(attn_mask)
    if not _broadcasts(mask.shape, scores.shape):
        raise RuntimeError(
            f"scaled_dot_product_attention: attn_mask of shape {mask.shape} does not broadcast "
            f"to the attention scores' shape {scores.shape} (..., L={L}, S={S})"
        )
    kind = mask._data.dtype
    if kind.kind == "b":
        return masked_fill(scores, ~mask._data, _NEG_INF)
    if kind.kind != "f":
        raise RuntimeError(
            f"scaled_dot_product_attention: attn_mask must be bool or floating point; got {kind}"
        )
    return scores + cast(mask, scores.dtype)


def attention_weights(
    query: Tensor,
    key: Tensor,
    attn_mask: Any = None,
    is_causal: bool = False,
    scale: float | None = None,
    *,
    fully_masked: float = 0.0,
) -> Tensor:
    """Softmax of the scaled, masked scores ``query @ keyᵀ · scale`` over the keys.

    Parameters
    ----------
    query : Tensor of shape (..., L, E)
    key : Tensor of shape (..., S, E)
    attn_mask : Tensor, optional
        Broadcasts to ``(..., L, S)``. Bool: True takes part. Float: added to the scores.
    is_causal : bool
        Query i sees keys 0..i only (top-left aligned); excludes ``attn_mask``.
    scale : float, optional
        ``1/√E`` when None.
    fully_masked : float
        The weight given to every key of a row whose keys are all masked (0, or NaN).

    Returns
    -------
    Tensor of shape (..., L, S)
        Each row sums to 1, except fully masked rows.
    """
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = _apply_mask(matmul(query, transpose(key, -2, -1)) * scale, attn_mask, is_causal)
    # A row of −∞ has no softmax (−∞ − (−∞) is NaN, with a warning): such rows are set to 0
    # before the softmax and their weights replaced after it, so no gradient flows through them.
    dead = np.all(scores._data == _NEG_INF, axis=-1, keepdims=True)
    if not dead.any():
        return softmax(scores, -1)
    weights = softmax(masked_fill(scores, dead, 0.0), -1)
    return masked_fill(weights, dead, fully_masked)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """``softmax(query @ keyᵀ · scale + mask) @ value``, with dropout on the weights.

    Parameters
    ----------
    query : Tensor of shape (..., L, E)
    key : Tensor of shape (..., S, E)
    value : Tensor of shape (..., S, Ev)
        The leading axes broadcast (PyTorch's ``(N, ..., heads, ·, ·)``).
    attn_mask : Tensor, optional
        Broadcasts to ``(..., L, S)``. A bool mask's True entries take part (False ones get
        −∞); a float mask is added to the scores.
    dropout_p : float
        Dropout probability on the attention weights, applied whenever > 0 (this function has
        no training flag, as in PyTorch).
    is_causal : bool
        Query i attends to keys 0..i (a top-left aligned lower triangle); an error together
        with ``attn_mask``.
    scale : float, optional
        Multiplies the scores; ``1/√E`` when None.
    enable_gqa : bool
        Grouped-query attention: key and value may have fewer heads (axis −3) than query,
        each shared by ``heads_q / heads_kv`` query heads.

    Returns
    -------
    Tensor of shape (..., L, Ev)
        A query whose keys are all masked gets a zero output, as in PyTorch 2.13.

    Examples
    --------
    >>> q = chainrule.randn(2, 4, 3, 8)  # (batch, heads, L, E)
    >>> print(scaled_dot_product_attention(q, q, q, is_causal=True).shape)
    (2, 4, 3, 8)
    """
    query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
    _check_qkv(query, key, value, enable_gqa)
    heads = query.shape[-3] if query.ndim >= 3 else 1
    key, value = _grouped(key, heads, enable_gqa), _grouped(value, heads, enable_gqa)
    weights = attention_weights(query, key, attn_mask, is_causal, scale)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    return matmul(weights, value)


# ----- multi-head attention --------------------------------------------------------------------


def canonical_mask(
    mask: Any,
    mask_name: str,
    other_type: Any,
    other_name: str,
    target_type: Any,
    check_other: bool = True,
) -> Tensor | None:
    """A "left out where True" bool mask as a float mask (−∞ where True, else 0); a float
    mask unchanged. Warns, as PyTorch, when ``mask``'s dtype differs from ``other_type``."""
    if mask is None:
        return None
    mask = as_tensor(mask)
    kind = mask._data.dtype
    if kind.kind not in "bf":
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and kind != np.dtype(other_type):
        warnings.warn(
            f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type "
            "for both instead.",
            stacklevel=3,
        )
    if kind.kind == "b":
        return as_tensor(np.where(mask._data, _NEG_INF, 0.0).astype(target_type))
    return mask


def mask_dtype(mask: Any) -> np.dtype | None:
    """The dtype of a mask, or None without one."""
    return None if mask is None else as_tensor(mask)._data.dtype


def _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """Whether the inputs are batched (3-D) or not (2-D); AssertionErrors for other ranks."""
    batched = query.ndim == 3
    if query.ndim not in (2, 3):
        raise AssertionError(
            f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D "
            "query tensor"
        )
    rank = query.ndim
    if key.ndim != rank or value.ndim != rank:
        raise AssertionError(
            f"For {rank}-D `query`, expected `key` and `value` to be {rank}-D but found "
            f"{key.ndim}-D and {value.ndim}-D tensors respectively"
        )
    if key_padding_mask is not None and key_padding_mask.ndim != rank - 1:
        raise AssertionError(
            f"For {rank}-D `query`, expected `key_padding_mask` to be `None` or {rank - 1}-D "
            f"but found {key_padding_mask.ndim}-D tensor instead"
        )
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise AssertionError(
            f"expected `attn_mask` to be `None`, 2-D or 3-D but found {attn_mask.ndim}-D"
        )
    if not batched and attn_mask is not None and attn_mask.ndim == 3:
        expected = (num_heads, query.shape[0], key.shape[0])
        if attn_mask.shape != expected:
            raise AssertionError(
                f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}"
            )
    return batched


def _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate):
    """q, k, v projected: from the packed ``(3E, E)`` weight, or from three separate ones."""
    biases = (None,) * 3 if in_proj_bias is None else chunk(in_proj_bias, 3)
    if separate is None:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        weights = chunk(in_proj_weight, 3)
    else:
        for name, w in zip(("q", "k", "v"), separate):
            if w is None:
                raise AssertionError(
                    f"use_separate_proj_weight is True but {name}_proj_weight is None"
                )
        weights = separate
    return tuple(linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))


def _checked_attn_mask(attn_mask: Tensor | None, tgt_len, src_len, batch_heads):
    """``attn_mask`` as a 3-D ``(1 or N·heads, L, S)`` mask, or a RuntimeError naming shapes."""
    if attn_mask is None:
        return None
    if attn_mask.ndim == 2:
        if attn_mask.shape != (tgt_len, src_len):
            raise RuntimeError(
                f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                f"{(tgt_len, src_len)}."
            )
        return unsqueeze(attn_mask, 0)
    if attn_mask.shape != (batch_heads, tgt_len, src_len):
        raise RuntimeError(
            f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
            f"{(batch_heads, tgt_len, src_len)}."
        )
    return attn_mask


def _pad_masks(attn_mask, key_padding_mask):
    """Both masks with one more key column that takes part (the added bias or zero key)."""
    return tuple(None if m is None else pad(m, (0, 1)) for m in (attn_mask, key_padding_mask))


def _heads(x: Tensor, batch_heads: int, head_dim: int) -> Tensor:
    """``(T, N, E)`` → ``(N·heads, T, head_dim)``."""
    return transpose(reshape(x, (x.shape[0], batch_heads, head_dim)), 0, 1)


def _static(static: Tensor | None, x: Tensor, batch_heads, head_dim, name: str) -> Tensor:
    """Keys (or values) split into heads, or the given static ones after a shape check."""
    if static is None:
        return _heads(x, batch_heads, head_dim)
    static = as_tensor(static)
    if static.ndim != 3 or static.shape[0] != batch_heads or static.shape[2] != head_dim:
        raise AssertionError(
            f"expecting {name} of shape ({batch_heads}, S, {head_dim}), but got {static.shape}"
        )
    return static


def _append_bias_kv(k, v, bias_k, bias_v, masks, bsz):
    """Keys and values with ``bias_k``/``bias_v`` appended as one more position."""
    if (bias_k is None) != (bias_v is None):
        raise AssertionError("bias_k and bias_v must be given together")
    if bias_k is None:
        return k, v, masks
    E = k.shape[-1]
    k = concatenate([k, expand(bias_k, 1, bsz, E)])
    v = concatenate([v, expand(bias_v, 1, bsz, E)])
    return k, v, _pad_masks(*masks)


def _append_zero_attn(k, v, masks):
    """Keys and values with an all-zero position appended (``add_zero_attn``)."""
    zeros = as_tensor(np.zeros((k.shape[0], 1, k.shape[2]), dtype=k._data.dtype))
    k = concatenate([k, zeros], 1)
    v = concatenate([v, cast(zeros, v.dtype)], 1)
    return k, v, _pad_masks(*masks)


def _merge_padding(attn_mask, key_padding_mask, bsz, num_heads, src_len):
    """The key-padding mask ``(N, S)`` added to the attention mask, per head."""
    if key_padding_mask is None:
        return attn_mask
    if key_padding_mask.shape != (bsz, src_len):
        raise AssertionError(
            f"Expected key_padding_mask of shape {(bsz, src_len)}, but got {key_padding_mask.shape}"
        )
    kpm = expand(reshape(key_padding_mask, (bsz, 1, 1, src_len)), bsz, num_heads, 1, src_len)
    kpm = reshape(kpm, (bsz * num_heads, 1, src_len))
    return kpm if attn_mask is None else attn_mask + kpm


def _causal_hint(attn_mask, key_padding_mask, need_weights, is_causal, dtype):
    """PyTorch's handling of ``is_causal`` (a hint that ``attn_mask`` is causal): the mask
    is dropped in favour of the causal pattern only when nothing else needs it."""
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask."
        )
    if is_causal and key_padding_mask is None and not need_weights:
        return None, True
    attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", dtype, check_other=False)
    # The mask is kept, so it is used itself: merged with the padding, or for the weights.
    return attn_mask, False


def _split_heads(q, k, v, bias_kv, static_kv, add_zero_attn, masks, num_heads):
    """q, k, v as ``(N·heads, T, head_dim)``, with the extra key positions and their mask
    columns (bias_k/bias_v, then the zero position)."""
    bsz, E = q.shape[1], q.shape[2]
    head_dim = E // num_heads
    k, v, masks = _append_bias_kv(k, v, *bias_kv, masks, bsz)
    if bias_kv[0] is not None and any(s is not None for s in static_kv):
        raise AssertionError("bias cannot be added to static key or value.")
    bh = bsz * num_heads
    q = _heads(q, bh, head_dim)
    k = _static(static_kv[0], k, bh, head_dim, "static_k")
    v = _static(static_kv[1], v, bh, head_dim, "static_v")
    if add_zero_attn:
        k, v, masks = _append_zero_attn(k, v, masks)
    return q, k, v, masks


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention of sequence-first inputs, PyTorch's functional form.

    Shapes: query ``(L, N, E)``, key ``(S, N, kdim)``, value ``(S, N, vdim)`` (or without the
    batch axis N); ``key_padding_mask`` ``(N, S)`` and ``attn_mask`` ``(L, S)`` or
    ``(N·heads, L, S)``, bool masks True where a key is *left out*, float masks added.
    Returns the output ``(L, N, E)`` and, with ``need_weights``, the weights ``(N, L, S)``
    averaged over heads, or ``(N, heads, L, S)`` with ``average_attn_weights=False`` (after
    dropout, as PyTorch returns them). See :class:`chainrule.nn.MultiheadAttention`.
    """
    query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
    masks = [None if m is None else as_tensor(m) for m in (key_padding_mask, attn_mask)]
    batched = _shape_check(query, key, value, *masks, num_heads)
    if not batched:
        query, key, value = unsqueeze(query, 1), unsqueeze(key, 1), unsqueeze(value, 1)
        masks[0] = None if masks[0] is None else unsqueeze(masks[0], 0)
    tgt_len, bsz, embed_dim = query.shape
    kpm = canonical_mask(
        masks[0], "key_padding_mask", mask_dtype(masks[1]), "attn_mask", query._data.dtype
    )
    attn_mask, is_causal = _causal_hint(masks[1], kpm, need_weights, is_causal, query._data.dtype)
    _check_embed(query, key, value, embed_dim_to_check, num_heads, use_separate_proj_weight)
    separate = (q_proj_weight, k_proj_weight, v_proj_weight) if use_separate_proj_weight else None
    q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate)
    attn_mask = _checked_attn_mask(attn_mask, tgt_len, key.shape[0], bsz * num_heads)
    q, k, v, (attn_mask, kpm) = _split_heads(
        q,
        k,
        v,
        (bias_k, bias_v),
        (static_k, static_v),
        add_zero_attn,
        (attn_mask, kpm),
        num_heads,
    )
    attn_mask = _merge_padding(attn_mask, kpm, bsz, num_heads, k.shape[1])
    weights = attention_weights(
        q, k, attn_mask, is_causal, fully_masked=math.nan if need_weights else 0.0
    )
    if training and dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    out = reshape(transpose(matmul(weights, v), 0, 1), (tgt_len * bsz, embed_dim))
    out = reshape(linear(out, out_proj_weight, out_proj_bias), (tgt_len, bsz, -1))
    if not need_weights:
        return (out if batched else squeeze(out, 1)), None
    weights = reshape(weights, (bsz, num_heads, tgt_len, k.shape[1]))
    if average_attn_weights:
        weights = mean(weights, 1)
    return (out, weights) if batched else (squeeze(out, 1), squeeze(weights, 0))


def _check_embed(query, key, value, embed_dim_to_check, num_heads, separate: bool) -> None:
    """The embedding sizes and the key/value shapes PyTorch requires."""
    embed_dim = query.shape[-1]
    if embed_dim != embed_dim_to_check:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}"
        )
    if embed_dim % num_heads:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if separate and key.shape[:2] != value.shape[:2]:
        raise AssertionError(
            f"key's sequence and batch dims {key.shape[:2]} do not match value's {value.shape[:2]}"
        )
    if not separate and key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
