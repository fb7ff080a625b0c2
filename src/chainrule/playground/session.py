"""The playground's state: the options, the data, the chainrule model, its training and runs.

One :class:`Session` per server. Every method takes the session's lock, so the HTTP threads
and the training thread (:class:`chainrule.playground.server.Runner`) never see half a step.

Options come in two kinds. Those that change the data or the network (dataset, noise, split,
features, layers, activation) start a new run; the others (learning rate, batch size,
regularization) apply from the next step and are logged in the run's ``schedule``, which the
exported script replays to reproduce the run exactly.
"""

from __future__ import annotations

import copy
import math
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from chainrule import nn, optim
from chainrule._tensor import tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.playground import datasets, diagnose
from chainrule.playground.gradients import check_selection
from chainrule.playground.training import (
    ACTIVATION_MODULES,
    Batches,
    StepRecord,
    build_model,
    loss_module,
    train_step,
)
from chainrule.random import manual_seed
from chainrule.training.monitor import GradientMonitor

REGULARIZATIONS = ("none", "l1", "l2")
MAX_LAYERS, MAX_NEURONS = 6, 8
#: A run keeps at most this many loss points; beyond, every other one is dropped.
MAX_POINTS = 1000
MAX_RUNS = 8
DATA_KEYS = ("dataset", "noise", "train_ratio", "seed", "n_points")
MODEL_KEYS = ("features", "hidden", "activation")
SCHEDULE_KEYS = ("learning_rate", "batch_size", "regularization", "reg_rate")


class ConfigError(ValueError):
    """An option the page sent is out of range; the message names it and the valid values."""


@dataclass
class Config:
    """Everything that defines a run (the page's controls)."""

    dataset: str = "circle"
    noise: float = 0.0
    train_ratio: float = 0.5
    batch_size: int = 10
    seed: int = 0
    n_points: int = 500
    features: list[str] = field(default_factory=lambda: ["x1", "x2"])
    hidden: list[int] = field(default_factory=lambda: [4, 4])
    activation: str = "tanh"
    learning_rate: float = 0.03
    regularization: str = "none"
    reg_rate: float = 0.0
    speed: int = 1  # steps per drawn frame; display only, never changes the result


def _number(key: str, value: Any, low: float, high: float, integer: bool = False) -> Any:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and integer:
        ok = float(value).is_integer()
    if not ok or not math.isfinite(value) or not low <= value <= high:
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"{key} must be {kind} in [{low:g}, {high:g}]; got {value!r}")
    return int(value) if integer else float(value)


def _choice(key: str, value: Any, valid: tuple[str, ...]) -> str:
    if value not in valid:
        raise ConfigError(f"{key} must be one of {', '.join(valid)}; got {value!r}")
    return value


def _hidden(value: Any) -> list[int]:
    if not isinstance(value, list) or len(value) > MAX_LAYERS:
        raise ConfigError(f"hidden must be a list of at most {MAX_LAYERS} layer widths")
    return [_number("hidden width", w, 1, MAX_NEURONS, integer=True) for w in value]


