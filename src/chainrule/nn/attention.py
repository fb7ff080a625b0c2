"""Multi-head attention, ``MultiheadAttention``, with PyTorch's parameters and state_dict."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import devices
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn import init
from chainrule.nn.linear import Linear, float_dtype
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.ops.activation import check_dropout_p
from chainrule.ops.attention import canonical_mask, mask_dtype, multi_head_attention_forward
from chainrule.ops.shape import transpose
from chainrule.random import GeneratorLike, resolve_generator


def _check_heads(embed_dim: Any, num_heads: Any) -> tuple[int, int]:
    """Both sizes as ints, or PyTorch's errors: positive, and heads dividing the embedding."""
    for name, value in (("embed_dim", embed_dim), ("num_heads", num_heads)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got {name}={value!r}"
            )
    if embed_dim % num_heads:
        raise AssertionError(
            f"embed_dim must be divisible by num_heads; got embed_dim={embed_dim} and "
            f"num_heads={num_heads} (each head takes embed_dim // num_heads features)"
        )
    return int(embed_dim), int(num_heads)


class MultiheadAttention(Module):
    """Multi-head attention: ``concat(head₁, …, head_h) W_outᵀ``, ``headᵢ = attention(Q Wᵢ^Q,
    K Wᵢ^K, V Wᵢ^V)`` with scaled dot-product attention.

    Parameters
    ----------
    embed_dim : int
        Model width E (the query's features and the output's).
    num_heads : int
        Number of heads h; must divide ``embed_dim`` (each head has E/h features).
    dropout : float
        Dropout probability on the attention weights in training mode.
    bias : bool
        Learn ``in_proj_bias`` and ``out_proj.bias``.
    add_bias_kv : bool
        Learn ``bias_k`` and ``bias_v`` ``(1, 1, E)``, appended as one more key position.
    add_zero_attn : bool
        Append an all-zero key and value position (after the projections).
    kdim, vdim : int, optional
        Key and value features; ``embed_dim`` when None. When either differs, the projections
        are three separate weights ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight``.
    batch_first : bool
        Batched inputs are ``(N, L, E)`` instead of ``(L, N, E)``.
    device : str or device, optional
        Only the CPU (or None).
    dtype : dtype, optional
        float32 or float64; the default float dtype when omitted.
    generator : numpy.random.Generator, int seed or None
        Keyword-only (chainrule's addition); draws the initial values.

    Attributes
    ----------
    in_proj_weight : Parameter of shape (3E, E) or None
        The packed query, key and value projections (xavier_uniform_ initialised).
    q_proj_weight, k_proj_weight, v_proj_weight : Parameter or None
        ``(E, E)``, ``(E, kdim)``, ``(E, vdim)``, only when kdim or vdim differ from E.
    in_proj_bias : Parameter of shape (3E,) or None
        Initialised to 0.
    out_proj : Linear(E, E)
        The output projection; its bias is initialised to 0.
    bias_k, bias_v : Parameter of shape (1, 1, E) or None
        xavier_normal_ initialised.

    Shapes
    ------
    query ``(L, N, E)``, key ``(S, N, kdim)``, value ``(S, N, vdim)`` (``batch_first``: N
    first; unbatched: no N) → output ``(L, N, E)`` and weights ``(N, L, S)`` (averaged over
    heads) or ``(N, h, L, S)``.

    Examples
    --------
    >>> mha = MultiheadAttention(8, 2, batch_first=True)
    >>> x = chainrule.randn(3, 5, 8)
    >>> out, weights = mha(x, x, x)
    >>> print(out.shape, weights.shape)
    (3, 5, 8) (3, 5, 5)
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__()
        devices.check_cpu(device, "nn.MultiheadAttention")
        self.embed_dim, self.num_heads = _check_heads(embed_dim, num_heads)
        self.kdim = kdim if kdim is not None else self.embed_dim
        self.vdim = vdim if vdim is not None else self.embed_dim
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.dropout = check_dropout_p(dropout)
        self.batch_first = batch_first
        self.head_dim = self.embed_dim // self.num_heads
        self.add_zero_attn = add_zero_attn
        d = float_dtype(dtype)
        generator = resolve_generator(generator)
        self._make_projections(bias, d)
        self.out_proj = Linear(self.embed_dim, self.embed_dim, bias, dtype=d, generator=generator)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, self.embed_dim), dtype=d))
            self.bias_v = Parameter(np.empty((1, 1, self.embed_dim), dtype=d))
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters(generator)

    def _make_projections(self, bias: bool, d: np.dtype) -> None:
        E = self.embed_dim
        packed = self._qkv_same_embed_dim
        shapes = {"q": (E, E), "k": (E, self.kdim), "v": (E, self.vdim)}
        for name, shape in shapes.items():
            value = None if packed else Parameter(np.empty(shape, dtype=d))
            self.register_parameter(f"{name}_proj_weight", value)
        value = Parameter(np.empty((3 * E, E), dtype=d)) if packed else None
        self.register_parameter("in_proj_weight", value)
        value = Parameter(np.empty(3 * E, dtype=d)) if bias else None
        self.register_parameter("in_proj_bias", value)

    def _reset_parameters(self, generator: GeneratorLike = None) -> None:
        """PyTorch's initialisation: xavier_uniform_ projections, zero biases, xavier_normal_
        bias_k/bias_v; ``out_proj.weight`` keeps Linear's default."""
        generator = resolve_generator(generator)
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight, generator=generator)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w, generator=generator)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                init.xavier_normal_(b, generator=generator)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """Attend from ``query`` to ``key``/``value``.

        Parameters
        ----------
        query : Tensor of shape (L, N, E), (N, L, E) with batch_first, or (L, E)
        key : Tensor of shape (S, N, kdim), (N, S, kdim) or (S, kdim)
        value : Tensor of shape (S, N, vdim), (N, S, vdim) or (S, vdim)
        key_padding_mask : Tensor of shape (N, S) or (S,), optional
            Bool: True marks a padding key, left out. Float: added to the scores.
        need_weights : bool
            Also return the attention weights.
        attn_mask : Tensor of shape (L, S) or (N·num_heads, L, S), optional
            Bool: True marks a pair left out. Float: added to the scores.
        average_attn_weights : bool
            Average the returned weights over the heads.
        is_causal : bool
            A hint that ``attn_mask`` is the causal mask (it must still be given).

        Returns
        -------
        attn_output : Tensor of shape (L, N, E), (N, L, E) or (L, E)
        attn_output_weights : Tensor of shape (N, L, S) or (N, num_heads, L, S), or None
            None unless ``need_weights``. A query whose keys are all masked gets NaN weights
            (and output), as in PyTorch; with ``need_weights=False`` its output is
            ``out_proj``'s bias instead.
        """
        query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
        dtype = query._data.dtype
        key_padding_mask = canonical_mask(
            key_padding_mask, "key_padding_mask", mask_dtype(attn_mask), "attn_mask", dtype
        )
        attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", dtype, check_other=False)
        batched = query.ndim == 3
        if self.batch_first and batched:
            query, key, value = (transpose(x, 1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        out, weights = multi_head_attention_forward(
            query,
            key,
            value,
            self.embed_dim,
            self.num_heads,
            self.in_proj_weight,
            self.in_proj_bias,
            self.bias_k,
            self.bias_v,
            self.add_zero_attn,
            self.dropout,
            self.out_proj.weight,
            self.out_proj.bias,
            training=self.training,
            key_padding_mask=key_padding_mask,
            need_weights=need_weights,
            attn_mask=attn_mask,
            use_separate_proj_weight=separate,
            q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights,
            is_causal=is_causal,
        )
        if self.batch_first and batched:
            out = transpose(out, 1, 0)
        return out, weights
