"""Multi-layer recurrent networks: ``RNN``, ``LSTM`` and ``GRU``, with PyTorch's parameters.

The modules own the parameters and check the arguments; every input — padded or a
:class:`~chainrule.nn.utils.rnn.PackedSequence` — is then run in the packed layout by
:func:`chainrule.nn.rnn_unroll.recurrent_layers`. A sequence that has ended keeps its state,
so the final states are each sequence's state at its own last step, as PyTorch's.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from chainrule import devices
from chainrule import functional as F
from chainrule._tensor import Tensor, as_tensor
from chainrule.nn import init
from chainrule.nn.linear import float_dtype
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.nn.rnn_cells import State, check_positive_size
from chainrule.nn.rnn_unroll import Weights, recurrent_layers
from chainrule.nn.utils.rnn import PackedSequence
from chainrule.random import GeneratorLike, resolve_generator

__all__ = ["GRU", "LSTM", "RNN", "RNNBase"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _check_dropout(dropout: Any, num_layers: int) -> float:
    if (
        isinstance(dropout, bool)
        or not isinstance(dropout, numbers.Number)
        or not 0 <= dropout <= 1  # type: ignore[operator]
    ):
        raise ValueError(
            "dropout should be a number in range [0, 1] representing the probability of an "
            "element being zeroed"
        )
    if dropout > 0 and num_layers == 1:  # type: ignore[operator]
        warnings.warn(
            "dropout option adds dropout after all but last recurrent layer, so non-zero "
            f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
            f"num_layers={num_layers}",
            UserWarning,
            stacklevel=4,
        )
    return float(dropout)  # type: ignore[arg-type]


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} should be of type bool, got: {type(value).__name__}")
    return value


def _check_proj_size(proj_size: Any, hidden_size: int) -> int:
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")
    return int(proj_size)


class RNNBase(Module):
    """The base of :class:`RNN`, :class:`LSTM` and :class:`GRU`: parameters, checks, forward.

    Parameters
    ----------
    mode : {'RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU'}
        The cell.
    input_size : int
        Features of each input step.
    hidden_size : int
        Features of the hidden state.
    num_layers : int
        Stacked layers; layer k > 0 reads layer k − 1's outputs. 1 by default.
    bias : bool
        Learn ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (True by default).
    batch_first : bool
        Inputs and outputs ``(B, T, ·)`` instead of ``(T, B, ·)``; the states stay
        ``(layers · D, B, ·)``. False by default.
    dropout : float
        Dropout on the outputs of every layer except the last, in training mode only.
    bidirectional : bool
        Add a second direction per layer running from the last step to the first; its
        parameters have the suffix ``_reverse``; outputs are both directions concatenated.
    proj_size : int
        LSTM only: project h to this size with ``weight_hr_l{k}`` (0, the default: none).
    device : str or device, optional
        Only the CPU (or None).
    dtype : dtype, optional
        float32 or float64; the default float dtype when omitted. Inputs and states are
        computed in this dtype.
    generator : numpy.random.Generator, int seed or None
        Keyword-only (chainrule's addition); draws the initial values.

    Attributes
    ----------
    weight_ih_l{k}{suffix} : Parameter of shape (G·H, I) for k = 0, (G·H, D·P) after
        G gates (1, 4 for LSTM, 3 for GRU) stacked in PyTorch's order; P = proj_size or H.
    weight_hh_l{k}{suffix} : Parameter of shape (G·H, P)
    bias_ih_l{k}{suffix}, bias_hh_l{k}{suffix} : Parameter of shape (G·H,)
    weight_hr_l{k}{suffix} : Parameter of shape (P, H), when proj_size > 0
        Registered in PyTorch's order (layer, then direction); all drawn from
        U(−1/√H, 1/√H).
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__()
        devices.check_cpu(device, f"nn.{type(self).__name__}")
        self.dropout = _check_dropout(dropout, num_layers)
        self.bias = _check_flag("bias", bias)
        self.batch_first = _check_flag("batch_first", batch_first)
        self.input_size = check_positive_size("input_size", input_size)
        self.hidden_size = check_positive_size("hidden_size", hidden_size)
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        self.num_layers = int(num_layers)
        self.proj_size = _check_proj_size(proj_size, self.hidden_size)
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + str(mode))
        if self.proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.bidirectional = bool(bidirectional)
        self._all_weights: list[list[str]] = []
        self._register_weights(float_dtype(dtype))
        self.reset_parameters(generator)

    def _register_weights(self, d: np.dtype) -> None:
        gates = _GATES[self.mode] * self.hidden_size
        real = self.proj_size or self.hidden_size
        directions = 2 if self.bidirectional else 1
        for layer in range(self.num_layers):
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                width = self.input_size if layer == 0 else real * directions
                shapes = {"weight_ih": (gates, width), "weight_hh": (gates, real)}
                if self.bias:
                    shapes.update(bias_ih=(gates,), bias_hh=(gates,))
                if self.proj_size:
                    shapes["weight_hr"] = (self.proj_size, self.hidden_size)
                for name, shape in shapes.items():
                    setattr(self, name + suffix, Parameter(np.empty(shape, dtype=d)))
                self._all_weights.append([name + suffix for name in shapes])

    def reset_parameters(self, generator: GeneratorLike = None) -> None:
        """Redraw every parameter from U(−1/√hidden_size, 1/√hidden_size), in order."""
        generator = resolve_generator(generator)
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound, generator)

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters, one list per layer and direction, in registration order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    @property
    def _flat_weights(self) -> list[Parameter]:
        # PyTorch code reads rnn._flat_weights (e.g. its dtype) though the name is private.
        return [w for ws in self.all_weights for w in ws]

    def flatten_parameters(self) -> None:
        """Nothing to do: PyTorch packs the weights into one buffer for cuDNN; there is none."""

    def _layer_weights(self) -> list[Weights]:
        """(w_ih, w_hh, b_ih, b_hh, w_hr) per layer and direction, None where absent."""
        kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        out = []
        for names in self._all_weights:
            by_kind = {n.split("_l")[0]: getattr(self, n) for n in names}
            out.append(tuple(by_kind.get(k) for k in kinds))
        return out  # type: ignore[return-value]

    def _state_shapes(self, batch: int) -> list[tuple[int, int, int]]:
        layers = self.num_layers * (2 if self.bidirectional else 1)
        shapes = [(layers, batch, self.proj_size or self.hidden_size)]
        if self.mode == "LSTM":
            shapes.append((layers, batch, self.hidden_size))
        return shapes

    def _as_input(self, input: Any) -> tuple[Tensor, list[int], bool, int]:
        """Padded input as packed data: (data (T·B, I), batch sizes, batched, T)."""
        name = "RNN" if self.mode.startswith("RNN") else self.mode
        x = as_tensor(input)
        if x.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {x.ndim}D tensor instead")
        batched = x.ndim == 3
        if not batched:
            x = F.unsqueeze(x, 1)
        elif self.batch_first:
            x = F.transpose(x, 0, 1)
        steps, batch = x.shape[0], x.shape[1]
        self._check_features(x)
        if steps == 0 or batch == 0:
            raise ValueError(f"{name}: the input has no time steps or no sequences: {x.shape}")
        return F.reshape(x, (steps * batch, x.shape[2])), [batch] * steps, batched, steps

    def _check_features(self, x: Tensor) -> None:
        if x.shape[-1] != self.input_size:
            raise RuntimeError(
                "input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {x.shape[-1]}"
            )

    def _initial_states(self, hx: Any, batch: int, batched: bool, dtype: np.dtype) -> State:
        shapes = self._state_shapes(batch)
        if hx is None:
            return tuple(as_tensor(np.zeros(s, dtype=dtype)) for s in shapes)
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTM expects hx as a tuple (h_0, c_0) of two tensors")
            states = tuple(as_tensor(h) for h in hx)
        else:
            states = (as_tensor(hx),)
        self._check_state_dims(states, batched)
        if not batched:
            states = tuple(F.unsqueeze(h, 1) for h in states)
        for k, (h, shape) in enumerate(zip(states, shapes)):
            if tuple(h.shape) != shape:
                label = "hidden" if len(shapes) == 1 else f"hidden[{k}]"
                raise RuntimeError(f"Expected {label} size {shape}, got {list(h.shape)}")
        return tuple(F.cast(h, dtype) for h in states)

    def _check_state_dims(self, states: State, batched: bool) -> None:
        want, kind = (3, "batched 3-D") if batched else (2, "unbatched 2-D")
        if all(h.ndim == want for h in states):
            return
        if len(states) == 1:
            raise RuntimeError(
                f"For {kind} input, hx should also be {want}-D but got {states[0].ndim}-D tensor"
            )
        raise RuntimeError(
            f"For {kind} input, hx and cx should also be {want}-D but got "
            f"({states[0].ndim}-D, {states[1].ndim}-D) tensors"
        )

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple[Any, Any]:
        """Run the network over whole sequences.

        Parameters
        ----------
        input : Tensor of shape (T, B, I) ((B, T, I) when ``batch_first``), (T, I) unbatched,
            or a PackedSequence with ``data`` of shape (N, I)
        hx : Tensor of shape (layers · D, B, P) (``(layers · D, P)`` unbatched), optional
            For LSTM a pair ``(h_0, c_0)``, ``c_0`` of shape (layers · D, B, H). Zeros when
            omitted. With a PackedSequence, B is in the batch's original order.

        Returns
        -------
        output : Tensor of shape (T, B, D · P) (or as the input's layout), or a PackedSequence
            The last layer's hidden state at every step.
        h_n : Tensor of shape (layers · D, B, P), or ``(h_n, c_n)`` for LSTM
            Each sequence's final states, layer-major (l0, l0 reverse, l1, …).
        """
        dtype = self.weight_ih_l0.dtype
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx, dtype)
        data, sizes, batched, steps = self._as_input(input)
        states = self._initial_states(hx, sizes[0], batched, dtype)
        out, finals = self._run(F.cast(data, dtype), sizes, states)
        out = F.reshape(out, (steps, sizes[0], out.shape[1]))
        if not batched:
            out, finals = F.squeeze(out, 1), tuple(F.squeeze(h, 1) for h in finals)
        elif self.batch_first:
            out = F.transpose(out, 0, 1)
        return out, (finals if self.mode == "LSTM" else finals[0])

    def _forward_packed(self, input: PackedSequence, hx: Any, dtype: np.dtype) -> tuple[Any, Any]:
        data, batch_sizes, sorted_indices, unsorted_indices = input
        data = as_tensor(data)
        if data.ndim != 2:
            raise RuntimeError(f"input must have 2 dimensions, got {data.ndim}")
        self._check_features(data)
        sizes = [int(s) for s in np.asarray(batch_sizes, dtype=np.int64).reshape(-1)]
        states = self._initial_states(hx, sizes[0], True, dtype)
        if sorted_indices is not None:  # hx is in the caller's order; the rows are sorted
            order = np.asarray(sorted_indices, dtype=np.int64)
            states = tuple(h[:, order] for h in states)
        out, finals = self._run(F.cast(data, dtype), sizes, states)
        if unsorted_indices is not None:
            order = np.asarray(unsorted_indices, dtype=np.int64)
            finals = tuple(h[:, order] for h in finals)
        packed = PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices)
        return packed, (finals if self.mode == "LSTM" else finals[0])

    def _run(self, data: Tensor, sizes: list[int], states: State) -> tuple[Tensor, State]:
        return recurrent_layers(
            self.mode,
            data,
            sizes,
            states,
            self._layer_weights(),
            self.num_layers,
            self.bidirectional,
            self.dropout,
            self.training,
        )

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """A multi-layer Elman network: ``h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh)``.

    Parameters
    ----------
    input_size, hidden_size, num_layers
        As :class:`RNNBase`.
    nonlinearity : {'tanh', 'relu'}
        The activation; 'tanh' by default.
    bias, batch_first, dropout, bidirectional, device, dtype, generator
        As :class:`RNNBase`.

    Shapes
    ------
    See :meth:`RNNBase.forward`; returns ``(output, h_n)``, P = H.

    Examples
    --------
    >>> rnn = RNN(10, 20, 2)
    >>> output, h_n = rnn(chainrule.randn(5, 3, 10))
    >>> output.shape, h_n.shape
    ((5, 3, 20), (2, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: GeneratorLike = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode,
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            0,
            device,
            dtype,
            generator=generator,
        )
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """A multi-layer long short-term memory network, gates i, f, g, o (PyTorch's order).

    ``c_t = σ(f) c_{t−1} + σ(i) tanh(g)``, ``h_t = σ(o) tanh(c_t)``, projected by
    ``weight_hr_l{k}`` to ``proj_size`` features when that is > 0.

    Parameters
    ----------
    input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional
        As :class:`RNNBase`.
    proj_size : int
        Size of the projected hidden state (0, the default: no projection).
    device, dtype, generator
        As :class:`RNNBase`.

    Shapes
    ------
    See :meth:`RNNBase.forward`; returns ``(output, (h_n, c_n))``, P = proj_size or H.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
            generator=generator,
        )


class GRU(RNNBase):
    """A multi-layer gated recurrent unit network, gates r, z, n (PyTorch's order).

    ``n_t = tanh(x W_inᵀ + b_in + r · (h W_hnᵀ + b_hn))``, ``h_t = (1 − z) n_t + z h_{t−1}``.

    Parameters
    ----------
    input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device,
    dtype, generator
        As :class:`RNNBase`.

    Shapes
    ------
    See :meth:`RNNBase.forward`; returns ``(output, h_n)``, P = H.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: GeneratorLike = None,
    ) -> None:
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            0,
            device,
            dtype,
            generator=generator,
        )
