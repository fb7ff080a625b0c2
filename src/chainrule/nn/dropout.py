"""The dropout layers: ``Dropout``, ``Dropout1d``/``2d``/``3d`` (whole channels), and the
SELU-preserving ``AlphaDropout`` and ``FeatureAlphaDropout``."""

from __future__ import annotations

from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn.module import Module
from chainrule.ops.activation import check_dropout_p
from chainrule.random import GeneratorLike, resolve_generator


class _DropoutNd(Module):
    """What the dropout layers share: ``p``, ``inplace``, the generator and the repr."""

    _fn = staticmethod(F.dropout)

    def __init__(
        self, p: float = 0.5, inplace: bool = False, *, generator: GeneratorLike = None
    ) -> None:
        super().__init__()
        self.p = check_dropout_p(p)
        self.inplace = inplace
        # None stays None (the global generator, looked up at each call); a seed becomes one
        # Generator now, as DataLoader does, so successive calls draw different masks.
        self.generator = None if generator is None else resolve_generator(generator)

    def forward(self, input: Tensor) -> Tensor:
        """A masked and rescaled copy of ``input`` in training mode; ``input`` itself in eval."""
        fn = type(self)._fn
        return fn(as_tensor(input), self.p, self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` in training mode; scale the rest by 1/(1 − p).

    Scaling at training time (inverted dropout) keeps each activation's expected value, so
    evaluation mode is the identity and needs no rescaling.

    Parameters
    ----------
    p : float
        Probability of zeroing an element, in [0, 1]. 0.5 by default.
    inplace : bool
        Accepted for PyTorch's signature; the result is always a new tensor.
    generator : numpy.random.Generator, int seed or None
        Keyword-only (PyTorch has no such argument). Draws the masks: by default chainrule's
        global generator, looked up at every call, so :func:`chainrule.manual_seed` makes the
        masks reproducible (they differ from PyTorch's draws). An int seeds a generator owned
        by this layer (made once, so successive calls still draw different masks).

    Shapes
    ------
    input any shape → output the same shape.
    """


class Dropout1d(_DropoutNd):
    """Zero whole channels (1-D feature maps) with probability ``p``; scale the rest by
    1/(1 − p). Parameters as :class:`Dropout`.

    Shapes
    ------
    input ``(N, C, L)`` or ``(C, L)`` → output the same shape; one draw per channel.
    """

    _fn = staticmethod(F.dropout1d)


class Dropout2d(_DropoutNd):
    """Zero whole channels (2-D feature maps) with probability ``p``; scale the rest by
    1/(1 − p). Parameters as :class:`Dropout`.

    Shapes
    ------
    input ``(N, C, H, W)`` → output the same shape; one draw per (sample, channel). A 3-D input
    is read as ``(N, C, L)`` with PyTorch's warning.
    """

    _fn = staticmethod(F.dropout2d)


class Dropout3d(_DropoutNd):
    """Zero whole channels (3-D feature maps) with probability ``p``; scale the rest by
    1/(1 − p). Parameters as :class:`Dropout`.

    Shapes
    ------
    input ``(N, C, D, H, W)`` or ``(C, D, H, W)`` → output the same shape.
    """

    _fn = staticmethod(F.dropout3d)


class AlphaDropout(_DropoutNd):
    """Alpha dropout for self-normalizing (SELU) networks: dropped elements take SELU's
    saturation value and an affine correction keeps zero mean and unit variance. Parameters
    as :class:`Dropout`; the identity in evaluation mode.

    Shapes
    ------
    input any shape → output the same shape.
    """

    _fn = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(_DropoutNd):
    """:class:`AlphaDropout` of whole channels: one draw per (sample, channel). Parameters as
    :class:`Dropout`.

    Shapes
    ------
    input ``(N, C, *)`` → output the same shape.
    """

    _fn = staticmethod(F.feature_alpha_dropout)
