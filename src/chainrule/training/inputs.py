"""What ``fit``, ``evaluate`` and ``predict`` accept as data: :func:`as_loader` turns a Dataset,
a DataLoader or an ``(X, y)`` pair into a DataLoader, :func:`check_arrays` refuses arrays that
cannot be trained on, and :func:`split_validation` is Keras's ``validation_split``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.data import DataLoader, Dataset, Subset, TensorDataset

__all__ = ["as_loader", "check_arrays", "split_validation"]


def as_loader(
    data: Any,
    batch_size: int,
    shuffle: bool,
    name: str = "train",
    generator: Any = None,
    drop_last: bool = False,
) -> DataLoader:
    """``data`` as a DataLoader: a DataLoader is used as is, a Dataset is batched, and an
    ``(X, y)`` pair of arrays is checked (same length, finite, not empty) and wrapped."""
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
    if isinstance(data, DataLoader):
        if drop_last and not data.drop_last:
            raise ValueError(
                f"drop_last=True, but the {name} data is a DataLoader built with "
                "drop_last=False: build it with DataLoader(..., drop_last=True) instead"
            )
        return data
    options = {"shuffle": shuffle, "generator": generator, "drop_last": drop_last}
    if isinstance(data, Dataset):
        return DataLoader(data, batch_size=batch_size, **options)
    if isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = _arrays(data)
        check_arrays(x, y, name)
        return DataLoader(TensorDataset(x, y), batch_size=batch_size, **options)
    raise TypeError(
        f"{name} data must be a Dataset, a DataLoader or an (X, y) pair of arrays; "
        f"got {type(data).__name__}"
    )


def _arrays(pair: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    x, y = (np.asarray(a._data if isinstance(a, Tensor) else a) for a in pair)
    return x, y


def check_arrays(x: np.ndarray, y: np.ndarray, name: str = "train") -> None:
    """Refuse inputs and targets that cannot be trained on, saying what is wrong."""
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"{name} data: X and y must have a first (sample) axis")
    if len(x) != len(y):
        raise ValueError(f"{name} data: X has {len(x)} rows but y has {len(y)}; they must match")
    if len(x) == 0:
        raise ValueError(f"{name} data is empty: X and y have no rows")
    for label, array in (("X", x), ("y", y)):
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{name} data: {label} must be numeric; got dtype {array.dtype}")
        if array.dtype.kind == "f":
            bad_rows = int((~np.isfinite(array.reshape(len(array), -1))).any(axis=1).sum())
            if bad_rows:
                raise ValueError(
                    f"{name} data: {bad_rows} of {len(array)} rows of {label} contain NaN or "
                    "inf; drop or impute them before training"
                )


def split_validation(data: Any, fraction: float) -> tuple[Any, Any]:
    """Keras's ``validation_split``: the last ``fraction`` of the samples, as given (before any
    shuffling), are held out. Returns ``(train, validation)`` of the kind of ``data``.

    ``data`` is an ``(X, y)`` pair (arrays of ``n`` rows: the first ``floor(n·(1 − fraction))``
    train) or a Dataset (two :class:`~chainrule.data.Subset`). The split draws no random
    numbers, so it is the same whatever the seed; shuffle data that is sorted (by class, by
    time) before, or the validation rows are not like the training rows.
    """
    if not isinstance(fraction, Real) or isinstance(fraction, bool) or not 0 < fraction < 1:
        raise ValueError(f"validation_split must be a number in (0, 1); got {fraction!r}")
    if isinstance(data, DataLoader) or not isinstance(data, (Dataset, tuple, list)):
        raise TypeError(
            "validation_split needs the training data as an (X, y) pair of arrays or a Dataset; "
            f"got {type(data).__name__}. Pass validation=... yourself (e.g. from "
            "chainrule.data.random_split) when you build the DataLoader"
        )
    if isinstance(data, Dataset):
        n = len(data)
    else:
        x, y = _arrays(data)
        check_arrays(x, y, "train")
        n = len(x)
    cut = math.floor(n * (1 - fraction))
    if cut < 1 or cut == n:
        raise ValueError(
            f"validation_split={fraction} of {n} samples leaves {cut} for training and "
            f"{n - cut} for validation; each needs at least one"
        )
    if isinstance(data, Dataset):
        return Subset(data, np.arange(cut)), Subset(data, np.arange(cut, n))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])
