"""scikit-learn estimators trained by chainrule: :class:`MLPClassifier` and :class:`MLPRegressor`.

They take scikit-learn's parameter names and expose its fitted attributes (``coefs_`` in the
``(in, out)`` layout, ``loss_curve_``, ``n_iter_``, ...), so they drop into ``Pipeline``,
``GridSearchCV`` and ``cross_val_score``; the network is a ``chainrule.nn.Sequential`` trained
with ``chainrule.optim``. Beyond scikit-learn's names: ``dropout`` (after every hidden
activation) and ``loss``. Not provided: the ``lbfgs`` solver and learning-rate schedules
(``learning_rate``, ``power_t``).

Importing this module needs scikit-learn (``pip install "chainrule[sklearn]"``); ``import
chainrule`` does not.

>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> clf = make_pipeline(StandardScaler(), MLPClassifier((32,), random_state=0))  # doctest: +SKIP
>>> clf.fit(X, y).score(X_test, y_test)                                         # doctest: +SKIP
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets, unique_labels
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:  # validate_data is scikit-learn ≥ 1.6
    raise ImportError(
        'chainrule.interop.sklearn needs scikit-learn >= 1.6: pip install "chainrule[sklearn]"'
    ) from exc

from chainrule import functional as F
from chainrule import nn, optim
from chainrule._tensor import Tensor
from chainrule.training import NonFiniteLossError, TrainingError, train_step
from chainrule.training import predict as _predict

__all__ = ["MLPClassifier", "MLPRegressor"]

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "logistic": nn.Sigmoid, "identity": None}
_FLOAT_DTYPES = (np.float64, np.float32)


def _check(name: str, value: Any, ok: bool, expected: str) -> None:
    if not ok:
        raise ValueError(f"{name} must be {expected}; got {value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class _BaseMLP(BaseEstimator):
    """What both estimators share: parameters, network, optimizer and the training loop."""

    _losses: tuple[str, ...] = ()

    def __init__(
        self,
        hidden_layer_sizes: int | tuple[int, ...] = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 1e-4,
        batch_size: int | str = "auto",
        learning_rate_init: float = 1e-3,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        dropout: float = 0.0,
        loss: str = "auto",
    ) -> None:
        # scikit-learn's contract: store the parameters untouched; fit() checks them.
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dropout = dropout
        self.loss = loss

    # ----- checks and construction ----------------------------------------------------------
    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if _is_int(sizes) else list(sizes)
        _check(
            "hidden_layer_sizes",
            self.hidden_layer_sizes,
            all(_is_int(s) and s > 0 for s in sizes),
            "a positive integer or a sequence of them",
        )
        return [int(s) for s in sizes]

    def _check_params(self) -> None:
        self._hidden_sizes()
        _check("activation", self.activation, self.activation in _ACTIVATIONS, str(_ACTIVATIONS))
        _check("solver", self.solver, self.solver in ("adam", "sgd"), "'adam' or 'sgd'")
        _check("loss", self.loss, self.loss in self._losses, f"one of {self._losses}")
        for name in ("alpha", "tol"):
            value = getattr(self, name)
            _check(name, value, _is_real(value) and value >= 0, "a number >= 0")
        for name in ("learning_rate_init", "epsilon"):
            value = getattr(self, name)
            _check(name, value, _is_real(value) and value > 0, "a number > 0")
        for name in ("max_iter", "n_iter_no_change"):
            value = getattr(self, name)
            _check(name, value, _is_int(value) and value > 0, "a positive integer")
        b = self.batch_size
        _check("batch_size", b, b == "auto" or (_is_int(b) and b > 0), "'auto' or an int > 0")
        for name, low, high in [
            ("momentum", 0, 1),
            ("beta_1", 0, 1 - 1e-12),
            ("beta_2", 0, 1 - 1e-12),
            ("dropout", 0, 1 - 1e-12),
            ("validation_fraction", 1e-12, 1 - 1e-12),
        ]:
            value = getattr(self, name)
            ok = _is_real(value) and low <= value <= high
            _check(name, value, ok, f"a number in [{low}, {round(high)}{']' if high == 1 else ')'}")

    def _build(self, n_in: int, n_out: int, dtype: np.dtype) -> nn.Sequential:
        """Linear → activation (→ Dropout) per hidden width, then Linear to ``n_out`` outputs."""
        layers: list[nn.Module] = []
        act, width = _ACTIVATIONS[self.activation], n_in
        for size in self._hidden_sizes():
            layers.append(nn.Linear(width, size, dtype=dtype, generator=self._rng))
            if act is not None:
                layers.append(act())
            if self.dropout > 0:
                layers.append(nn.Dropout(self.dropout, generator=self._rng))
            width = size
        layers.append(nn.Linear(width, n_out, dtype=dtype, generator=self._rng))
        return nn.Sequential(*layers)

    def _make_optimizer(self) -> optim.Optimizer:
        params = list(self._model.parameters())
        if self.solver == "sgd":
            nesterov = bool(self.nesterovs_momentum) and self.momentum > 0
            return optim.SGD(
                params, lr=self.learning_rate_init, momentum=self.momentum, nesterov=nesterov
            )
        return optim.Adam(
            params,
            lr=self.learning_rate_init,
            betas=(self.beta_1, self.beta_2),
            eps=self.epsilon,
        )

    def _linears(self) -> list[nn.Linear]:
        return [m for m in self._model if isinstance(m, nn.Linear)]

    @property
    def model_(self) -> nn.Sequential:
        """The fitted network itself, for ``chainrule.interop.onnx.export`` or saving it."""
        return self._model

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices, layer ``i``'s of shape (fan_in, fan_out), as scikit-learn's.

        Views of the network's weights (transposed from PyTorch's (out, in) layout): changing
        them in place changes the model.
        """
        return [layer.weight._data.T for layer in self._linears()]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, layer ``i``'s of shape (fan_out,); views of the network's biases."""
        return [layer.bias._data for layer in self._linears()]

    # ----- training -------------------------------------------------------------------------
    def _fit(self, X: Any, y: Any, incremental: bool, classes: Any = None) -> _BaseMLP:
        self._check_params()
        first = not hasattr(self, "_model") or not (self.warm_start or incremental)
        X, y = validate_data(self, X, y, reset=first, dtype=_FLOAT_DTYPES, **self._y_checks)
        targets, n_out = self._encode_targets(y, first, classes)
        self._prepare(X, n_out, first, incremental)
        dtype = self._linears()[0].weight.dtype
        X, targets = (
            X.astype(dtype, copy=False),
            targets.astype(dtype if targets.dtype.kind == "f" else np.int64, copy=False),
        )
        val = None
        if self.early_stopping and not incremental:
            train_idx, val_idx = train_test_split(
                np.arange(len(X)),
                test_size=self.validation_fraction,
                random_state=int(self._rng.integers(np.iinfo(np.int32).max)),
                stratify=y if isinstance(self, ClassifierMixin) else None,
            )
            val = (X[val_idx], y[val_idx])
            X, targets = X[train_idx], targets[train_idx]
        batch = min(200, len(X)) if self.batch_size == "auto" else min(self.batch_size, len(X))
        stopped = self._train(X, targets, batch, incremental, val)
        if not stopped and not incremental:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self._model.eval()  # so that model_ used on its own is the inference network
        return self

    def _prepare(self, X: np.ndarray, n_out: int, first: bool, incremental: bool) -> None:
        """A new network and fitted attributes on a first fit; a new optimizer unless
        ``partial_fit`` continues (it keeps the optimizer's moments across calls)."""
        if first:
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            self._rng = np.random.default_rng(seed)
            dtype = np.dtype(np.float32 if X.dtype == np.float32 else np.float64)
            self._model = self._build(X.shape[1], n_out, dtype)
            self.n_outputs_ = n_out
            self.n_layers_ = len(self._hidden_sizes()) + 2
            self.n_iter_, self.t_, self.loss_curve_ = 0, 0, []
            self.best_loss_ = None if self.early_stopping else math.inf
            self.validation_scores_ = [] if self.early_stopping else None
            self.best_validation_score_ = -math.inf if self.early_stopping else None
        if self.early_stopping and self.validation_scores_ is None:  # switched on for a warm start
            self.validation_scores_, self.best_validation_score_ = [], -math.inf
        if first or not incremental:
            self._optimizer = self._make_optimizer()

    def _train(
        self, X: np.ndarray, targets: np.ndarray, batch: int, incremental: bool, val: Any
    ) -> bool:
        """Epochs until ``max_iter`` (one for ``partial_fit``) or until the score stops
        improving; returns whether it stopped for that. With ``val`` (early stopping) the best
        epoch's weights are kept."""
        best_state, stale, stopped = None, 0, False
        for _ in range(1 if incremental else self.max_iter):
            loss = self._epoch(X, targets, batch)
            self.n_iter_ += 1
            self.t_ += len(X)
            self.loss_curve_.append(loss)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {loss:.8f}")
            stale, state = self._track(loss, val, stale)
            best_state = best_state if state is None else state
            if not incremental and stale > self.n_iter_no_change:
                if self.verbose:
                    what = "Validation score" if val is not None else "Training loss"
                    print(
                        f"{what} did not improve more than tol={self.tol} for "
                        f"{self.n_iter_no_change} consecutive epochs. Stopping."
                    )
                stopped = True
                break
        if best_state is not None:
            self._model.load_state_dict(best_state)
        return stopped

    def _track(self, loss: float, val: Any, stale: int) -> tuple[int, dict | None]:
        """Record an epoch's score; returns the epochs without improvement and, on a new best
        validation score, the weights to keep."""
        if val is not None:
            score = float(self.score(*val))
            self.validation_scores_.append(score)
            stale = stale + 1 if score < self.best_validation_score_ + self.tol else 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                return stale, self._model.state_dict()
            return stale, None
        if self.best_loss_ is not None:
            stale = stale + 1 if loss > self.best_loss_ - self.tol else 0
            self.best_loss_ = min(self.best_loss_, loss)
        return stale, None

    def _epoch(self, X: np.ndarray, targets: np.ndarray, batch: int) -> float:
        """One pass over the data in minibatches; returns the mean (penalized) loss."""
        order = self._rng.permutation(len(X)) if self.shuffle else np.arange(len(X))
        model, opt = self._model, self._optimizer
        model.train()
        total = 0.0
        for start in range(0, len(X), batch):
            idx = order[start : start + batch]
            try:
                loss, _ = train_step(
                    model, self._penalized_loss, opt, Tensor(X[idx]), Tensor(targets[idx])
                )
            except NonFiniteLossError as err:
                raise TrainingError(
                    f"the loss became {err.value} at iteration {self.n_iter_ + 1}; try a smaller "
                    "learning_rate_init or standardize the features (StandardScaler)"
                ) from None
            total += loss.item() * len(idx)
        return total / len(X)

    def _penalized_loss(self, output: Tensor, target: Tensor) -> Tensor:
        """The loss of a batch plus scikit-learn's L2 term: α/2·Σ‖W‖² per sample of the batch."""
        loss = self._loss(output, target)
        if self.alpha:
            penalty = sum(F.sum(layer.weight * layer.weight) for layer in self._linears())
            loss = loss + penalty * (0.5 * self.alpha / len(target._data))
        return loss

    def _outputs(self, X: Any) -> np.ndarray:
        """The network's raw outputs (n_samples, n_outputs_) for ``X``, in eval mode."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=_FLOAT_DTYPES)
        return _predict(self._model, X.astype(self._linears()[0].weight.dtype, copy=False))


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier, scikit-learn's ``MLPClassifier`` on chainrule.

    Two classes use one logistic output (``BCEWithLogitsLoss``), more a softmax
    (``CrossEntropyLoss``). ``loss`` is ``'auto'`` or ``'log_loss'`` (the same). The network
    is float32 for float32 ``X`` and float64 otherwise, as in scikit-learn.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    n_features_in_, n_outputs_, n_layers_, n_iter_, t_ : int
        ``n_iter_`` counts epochs (one per ``partial_fit`` call); ``t_`` samples seen.
    loss_curve_ : list of float
        Mean training loss (with the L2 term) per epoch.
    best_loss_ : float or None
        Lowest training loss; None with ``early_stopping`` (as in scikit-learn).
    validation_scores_ : list of float or None
        Accuracy on the held-out ``validation_fraction`` per epoch, with ``early_stopping``.
    best_validation_score_ : float or None
    coefs_, intercepts_ : list of ndarray
        Per layer, weights of shape (fan_in, fan_out) and biases of shape (fan_out,).
    model_ : chainrule.nn.Sequential
        The network, whose outputs are logits (before the output activation).
    out_activation_ : str
        ``'logistic'`` or ``'softmax'``.
    """

    _losses = ("auto", "log_loss")
    _y_checks: dict[str, Any] = {}

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Train on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,); returns self."""
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MLPClassifier:
        """One epoch over ``X``, ``y``, continuing the weights and optimizer state.

        ``classes`` (every label that will ever appear) is required on the first call.
        """
        if not hasattr(self, "classes_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        return self._fit(X, y, incremental=True, classes=classes)

    def _encode_targets(self, y: np.ndarray, first: bool, classes: Any) -> tuple[np.ndarray, int]:
        check_classification_targets(y)
        if classes is not None:
            classes = unique_labels(classes)
            if not first and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"classes={classes!r} is not the same as on the first call ({self.classes_!r})"
                )
        if first:
            found = unique_labels(y) if classes is None else classes
            if len(found) < 2:
                raise ValueError(
                    f"MLPClassifier needs samples of at least 2 classes; got 1 class ({found[0]!r})"
                )
            self.classes_ = found
            self.out_activation_ = "logistic" if len(found) == 2 else "softmax"
        unseen = np.setdiff1d(unique_labels(y), self.classes_)
        if len(unseen):
            raise ValueError(
                f"y has labels {unseen!r} that are not in classes_ {self.classes_!r}; a warm "
                "start or partial_fit must keep the classes of the first fit"
            )
        codes = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:
            return codes.astype(np.float64).reshape(-1, 1), 1
        return codes.astype(np.int64), len(self.classes_)

    def _loss(self, output: Tensor, target: Tensor) -> Tensor:
        if output.shape[1] == 1:
            return F.binary_cross_entropy_with_logits(output, target)
        return F.cross_entropy(output, target)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        out = self._outputs(X)
        if out.shape[1] == 1:
            p = np.exp(-np.logaddexp(0, -out[:, 0]))  # σ without overflow
            return np.column_stack([1 - p, p])
        e = np.exp(out - out.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row, shape (n_samples,)."""
        proba = self.predict_proba(X)  # first: it raises NotFittedError before fit
        return self.classes_[np.argmax(proba, axis=1)]


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor, scikit-learn's ``MLPRegressor`` on chainrule.

    ``loss``: ``'auto'`` or ``'squared_error'`` (½·mean squared error, scikit-learn's),
    ``'absolute_error'`` or ``'huber'``. ``y`` may have several columns (multi-output). The
    fitted attributes are :class:`MLPClassifier`'s less ``classes_``, with
    ``out_activation_ = 'identity'`` and R² as the validation score.
    """

    _losses = ("auto", "squared_error", "absolute_error", "huber")
    _y_checks: dict[str, Any] = {"multi_output": True, "y_numeric": True}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X: Any, y: Any) -> MLPRegressor:
        """Train on ``X`` (n_samples, n_features), ``y`` (n_samples,) or (n_samples, n_outputs)."""
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X: Any, y: Any) -> MLPRegressor:
        """One epoch over ``X``, ``y``, continuing the weights and optimizer state."""
        return self._fit(X, y, incremental=True)

    def _encode_targets(self, y: np.ndarray, first: bool, classes: Any) -> tuple[np.ndarray, int]:
        targets = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        if first:
            self.out_activation_ = "identity"
        elif targets.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {targets.shape[1]} outputs but the model was fitted with {self.n_outputs_}"
            )
        return targets, targets.shape[1]

    def _loss(self, output: Tensor, target: Tensor) -> Tensor:
        if self.loss == "absolute_error":
            return F.l1_loss(output, target)
        if self.loss == "huber":
            return F.huber_loss(output, target)
        return F.mse_loss(output, target) * 0.5

    def predict(self, X: Any) -> np.ndarray:
        """Predictions, shape (n_samples,) for one output, else (n_samples, n_outputs)."""
        out = self._outputs(X)
        return out.ravel() if out.shape[1] == 1 else out
