"""Metrics that ``fit`` and ``evaluate`` report next to the loss, and the accumulator they share.

A metric is one of two kinds, and the kind decides how an epoch's value is made from batches:

- a **sum over samples** (accuracy, top-k accuracy, MAE, MSE): each batch adds its sum and the
  epoch divides by the samples seen, so the value is the exact per-sample mean whatever the
  batch sizes;
- a **whole-epoch** metric (precision, recall, F1, ROC-AUC and any callable you pass): its
  value over an epoch is not a mean of per-batch values, so the accumulator keeps the epoch's
  outputs and targets and computes it once, at the end, over all of them.

Built-in names (scikit-learn's scoring names where there is one):

``'accuracy'``
    Fraction of correct predictions: argmax of ``(N, C)`` outputs, or a single output per sample
    split at 0 (logits) or 0.5 (probabilities); see :func:`loss_from_logits`.
``'top_k_accuracy'`` for any k, e.g. ``'top_5_accuracy'``
    Fraction of samples whose true class is among the k highest of ``(N, C)`` outputs (a tie
    with the k-th score counts as a hit).
``'precision'``, ``'recall'``, ``'f1'``
    Binary, of the positive class 1: for a single output per sample or two classes.
``'precision_macro'``, ``'recall_macro'``, ``'f1_macro'``
    The unweighted mean over the classes that occur in the targets or the predictions, as
    scikit-learn's ``average='macro'``. An undefined ratio (no predicted or no true sample of a
    class) counts as 0, as scikit-learn's ``zero_division=0``.
``'roc_auc'``
    Area under the ROC curve, binary output: one score per sample (logits or probabilities give
    the same AUC) or two columns (the score is column 1 minus column 0). NaN when the targets
    hold a single class.
``'mae'``, ``'mse'``
    Mean absolute / squared error per output, averaged over samples.

A callable ``metric(y_pred, y_true) -> float`` is named by its ``__name__`` and called once per
epoch on the whole epoch's model outputs (ndarray ``(N, ...)``, e.g. logits) and targets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from chainrule import functional as F
from chainrule.nn import loss as losses

Metric = Callable[[np.ndarray, np.ndarray], float]

_TOP_K = re.compile(r"top_(\d+)_accuracy")
_RESERVED = ("loss", "lr", "seconds")


class MetricSpec(NamedTuple):
    """A resolved metric: its name in the logs, its function and its kind."""

    name: str
    fn: Metric
    #: True: ``fn`` returns a batch's sum; False: ``fn`` is called once on the whole epoch.
    summed: bool


# ----- logits or probabilities -----------------------------------------------------------------

_LOGIT_LOSSES = (losses.BCEWithLogitsLoss, losses.CrossEntropyLoss)
_LOGIT_FUNCTIONS = (F.binary_cross_entropy_with_logits, F.cross_entropy)
# These compare the output with the target directly, so 0/1 targets are split at 0.5.
_DIRECT_LOSSES = (losses.BCELoss, losses.MSELoss, losses.L1Loss, losses.HuberLoss)
_DIRECT_FUNCTIONS = (F.binary_cross_entropy, F.mse_loss, F.l1_loss, F.huber_loss)


def loss_from_logits(loss_fn: Any) -> bool | None:
    """Whether ``loss_fn`` takes logits (True), outputs on the targets' scale (False) or is
    unknown (None).

    A loss says so itself with a boolean attribute ``from_logits``; otherwise chainrule's losses
    are known by class (``BCEWithLogitsLoss``, ``CrossEntropyLoss``: logits; ``BCELoss``,
    ``MSELoss``, ``L1Loss``, ``HuberLoss``: probabilities or values) or, as functions, by
    identity. Any other loss (a wrapper, a lambda) is unknown: guessing from its name is how a
    custom loss around BCE-with-logits used to get its accuracy split at 0.5 on logits.
    """
    declared = getattr(loss_fn, "from_logits", None)
    if isinstance(declared, (bool, np.bool_)):
        return bool(declared)
    if isinstance(loss_fn, _LOGIT_LOSSES) or any(loss_fn is f for f in _LOGIT_FUNCTIONS):
        return True
    if isinstance(loss_fn, _DIRECT_LOSSES) or any(loss_fn is f for f in _DIRECT_FUNCTIONS):
        return False
    return None


def threshold_for(from_logits: bool | None) -> float | None:
    """Where one output per sample splits into classes 0 and 1: 0 for logits, 0.5 for
    probabilities, None when unknown (a metric that needs it then refuses to guess)."""
    return None if from_logits is None else (0.0 if from_logits else 0.5)


# ----- labels ------------------------------------------------------------------------------------


def predicted_labels(output: np.ndarray, threshold: float | None) -> np.ndarray:
    """Class predictions: argmax of (N, C) scores; for one output per sample, output > threshold.

    Shapes: output (N, C) -> (N,); output (N,) or (N, 1) -> the same shape, as 0/1.
    """
    if output.ndim >= 2 and output.shape[1] > 1:
        return output.argmax(axis=1)
    if threshold is None:
        raise ValueError(
            "the model has one output per sample and a class metric needs to split it into 0 "
            "and 1, but the loss does not say whether that output is a logit (split at 0) or a "
            "probability (split at 0.5). Pass fit(..., from_logits=True) for logits (e.g. a loss "
            "built on BCEWithLogitsLoss) or from_logits=False for probabilities, or give the "
            "loss a boolean attribute from_logits"
        )
    return (output > threshold).astype(np.int64)


def true_labels(target: np.ndarray, output: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Targets as class labels of ``shape`` (the predictions'): one-hot or class-probability
    targets (N, C) become their argmax."""
    if target.ndim == len(shape) + 1 and target.shape[-1] == output.shape[-1] > 1:
        target = target.argmax(axis=-1)
    return target.reshape(shape)


