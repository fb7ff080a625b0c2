"""The Transformer: ``TransformerEncoder``, ``TransformerDecoder`` and ``Transformer``.

PyTorch's modules, names and state_dict layout (``encoder.layers.0.self_attn.in_proj_weight``,
``linear1``, ``norm1``, ...). Masks follow :class:`chainrule.nn.MultiheadAttention`: a bool
mask's True entries are left out, a float mask is added to the attention scores. The layers
are in :mod:`chainrule.nn.transformer_layers` (and importable from here).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from chainrule import dtypes
from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn import init
from chainrule.nn.containers import ModuleList
from chainrule.nn.module import Module
from chainrule.nn.normalization import LayerNorm
from chainrule.nn.transformer_layers import (
    Activation,
    TransformerDecoderLayer,
    TransformerEncoderLayer,
    float_masks,
)
from chainrule.random import GeneratorLike, resolve_generator

__all__ = [
    "Transformer",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
]


def _clones(module: Module, n: int) -> ModuleList:
    """``n`` independent deep copies of ``module`` (each with its own parameters)."""
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _square_subsequent_mask(sz: int, dtype: Any = None) -> Tensor:
    d = dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
    return as_tensor(np.triu(np.full((sz, sz), -np.inf, dtype=d), 1))


def _seq_len(x: Tensor, batch_first: bool) -> int:
    """The sequence length of a ``(T, E)``, ``(T, N, E)`` or ``(N, T, E)`` input."""
    return x.shape[0] if x.ndim == 2 else x.shape[1 if batch_first else 0]


def _detect_is_causal(mask: Tensor | None, is_causal: bool | None, size: int) -> bool:
    """``is_causal`` when given; otherwise whether ``mask`` is exactly the causal mask."""
    if is_causal is not None or mask is None:
        return is_causal is True
    mask = as_tensor(mask)
    causal = _square_subsequent_mask(size, mask._data.dtype)._data
    return mask.shape == causal.shape and bool(np.array_equal(mask._data, causal))


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of an encoder layer, then an optional norm.

    Parameters
    ----------
    encoder_layer : TransformerEncoderLayer
        Deep-copied ``num_layers`` times (the copies share no parameters).
    num_layers : int
        Number of layers.
    norm : Module, optional
        Applied to the last layer's output.
    enable_nested_tensor : bool
        Accepted for PyTorch's signature; chainrule has no nested tensors, so padded
        positions are always computed (``use_nested_tensor`` is False).
    mask_check : bool
        Accepted for PyTorch's signature.

    Attributes
    ----------
    layers : ModuleList
        ``layers.0``, ``layers.1``, ... in the state_dict, as in PyTorch.

    Shapes
    ------
    src ``(S, N, E)`` (``(N, S, E)`` with batch_first, ``(S, E)`` unbatched) → the same.
    """

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False  # no nested tensors: padded keys are masked instead
        self.mask_check = mask_check

    def forward(
        self,
        src: Tensor,
        mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        """Pass ``src`` through every layer, then the norm.

        Parameters
        ----------
        src : Tensor of shape (S, N, E), (N, S, E) with batch_first, or (S, E)
        mask : Tensor of shape (S, S) or (N·nhead, S, S), optional
        src_key_padding_mask : Tensor of shape (N, S) or (S,), optional
        is_causal : bool, optional
            A hint that ``mask`` is causal; None detects it by comparing ``mask`` with
            :meth:`Transformer.generate_square_subsequent_mask`.

        Returns
        -------
        Tensor of the shape of ``src``
        """
        src = as_tensor(src)
        names = ("mask", "src_key_padding_mask")
        mask, padding = float_masks(mask, src_key_padding_mask, names, src._data.dtype)
        batch_first = self.layers[0].self_attn.batch_first
        is_causal = _detect_is_causal(mask, is_causal, _seq_len(src, batch_first))
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, is_causal=is_causal, src_key_padding_mask=padding)
        return out if self.norm is None else self.norm(out)


