"""Resampling: ``interpolate`` (nearest, nearest-exact, linear, bilinear, bicubic, trilinear,
area) and the sub-pixel rearrangements ``pixel_shuffle`` / ``pixel_unshuffle``.

Interpolation is separable, so it runs one spatial axis at a time, each output sample being a
fixed weighted sum of a few input samples along that axis: a gather (``index_select``) of each
tap, times its weight, summed. The backward pass is then the adjoint of the forward (a
scatter-add of the same weights), inherited from the gather and the products rather than
written again. Which input samples and weights each output takes is PyTorch's rule
(``area_pixel_compute_source_index`` and friends), including how ``scale_factor`` enters it,
so the values agree with PyTorch's to rounding.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.ops._common import as_float
from chainrule.ops.pooling_adaptive import adaptive_avg_pool2d
from chainrule.ops.selection import index_select
from chainrule.ops.shape import permute, reshape

_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
# Keys's cubic convolution parameter, PyTorch's (and OpenCV's) choice.
_CUBIC_A = -0.75


def _per_axis(value: Any, dim: int, input: Tensor, what: str) -> list | None:
    """``size`` or ``scale_factor`` as one entry per spatial axis (a scalar is repeated)."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        return [value] * dim
    if len(value) != dim:
        spatial = list(input.shape[2:])
        if what == "size":
            got, form = f"output size of {value}", "output size in (o1, o2, ...,oK)"
            head = "Input and output"
        else:
            got, form = f"scale_factor of shape {value}", "scale_factor in (s1, s2, ...,sK)"
            head = "Input and scale_factor"
        raise ValueError(
            f"{head} must have the same number of spatial dimensions, but got input with "
            f"spatial dimensions of {spatial} and {got}. Please provide input tensor in "
            f"(N, C, d1, d2, ...,dK) format and {form} format."
        )
    return list(value)


def _sizes_and_scales(input, size, scale_factor, recompute) -> tuple[list[int], list | None]:
    """The output size of each spatial axis, and the scale factors the index rule uses (None:
    derive them from the sizes), as PyTorch's ``interpolate`` settles them."""
    dim = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if recompute and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    sizes = _per_axis(size, dim, input, "size")
    if sizes is not None:
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes):
            raise TypeError(
                "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                f"Tuple[int, int, int], but got size with types {[type(s) for s in sizes]}"
            )
        return [int(s) for s in sizes], None
    scales = [float(s) for s in _per_axis(scale_factor, dim, input, "scale_factor")]
    out = [math.floor(n * s) for n, s in zip(input.shape[2:], scales, strict=True)]
    return out, (None if recompute else scales)


def _ratio(n_in: int, n_out: int, scale: float | None, align: bool, kind: type) -> Any:
    """Input samples per output sample: PyTorch's ``area_pixel_compute_scale``."""
    if align:
        return kind(n_in - 1) / kind(n_out - 1) if n_out > 1 else kind(0)
    if scale is not None and scale > 0:
        return kind(1.0 / scale)
    return kind(n_in) / kind(n_out)


