"""Weight initialization, as ``torch.nn.init``: each function fills a tensor in place.

Every function takes a Tensor (or Parameter, or a float ndarray), overwrites its values without
recording anything in the graph (as PyTorch's, which run under ``no_grad``), counts the write in
the tensor's version as any in-place write is counted, and returns it. Random ones draw from
``generator`` (a NumPy Generator or an int seed, turned into a Generator by
:func:`chainrule.random.resolve_generator`), by default chainrule's global generator, so
``chainrule.manual_seed(n)`` makes an initialization reproducible. Values are drawn in float64
and stored in the tensor's dtype.

Fans and gains follow PyTorch: for a weight of shape ``(out, in, *kernel)``,
``fan_in = in·∏kernel`` and ``fan_out = out·∏kernel``.
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd import inplace
from chainrule.ops.erf import erf_values, erfinv_values
from chainrule.random import GeneratorLike, resolve_generator

T = TypeVar("T", Tensor, np.ndarray)

_LINEAR = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)
_SQRT2 = math.sqrt(2.0)
_NONLINEARITIES = (*_LINEAR, "sigmoid", "tanh", "relu", "leaky_relu", "selu")


def _array(tensor: Tensor | np.ndarray) -> np.ndarray:
    array = tensor._data if isinstance(tensor, Tensor) else tensor
    if not isinstance(array, np.ndarray):
        raise TypeError(f"init functions fill a Tensor or ndarray; got {type(tensor).__name__}")
    if array.dtype.kind != "f":
        raise TypeError(f"init functions fill floating-point tensors; got {array.dtype}")
    return array


def _write(tensor: T, values: np.ndarray | float) -> T:
    """Store ``values`` in ``tensor``'s array and count the in-place write."""
    _array(tensor)[...] = values
    if isinstance(tensor, Tensor):
        inplace.bump(tensor)
    return tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale of weights feeding ``nonlinearity`` (PyTorch's table).

    Parameters
    ----------
    nonlinearity : str
        ``'linear'``, ``'conv1d'``… and ``'sigmoid'`` → 1; ``'tanh'`` → 5/3; ``'relu'`` → √2;
        ``'leaky_relu'`` → √(2/(1 + slope²)); ``'selu'`` → 3/4.
    param : float, optional
        The negative slope of ``'leaky_relu'`` (0.01 when omitted).

    Returns
    -------
    float
    """
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"Unsupported nonlinearity {nonlinearity}; expected one of {', '.join(_NONLINEARITIES)}"
    )


def calculate_fan_in_and_fan_out(tensor: Tensor | np.ndarray) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)`` (at least 2-D).

    Raises
    ------
    ValueError
        For tensors with fewer than 2 dimensions (a bias has no fan).
    """
    shape = _array(tensor).shape
    if len(shape) < 2:
        raise ValueError(
            "fan in and fan out can not be computed for a tensor with fewer than 2 dimensions; "
            f"got shape {shape}"
        )
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


#: PyTorch's (private) name, for code ported from it.
_calculate_fan_in_and_fan_out = calculate_fan_in_and_fan_out


def _fan(tensor: Tensor | np.ndarray, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: T, a: float = 0.0, b: float = 1.0, generator: GeneratorLike = None) -> T:
    """Fill with values drawn from U(a, b). Shape: any."""
    shape = _array(tensor).shape
    return _write(tensor, resolve_generator(generator).uniform(a, b, shape))


def normal_(tensor: T, mean: float = 0.0, std: float = 1.0, generator: GeneratorLike = None) -> T:
    """Fill with values drawn from N(mean, std²). Shape: any."""
    shape = _array(tensor).shape
    return _write(tensor, resolve_generator(generator).normal(mean, std, shape))


def constant_(tensor: T, val: float) -> T:
    """Fill with ``val``. Shape: any."""
    return _write(tensor, val)


def ones_(tensor: T) -> T:
    """Fill with 1. Shape: any."""
    return constant_(tensor, 1.0)


def zeros_(tensor: T) -> T:
    """Fill with 0. Shape: any."""
    return constant_(tensor, 0.0)


def xavier_uniform_(tensor: T, gain: float = 1.0, generator: GeneratorLike = None) -> T:
    """Glorot uniform: U(−a, a) with a = gain·√(6/(fan_in + fan_out)).

    Shape: ``(out, in, *kernel)``, at least 2-D.
    """
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    if fan_in + fan_out == 0:
        return tensor  # nothing to fill, and the bound would divide by zero
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: T, gain: float = 1.0, generator: GeneratorLike = None) -> T:
    """Glorot normal: N(0, std²) with std = gain·√(2/(fan_in + fan_out)).

    Shape: ``(out, in, *kernel)``, at least 2-D.
    """
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    if fan_in + fan_out == 0:
        return tensor
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor: Tensor | np.ndarray, a: float, mode: str, nonlinearity: str) -> float:
    fan = _fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: T,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: GeneratorLike = None,
) -> T:
    """He uniform: U(−b, b) with b = gain·√(3/fan), gain = ``calculate_gain(nonlinearity, a)``.

    Parameters
    ----------
    tensor : Tensor of shape ``(out, in, *kernel)``, at least 2-D
    a : float
        The negative slope of the leaky ReLU that follows (used by ``'leaky_relu'`` only).
        PyTorch's Linear default is ``a=√5``, which makes b = 1/√fan_in.
    mode : {'fan_in', 'fan_out'}
        Preserve the variance of activations (fan_in) or of gradients (fan_out).
    nonlinearity : str
        See :func:`calculate_gain`; ``'relu'`` or ``'leaky_relu'`` (the default) are usual.
    generator : numpy.random.Generator, int seed or None
    """
    if _array(tensor).size == 0:
        return tensor  # a zero-size weight has fan 0: nothing to fill
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: T,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: GeneratorLike = None,
) -> T:
    """He normal: N(0, std²) with std = gain/√fan; arguments as :func:`kaiming_uniform_`."""
    if _array(tensor).size == 0:
        return tensor
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def trunc_normal_(
    tensor: T,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: GeneratorLike = None,
) -> T:
    """Fill with N(mean, std²) truncated to ``[a, b]`` (absolute bounds, not in units of std).

    Drawn as PyTorch draws it, by the inverse CDF: u ~ U(Φ(α), Φ(β)) with α = (a − mean)/std,
    β = (b − mean)/std, then x = mean + std·√2·erfinv(2u − 1), clamped to ``[a, b]`` against
    round-off. Shape: any.
    """
    array = _array(tensor)
    if not a < b:
        raise ValueError(f"trunc_normal_: a must be less than b; got a={a}, b={b}")
    cdf = 0.5 * (
        1.0 + erf_values(np.array([a - mean, b - mean], dtype=np.float64) / (std * _SQRT2))
    )
    u = resolve_generator(generator).uniform(2 * cdf[0] - 1, 2 * cdf[1] - 1, array.shape)
    values = mean + std * _SQRT2 * erfinv_values(u)
    return _write(tensor, np.clip(values, a, b))


