"""One step of a recurrent network: the cell updates and ``RNNCell``, ``LSTMCell``, ``GRUCell``.

Each update takes the input's projection ``x W_ihᵀ + b_ih`` already computed, so that a
multi-layer network (:mod:`chainrule.nn.rnn`) can project a whole sequence in one matrix
product and spend only ``h W_hhᵀ`` — one product for all gates — per time step. The gates are
then slices of that product, in PyTorch's order (LSTM: i, f, g, o; GRU: r, z, n). Everything
is composed of differentiable ops, so backpropagation through time is the engine's ordinary
backward over the unrolled graph.

``nn.LSTM`` on a padded batch runs :func:`lstm_update`'s step as one op per layer instead
(:func:`chainrule.ops.recurrent.lstm_layer`, backpropagation through time written by hand);
``lstm_update`` stays the readable definition, and what ``LSTMCell``, packed batches of several
lengths and ``proj_size`` use.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule import devices
from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn import init
from chainrule.nn.linear import float_dtype
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.random import GeneratorLike, resolve_generator

__all__ = [
    "UPDATES",
    "GRUCell",
    "LSTMCell",
    "RNNCell",
    "RNNCellBase",
    "gru_cell",
    "gru_update",
    "lstm_cell",
    "lstm_update",
    "rnn_relu_cell",
    "rnn_relu_update",
    "rnn_tanh_cell",
    "rnn_tanh_update",
]

State = tuple[Tensor, ...]


def rnn_tanh_update(
    ih: Tensor, state: State, w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None = None
) -> State:
    """Elman step ``h' = tanh(ih + h W_hhᵀ + b_hh)``; ``ih`` (B, H), state ``(h,)`` (B, H).

    ``w_hr`` is accepted for a common signature and must be None.
    """
    return (F.tanh(ih + F.linear(state[0], w_hh, b_hh)),)


def rnn_relu_update(
    ih: Tensor, state: State, w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None = None
) -> State:
    """Elman step with ReLU: ``h' = relu(ih + h W_hhᵀ + b_hh)``; shapes as the tanh step."""
    return (F.relu(ih + F.linear(state[0], w_hh, b_hh)),)


def lstm_update(
    ih: Tensor, state: State, w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None = None
) -> State:
    """LSTM step; ``ih`` (B, 4H), state ``(h, c)`` with h (B, P) and c (B, H).

    ``i, f, g, o`` are the four H-wide slices of ``ih + h W_hhᵀ + b_hh``;
    ``c' = σ(f) c + σ(i) tanh(g)``, ``h' = σ(o) tanh(c')``, then ``h' W_hrᵀ`` (P = proj_size)
    when there is a projection ``w_hr`` of shape (P, H); P = H without one.
    """
    h, c = state
    i, f, g, o = F.chunk(ih + F.linear(h, w_hh, b_hh), 4, 1)
    c = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
    h = F.sigmoid(o) * F.tanh(c)
    return (h if w_hr is None else F.linear(h, w_hr), c)


def gru_update(
    ih: Tensor, state: State, w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None = None
) -> State:
    """GRU step; ``ih`` (B, 3H), state ``(h,)`` (B, H).

    With ``hh = h W_hhᵀ + b_hh``: ``r = σ(ih_r + hh_r)``, ``z = σ(ih_z + hh_z)``,
    ``n = tanh(ih_n + r · hh_n)`` (PyTorch's form: the reset gate scales the hidden
    projection, bias included), ``h' = (1 − z) n + z h``.
    """
    h = state[0]
    hh = F.linear(h, w_hh, b_hh)
    size = h.shape[1]
    ih_rz, ih_n = F.split(ih, [2 * size, size], 1)
    hh_rz, hh_n = F.split(hh, [2 * size, size], 1)
    r, z = F.chunk(F.sigmoid(ih_rz + hh_rz), 2, 1)
    n = F.tanh(ih_n + r * hh_n)
    return (n + z * (h - n),)


#: The step of each of PyTorch's RNN modes.
UPDATES: dict[str, Callable[..., State]] = {
    "RNN_TANH": rnn_tanh_update,
    "RNN_RELU": rnn_relu_update,
    "LSTM": lstm_update,
    "GRU": gru_update,
}


