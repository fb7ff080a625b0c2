"""Gradient health during ``fit``: per-layer gradient norms, update sizes, dead and saturated units.

Example::

    monitor = GradientMonitor()
    cr.fit(model, loss_fn, optimizer, (x, y), epochs=5, callbacks=[monitor])
    print(monitor.report())          # also warned: GradientHealthWarning, in words

Per Linear layer and epoch (means over the epoch's batches): the norm of ∇W, and the
update-to-weight ratio ‖ΔW‖/‖W‖ (about 1e-3 is healthy; far below, learning stalls; far above,
it is unstable). Per activation module: the fraction of dead ReLUs (units that output 0 for
every training sample of the epoch) and of saturated sigmoid/tanh units (|f′| nearly 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import nn
from chainrule.training.callbacks import Callback, warn_at_caller


class GradientHealthWarning(UserWarning):
    """A training run's gradients look unhealthy (vanishing, exploding, dead or saturated)."""


def _saturated(module: nn.Module, out: np.ndarray) -> np.ndarray:
    """Per element: is the unit in the flat part of its activation (f′ below about 0.04)?"""
    if isinstance(module, nn.Sigmoid):
        return (out < 0.04) | (out > 0.96)
    return np.abs(out) > 0.98  # tanh′ = 1 − a² < 0.04