def _labels(output: np.ndarray, target: np.ndarray, threshold: float | None) -> tuple:
    predicted = predicted_labels(output, threshold)
    return predicted.ravel(), true_labels(target, output, predicted.shape).ravel()


# ----- sums over samples -------------------------------------------------------------------------


def make_accuracy(threshold: float | None) -> Metric:
    """Number of correct predictions in a batch; ``threshold`` splits single-output scores
    (0 for logits, 0.5 for probabilities, None: refuse to guess)."""

    def accuracy(output: np.ndarray, target: np.ndarray) -> float:
        predicted = predicted_labels(output, threshold)
        target = true_labels(target, output, predicted.shape)
        return float(np.count_nonzero(predicted == target))

    return accuracy


def make_top_k_accuracy(k: int) -> Metric:
    """Number of samples in a batch whose true class scores among the ``k`` highest of the
    (N, C) outputs; a score tied with the true class's does not push it out."""

    def top_k_accuracy(output: np.ndarray, target: np.ndarray) -> float:
        if output.ndim != 2 or output.shape[1] < 2:
            raise ValueError(
                f"top_{k}_accuracy needs outputs of shape (N, C) with C > 1 classes; got "
                f"{output.shape}"
            )
        labels = true_labels(target, output, (len(output),)).astype(np.int64)
        true_score = output[np.arange(len(output)), labels]
        rank = np.count_nonzero(output > true_score[:, None], axis=1)
        return float(np.count_nonzero(rank < k))

    top_k_accuracy.__name__ = f"top_{k}_accuracy"
    return top_k_accuracy


def mae(output: np.ndarray, target: np.ndarray) -> float:
    """Sum of absolute errors in a batch, divided by outputs per sample (mean per sample)."""
    per_sample = output.size // max(len(output), 1)
    return float(np.abs(output - target.reshape(output.shape)).sum() / per_sample)


def mse(output: np.ndarray, target: np.ndarray) -> float:
    """Sum of squared errors in a batch, divided by outputs per sample (mean per sample)."""
    per_sample = output.size // max(len(output), 1)
    return float(np.square(output - target.reshape(output.shape)).sum() / per_sample)


# ----- whole-epoch metrics -----------------------------------------------------------------------


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    safe = np.where(denominator > 0, denominator, 1)
    return np.where(denominator > 0, numerator / safe, 0.0)


def _counts(predicted: np.ndarray, true: np.ndarray, classes: np.ndarray) -> tuple:
    """Per class: true positives, predicted count, true count; each of shape (len(classes),)."""
    pred_hit = predicted[:, None] == classes[None, :]
    true_hit = true[:, None] == classes[None, :]
    return (pred_hit & true_hit).sum(axis=0), pred_hit.sum(axis=0), true_hit.sum(axis=0)


