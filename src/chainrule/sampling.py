"""Random tensors under PyTorch's names: ``rand``, ``randn``, ``randint``, ``randperm``, ``normal``,
``bernoulli``, ``multinomial`` and the ``*_like`` forms.

Each draws from ``generator=`` (a :class:`chainrule.Generator`, a NumPy Generator or an int
seed, through :func:`chainrule.random.resolve_generator`) or else from the global generator
that :func:`chainrule.manual_seed` reseeds. Shapes, dtypes, ranges and seeded reproducibility
are PyTorch's; the numbers themselves are NumPy's streams, not PyTorch's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import dtypes
from chainrule._tensor import Tensor
from chainrule.creation import Size, float_dtype, leaf, like, prepare, shape_of
from chainrule.devices import DeviceLike, check_cpu
from chainrule.random import GeneratorLike, resolve_generator


def _uniform(rng: np.random.Generator, shape: tuple[int, ...], d: np.dtype) -> np.ndarray:
    # NumPy draws float32 and float64 natively; float16 is drawn as float32 and rounded.
    native = d if d in (dtypes.float32, dtypes.float64) else dtypes.float32
    return rng.random(shape, dtype=native).astype(d, copy=False)


def _standard_normal(rng: np.random.Generator, shape: tuple[int, ...], d: np.dtype) -> np.ndarray:
    native = d if d in (dtypes.float32, dtypes.float64) else dtypes.float32
    return rng.standard_normal(shape, dtype=native).astype(d, copy=False)


def rand(
    *size: Size,
    generator: GeneratorLike = None,
    out: Any = None,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
    **shape: Size,
) -> Tensor:
    """Uniform samples from ``[0, 1)`` of shape ``size`` (``size=`` also accepted)."""
    prepare("rand", out, device)
    dims = shape_of(size, _size_kw(shape, "rand"), "rand")
    d = float_dtype(dtype, "rand")
    return leaf(_uniform(resolve_generator(generator), dims, d), requires_grad)


def randn(
    *size: Size,
    generator: GeneratorLike = None,
    out: Any = None,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
    **shape: Size,
) -> Tensor:
    """Standard normal samples (mean 0, std 1) of shape ``size``."""
    prepare("randn", out, device)
    dims = shape_of(size, _size_kw(shape, "randn"), "randn")
    d = float_dtype(dtype, "randn")
    return leaf(_standard_normal(resolve_generator(generator), dims, d), requires_grad)


def _size_kw(extra: dict[str, Any], name: str) -> Size | None:
    unknown = set(extra) - {"size"}
    if unknown:
        raise TypeError(f"{name}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    return extra.get("size")


def _integers(
    rng: np.random.Generator, low: int, high: int, shape: tuple[int, ...], d: np.dtype
) -> np.ndarray:
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    return rng.integers(low, high, shape, dtype=np.int64).astype(d, copy=False)


def randint(
    *args: Any,
    size: Size | None = None,
    generator: GeneratorLike = None,
    out: Any = None,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
    low: int | None = None,
    high: int | None = None,
) -> Tensor:
    """Integers drawn uniformly from ``[low, high)``: ``randint(high, size)`` or
    ``randint(low, high, size)``. int64 unless ``dtype`` says otherwise."""
    prepare("randint", out, device)
    given = [a for a in (low, high) if a is not None]
    values = list(args) + given + ([] if size is None else [size])
    if len(values) == 2:
        values.insert(0, 0)
    if len(values) != 3:
        raise TypeError(
            "randint() takes (high, size) or (low, high, size); got "
            f"{len(args)} positional argument(s)"
        )
    lo, hi, dims = values
    d = dtypes.resolve_dtype(dtype, dtypes.int64)
    shape = shape_of((dims,), None, "randint")
    return leaf(_integers(resolve_generator(generator), int(lo), int(hi), shape, d), requires_grad)


def randperm(
    n: int,
    *,
    generator: GeneratorLike = None,
    out: Any = None,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
) -> Tensor:
    """A random permutation of ``0 … n-1`` (int64 unless ``dtype``)."""
    prepare("randperm", out, device)
    (count,) = shape_of((n,), None, "randperm")
    d = dtypes.resolve_dtype(dtype, dtypes.int64)
    return leaf(resolve_generator(generator).permutation(count).astype(d), requires_grad)


def _array(value: Any) -> np.ndarray | None:
    """The array of a tensor or ndarray argument, or None for a Python number."""
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, np.ndarray):
        return value
    return None


def normal(
    mean: Any = 0.0,
    std: Any = 1.0,
    size: Size | None = None,
    *,
    generator: GeneratorLike = None,
    out: Any = None,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
) -> Tensor:
    """Normal samples with ``mean`` and ``std``: tensors (broadcast against each other; the
    result has their shape and float dtype) or numbers with ``size``."""
    prepare("normal", out, device)
    m, s = _array(mean), _array(std)
    if m is None and s is None:
        if size is None:
            raise TypeError("normal() with a number mean and std needs size=")
        shape, d = shape_of((size,), None, "normal"), float_dtype(dtype, "normal")
    else:
        if size is not None:
            raise TypeError("normal(): size= goes with number mean and std, not tensors")
        arrays = [a for a in (m, s) if a is not None]
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        d = float_dtype(dtype if dtype is not None else arrays[0].dtype, "normal")
    std_values = np.asarray(std._data if isinstance(std, Tensor) else std)
    if std_values.size and std_values.min() < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std_values.min()}")
    z = _standard_normal(resolve_generator(generator), shape, d)
    mean_values = np.asarray(mean._data if isinstance(mean, Tensor) else mean)
    return leaf((mean_values + std_values * z).astype(d, copy=False), requires_grad)


def bernoulli(
    input: Any,  # noqa: A002
    p: float | None = None,
    *,
    generator: GeneratorLike = None,
    out: Any = None,
) -> Tensor:
    """1 with probability ``input`` (elementwise; or ``p`` everywhere if given), else 0, in
    ``input``'s shape and dtype."""
    prepare("bernoulli", out, None)
    array = input._data if isinstance(input, Tensor) else np.asarray(input)
    probability = array if p is None else np.asarray(p, dtype=np.float64)
    if probability.size and not (probability.min() >= 0 and probability.max() <= 1):
        raise RuntimeError("bernoulli(): probabilities must be in [0, 1]")
    u = resolve_generator(generator).random(array.shape)
    return leaf((u < probability).astype(array.dtype), False)