def orthogonal_(tensor: T, gain: float = 1.0, generator: GeneratorLike = None) -> T:
    """Fill with a (semi-)orthogonal matrix times ``gain`` (Saxe et al. 2013).

    The tensor is viewed as ``(rows, cols)`` with rows = ``shape[0]``; a Gaussian matrix is
    QR-factored and Q's columns are multiplied by the signs of R's diagonal, as PyTorch does, so
    that Q is uniformly (Haar) distributed. Rows are orthonormal when rows ≤ cols, columns
    otherwise. Shape: at least 2-D.
    """
    array = _array(tensor)
    if array.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if array.size == 0:
        return tensor  # nothing to fill
    rows = array.shape[0]
    cols = array.size // rows
    flat = resolve_generator(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    # sign(0) would zero a column; R's diagonal of a Gaussian matrix is 0 with probability 0.
    q *= np.where(np.diag(r) < 0, -1.0, 1.0)
    if rows < cols:
        q = q.T
    return _write(tensor, gain * q.reshape(array.shape))


def sparse_(tensor: T, sparsity: float, std: float = 0.01, generator: GeneratorLike = None) -> T:
    """Fill a 2-D tensor with N(0, std²) and zero ``ceil(sparsity·rows)`` entries per column,
    at random rows (Martens 2010). Shape: ``(rows, cols)``.
    """
    array = _array(tensor)
    if array.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    if not 0 <= sparsity <= 1:
        raise ValueError(f"sparsity must be in [0, 1]; got {sparsity}")
    rng = resolve_generator(generator)
    rows, cols = array.shape
    values = rng.normal(0.0, std, (rows, cols))
    zeros = math.ceil(sparsity * rows)
    for col in range(cols):
        values[rng.permutation(rows)[:zeros], col] = 0.0
    return _write(tensor, values)


def eye_(tensor: T) -> T:
    """Fill a 2-D tensor with the identity (ones on the main diagonal of a rectangle too).

    Shape: ``(rows, cols)``.
    """
    array = _array(tensor)
    if array.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _write(tensor, np.eye(*array.shape))


def dirac_(tensor: T, groups: int = 1) -> T:
    """Fill a convolution weight with the Dirac delta: the layer copies its input channels.

    For each of ``groups`` groups of ``out/groups`` output channels, output channel ``d`` of
    the group has a 1 at input channel ``d`` at the kernel's centre (for ``d < in``), all else
    0. Shape: ``(out, in, *kernel)`` with 1 to 3 kernel dimensions; ``out`` divisible by
    ``groups``.
    """
    array = _array(tensor)
    if array.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    if groups < 1 or array.shape[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = array.shape[0] // groups
    values = np.zeros(array.shape)
    centre = tuple(k // 2 for k in array.shape[2:])
    for g in range(groups):
        for d in range(min(per_group, array.shape[1])):
            values[(g * per_group + d, d, *centre)] = 1.0
    return _write(tensor, values)


__all__ = [
    "calculate_fan_in_and_fan_out",
    "calculate_gain",
    "constant_",
    "dirac_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "sparse_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]
