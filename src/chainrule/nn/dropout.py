"""``Dropout``: randomly zero activations while training (inverted dropout)."""

from __future__ import annotations

from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn.module import Module
from chainrule.random import GeneratorLike, resolve_generator


class Dropout(Module):
    """Zero each element with probability ``p`` in training mode; scale the rest by 1/(1 − p).

    Scaling at training time (inverted dropout) keeps each activation's expected value, so
    evaluation mode is the identity and needs no rescaling.

    Parameters
    ----------
    p : float
        Probability of zeroing an element, in [0, 1]. 0.5 by default.
    generator : numpy.random.Generator, int seed or None
        Draws the masks. By default chainrule's global generator, looked up at every call, so
        :func:`chainrule.manual_seed` makes the masks reproducible. An int seeds a generator
        owned by this layer (made once, so successive calls still draw different masks).

    Shapes
    ------
    input any shape → output the same shape.
    """

    def __init__(self, p: float = 0.5, generator: GeneratorLike = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability must be a number in [0, 1]; got {p!r}")
        self.p = float(p)
        # None stays None (the global generator, looked up at each call); a seed becomes one
        # Generator now, as DataLoader does.
        self.generator = None if generator is None else resolve_generator(generator)

    def forward(self, input: Tensor) -> Tensor:
        """A masked and rescaled copy of ``input`` in training mode; ``input`` itself in eval."""
        return F.dropout(as_tensor(input), self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"