def _features(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or len(set(value)) != len(value):
        raise ConfigError("features must be a non-empty list of distinct feature names")
    for name in value:
        _choice("feature", name, tuple(datasets.FEATURES))
    return [n for n in datasets.FEATURES if n in value]  # the page's order, always


def validate(changes: Any) -> dict[str, Any]:
    """Check the options the page sent; returns them cleaned, raises :class:`ConfigError`."""
    if not isinstance(changes, dict):
        raise ConfigError("expected a JSON object of options")
    checks = {
        "dataset": lambda v: _choice("dataset", v, datasets.DATASETS + ("csv",)),
        "noise": lambda v: _number("noise", v, 0, 0.5),
        "train_ratio": lambda v: _number("train_ratio", v, 0.1, 0.9),
        "batch_size": lambda v: _number("batch_size", v, 1, 100, integer=True),
        "seed": lambda v: _number("seed", v, 0, 2**31 - 1, integer=True),
        "n_points": lambda v: _number("n_points", v, 20, 2000, integer=True),
        "features": _features,
        "hidden": _hidden,
        "activation": lambda v: _choice("activation", v, tuple(ACTIVATION_MODULES)),
        "learning_rate": lambda v: _number("learning_rate", v, 1e-5, 10),
        "regularization": lambda v: _choice("regularization", v, REGULARIZATIONS),
        "reg_rate": lambda v: _number("reg_rate", v, 0, 10),
        "speed": lambda v: _number("speed", v, 1, 500, integer=True),
        "problem": lambda v: _choice("problem", v, ("classification", "regression")),
    }
    unknown = sorted(set(changes) - set(checks))
    if unknown:
        raise ConfigError(f"unknown option(s): {', '.join(unknown)}")
    return {key: checks[key](value) for key, value in changes.items()}


@dataclass
class Run:
    """One run: its label for the loss chart, its loss points and its schedule."""

    id: int
    label: str
    points: list[list[float | None]] = field(default_factory=list)
    #: [steps, learning rate, batch size, regularization, rate] segments in order.
    schedule: list[list[Any]] = field(default_factory=list)


class Session:
    """The model, data and training state behind one playground page."""

    def __init__(self, config: Config | None = None) -> None:
        self.lock = threading.RLock()
        self.config = config or Config()
        self.custom: tuple[np.ndarray, np.ndarray, str, str] | None = None
        self.runs: list[Run] = []
        self.selection: dict[str, Any] | None = None
        self.playing = False
        self.version = 0  # bumped when the data or the network changes shape
        self.init_seed = 0
        self.run_counter = 0
        self.divergence: dict[str, Any] | None = None
        self._load_data()
        self._new_run()

    # ----- data and model ------------------------------------------------------------------------
    @property
    def problem(self) -> str:
        """'classification' or 'regression', from the dataset (or the uploaded labels)."""
        if self.config.dataset == "csv" and self.custom is not None:
            return self.custom[2]
        return "regression" if datasets.is_regression(self.config.dataset) else "classification"

    def raw_data(self) -> tuple[np.ndarray, np.ndarray]:
        """All points on the plane and their labels, before the split."""
        c = self.config
        if c.dataset == "csv":
            if self.custom is None:
                raise ConfigError("no CSV uploaded yet: use the upload button first")
            return self.custom[0], self.custom[1]
        return datasets.make_dataset(c.dataset, c.n_points, c.noise, c.seed)

    def _load_data(self) -> None:
        x, y = self.raw_data()
        c = self.config
        self.x_train, self.y_train, self.x_test, self.y_test = datasets.split(
            x, y, c.train_ratio, c.seed
        )
        self._features()

    def _features(self) -> None:
        names = self.config.features
        self.f_train = datasets.features(self.x_train, names)
        self.f_test = datasets.features(self.x_test, names)

    def _new_run(self, same_init: bool = False) -> None:
        """A fresh model (the same initial weights again when ``same_init``) and a new run."""
        c = self.config
        self.run_counter += 1
        if not same_init:
            self.init_seed = self.run_counter - 1  # each run its own seed, still reproducible
        manual_seed(self.init_seed)
        self.model = build_model(len(c.features), c.hidden, c.activation, self.problem)
        self.loss_fn = loss_module(self.problem)
        self.optimizer = optim.SGD(self.model.parameters(), lr=c.learning_rate)
        self.batches = Batches(len(self.f_train), self.init_seed)
        self.step_count = 0
        self.last: StepRecord | None = None
        self.divergence = None
        self.playing = False
        self._start_monitor()
        label = (
            f"{c.dataset} {'-'.join(map(str, [len(c.features), *c.hidden, 1]))} "
            f"{c.activation} η={c.learning_rate:g}" + (" (same init)" if same_init else "")
        )
        self.runs.append(Run(self.run_counter, label))
        del self.runs[:-MAX_RUNS]
        self.version += 1
        self._record_point()

    def _start_monitor(self) -> None:
        """A GradientMonitor driven by hand: the session calls the hooks ``fit`` would call."""
        self.monitor = GradientMonitor(warn=False)
        self._trainer = _TrainerView(self.model)
        self.monitor.on_train_begin(self._trainer)
        self.monitor.on_epoch_begin(self._trainer, 0)

    # ----- training -------------------------------------------------------------------------------
    @property
    def run(self) -> Run:
        """The current run."""
        return self.runs[-1]

    @property
    def linears(self) -> list[nn.Linear]:
        """The model's Linear layers in order (the article's layers 1 … L)."""
        return [m for m in self.model if isinstance(m, nn.Linear)]

    def step(self, n: int = 1) -> None:
        """Take ``n`` training steps (fewer if training diverges), and record the losses."""
        with self.lock:
            for _ in range(n):
                if self.divergence is not None or not self._one_step():
                    break
            self._record_point()

    def _one_step(self) -> bool:
        """One step; False (and paused, with the diagnosis kept) when it went non-finite."""
        c = self.config
        epoch = self.batches.epoch
        idx = self.batches.next(c.batch_size)
        params = list(self.model.parameters())
        before = [p._data.copy() for p in params]
        self.optimizer.param_groups[0]["lr"] = c.learning_rate
        with np.errstate(all="ignore"):  # non-finite values are diagnosed below, not warned
            loss = train_step(
                self.model,
                self.loss_fn,
                self.optimizer,
                self.f_train[idx],
                self.y_train[idx],
                c.regularization,
                c.reg_rate,
            )
        self.step_count += 1
        grads = [p.grad._data.copy() for p in params]
        self.last = StepRecord(
            self.step_count, idx, before, grads, c.learning_rate, c.regularization, c.reg_rate
        )
        self._log_schedule()
        self._monitor_step(loss, epoch)
        if math.isfinite(loss) and all(np.isfinite(p._data).all() for p in params):
            return True
        self.divergence = diagnose.divergence(self)
        self.playing = False
        return False

    def _log_schedule(self) -> None:
        c = self.config
        options = [c.learning_rate, c.batch_size, c.regularization, c.reg_rate]
        schedule = self.run.schedule
        if schedule and schedule[-1][1:] == options:
            schedule[-1][0] += 1
        else:
            schedule.append([1, *options])

    def _monitor_step(self, loss: float, epoch: int) -> None:
        with np.errstate(all="ignore"):
            self.monitor.on_batch_end(self._trainer, self.step_count, loss)
            if self.batches.epoch != epoch:  # that batch closed an epoch
                self.monitor.on_epoch_end(self._trainer, epoch, {})
                self.monitor.on_epoch_begin(self._trainer, self.batches.epoch)

    def losses(self) -> tuple[float | None, float | None]:
        """The data loss (no penalty) on the whole training set and on the test set."""
        self.model.eval()  # so the monitor's hooks only see training batches
        try:
            with no_grad(), np.errstate(all="ignore"):
                out = [
                    self.loss_fn(self.model(tensor(f)), y).item()
                    for f, y in ((self.f_train, self.y_train), (self.f_test, self.y_test))
                ]
        finally:
            self.model.train()
        return tuple(v if math.isfinite(v) else None for v in out)  # type: ignore[return-value]

    def _record_point(self) -> None:
        train, test = self.losses()
        self.train_loss, self.test_loss = train, test
        points = self.run.points
        if points and points[-1][0] == self.step_count:
            points[-1] = [self.step_count, train, test]
        else:
            points.append([self.step_count, train, test])
        if len(points) > MAX_POINTS:  # thin out, but always keep the newest point
            last = points[-1]
            points[:] = points[::2]
            if points[-1] is not last:
                points.append(last)

    # ----- the page's actions ---------------------------------------------------------------------
    def update(self, changes: Any) -> None:
        """Apply options from the page (see :func:`validate`); may start a new run."""
        clean = validate(changes)
        with self.lock:
            problem = clean.pop("problem", None)
            if problem is not None and problem != self.problem:
                clean.setdefault("dataset", "reg-plane" if problem == "regression" else "circle")
            if clean.get("dataset") == "csv" and self.custom is None:
                raise ConfigError("no CSV uploaded yet: use the upload button first")
            old = copy.deepcopy(self.config)
            for key, value in clean.items():
                setattr(self.config, key, value)
            try:
                self._apply(old, clean)
            except ValueError:
                self.config = old
                raise

    def _apply(self, old: Config, clean: dict[str, Any]) -> None:
        data_changed = any(getattr(old, k) != getattr(self.config, k) for k in DATA_KEYS)
        model_changed = any(getattr(old, k) != getattr(self.config, k) for k in MODEL_KEYS)
        if data_changed:
            self._load_data()
        elif "features" in clean:
            self._features()
        if data_changed or model_changed:
            self._new_run()

    def control(self, action: str) -> None:
        """play, pause, step, reset, reset-same-init or regenerate."""
        with self.lock:
            if action == "play":
                self.playing = self.divergence is None
            elif action == "pause":
                self.playing = False
            elif action == "step":
                self.playing = False
                self.step(1)
            elif action == "reset":
                self._new_run()
            elif action == "reset-same-init":
                self._new_run(same_init=True)
            elif action == "regenerate":
                self.config.seed += 1
                self._load_data()
                self._new_run()
            else:
                raise ConfigError(
                    f"unknown action {action!r}; use play, pause, step, reset, "
                    "reset-same-init or regenerate"
                )

    def upload(self, raw: bytes) -> str:
        """Use an uploaded CSV as the data (a new run); returns a note on what was read."""
        x, y, problem, note = datasets.parse_csv(raw)
        with self.lock:
            self.custom = (x, y, problem, note)
            self.config.dataset = "csv"
            self._load_data()
            self._new_run()
        return note

    def select(self, selection: Any) -> None:
        """Choose the neuron or weight the gradient panel explains (None clears it)."""
        with self.lock:
            self.selection = check_selection(self, selection)

    def options(self) -> dict[str, Any]:
        """The current options, the problem type, and the uploaded CSV's note."""
        out = asdict(self.config)
        out["problem"] = self.problem
        out["csv_note"] = self.custom[3] if self.custom is not None else None
        return out


class _TrainerView:
    """The one attribute of ``fit``'s trainer that GradientMonitor reads."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