def _nearest_taps(n_in: int, n_out: int, scale: float | None, exact: bool, shortcuts: bool):
    """One tap per output sample; the index arithmetic is float32, as PyTorch's kernel.
    ``shortcuts``: whatever the scale factor, an axis whose size does not change is copied and
    one whose size doubles repeats each sample twice (PyTorch's 2-D nearest kernel does so, e.g.
    2 → 4 samples with scale_factor 2.3 takes 0, 0, 1, 1 where the rule gives 0, 0, 0, 1; its
    1-D and 3-D forward kernels apply the rule)."""
    dst = np.arange(n_out)
    if shortcuts and n_out == n_in:
        return [(dst, None)]
    if shortcuts and n_out == 2 * n_in:
        return [(dst // 2, None)]
    r = _ratio(n_in, n_out, scale, False, np.float32)
    if exact:
        src = np.floor(((dst + 0.5) * np.float64(r)).astype(np.float32))
    else:
        src = np.floor(dst.astype(np.float32) * r)
    return [(np.minimum(src.astype(np.int64), n_in - 1), None)]


def _source(n_in, n_out, scale, align, kind, cubic):
    """Real-valued source positions, split into ``floor`` index and fraction as PyTorch's
    ``guard_index_and_lambda`` does (fraction clamped to [0, 1])."""
    r = _ratio(n_in, n_out, scale, align, kind)
    dst = np.arange(n_out).astype(kind)
    real = r * dst if align else r * (dst + kind(0.5)) - kind(0.5)
    if not align and not cubic:
        real = np.maximum(real, kind(0))
    index = np.minimum(np.floor(real).astype(np.int64), n_in - 1)
    fraction = np.clip(real - index.astype(kind), 0, 1).astype(kind)
    return index, fraction


def _linear_taps(n_in, n_out, scale, align, kind):
    if n_out == n_in:
        return [(np.arange(n_out), None)]
    i0, w1 = _source(n_in, n_out, scale, align, kind, cubic=False)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return [(i0, kind(1) - w1), (i1, w1)]


def _cubic_taps(n_in, n_out, scale, align, kind):
    i, t = _source(n_in, n_out, scale, align, kind, cubic=True)
    a = kind(_CUBIC_A)

    def near(x):  # |x| ≤ 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    weights = [far(t + 1), near(t), near(1 - t), far(2 - t)]
    return [(np.clip(i + k - 1, 0, n_in - 1), w) for k, w in enumerate(weights)]


def _resample_axis(x: Tensor, axis: int, taps) -> Tensor:
    """Σₖ wₖ · x gathered at indexₖ along ``axis`` (a plain gather for a single unweighted tap)."""
    out = None
    trailing = (1,) * (x.ndim - axis - 1)
    for index, weight in taps:
        term = index_select(x, axis, index)
        if weight is not None:
            term = term * weight.astype(x.dtype).reshape(weight.shape + trailing)
        out = term if out is None else out + term
    return out


def _check_mode(x: Tensor, mode: str, align_corners: bool | None, antialias: bool) -> None:
    if mode not in _MODES:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {x.ndim}D) for the "
            f"modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
            f"(got {mode})"
        )
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: linear | "
            "bilinear | bicubic | trilinear"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported in chainrule")
    if x.ndim not in (3, 4, 5):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {x.ndim}D) for the "
            f"modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
            f"(got {mode})"
        )
    if mode == "area" and x.ndim != 4:
        raise NotImplementedError(
            f"interpolate: mode='area' supports 4-D input only in chainrule; got {x.ndim}D"
        )
    need = _LINEAR.get(mode, 4 if mode == "bicubic" else x.ndim)
    if need != x.ndim:
        raise NotImplementedError(f"Got {x.ndim}D input, but {mode} mode needs {need}D input")


