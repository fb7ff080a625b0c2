"""Named tuples that ops with two results return, as ``torch.return_types`` does.

``values, indices = x.max(dim=1)`` and ``x.max(dim=1).indices`` both work; ``indices`` is an
int64 tensor (never differentiable), ``values`` carries the gradient.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["cummax", "cummin", "kthvalue", "max", "median", "min", "mode", "sort", "topk"]


class max(NamedTuple):  # noqa: A001 - the name PyTorch gives this result type
    """Result of ``max(input, dim)``: the largest values and where they are."""

    values: Any
    indices: Any


class min(NamedTuple):  # noqa: A001
    """Result of ``min(input, dim)``: the smallest values and where they are."""

    values: Any
    indices: Any


class sort(NamedTuple):
    """Result of ``sort(input, dim)``: sorted values and their original positions."""

    values: Any
    indices: Any


class topk(NamedTuple):
    """Result of ``topk(input, k, dim)``: the k largest (or smallest) values and positions."""

    values: Any
    indices: Any


class kthvalue(NamedTuple):
    """Result of ``kthvalue(input, k, dim)``: the k-th smallest value and its position."""

    values: Any
    indices: Any


class median(NamedTuple):
    """Result of ``median(input, dim)``: the lower median and its position."""

    values: Any
    indices: Any


class mode(NamedTuple):
    """Result of ``mode(input, dim)``: the most frequent value and a position of it."""

    values: Any
    indices: Any


class cummax(NamedTuple):
    """Result of ``cummax(input, dim)``: running maxima and where each was reached."""

    values: Any
    indices: Any


class cummin(NamedTuple):
    """Result of ``cummin(input, dim)``: running minima and where each was reached."""

    values: Any
    indices: Any
