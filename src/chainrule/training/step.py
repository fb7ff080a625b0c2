"""``train_step``: one step of gradient descent, the five lines every training loop repeats.

``fit``, the scikit-learn estimators and the examples all train through it, so the loop a
learner reads in the article is the loop that runs.
"""

from __future__ import annotations

import math
from typing import Any

from chainrule._tensor import Tensor


class TrainingError(RuntimeError):
    """Training cannot go on (for example, the loss became NaN or inf)."""


class NonFiniteLossError(TrainingError):
    """The loss of a step was NaN or inf; the step was not taken.

    ``value`` is the loss (``nan``, ``inf`` or ``-inf``). ``fit`` turns it into a
    :class:`TrainingError` that names the epoch, the batch and the last finite loss.
    """

    def __init__(self, value: float) -> None:
        super().__init__(
            f"the loss became {value}; the step was not taken and the weights are unchanged"
        )
        self.value = value


def train_step(model: Any, loss_fn: Any, optimizer: Any, x: Any, y: Any) -> tuple[Tensor, Tensor]:
    """One step of gradient descent on the batch ``(x, y)``.

    Parameters
    ----------
    model : Module (or any callable on a batch)
        Maps inputs ``x`` of shape ``(N, ...)`` to outputs of shape ``(N, ...)``.
    loss_fn : callable
        ``loss_fn(output, y)`` returning a scalar tensor, e.g. ``nn.CrossEntropyLoss()``.
    optimizer : Optimizer
        Over the model's parameters.
    x, y : Tensor or ndarray
        A batch of inputs and its targets, first axis the batch.

    Returns
    -------
    loss : Tensor
        The batch's loss, a scalar tensor (``loss.item()`` is its value), back-propagated.
    output : Tensor
        The model's output for the batch, shape ``(N, ...)``, from the forward pass made with
        the weights before the step (what ``fit``'s training metrics are computed from).

    A plain tuple ``(loss, output)``: this runs once per batch, and a named tuple would cost
    ``fit`` more per step than everything else it adds to these five lines.

    Raises
    ------
    NonFiniteLossError
        If the loss is NaN or inf. It is checked before ``backward()``, so the weights keep the
        values of the last step, which came from a finite loss.

    Examples
    --------
    >>> for epoch in range(epochs):                                      # doctest: +SKIP
    ...     for x, y in loader:
    ...         loss, output = train_step(model, loss_fn, optimizer, x, y)
    """
    optimizer.zero_grad()  # gradients accumulate: clear the last step's
    output = model(x)
    loss = loss_fn(output, y)
    value = loss.item()
    if not math.isfinite(value):  # a NaN step would overwrite every weight with NaN
        raise NonFiniteLossError(value)
    loss.backward()
    optimizer.step()
    return loss, output