def _scores(kind: str, tp: np.ndarray, n_pred: np.ndarray, n_true: np.ndarray) -> np.ndarray:
    if kind == "precision":
        return _ratio(tp, n_pred)
    if kind == "recall":
        return _ratio(tp, n_true)
    return _ratio(2 * tp, n_pred + n_true)  # F1 = 2·tp / (2·tp + fp + fn)


def make_class_score(kind: str, average: str, threshold: float | None) -> Metric:
    """Precision, recall or F1 (``kind``) over an epoch, ``average`` 'binary' (class 1) or
    'macro' (mean over the classes present in the targets or the predictions)."""

    def score(output: np.ndarray, target: np.ndarray) -> float:
        predicted, true = _labels(output, target, threshold)
        if average == "binary":
            if output.ndim >= 2 and output.shape[1] > 2:
                raise ValueError(
                    f"'{kind}' is binary (positive class 1) but the model has {output.shape[1]} "
                    f"outputs per sample; use '{kind}_macro' for several classes"
                )
            classes = np.array([1])
        else:
            classes = np.union1d(predicted, true)
        return float(np.mean(_scores(kind, *_counts(predicted, true, classes))))

    score.__name__ = kind if average == "binary" else f"{kind}_{average}"
    return score


def _binary_scores(output: np.ndarray) -> np.ndarray:
    """One score per sample from binary outputs: the output itself, or column 1 − column 0
    (monotone in the probability of class 1 for logits, probabilities and log-probabilities)."""
    if output.ndim < 2 or output.shape[1] == 1:
        return output.reshape(len(output))
    if output.shape[1] == 2:
        return output[:, 1] - output[:, 0]
    raise ValueError(
        f"roc_auc is for binary outputs (one score per sample or two classes); the model has "
        f"{output.shape[1]} outputs per sample"
    )


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values`` (shape (N,)), tied values sharing the mean of their ranks."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(values)]
    group = np.repeat(np.arange(len(starts)), ends - starts)
    ranks = np.empty(len(values))
    ranks[order] = ((starts + ends + 1) / 2)[group]
    return ranks


def roc_auc(output: np.ndarray, target: np.ndarray) -> float:
    """Area under the ROC curve of binary outputs: the probability that a random positive scores
    above a random negative (ties count half), from the Mann–Whitney rank sum."""
    scores = _binary_scores(output)
    positive = true_labels(target, output, scores.shape) == 1
    n_pos = int(np.count_nonzero(positive))
    n_neg = len(scores) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")  # undefined with one class: say so rather than invent a value
    rank_sum = average_ranks(scores)[positive].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


# ----- names to metrics --------------------------------------------------------------------------


def _builtin(name: str, threshold: float | None) -> MetricSpec | None:
    if name == "accuracy":
        return MetricSpec(name, make_accuracy(threshold), True)
    if name in ("mae", "mse"):
        return MetricSpec(name, mae if name == "mae" else mse, True)
    if name == "roc_auc":
        return MetricSpec(name, roc_auc, False)
    kind, _, average = name.partition("_")
    if kind in ("precision", "recall", "f1") and average in ("", "macro"):
        return MetricSpec(name, make_class_score(kind, average or "binary", threshold), False)
    top_k = _TOP_K.fullmatch(name)
    if top_k and int(top_k.group(1)) > 0:
        return MetricSpec(name, make_top_k_accuracy(int(top_k.group(1))), True)
    return None


BUILTIN_NAMES = (
    "accuracy",
    "top_k_accuracy (e.g. top_5_accuracy)",
    "precision",
    "recall",
    "f1",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "roc_auc",
    "mae",
    "mse",
)


def _callable_name(fn: Any) -> str:
    name = getattr(fn, "__name__", None) or type(fn).__name__
    if not name.isidentifier():
        raise ValueError(
            f"a metric callable is named by its __name__, and {name!r} cannot name a column of "
            "the history: define it with def, or set its __name__"
        )
    return name


