"""Look-up tables: ``Embedding`` (one row per index) and ``EmbeddingBag`` (rows reduced per bag).

PyTorch's names, signatures and parameter layout; the gradient is always a dense table, since
chainrule has no sparse tensors (``sparse=True`` is refused).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import devices
from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.nn import init
from chainrule.nn.linear import float_dtype
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.ops.embedding import resolve_padding_idx
from chainrule.random import GeneratorLike, resolve_generator


def _refuse_sparse(name: str, sparse: bool) -> None:
    if sparse:
        raise ValueError(
            f"nn.{name}: sparse=True is not supported: chainrule has no sparse tensors; use "
            "sparse=False (the gradient is a dense table)"
        )


def _table(
    name: str, rows: int, cols: int, weight: Any, freeze: bool, dtype: Any, device: Any
) -> Parameter | None:
    """The given table as a Parameter (checked against the sizes), or None to draw one."""
    devices.check_cpu(device, f"nn.{name}")
    for what, value in (("num_embeddings", rows), ("embedding_dim", cols)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{what} must be a non-negative integer; got {value!r}")
    if weight is None:
        return None
    w = as_tensor(weight)
    if tuple(w.shape) != (rows, cols):
        raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
    return Parameter(w._data, requires_grad=not freeze)


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, looked up by index.

    Parameters
    ----------
    num_embeddings : int
        Number of rows (the vocabulary size).
    embedding_dim : int
        Size of each row.
    padding_idx : int, optional
        A row that is initialized to zeros and gets no gradient; negative counts from the end.
    max_norm : float, optional
        Looked-up rows whose ``norm_type``-norm exceeds it are rescaled to it in ``weight``
        itself, in place, before the look-up (as PyTorch).
    norm_type : float
        The p of the norm for ``max_norm``.
    scale_grad_by_freq : bool
        Divide each row's gradient by how often its index occurs in the batch.
    sparse : bool
        Must be False: chainrule has no sparse gradients.
    _weight : Tensor, optional
        A table to use instead of a drawn one, shape ``(num_embeddings, embedding_dim)``.
    _freeze : bool
        With ``_weight``, make it not require grad.
    device : str or device, optional
        Only the CPU (or None).
    dtype : dtype, optional
        float32 or float64; the default float dtype when omitted.
    generator : numpy.random.Generator, int seed or None
        Keyword-only; draws the initial table (see :class:`chainrule.nn.Linear`).

    Attributes
    ----------
    weight : Parameter of shape (num_embeddings, embedding_dim)
        Initialized from N(0, 1), the ``padding_idx`` row zero.

    Shapes
    ------
    input ``(*)`` integer → output ``(*, embedding_dim)``.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__()
        _refuse_sparse("Embedding", sparse)
        given = _table("Embedding", num_embeddings, embedding_dim, _weight, _freeze, dtype, device)
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = resolve_padding_idx(padding_idx, self.num_embeddings)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if given is None:
            shape = (self.num_embeddings, self.embedding_dim)
            self.weight = Parameter(np.empty(shape, dtype=float_dtype(dtype)))
            self.reset_parameters(generator)
        else:
            self.weight = given

    def reset_parameters(self, generator: GeneratorLike = None) -> None:
        """Redraw the table from N(0, 1) and zero the ``padding_idx`` row."""
        init.normal_(self.weight, generator=resolve_generator(generator))
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            with no_grad():
                self.weight._data[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        """Rows of ``weight`` for the integer ``input`` of shape ``(*)``: ``(*, embedding_dim)``."""
        return F.embedding(
            input,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding whose table is ``embeddings`` (2-D), frozen unless ``freeze=False``.

        The ``padding_idx`` row is kept as given, not zeroed, as in PyTorch.
        """
        table = as_tensor(embeddings)
        if table.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = table.shape
        return cls(
            rows,
            cols,
            padding_idx,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            sparse,
            _weight=table,
            _freeze=freeze,
        )


class EmbeddingBag(Module):
    """Embedding rows reduced per bag (sum, mean or max) without forming the per-index output.

    Parameters
    ----------
    num_embeddings, embedding_dim : int
        The table's shape.
    max_norm, norm_type, scale_grad_by_freq, sparse, padding_idx
        As in :class:`Embedding`; ``padding_idx`` entries are left out of every bag.
    mode : {'mean', 'sum', 'max'}
        How each bag's rows are reduced.
    _weight : Tensor, optional
        A table to use instead of a drawn one.
    include_last_offset : bool
        ``offsets`` has B + 1 entries, the last one the end of the last bag.
    device : str or device, optional
        Only the CPU (or None).
    dtype : dtype, optional
        float32 or float64; the default float dtype when omitted.
    generator : numpy.random.Generator, int seed or None
        Keyword-only; draws the initial table.

    Attributes
    ----------
    weight : Parameter of shape (num_embeddings, embedding_dim)
        Initialized from N(0, 1), the ``padding_idx`` row zero.

    Shapes
    ------
    input ``(B, L)``, or ``(n,)`` with ``offsets`` ``(B,)`` → output ``(B, embedding_dim)``.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight: Tensor | None = None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__()
        _refuse_sparse("EmbeddingBag", sparse)
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"mode has to be one of sum, mean or max; got {mode!r}")
        given = _table("EmbeddingBag", num_embeddings, embedding_dim, _weight, False, dtype, device)
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = resolve_padding_idx(padding_idx, self.num_embeddings)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode, self.sparse = scale_grad_by_freq, mode, sparse
        self.include_last_offset = include_last_offset
        if given is None:
            shape = (self.num_embeddings, self.embedding_dim)
            self.weight = Parameter(np.empty(shape, dtype=float_dtype(dtype)))
            self.reset_parameters(generator)
        else:
            self.weight = given

    def reset_parameters(self, generator: GeneratorLike = None) -> None:
        """Redraw the table from N(0, 1) and zero the ``padding_idx`` row."""
        init.normal_(self.weight, generator=resolve_generator(generator))
        if self.padding_idx is not None:
            with no_grad():
                self.weight._data[self.padding_idx] = 0

    def forward(
        self,
        input: Tensor,
        offsets: Tensor | None = None,
        per_sample_weights: Tensor | None = None,
    ) -> Tensor:
        """One reduced row per bag: ``(B, embedding_dim)``."""
        return F.embedding_bag(
            input,
            self.weight,
            offsets,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.mode,
            self.sparse,
            per_sample_weights,
            self.include_last_offset,
            self.padding_idx,
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s
