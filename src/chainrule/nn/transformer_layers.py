"""The Transformer's layers: ``TransformerEncoderLayer`` and ``TransformerDecoderLayer``.

PyTorch's names and state_dict layout (``self_attn.in_proj_weight``, ``linear1``, ``norm1``,
...); the stacks and the full model are in :mod:`chainrule.nn.transformer`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn.activation import GELU, ReLU
from chainrule.nn.attention import MultiheadAttention
from chainrule.nn.dropout import Dropout
from chainrule.nn.linear import Linear
from chainrule.nn.module import Module
from chainrule.nn.normalization import LayerNorm
from chainrule.ops.attention import canonical_mask, mask_dtype
from chainrule.random import GeneratorLike, resolve_generator

Activation = str | Callable[[Tensor], Tensor]


def _activation_fn(activation: Activation) -> Callable[[Tensor], Tensor]:
    """``'relu'``/``'gelu'`` as the functions, a callable as itself."""
    if not isinstance(activation, str):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def float_masks(mask, padding, names: tuple[str, str], dtype) -> tuple[Any, Any]:
    """Both masks as float masks (PyTorch's conversion, with its mismatch warning)."""
    padding = canonical_mask(padding, names[1], mask_dtype(mask), names[0], dtype)
    mask = canonical_mask(mask, names[0], None, "", dtype, check_other=False)
    return mask, padding


class _LayerBase(Module):
    """What both layers share: the feed-forward block and its layers and norms."""

    def _feedforward(self, sizes, dropout, eps, bias, d, norms: int, generator) -> None:
        d_model, dim_feedforward = sizes
        self.linear1 = Linear(d_model, dim_feedforward, bias, dtype=d, generator=generator)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias, dtype=d, generator=generator)
        for i in range(1, norms + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=eps, bias=bias, dtype=d))
        for i in range(1, norms + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))

    def _ff_block(self, x: Tensor, out_dropout: Module) -> Tensor:
        return out_dropout(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    @staticmethod
    def _attend(attn, x, mem, mask, padding, is_causal, out_dropout) -> Tensor:
        out = attn(
            x,
            mem,
            mem,
            attn_mask=mask,
            key_padding_mask=padding,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return out_dropout(out)


class TransformerEncoderLayer(_LayerBase):
    """Self-attention then a feed-forward network, each with a residual connection and a
    LayerNorm (after it, or before it with ``norm_first``).

    Parameters
    ----------
    d_model : int
        Model width E.
    nhead : int
        Number of attention heads; must divide ``d_model``.
    dim_feedforward : int
        Hidden width of the feed-forward network.
    dropout : float
        Dropout after attention, inside and after the feed-forward network, and on the
        attention weights.
    activation : 'relu', 'gelu' or callable
        The feed-forward network's nonlinearity.
    layer_norm_eps : float
        The LayerNorms' eps.
    batch_first : bool
        Batched inputs are ``(N, S, E)`` instead of ``(S, N, E)``.
    norm_first : bool
        Pre-norm: ``x + block(norm(x))`` instead of ``norm(x + block(x))``.
    bias : bool
        Learn biases in the linear layers, attention and LayerNorms.
    device, dtype
        Only the CPU; float32 or float64.
    generator : numpy.random.Generator, int seed or None
        Keyword-only (chainrule's addition); draws the initial values.

    Attributes
    ----------
    self_attn : MultiheadAttention
    linear1 : Linear(d_model, dim_feedforward)
    linear2 : Linear(dim_feedforward, d_model)
    norm1, norm2 : LayerNorm(d_model)
    dropout, dropout1, dropout2 : Dropout

    Shapes
    ------
    src ``(S, N, E)`` (``(N, S, E)`` with batch_first, ``(S, E)`` unbatched) → the same.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Activation = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__()
        generator = resolve_generator(generator)
        self.self_attn = MultiheadAttention(
            d_model,
            nhead,
            dropout=dropout,
            bias=bias,
            batch_first=batch_first,
            device=device,
            dtype=dtype,
            generator=generator,
        )
        d = self.self_attn.out_proj.weight.dtype
        self._feedforward(
            (d_model, dim_feedforward), dropout, layer_norm_eps, bias, d, 2, generator
        )
        self.norm_first = norm_first
        activation = _activation_fn(activation)
        if activation is F.relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        """One encoder layer.

        Parameters
        ----------
        src : Tensor of shape (S, N, E), (N, S, E) with batch_first, or (S, E)
        src_mask : Tensor of shape (S, S) or (N·nhead, S, S), optional
        src_key_padding_mask : Tensor of shape (N, S) or (S,), optional
        is_causal : bool
            A hint that ``src_mask`` is the causal mask.

        Returns
        -------
        Tensor of the shape of ``src``
        """
        src = as_tensor(src)
        names = ("src_mask", "src_key_padding_mask")
        mask, padding = float_masks(src_mask, src_key_padding_mask, names, src._data.dtype)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), mask, padding, is_causal)
            return x + self._ff_block(self.norm2(x), self.dropout2)
        x = self.norm1(x + self._sa_block(x, mask, padding, is_causal))
        return self.norm2(x + self._ff_block(x, self.dropout2))

    def _sa_block(self, x, mask, padding, is_causal) -> Tensor:
        return self._attend(self.self_attn, x, x, mask, padding, is_causal, self.dropout1)


class TransformerDecoderLayer(_LayerBase):
    """Masked self-attention, attention over the encoder's output (memory), then a
    feed-forward network; each with a residual connection and a LayerNorm.

    Parameters are those of :class:`TransformerEncoderLayer`.

    Attributes
    ----------
    self_attn, multihead_attn : MultiheadAttention
    linear1, linear2 : Linear
    norm1, norm2, norm3 : LayerNorm(d_model)
    dropout, dropout1, dropout2, dropout3 : Dropout

    Shapes
    ------
    tgt ``(T, N, E)``, memory ``(S, N, E)`` (N first with batch_first; no N unbatched) →
    the shape of tgt.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Activation = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__()
        generator = resolve_generator(generator)
        kwargs = dict(dropout=dropout, bias=bias, batch_first=batch_first, device=device)
        self.self_attn = MultiheadAttention(
            d_model, nhead, **kwargs, dtype=dtype, generator=generator
        )
        self.multihead_attn = MultiheadAttention(
            d_model, nhead, **kwargs, dtype=dtype, generator=generator
        )
        d = self.self_attn.out_proj.weight.dtype
        self._feedforward(
            (d_model, dim_feedforward), dropout, layer_norm_eps, bias, d, 3, generator
        )
        self.norm_first = norm_first
        self.activation = _activation_fn(activation)

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """One decoder layer.

        Parameters
        ----------
        tgt : Tensor of shape (T, N, E), (N, T, E) with batch_first, or (T, E)
        memory : Tensor of shape (S, N, E), (N, S, E) or (S, E)
        tgt_mask : Tensor of shape (T, T) or (N·nhead, T, T), optional
        memory_mask : Tensor of shape (T, S) or (N·nhead, T, S), optional
        tgt_key_padding_mask : Tensor of shape (N, T) or (T,), optional
        memory_key_padding_mask : Tensor of shape (N, S) or (S,), optional
        tgt_is_causal, memory_is_causal : bool
            Hints that ``tgt_mask`` / ``memory_mask`` are causal.

        Returns
        -------
        Tensor of the shape of ``tgt``
        """
        x, memory = as_tensor(tgt), as_tensor(memory)
        self_mask = (tgt_mask, tgt_key_padding_mask, tgt_is_causal)
        cross_mask = (memory_mask, memory_key_padding_mask, memory_is_causal)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), *self_mask)
            x = x + self._mha_block(self.norm2(x), memory, *cross_mask)
            return x + self._ff_block(self.norm3(x), self.dropout3)
        x = self.norm1(x + self._sa_block(x, *self_mask))
        x = self.norm2(x + self._mha_block(x, memory, *cross_mask))
        return self.norm3(x + self._ff_block(x, self.dropout3))

    def _sa_block(self, x, mask, padding, is_causal) -> Tensor:
        return self._attend(self.self_attn, x, x, mask, padding, is_causal, self.dropout1)

    def _mha_block(self, x, mem, mask, padding, is_causal) -> Tensor:
        return self._attend(self.multihead_attn, x, mem, mask, padding, is_causal, self.dropout2)