def interpolate(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resample the spatial axes of ``input`` to ``size``, or by ``scale_factor``.

    Parameters
    ----------
    input : Tensor
        ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
    size : int or sequence of int, optional
        The output's spatial size (one int for every axis, or one per axis).
    scale_factor : float or sequence of float, optional
        Multiplier of each spatial size (the output size is floor(size·factor)). Unless
        ``recompute_scale_factor`` is True it also sets the sampling step, 1/factor, as in
        PyTorch. Give ``size`` or ``scale_factor``, not both.
    mode : str
        'nearest' (PyTorch's floor rule; on 4-D input an axis that keeps or doubles its size
        is copied or repeated whatever the factor, as PyTorch's 2-D kernel does),
        'nearest-exact' (pixel centres), 'linear' (3-D), 'bilinear' (4-D), 'bicubic' (4-D,
        a = −0.75, borders replicated), 'trilinear' (5-D), or 'area' (4-D, adaptive average
        pooling).
    align_corners : bool, optional
        For the interpolating modes: True maps the corner samples onto each other; False (the
        default) maps pixel centres with half-pixel offsets. Not allowed with the other modes.
    recompute_scale_factor : bool, optional
        True: compute the step from the output size instead of from ``scale_factor``.
    antialias : bool
        Not supported: True raises NotImplementedError.

    Returns
    -------
    Tensor
        ``(N, C, *size)``; gradients flow to ``input`` (the adjoint of the resampling; where
        PyTorch's nearest 1-D/3-D or bicubic backward takes a size shortcut its forward does
        not, under a non-matching scale factor, the gradients differ from PyTorch's).
    """
    x = as_float(input)
    _check_mode(x, mode, align_corners, antialias)
    sizes, scales = _sizes_and_scales(x, size, scale_factor, recompute_scale_factor)
    if any(n <= 0 for n in sizes) or any(n <= 0 for n in x.shape[2:]):
        raise RuntimeError(
            "Input and output sizes should be greater than 0, but got input "
            f"{tuple(x.shape[2:])} output {tuple(sizes)}"
        )
    if mode == "area":
        return adaptive_avg_pool2d(x, tuple(sizes))
    align = bool(align_corners)
    kind = x.dtype.type
    for k, n_out in enumerate(sizes):
        n_in, scale = x.shape[2 + k], None if scales is None else scales[k]
        if mode in ("nearest", "nearest-exact"):
            exact = mode == "nearest-exact"
            taps = _nearest_taps(n_in, n_out, scale, exact, not exact and x.ndim == 4)
        elif mode == "bicubic":
            taps = _cubic_taps(n_in, n_out, scale, align, kind)
        else:
            taps = _linear_taps(n_in, n_out, scale, align, kind)
        x = _resample_axis(x, 2 + k, taps)
    return x


def _deprecated(name: str) -> None:
    warnings.warn(
        f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=3,
    )


def upsample(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """PyTorch's deprecated name of :func:`interpolate` (with its deprecation warning)."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
) -> Tensor:
    """Deprecated: ``interpolate(..., mode='nearest')``, with PyTorch's warning."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
) -> Tensor:
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``, with PyTorch's
    warning. Shapes: ``(N, C, H, W)`` → ``(N, C, H_out, W_out)``."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def _check_factor(name: str, what: str, factor: int, x: Tensor) -> int:
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)):
        raise TypeError(f"{name}: {what} must be an int; got {type(factor).__name__}")
    if factor <= 0:
        raise RuntimeError(f"{name} expects a positive {what}, but got {factor}")
    if x.ndim < 3:
        raise RuntimeError(
            f"{name} expects input to have at least 3 dimensions, but got input with "
            f"{x.ndim} dimension(s)"
        )
    return int(factor)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Move channel blocks into space: ``(*, C·r², H, W) → (*, C, H·r, W·r)``, r the factor.

    Output ``[c, h·r + i, w·r + j]`` is input ``[c·r² + i·r + j, h, w]``, as in PyTorch.
    """
    x = as_float(input) if not isinstance(input, Tensor) else input
    r = _check_factor("pixel_shuffle", "upscale_factor", upscale_factor, x)
    *lead, c, h, w = x.shape
    if c % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    n = len(lead)
    blocks = reshape(x, (*lead, c // (r * r), r, r, h, w))
    order = (*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return reshape(permute(blocks, order), (*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """The inverse of :func:`pixel_shuffle`: ``(*, C, H·r, W·r) → (*, C·r², H, W)``."""
    x = as_float(input) if not isinstance(input, Tensor) else input
    r = _check_factor("pixel_unshuffle", "downscale_factor", downscale_factor, x)
    *lead, c, h, w = x.shape
    for axis, (label, size) in enumerate((("height", h), ("width", w))):
        if size % r:
            raise RuntimeError(
                f"pixel_unshuffle expects {label} to be divisible by downscale_factor, but "
                f"input.size({axis - 2})={size} is not divisible by {r}"
            )
    n = len(lead)
    blocks = reshape(x, (*lead, c, h // r, r, w // r, r))
    order = (*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return reshape(permute(blocks, order), (*lead, c * r * r, h // r, w // r))
