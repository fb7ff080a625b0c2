"""``fit``, ``evaluate``, ``predict``, History and callbacks: behaviour, accuracy and bad input."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import chainrule as cr
from chainrule import data, nn, optim
from chainrule.training import (
    EarlyStopping,
    History,
    LambdaCallback,
    TrainingError,
    evaluate,
    fit,
    predict,
)


def mlp(*widths, activation=nn.ReLU):
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), activation()]
    return nn.Sequential(*layers[:-1])


def blobs_task(seed=0, n=300):
    x, y = data.blobs(n, centers=3, cluster_std=0.5, generator=seed)
    return x, y


@pytest.mark.parametrize("seed", range(10))
def test_fit_trains_the_articles_xor_network_for_every_seed(seed):
    cr.manual_seed(seed)
    x, y = data.xor()
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
    history = fit(
        model,
        nn.BCELoss(),
        optim.SGD(model.parameters(), lr=3.0),
        (x, y),
        epochs=1000,
        batch_size=4,
        verbose=0,
    )
    assert history["loss"][-1] < 0.05
    assert history["accuracy"][-1] == 1.0


def test_fit_reaches_97_percent_on_digits_with_a_64_64_10_relu_mlp_and_adam():
    pytest.importorskip("sklearn")
    x, y = data.digits()
    order = np.random.default_rng(0).permutation(len(x))
    test, train = order[: len(x) // 5], order[len(x) // 5 :]
    cr.manual_seed(0)
    model = mlp(64, 64, 10)
    fit(
        model,
        nn.CrossEntropyLoss(),
        optim.Adam(model.parameters(), lr=1e-3),
        (x[train], y[train]),
        epochs=40,
        batch_size=32,
        verbose=0,
    )
    scores = evaluate(model, nn.CrossEntropyLoss(), (x[test], y[test]))
    assert scores["accuracy"] >= 0.97


def test_history_records_every_metric_per_epoch_with_validation_lr_and_time():
    x, y = blobs_task()
    model = mlp(2, 8, 3)
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        opt,
        (x[:200], y[:200]),
        epochs=3,
        validation=(x[200:], y[200:]),
        verbose=0,
        scheduler=optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5),
    )
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"}
    assert history.epoch == [1, 2, 3] and all(len(v) == 3 for v in history.history.values())
    assert history["lr"] == [0.1, 0.05, 0.025]
    restored = History.from_dict(history.to_dict())
    assert restored.history == history.history


def test_evaluate_and_predict_run_in_eval_mode_and_restore_training_mode():
    x, y = blobs_task()
    model = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), nn.Linear(8, 3))
    model.train()
    first, second = predict(model, x, batch_size=64), predict(model, x, batch_size=7)
    np.testing.assert_allclose(first, second, rtol=1e-6)  # no dropout in eval mode
    assert first.shape == (300, 3) and first.dtype == np.float32
    assert model.training
    scores = evaluate(model, nn.CrossEntropyLoss(), (x, y))
    assert set(scores) == {"loss", "accuracy"} and 0.0 <= scores["accuracy"] <= 1.0


def test_early_stopping_stops_and_restores_the_best_weights():
    x, y = blobs_task()
    model = mlp(2, 8, 3)
    # min_delta this large means only the first epoch counts as an improvement.
    stopper = EarlyStopping(
        monitor="val_loss", patience=2, min_delta=1e9, restore_best_weights=True
    )
    after_first = {}
    keep = LambdaCallback(
        on_epoch_end=lambda t, epoch, logs: epoch == 1 and after_first.update(t.model.state_dict())
    )
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=0.5),
        (x[:200], y[:200]),
        validation=(x[200:], y[200:]),
        epochs=50,
        callbacks=[keep, stopper],
        verbose=0,
    )
    assert history.stopped_early == "early_stopping" and history.epoch == [1, 2, 3]
    assert stopper.best_epoch == 1
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, after_first[name])


def test_lambda_callback_sees_every_batch_and_epoch():
    x, y = blobs_task(n=100)
    model = mlp(2, 3)
    seen = {"batches": 0, "epochs": []}
    callback = LambdaCallback(
        on_batch_end=lambda trainer, batch, loss: seen.__setitem__("batches", seen["batches"] + 1),
        on_epoch_end=lambda trainer, epoch, logs: seen["epochs"].append(epoch),
    )
    fit(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=0.1),
        (x, y),
        epochs=2,
        batch_size=30,
        callbacks=[callback],
        verbose=0,
    )
    assert seen == {"batches": 8, "epochs": [1, 2]}


def test_non_finite_loss_stops_with_epoch_batch_and_last_finite_loss_keeping_weights():
    x, y = blobs_task(n=40)
    model = mlp(2, 3)
    calls = {"n": 0}
    snapshot = {}

    def loss_fn(output, target):
        calls["n"] += 1
        loss = nn.functional.cross_entropy(output, target)
        return loss * float("nan") if calls["n"] == 3 else loss

    keep = LambdaCallback(on_batch_end=lambda t, b, loss: snapshot.update(t.model.state_dict()))
    with pytest.raises(
        TrainingError,
        match=r"epoch 1, batch 3; the last finite loss was .* "
        r"\(epoch 1, batch 2\).*learning rate",
    ):
        fit(
            model,
            loss_fn,
            optim.SGD(model.parameters(), lr=0.1),
            (x, y),
            epochs=1,
            batch_size=10,
            shuffle=False,
            callbacks=[keep],
            verbose=0,
        )
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, snapshot[name])


def test_ctrl_c_ends_training_after_the_current_batch_and_returns_the_history():
    x, y = blobs_task(n=100)
    model = mlp(2, 3)

    def interrupt(trainer, batch, loss):
        if trainer.epoch == 2 and batch == 1:
            os.kill(os.getpid(), signal.SIGINT)

    history = fit(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=0.1),
        (x, y),
        epochs=10,
        batch_size=10,
        callbacks=[LambdaCallback(on_batch_end=interrupt)],
        verbose=0,
    )
    assert history.stopped_early == "interrupted" and history.epoch == [1, 2]


def test_fit_refuses_inputs_and_targets_of_different_lengths():
    model = mlp(2, 3)
    with pytest.raises(ValueError, match="X has 10 rows but y has 9"):
        fit(
            model,
            nn.CrossEntropyLoss(),
            optim.SGD(model.parameters()),
            (np.zeros((10, 2), np.float32), np.zeros(9, np.int64)),
            epochs=1,
            verbose=0,
        )


def test_fit_refuses_nan_or_inf_in_training_data_naming_how_many_rows():
    x = np.zeros((10, 2), np.float32)
    x[3, 0], x[7, 1] = np.nan, np.inf
    model = mlp(2, 3)
    with pytest.raises(ValueError, match="2 of 10 rows of X contain NaN or inf"):
        fit(
            model,
            nn.CrossEntropyLoss(),
            optim.SGD(model.parameters()),
            (x, np.zeros(10, np.int64)),
            epochs=1,
            verbose=0,
        )


@pytest.mark.parametrize("batch_size", [0, -3])
def test_fit_refuses_a_non_positive_batch_size(batch_size):
    model = mlp(2, 3)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        fit(
            model,
            nn.CrossEntropyLoss(),
            optim.SGD(model.parameters()),
            (np.zeros((4, 2), np.float32), np.zeros(4, np.int64)),
            epochs=1,
            batch_size=batch_size,
            verbose=0,
        )


def test_float32_training_step_keeps_every_array_float32():
    x, y = blobs_task(n=64)
    model = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3))
    activations = []
    for layer in model:
        layer.register_forward_hook(lambda module, inputs, output: activations.append(output))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=1, batch_size=64, verbose=0)
    arrays = [p.numpy() for p in model.parameters()] + [p.grad.numpy() for p in model.parameters()]
    arrays += [b.numpy() for b in model.buffers() if b.numpy().dtype.kind == "f"]
    arrays += [a.numpy() for a in activations]
    arrays += [v for s in opt.state.values() for v in s.values() if isinstance(v, np.ndarray)]
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}


def test_verbose_fit_prints_one_summary_line_per_epoch(capsys):
    x, y = blobs_task(n=60)
    model = mlp(2, 3)
    fit(
        model,
        nn.CrossEntropyLoss(),
        optim.SGD(model.parameters(), lr=0.1),
        (x, y),
        epochs=2,
        verbose=2,
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2 - ") and "accuracy:" in lines[1]
