"""Metrics that ``fit`` and ``evaluate`` report next to the loss.

Each metric maps a batch's model output and target (NumPy arrays) to a sum over the batch, so
that epoch values are exact averages over samples whatever the batch sizes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Metric = Callable[[np.ndarray, np.ndarray], float]


def predicted_labels(output: np.ndarray, threshold: float) -> np.ndarray:
    """Class predictions: argmax of (N, C) scores; for one output per sample, output > threshold.

    Shapes: output (N, C) -> (N,); output (N,) or (N, 1) -> the same shape, as 0/1.
    """
    if output.ndim >= 2 and output.shape[1] > 1:
        return output.argmax(axis=1)
    return (output > threshold).astype(np.int64)


def make_accuracy(threshold: float) -> Metric:
    """Number of correct predictions in a batch; ``threshold`` splits single-output scores
    (0 for logits, 0.5 for probabilities)."""

    def accuracy(output: np.ndarray, target: np.ndarray) -> float:
        predicted = predicted_labels(output, threshold)
        if target.ndim == predicted.ndim + 1 and target.shape[-1] == output.shape[-1] > 1:
            target = target.argmax(axis=-1)  # class probabilities or one-hot targets
        return float(np.count_nonzero(predicted == target.reshape(predicted.shape)))

    return accuracy


def mae(output: np.ndarray, target: np.ndarray) -> float:
    """Sum of absolute errors in a batch, divided by outputs per sample (mean per sample)."""
    per_sample = output.size // max(len(output), 1)
    return float(np.abs(output - target.reshape(output.shape)).sum() / per_sample)


def mse(output: np.ndarray, target: np.ndarray) -> float:
    """Sum of squared errors in a batch, divided by outputs per sample (mean per sample)."""
    per_sample = output.size // max(len(output), 1)
    return float(np.square(output - target.reshape(output.shape)).sum() / per_sample)


def resolve(names: tuple[str, ...] | list[str], threshold: float) -> dict[str, Metric]:
    """Metric functions by name: 'accuracy', 'mae' or 'mse'."""
    known: dict[str, Metric] = {"accuracy": make_accuracy(threshold), "mae": mae, "mse": mse}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; available: {sorted(known)}")
    return {name: known[name] for name in names}
