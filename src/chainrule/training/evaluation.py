"""``evaluate`` and ``predict``: a model's loss and metrics on data, and its outputs, in eval mode
and without recording gradients; :func:`evaluate_loader` is what ``fit`` runs on its validation
data after every epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.training import metrics as metrics_lib
from chainrule.training.inputs import as_loader
from chainrule.training.metrics import MetricAccumulator

__all__ = ["check_from_logits", "evaluate", "evaluate_loader", "metric_specs", "predict"]


def evaluate_loader(
    model: Any, loss_fn: Any, loader: Iterable[Any], specs: Sequence[metrics_lib.MetricSpec]
) -> dict[str, float]:
    """Mean loss and metrics (resolved ``specs``) over ``loader``'s batches, in eval mode and
    without recording gradients; the model's mode is restored after."""
    was_training = getattr(model, "training", False)
    model.eval()
    scores = MetricAccumulator(specs)
    try:
        with no_grad():
            for x, y in loader:
                output = model(x)
                scores.update(loss_fn(output, y).item(), len(x._data), output._data, y._data)
    finally:
        model.train(was_training)
    return scores.results()


def evaluate(
    model: Any,
    loss_fn: Any,
    data: Any,
    *,
    batch_size: int = 256,
    metrics: Sequence[str | Callable[[np.ndarray, np.ndarray], float]] = ("accuracy",),
    from_logits: bool | None = None,
) -> dict[str, float]:
    """Mean loss and metrics of ``model`` on ``data`` (Dataset, DataLoader or (X, y)), in eval
    mode and without recording gradients. Returns e.g. ``{'loss': 0.08, 'accuracy': 0.975}``.

    ``metrics`` and ``from_logits`` are :func:`~chainrule.training.loop.fit`'s."""
    check_from_logits(from_logits)
    loader = as_loader(data, batch_size, False, "evaluation")
    return evaluate_loader(model, loss_fn, loader, metric_specs(metrics, loss_fn, from_logits))


def predict(model: Any, x: Any, *, batch_size: int = 256) -> np.ndarray:
    """The model's outputs for inputs ``x`` (array or tensor of shape (N, ...)), computed in
    batches in eval mode without gradients. Returns an ndarray of shape (N, ...)."""
    array = np.asarray(x._data if isinstance(x, Tensor) else x)
    if array.ndim == 0 or len(array) == 0:
        raise ValueError(
            f"predict: expected inputs of shape (N, ...) with N > 0; got {array.shape}"
        )
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with no_grad():
            outputs = [
                model(Tensor(array[i : i + batch_size]))._data
                for i in range(0, len(array), batch_size)
            ]
    finally:
        model.train(was_training)
    return np.concatenate(outputs)


def check_from_logits(from_logits: Any) -> None:
    """Refuse a ``from_logits`` that is not True, False or None (``fit``'s and ``evaluate``'s)."""
    if from_logits is not None and not isinstance(from_logits, (bool, np.bool_)):
        raise TypeError(f"from_logits must be True, False or None; got {from_logits!r}")


def metric_specs(metrics: Any, loss_fn: Any, from_logits: bool | None) -> list:
    """``metrics`` resolved, class metrics splitting where ``from_logits`` (or the loss) says."""
    logits = metrics_lib.loss_from_logits(loss_fn) if from_logits is None else bool(from_logits)
    return metrics_lib.resolve(metrics, metrics_lib.threshold_for(logits))