def resolve(metrics: Iterable[str | Metric], threshold: float | None) -> list[MetricSpec]:
    """The metrics of ``fit(metrics=...)``: built-in names (see the module docstring) and
    callables ``(y_pred, y_true) -> float``, in the order given.

    ``threshold`` splits single-output scores for the class metrics (see :func:`threshold_for`).
    """
    if isinstance(metrics, str):
        metrics = [metrics]  # a lone name, not its letters
    specs: list[MetricSpec] = []
    for metric in metrics:
        if callable(metric):
            spec = MetricSpec(_callable_name(metric), metric, False)
        else:
            spec = _builtin(metric, threshold)
            if spec is None:
                raise ValueError(
                    f"unknown metric {metric!r}; available: {', '.join(BUILTIN_NAMES)}, or a "
                    "callable (y_pred, y_true) -> float"
                )
        if spec.name in _RESERVED or spec.name in [s.name for s in specs]:
            raise ValueError(f"metric name {spec.name!r} is used twice or by fit itself")
        specs.append(spec)
    return specs


# ----- the accumulator ---------------------------------------------------------------------------


class MetricAccumulator:
    """Running loss and metrics over the batches of one epoch (training) or one pass
    (evaluation).

    Per batch, :meth:`update` adds the sample-weighted loss and the summed metrics and, only if
    a whole-epoch metric is asked for, keeps a copy of the outputs and targets. :meth:`results`
    turns them into the epoch's values.

    Attributes
    ----------
    seen : int
        Samples so far.
    totals : dict of str to float
        ``'loss'`` (sum of loss × batch size) and the summed metrics' sums.
    """

    def __init__(self, specs: Sequence[MetricSpec]) -> None:
        self.specs = list(specs)
        self._summed = [(s.name, s.fn) for s in self.specs if s.summed]
        self._collect = any(not s.summed for s in self.specs)
        self.reset()

    def reset(self) -> None:
        """Forget every batch."""
        self.seen = 0
        self.totals = dict.fromkeys(["loss", *(name for name, _ in self._summed)], 0.0)
        self._outputs: list[np.ndarray] = []
        self._targets: list[np.ndarray] = []

    def update(self, loss: float, n: int, output: np.ndarray, target: np.ndarray) -> None:
        """Add one batch: its mean ``loss``, its ``n`` samples, outputs (n, ...) and targets."""
        self.seen += n
        totals = self.totals
        totals["loss"] += loss * n
        for name, fn in self._summed:
            totals[name] += fn(output, target)
        if self._collect:
            self._outputs.append(np.array(output))  # copies: the caller's arrays may change
            self._targets.append(np.array(target))

    def mean_loss(self) -> float:
        """The mean loss per sample so far (NaN before the first batch)."""
        return self.totals["loss"] / self.seen if self.seen else float("nan")

    def results(self) -> dict[str, float]:
        """``{'loss': ..., metric: ...}`` in the order of the metrics given."""
        seen = max(self.seen, 1)
        logs = {"loss": self.totals["loss"] / seen}
        outputs = targets = None
        for spec in self.specs:
            if spec.summed:
                logs[spec.name] = self.totals[spec.name] / seen
                continue
            if outputs is None:
                outputs, targets = self._concatenated()
            logs[spec.name] = float(spec.fn(outputs, targets))
        return logs

    def _concatenated(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._outputs:
            return np.empty((0,)), np.empty((0,))
        return np.concatenate(self._outputs), np.concatenate(self._targets)

    def state_dict(self) -> dict[str, Any]:
        """The running sums (and kept outputs/targets, or None) for a mid-epoch checkpoint."""
        outputs, targets = self._concatenated() if self._collect else (None, None)
        return {"totals": dict(self.totals), "seen": self.seen, "outputs": outputs,
                "targets": targets}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict`; the metrics must be the same as when it was taken."""
        if set(state["totals"]) != set(self.totals):
            raise ValueError(
                f"the checkpointed epoch recorded {sorted(state['totals'])} but this run asks "
                f"for {sorted(self.totals)}; resume with the same metrics"
            )
        self.seen, self.totals = int(state["seen"]), dict(state["totals"])
        kept = state.get("outputs")
        self._outputs = [] if kept is None or not self._collect else [np.asarray(kept)]
        self._targets = [] if kept is None or not self._collect else [np.asarray(state["targets"])]