def rnn_tanh_cell(
    input: Tensor,
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One Elman step, as ``torch.rnn_tanh_cell``: input (B, I), hx (B, H) → (B, H)."""
    return rnn_tanh_update(F.linear(input, w_ih, b_ih), (hx,), w_hh, b_hh)[0]


def rnn_relu_cell(
    input: Tensor,
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One Elman step with ReLU, as ``torch.rnn_relu_cell``: (B, I), (B, H) → (B, H)."""
    return rnn_relu_update(F.linear(input, w_ih, b_ih), (hx,), w_hh, b_hh)[0]


def lstm_cell(
    input: Tensor,
    hx: tuple[Tensor, Tensor],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step, as ``torch.lstm_cell``: input (B, I), hx ``(h, c)`` each (B, H) →
    ``(h', c')``; weights (4H, I) and (4H, H), biases (4H,)."""
    h, c = lstm_update(F.linear(input, w_ih, b_ih), tuple(hx), w_hh, b_hh)
    return h, c


def gru_cell(
    input: Tensor,
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One GRU step, as ``torch.gru_cell``: input (B, I), hx (B, H) → (B, H); weights (3H, I)
    and (3H, H), biases (3H,)."""
    return gru_update(F.linear(input, w_ih, b_ih), (hx,), w_hh, b_hh)[0]


def check_positive_size(name: str, value: Any) -> int:
    """``value`` as an int, with PyTorch's TypeError/ValueError when it is not a positive int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be greater than zero")
    return int(value)


class RNNCellBase(Module):
    """What the three cells share: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``.

    Parameters
    ----------
    input_size, hidden_size : int
        Features of the input and of the hidden state.
    bias : bool
        Learn the two biases.
    num_chunks : int
        Gates stacked in the weights: 1 (RNN), 4 (LSTM) or 3 (GRU).
    device, dtype
        As :class:`~chainrule.nn.Linear`.
    generator : numpy.random.Generator, int seed or None
        Keyword-only; draws the initial values.

    Attributes
    ----------
    weight_ih : Parameter of shape (num_chunks · hidden_size, input_size)
    weight_hh : Parameter of shape (num_chunks · hidden_size, hidden_size)
    bias_ih, bias_hh : Parameter of shape (num_chunks · hidden_size,) or None
        All initialized from U(−1/√hidden_size, 1/√hidden_size), as PyTorch.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__()
        devices.check_cpu(device, f"nn.{type(self).__name__}")
        self.input_size = check_positive_size("input_size", input_size)
        self.hidden_size = check_positive_size("hidden_size", hidden_size)
        self.bias = bool(bias)
        d = float_dtype(dtype)
        gates = num_chunks * self.hidden_size
        self.weight_ih = Parameter(np.empty((gates, self.input_size), dtype=d))
        self.weight_hh = Parameter(np.empty((gates, self.hidden_size), dtype=d))
        if bias:
            self.bias_ih = Parameter(np.empty(gates, dtype=d))
            self.bias_hh = Parameter(np.empty(gates, dtype=d))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: GeneratorLike = None) -> None:
        """Redraw every parameter from U(−1/√hidden_size, 1/√hidden_size), in order."""
        generator = resolve_generator(generator)
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound, generator)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def prepare(self, input: Any, hx: Any, states: int) -> tuple[Tensor, State, bool]:
        """Checked input (B, I) and state tensors (B, H), and whether the input was batched.

        ``hx`` is None (zeros), one tensor (``states == 1``) or a pair (the LSTM's).
        """
        name = type(self).__name__
        x = as_tensor(input)
        if x.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {x.ndim}D instead")
        batched = x.ndim == 2
        dtype = self.weight_ih.dtype
        x = F.cast(x if batched else F.unsqueeze(x, 0), dtype)
        if x.shape[1] != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {x.shape[1]} expected {self.input_size}"
            )
        if hx is None:
            zeros = as_tensor(np.zeros((x.shape[0], self.hidden_size), dtype=dtype))
            return x, (zeros,) * states, batched
        parts = (hx,) if states == 1 else tuple(hx)
        checked = []
        for k, h in enumerate(parts):
            h = as_tensor(h)
            label = "hidden" if states == 1 else f"hx[{k}]"
            if h.ndim not in (1, 2):
                raise ValueError(f"{name}: Expected {label} to be 1D or 2D, got {h.ndim}D instead")
            h = F.cast(h if batched else F.unsqueeze(h, 0), dtype)
            self._check_hidden(x, h, k)
            checked.append(h)
        return x, tuple(checked), batched

    def _check_hidden(self, x: Tensor, h: Tensor, k: int) -> None:
        if h.ndim != 2 or h.shape[0] != x.shape[0]:
            raise RuntimeError(
                f"Input batch size {x.shape[0]} doesn't match hidden{k} batch size "
                f"{h.shape[0] if h.ndim == 2 else tuple(h.shape)}"
            )
        if h.shape[1] != self.hidden_size:
            raise RuntimeError(
                f"hidden{k} has inconsistent hidden_size: got {h.shape[1]}, expected "
                f"{self.hidden_size}"
            )

    def step(self, x: Tensor, state: State, update: Callable[..., State]) -> State:
        """``update`` applied to this cell's projection of ``x``."""
        return update(
            F.linear(x, self.weight_ih, self.bias_ih), state, self.weight_hh, self.bias_hh
        )