def _weights(array: np.ndarray, num_samples: int, replacement: bool) -> np.ndarray:
    """The rows of weights (2-D), after PyTorch's checks."""
    if array.ndim not in (1, 2):
        raise RuntimeError(f"multinomial(): prob_dist must be 1 or 2 dim; got {array.ndim}")
    if array.dtype.kind != "f":
        raise TypeError(f"multinomial() needs floating-point weights; got {array.dtype}")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial(): cannot sample n_sample <= 0 samples; got {num_samples}")
    rows = array.reshape(-1, array.shape[-1]).astype(np.float64)
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError(
            f"multinomial(): cannot sample n_sample > prob_dist.size(-1) samples without "
            f"replacement ({num_samples} > {rows.shape[1]})"
        )
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError("multinomial(): probability tensor contains either inf, nan or < 0")
    if (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("multinomial(): invalid distribution (sum of probabilities <= 0)")
    return rows


def multinomial(
    input: Any,  # noqa: A002
    num_samples: int,
    replacement: bool = False,
    *,
    generator: GeneratorLike = None,
    out: Any = None,
) -> Tensor:
    """Category indices (int64) drawn with probabilities proportional to ``input``'s rows:
    shape ``(num_samples,)`` for 1-D weights, ``(rows, num_samples)`` for 2-D."""
    prepare("multinomial", out, None)
    array = input._data if isinstance(input, Tensor) else np.asarray(input)
    rows = _weights(array, num_samples, replacement)
    rng = resolve_generator(generator)
    if replacement:
        cumulative = np.cumsum(rows, axis=1)
        u = rng.random((rows.shape[0], num_samples)) * cumulative[:, -1:]
        picks = np.stack([np.searchsorted(c, r, side="right") for c, r in zip(cumulative, u)])
    else:
        # Without replacement: the largest weight / Exponential(1) keys win, which is drawing
        # one category after another in proportion to the weights left (zero weights last).
        keys = rows / rng.exponential(size=rows.shape)
        picks = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    picks = np.minimum(picks, rows.shape[1] - 1).astype(np.int64)
    return leaf(picks.reshape(array.shape[:-1] + (num_samples,)), False)


# ----- *_like ------------------------------------------------------------------------------------
def rand_like(
    input: Any,  # noqa: A002
    *,
    generator: GeneratorLike = None,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """Uniform ``[0, 1)`` samples of ``input``'s shape and (unless ``dtype``) float dtype."""
    check_cpu(device, "chainrule.rand_like")
    shape, d = like(input, dtype)
    d = float_dtype(d, "rand_like")
    return leaf(_uniform(resolve_generator(generator), shape, d), requires_grad)


def randn_like(
    input: Any,  # noqa: A002
    *,
    generator: GeneratorLike = None,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """Standard normal samples of ``input``'s shape and (unless ``dtype``) float dtype."""
    check_cpu(device, "chainrule.randn_like")
    shape, d = like(input, dtype)
    d = float_dtype(d, "randn_like")
    return leaf(_standard_normal(resolve_generator(generator), shape, d), requires_grad)


def randint_like(
    input: Any,  # noqa: A002
    low: int,
    high: int | None = None,
    *,
    generator: GeneratorLike = None,
    dtype: Any = None,
    device: DeviceLike = None,
    requires_grad: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """Integers from ``[low, high)`` (``randint_like(x, high)`` means low 0) in ``input``'s shape
    and (unless ``dtype``) dtype."""
    check_cpu(device, "chainrule.randint_like")
    if high is None:
        low, high = 0, low
    shape, d = like(input, dtype)
    array = _integers(resolve_generator(generator), int(low), int(high), shape, d)
    return leaf(array, requires_grad)
