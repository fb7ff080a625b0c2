"""``train_step`` (the article's five lines), the loop built on it, and the CallbackList that
drives every callback of ``fit``."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import data, nn, optim
from chainrule.training import (
    Callback,
    CallbackList,
    LambdaCallback,
    NonFiniteLossError,
    ProgressLogger,
    TrainingError,
    fit,
    train_step,
)
from chainrule.training import loop as loop_module

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def small_task(n=64):
    x, y = data.blobs(n, centers=3, cluster_std=0.5, generator=0)
    return x, y


def mlp():
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))


def test_train_step_zeroes_grads_runs_forward_loss_backward_and_steps_returning_loss_and_output():
    cr.manual_seed(0)
    x, y = (cr.tensor(a) for a in small_task(16))
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    for p in model.parameters():  # stale gradients that zero_grad must clear
        p.grad = cr.tensor(np.full(p.shape, 100.0, np.float32))
    before = {k: v.copy() for k, v in model.state_dict().items()}
    with cr.no_grad():
        expected_output = model(x).numpy()
    expected_loss = nn.functional.cross_entropy(cr.tensor(expected_output), y).item()

    loss, output = train_step(model, nn.CrossEntropyLoss(), opt, x, y)

    assert loss.item() == pytest.approx(expected_loss, rel=1e-6)
    np.testing.assert_allclose(output.numpy(), expected_output, rtol=1e-6)  # before the step
    for name, param in model.named_parameters():
        # w := w − lr·∂loss/∂w with this batch's gradient only (the stale 100s were zeroed)
        np.testing.assert_allclose(
            param.numpy(), before[name] - 0.1 * param.grad.numpy(), rtol=1e-6, atol=1e-7
        )
        assert np.abs(param.grad.numpy()).max() < 100


def test_train_step_refuses_a_non_finite_loss_before_backward_leaving_the_weights():
    x, y = (cr.tensor(a) for a in small_task(16))
    model = mlp()
    before = {k: v.copy() for k, v in model.state_dict().items()}

    def nan_loss(output, target):
        return nn.functional.cross_entropy(output, target) * float("nan")

    with pytest.raises(NonFiniteLossError, match="nan") as info:
        train_step(model, nan_loss, optim.SGD(model.parameters(), lr=0.1), x, y)
    assert isinstance(info.value, TrainingError) and np.isnan(info.value.value)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_fit_trains_through_train_step(monkeypatch):
    calls = []

    def counting(*args):
        calls.append(args[3].shape[0])
        return train_step(*args)

    monkeypatch.setattr(loop_module, "train_step", counting)
    model = mlp()
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters()), small_task(50),
        epochs=2, batch_size=20, verbose=0)  # fmt: skip
    assert calls == [20, 20, 10] * 2


def test_fit_matches_a_hand_written_loop_of_train_steps_bit_for_bit():
    x, y = small_task(90)
    cr.manual_seed(3)
    init = mlp().state_dict()

    model = mlp()
    model.load_state_dict(init)
    cr.manual_seed(5)
    history = fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), (x, y),
                  epochs=3, batch_size=16, verbose=0)  # fmt: skip

    hand = mlp()
    hand.load_state_dict(init)
    opt = optim.Adam(hand.parameters(), lr=0.01)
    cr.manual_seed(5)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=16, shuffle=True)
    losses = []
    for _ in range(3):
        total = seen = 0
        for xb, yb in loader:
            loss, _ = train_step(hand, nn.CrossEntropyLoss(), opt, xb, yb)
            total += loss.item() * len(xb)
            seen += len(xb)
        losses.append(total / seen)
    assert history["loss"] == losses
    for name, value in hand.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[name], value)


def test_sklearn_estimators_train_through_train_step(monkeypatch):
    pytest.importorskip("sklearn")
    from chainrule.interop import sklearn as cr_sklearn

    calls = []

    def counting(*args):
        calls.append(1)
        return train_step(*args)

    monkeypatch.setattr(cr_sklearn, "train_step", counting)
    x, y = small_task(40)
    cr_sklearn.MLPClassifier((4,), max_iter=2, batch_size=20, random_state=0).partial_fit(
        x, y, classes=[0, 1, 2]
    )
    cr_sklearn.MLPRegressor((4,), batch_size=10, random_state=0).partial_fit(x, y.astype(float))
    assert len(calls) == 2 + 4


def test_seed_xor_example_trains_through_train_step(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import seed_xor

    calls = []

    def counting(*args):
        calls.append(1)
        return train_step(*args)

    monkeypatch.setattr(seed_xor, "train_step", counting)
    seed_xor.train(epochs=7, verbose=False)
    assert len(calls) == 7


class Recorder(Callback):
    def __init__(self, name, log):
        self.name, self.log = name, log

    def on_train_begin(self, trainer):
        self.log.append((self.name, "train_begin"))

    def on_epoch_begin(self, trainer, epoch):
        self.log.append((self.name, "epoch_begin", epoch))

    def on_batch_end(self, trainer, batch, loss):
        self.log.append((self.name, "batch_end", batch))

    def on_epoch_end(self, trainer, epoch, logs):
        self.log.append((self.name, "epoch_end", epoch))

    def on_train_end(self, trainer):
        self.log.append((self.name, "train_end"))


def test_callback_list_runs_every_hook_of_every_callback_in_order():
    log = []
    callbacks = CallbackList([Recorder("a", log), Recorder("b", log)])
    callbacks.on_train_begin(None)
    callbacks.on_epoch_begin(None, 1)
    callbacks.on_batch_end(None, 1, 0.5)
    callbacks.on_epoch_end(None, 1, {})
    callbacks.on_epoch_interrupted(None, 1, {})  # base class: nothing
    callbacks.on_train_end(None)
    assert log == [
        ("a", "train_begin"), ("b", "train_begin"),
        ("a", "epoch_begin", 1), ("b", "epoch_begin", 1),
        ("a", "batch_end", 1), ("b", "batch_end", 1),
        ("a", "epoch_end", 1), ("b", "epoch_end", 1),
        ("a", "train_end"), ("b", "train_end"),
    ]  # fmt: skip
    assert len(callbacks) == 2 and [c.name for c in callbacks] == ["a", "b"]


def test_callback_list_calls_on_batch_end_only_of_callbacks_that_define_it():
    seen = []
    callbacks = CallbackList(
        [Callback(), LambdaCallback(on_batch_end=lambda t, b, loss: seen.append(b))]
    )
    assert len(callbacks._batch_enders) == 1
    callbacks.on_batch_end(None, 3, 0.1)
    assert seen == [3]


def test_callback_list_refuses_what_is_not_a_callback():
    with pytest.raises(TypeError, match="callbacks must be Callback instances; int has no"):
        CallbackList([3])


def test_fit_drives_callbacks_through_one_callback_list_progress_first():
    seen = {}
    probe = LambdaCallback(on_train_begin=lambda trainer: seen.update(cbs=trainer.callbacks))
    model = mlp()
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters()), small_task(),
        epochs=1, callbacks=[probe], verbose=2)  # fmt: skip
    callbacks = seen["cbs"]
    assert isinstance(callbacks, CallbackList)
    assert isinstance(callbacks.callbacks[0], ProgressLogger) and callbacks.callbacks[1] is probe


def test_monitor_warning_points_at_the_users_fit_call():
    from chainrule.training.monitor import GradientHealthWarning, GradientMonitor

    cr.manual_seed(0)
    layers = []
    for i in range(8):
        layers += [nn.Linear(2 if i == 0 else 16, 16), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(16, 3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.01), small_task(200),
            epochs=1, verbose=0, callbacks=[GradientMonitor()])  # fmt: skip
    health = [w for w in caught if issubclass(w.category, GradientHealthWarning)]
    assert health and all(w.filename == __file__ for w in health)


# ----- the code stays readable ---------------------------------------------------------------
OWN = [
    *sorted((ROOT / "src" / "chainrule" / "training").glob("*.py")),
    ROOT / "src" / "chainrule" / "interop" / "sklearn.py",
    ROOT / "src" / "chainrule" / "data" / "dataloader.py",
]


def code_lines(path: Path, node: ast.FunctionDef) -> int:
    """Lines of a function's body that are code: not blank, not comments, not its docstring."""
    body = node.body
    has_doc = isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None),
                                                           ast.Constant)  # fmt: skip
    first = body[0].end_lineno + 1 if has_doc else body[0].lineno
    lines = path.read_text(encoding="utf-8").splitlines()[first - 1 : node.end_lineno]
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def test_training_functions_are_at_most_60_lines_of_code():
    long = []
    for path in OWN:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if code_lines(path, node) > 60:
                    long.append(f"{path.name}:{node.name}")
    assert long == []


def test_training_functions_have_mccabe_complexity_at_most_12():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    done = subprocess.run(
        [ruff, "check", "--no-cache", "--select", "C90", "--config",
         "lint.mccabe.max-complexity=12", *map(str, OWN)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