class RNNCell(RNNCellBase):
    """An Elman cell: ``h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)`` (or ReLU).

    Parameters
    ----------
    input_size, hidden_size : int
        Features of the input and of the hidden state.
    bias : bool
        Learn ``bias_ih`` and ``bias_hh`` (True by default).
    nonlinearity : {'tanh', 'relu'}
        Checked when called, as PyTorch does.
    device, dtype, generator
        As :class:`RNNCellBase`.

    Shapes
    ------
    input ``(B, I)`` or ``(I,)``, hx ``(B, H)`` or ``(H,)`` (zeros when omitted) → ``h'`` of
    the same batchedness, ``(B, H)`` or ``(H,)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
        *,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype, generator=generator)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """The next hidden state; see the class docstring for shapes."""
        x, state, batched = self.prepare(input, hx, 1)
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        (h,) = self.step(x, state, UPDATES["RNN_" + self.nonlinearity.upper()])
        return h if batched else F.squeeze(h, 0)


class LSTMCell(RNNCellBase):
    """A long short-term memory cell; gates i, f, g, o stacked in that order in the weights.

    Parameters
    ----------
    input_size, hidden_size : int
        Features of the input and of the hidden and cell states.
    bias : bool
        Learn ``bias_ih`` and ``bias_hh`` (True by default).
    device, dtype, generator
        As :class:`RNNCellBase`.

    Shapes
    ------
    input ``(B, I)`` or ``(I,)``, hx ``(h, c)`` each ``(B, H)`` or ``(H,)`` (zeros when
    omitted) → ``(h', c')`` of the same shapes.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype, generator=generator)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        """The next ``(h, c)``; see the class docstring for shapes."""
        x, state, batched = self.prepare(input, hx, 2)
        h, c = self.step(x, state, lstm_update)
        return (h, c) if batched else (F.squeeze(h, 0), F.squeeze(c, 0))


class GRUCell(RNNCellBase):
    """A gated recurrent unit cell; gates r, z, n stacked in that order in the weights.

    ``n = tanh(x W_inᵀ + b_in + r · (h W_hnᵀ + b_hn))`` as PyTorch (the reset gate scales
    the hidden projection including its bias), ``h' = (1 − z) n + z h``.

    Parameters
    ----------
    input_size, hidden_size : int
        Features of the input and of the hidden state.
    bias : bool
        Learn ``bias_ih`` and ``bias_hh`` (True by default).
    device, dtype, generator
        As :class:`RNNCellBase`.

    Shapes
    ------
    input ``(B, I)`` or ``(I,)``, hx ``(B, H)`` or ``(H,)`` (zeros when omitted) → ``h'``
    ``(B, H)`` or ``(H,)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype, generator=generator)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """The next hidden state; see the class docstring for shapes."""
        x, state, batched = self.prepare(input, hx, 1)
        (h,) = self.step(x, state, gru_update)
        return h if batched else F.squeeze(h, 0)