class GradientMonitor(Callback):
    """Record gradient health per layer and epoch; warn once per problem with a suggestion.

    Parameters
    ----------
    vanishing_ratio : float
        Warn of vanishing gradients when the first layer's gradient norm is below this fraction
        of the last layer's (and of exploding ones when above its inverse).
    dead_fraction, saturated_fraction : float
        Warn when more than this fraction of a layer's ReLUs are dead, or of its sigmoid/tanh
        outputs are saturated.
    warn : bool
        Emit :class:`GradientHealthWarning`; :meth:`report` gives the same findings as text.

    Attributes
    ----------
    history : dict of str to dict of str to list of float
        ``history[layer][metric]``, one value per epoch. Linear layers (named as in
        ``model.named_modules()``) have ``'grad_norm'`` and ``'update_ratio'``; ReLU modules
        ``'dead_fraction'``; Sigmoid and Tanh modules ``'saturated_fraction'``.
    findings : list of str
        Each problem found, in words, once.
    """

    def __init__(
        self,
        vanishing_ratio: float = 1e-3,
        dead_fraction: float = 0.5,
        saturated_fraction: float = 0.5,
        warn: bool = True,
    ) -> None:
        self.vanishing_ratio = vanishing_ratio
        self.dead_threshold = dead_fraction
        self.saturated_threshold = saturated_fraction
        self.warn = warn
        self.history: dict[str, dict[str, list[float]]] = {}
        self.findings: list[str] = []
        self.activations: dict[str, np.ndarray] = {}  # the last training batch's outputs
        self._handles: list[Any] = []
        self._linears: list[tuple[str, nn.Linear]] = []

    # ----- fit hooks ----------------------------------------------------------------------------
    def on_train_begin(self, trainer: Any) -> None:
        model = trainer.model
        self._linears = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
        for name, module in model.named_modules():
            if isinstance(module, (nn.ReLU, nn.Sigmoid, nn.Tanh)):
                self._handles.append(module.register_forward_hook(self._hook(name)))
        self._previous = [m.weight._data.copy() for _, m in self._linears]

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        self._grad = [[] for _ in self._linears]
        self._ratio = [[] for _ in self._linears]
        self._alive: dict[str, np.ndarray] = {}  # per ReLU unit: positive for some sample?
        self._sat: dict[str, list[float]] = {}

    def on_batch_end(self, trainer: Any, batch: int, loss: float) -> None:
        # After optimizer.step() and before the next zero_grad(): .grad is the step's gradient.
        for i, (_, m) in enumerate(self._linears):
            w = m.weight._data
            if m.weight.grad is not None:
                self._grad[i].append(float(np.linalg.norm(m.weight.grad._data)))
            norm = float(np.linalg.norm(self._previous[i]))
            self._ratio[i].append(float(np.linalg.norm(w - self._previous[i])) / (norm or 1.0))
            self._previous[i] = w.copy()

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        for i, (name, _) in enumerate(self._linears):
            self._record(name, "grad_norm", np.mean(self._grad[i]) if self._grad[i] else 0.0)
            self._record(name, "update_ratio", np.mean(self._ratio[i]) if self._ratio[i] else 0.0)
        for name, alive in self._alive.items():
            self._record(name, "dead_fraction", 1.0 - alive.mean())
        for name, fractions in self._sat.items():
            self._record(name, "saturated_fraction", np.mean(fractions))
        self._diagnose(epoch)

    def on_train_end(self, trainer: Any) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    # ----- internals ----------------------------------------------------------------------------
    def _hook(self, name: str) -> Any:
        def hook(module: nn.Module, args: Any, output: Any) -> None:
            if not module.training:  # validation passes say nothing about training health
                return
            out = output._data.reshape(len(output._data), -1) if output._data.ndim else output._data
            self.activations[name] = out
            if isinstance(module, nn.ReLU):
                alive = (out > 0).any(axis=0)
                previous = self._alive.get(name)
                self._alive[name] = alive if previous is None else previous | alive
            else:
                self._sat.setdefault(name, []).append(float(_saturated(module, out).mean()))

        return hook

    def _record(self, layer: str, metric: str, value: float) -> None:
        self.history.setdefault(layer, {}).setdefault(metric, []).append(float(value))

    def _finding(self, key: str, message: str) -> None:
        if any(f.startswith(key) for f in self.findings):
            return  # once per problem, not once per epoch
        self.findings.append(f"{key}: {message}")
        if self.warn:
            # At the user's fit() call, however deep in the loop this callback runs.
            warn_at_caller(f"{key}: {message}", GradientHealthWarning)

    def _diagnose(self, epoch: int) -> None:
        if len(self._linears) >= 2:
            first, last = self._linears[0][0], self._linears[-1][0]
            g_first = self.history[first]["grad_norm"][-1]
            g_last = self.history[last]["grad_norm"][-1]
            if g_last > 0 and g_first / g_last < self.vanishing_ratio:
                self._finding(
                    "vanishing gradients",
                    f"in epoch {epoch} the first layer's gradient norm ({g_first:.2e}) is "
                    f"{g_last / max(g_first, 1e-300):.1e} times smaller than the last layer's "
                    f"({g_last:.2e}), so the early layers barely learn. Try ReLU activations, "
                    "He (kaiming) initialization, batch normalization, or fewer layers.",
                )
            if g_first > 0 and g_last / g_first < self.vanishing_ratio:
                self._finding(
                    "exploding gradients",
                    f"in epoch {epoch} the first layer's gradient norm ({g_first:.2e}) is "
                    f"{g_first / max(g_last, 1e-300):.1e} times larger than the last layer's. "
                    "Try a smaller learning rate, gradient clipping (nn.utils.clip_grad_norm_), "
                    "smaller initial weights or batch normalization.",
                )
        for layer, metrics in self.history.items():
            dead = metrics.get("dead_fraction", [0.0])[-1]
            if dead > self.dead_threshold:
                self._finding(
                    f"dead ReLUs in {layer}",
                    f"{dead:.0%} of its units output 0 for every sample (epoch {epoch}), so "
                    "they get no gradient. Try a smaller learning rate, He initialization, "
                    "LeakyReLU, or a small positive bias.",
                )
            sat = metrics.get("saturated_fraction", [0.0])[-1]
            if sat > self.saturated_threshold:
                self._finding(
                    f"saturated units in {layer}",
                    f"{sat:.0%} of its outputs sit where the activation is flat (epoch "
                    f"{epoch}), so their derivative is nearly 0. Try Xavier initialization, "
                    "normalizing the inputs, ReLU, or batch normalization.",
                )

    def report(self) -> str:
        """A table of the last epoch's values per layer, then the findings in words."""
        lines = [f"{'layer':12}{'grad norm':>12}{'update/weight':>15}{'dead':>8}{'saturated':>11}"]
        for layer, m in self.history.items():

            def last(key: str, fmt: str, m: dict = m) -> str:
                return format(m[key][-1], fmt) if key in m else "-"

            lines.append(
                f"{layer:12}{last('grad_norm', '.3e'):>12}{last('update_ratio', '.3e'):>15}"
                f"{last('dead_fraction', '.0%'):>8}{last('saturated_fraction', '.0%'):>11}"
            )
        lines += self.findings or ["no problems found"]
        return "\n".join(lines)