class TransformerDecoder(Module):
    """A stack of ``num_layers`` copies of a decoder layer, then an optional norm.

    Parameters
    ----------
    decoder_layer : TransformerDecoderLayer
        Deep-copied ``num_layers`` times.
    num_layers : int
        Number of layers.
    norm : Module, optional
        Applied to the last layer's output.

    Shapes
    ------
    tgt ``(T, N, E)``, memory ``(S, N, E)`` (N first with batch_first; no N unbatched) →
    the shape of tgt.
    """

    def __init__(
        self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None
    ) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """Pass ``tgt`` (attending to ``memory``) through every layer, then the norm.

        The masks are those of :meth:`TransformerDecoderLayer.forward`; ``tgt_is_causal=None``
        detects a causal ``tgt_mask``. Returns a Tensor of the shape of ``tgt``.
        """
        tgt = as_tensor(tgt)
        batch_first = self.layers[0].self_attn.batch_first
        tgt_is_causal = _detect_is_causal(tgt_mask, tgt_is_causal, _seq_len(tgt, batch_first))
        out = tgt
        for layer in self.layers:
            out = layer(
                out,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=tgt_is_causal,
                memory_is_causal=memory_is_causal,
            )
        return out if self.norm is None else self.norm(out)


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need".

    Parameters
    ----------
    d_model : int
        Model width E.
    nhead : int
        Attention heads per attention block; must divide ``d_model``.
    num_encoder_layers, num_decoder_layers : int
        Depth of the encoder and of the decoder.
    dim_feedforward : int
        Hidden width of every feed-forward network.
    dropout : float
        Dropout probability throughout.
    activation : 'relu', 'gelu' or callable
        The feed-forward nonlinearity.
    custom_encoder, custom_decoder : Module, optional
        Used instead of the built stacks.
    layer_norm_eps : float
        The LayerNorms' eps.
    batch_first : bool
        Batched inputs are ``(N, S, E)`` instead of ``(S, N, E)``.
    norm_first : bool
        Pre-norm layers.
    bias : bool
        Learn biases in linear layers, attention and LayerNorms.
    device, dtype
        Only the CPU; float32 or float64.
    generator : numpy.random.Generator, int seed or None
        Keyword-only (chainrule's addition); draws the initial values.

    Attributes
    ----------
    encoder : TransformerEncoder
        With a final LayerNorm ``encoder.norm``.
    decoder : TransformerDecoder
        With a final LayerNorm ``decoder.norm``.

    Every parameter of two or more dimensions is re-drawn with ``xavier_uniform_`` after
    construction, as PyTorch does (custom encoders and decoders included).

    Shapes
    ------
    src ``(S, N, E)``, tgt ``(T, N, E)`` (N first with batch_first; no N unbatched) →
    output ``(T, N, E)``.

    Examples
    --------
    >>> model = Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
    ...                     dim_feedforward=16)
    >>> src, tgt = chainrule.randn(5, 3, 8), chainrule.randn(4, 3, 8)
    >>> print(model(src, tgt, tgt_mask=Transformer.generate_square_subsequent_mask(4)).shape)
    (4, 3, 8)
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Activation = F.relu,
        custom_encoder: Any = None,
        custom_decoder: Any = None,
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
        layer_args = (
            d_model,
            nhead,
            dim_feedforward,
            dropout,
            activation,
            layer_norm_eps,
            batch_first,
            norm_first,
            bias,
            device,
            dtype,
        )
        self.encoder = custom_encoder
        if custom_encoder is None:
            layer = TransformerEncoderLayer(*layer_args, generator=generator)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        self.decoder = custom_decoder
        if custom_decoder is None:
            layer = TransformerDecoderLayer(*layer_args, generator=generator)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, device=device, dtype=dtype)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, norm)
        self._reset_parameters(generator)
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def _reset_parameters(self, generator: GeneratorLike = None) -> None:
        generator = resolve_generator(generator)
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p, generator=generator)

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """Encode ``src`` and decode ``tgt`` against it.

        Parameters
        ----------
        src : Tensor of shape (S, N, E), (N, S, E) with batch_first, or (S, E)
        tgt : Tensor of shape (T, N, E), (N, T, E) or (T, E)
        src_mask : (S, S) or (N·nhead, S, S), optional
        tgt_mask : (T, T) or (N·nhead, T, T), optional
        memory_mask : (T, S), optional
        src_key_padding_mask, memory_key_padding_mask : (N, S) or (S,), optional
        tgt_key_padding_mask : (N, T) or (T,), optional
        src_is_causal, tgt_is_causal, memory_is_causal : bool, optional
            Hints that the masks are causal (None: detected for src and tgt).

        Returns
        -------
        Tensor of shape (T, N, E), (N, T, E) or (T, E)
        """
        src, tgt = as_tensor(src), as_tensor(tgt)
        batch_axis = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_axis] != tgt.shape[batch_axis]:
            raise RuntimeError(
                f"the batch number of src and tgt must be equal; got shapes {src.shape} and "
                f"{tgt.shape} (batch axis {batch_axis})"
            )
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(
                f"the feature number of src and tgt must be equal to d_model={self.d_model}; "
                f"got shapes {src.shape} and {tgt.shape}"
            )
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> Tensor:
        """The causal mask of a length-``sz`` sequence: −∞ above the diagonal, 0 elsewhere.

        Returns
        -------
        Tensor of shape (sz, sz)
            Float (the default float dtype unless ``dtype``); position i attends to 0..i.
        """
        return _square_subsequent_mask(sz, dtype)
