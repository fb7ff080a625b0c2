"""``fit(metrics=...)``: callables, the built-ins checked against scikit-learn, whole-epoch
metrics over batches, and logits vs probabilities said explicitly (never guessed from a name)."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import chainrule as cr
from chainrule import data, nn, optim
from chainrule.training import LambdaCallback, evaluate, fit, predict
from chainrule.training import metrics as M

sk = pytest.importorskip("sklearn.metrics")


def binary_task(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = (x[:, 0] + 0.7 * rng.normal(size=n) > 0).astype(np.float32).reshape(-1, 1)
    return x, y


def multi_task(n=240, classes=4, seed=0):
    x, y = data.blobs(n, centers=classes, cluster_std=2.5, generator=seed)
    return x, y


def frozen(model):
    """An optimizer that changes nothing: the outputs seen in training are predict's."""
    return optim.SGD(model.parameters(), lr=0.0)


# ----- callables ---------------------------------------------------------------------------------
def test_fit_accepts_a_callable_metric_named_by_its_function():
    x, y = multi_task()
    model = nn.Sequential(nn.Linear(2, 4))

    def balanced_accuracy(y_pred, y_true):
        return sk.balanced_accuracy_score(y_true, y_pred.argmax(axis=1))

    metrics = ["accuracy", balanced_accuracy]
    history = fit(model, nn.CrossEntropyLoss(), frozen(model), (x, y), epochs=1,
                  metrics=metrics, validation=(x, y), verbose=0)  # fmt: skip
    assert list(history.history)[:3] == ["loss", "accuracy", "balanced_accuracy"]
    expected = sk.balanced_accuracy_score(y, predict(model, x).argmax(axis=1))
    assert history["balanced_accuracy"][0] == pytest.approx(expected)
    assert history["val_balanced_accuracy"][0] == pytest.approx(expected)


def test_a_callable_metric_is_computed_over_the_whole_epoch_not_averaged_per_batch():
    x, y = multi_task(n=50)
    model = nn.Sequential(nn.Linear(2, 4))
    calls = []

    def samples(y_pred, y_true):
        calls.append(len(y_pred))
        return float(len(y_true))

    history = fit(model, nn.CrossEntropyLoss(), frozen(model), (x, y), epochs=2, batch_size=8,
                  metrics=[samples], verbose=0)  # fmt: skip
    assert calls == [50, 50] and history["samples"] == [50.0, 50.0]


def test_a_metric_callable_without_a_usable_name_is_refused():
    model = nn.Sequential(nn.Linear(2, 4))
    with pytest.raises(ValueError, match="named by its __name__, and '<lambda>'"):
        fit(model, nn.CrossEntropyLoss(), frozen(model), multi_task(), epochs=1,
            metrics=[lambda p, t: 0.0], verbose=0)  # fmt: skip


def test_metric_names_used_twice_or_by_fit_are_refused():
    def loss(y_pred, y_true):
        return 0.0

    for metrics in (["accuracy", "accuracy"], [loss]):
        with pytest.raises(ValueError, match="used twice or by fit itself"):
            M.resolve(metrics, 0.5)


def test_an_unknown_metric_name_lists_the_available_ones():
    with pytest.raises(ValueError, match=r"unknown metric 'auc'; available: accuracy, top_k"):
        M.resolve(["auc"], 0.5)


# ----- the built-ins against scikit-learn ---------------------------------------------------------
BINARY = {
    "precision": lambda t, p, s: sk.precision_score(t, p, zero_division=0),
    "recall": lambda t, p, s: sk.recall_score(t, p, zero_division=0),
    "f1": lambda t, p, s: sk.f1_score(t, p, zero_division=0),
    "precision_macro": lambda t, p, s: sk.precision_score(t, p, average="macro", zero_division=0),
    "recall_macro": lambda t, p, s: sk.recall_score(t, p, average="macro", zero_division=0),
    "f1_macro": lambda t, p, s: sk.f1_score(t, p, average="macro", zero_division=0),
    "roc_auc": lambda t, p, s: sk.roc_auc_score(t, s),
    "accuracy": lambda t, p, s: sk.accuracy_score(t, p),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("loss", ["logits", "probabilities"])
def test_binary_metrics_over_an_epoch_of_batches_match_scikit_learn(name, loss):
    x, y = binary_task()
    cr.manual_seed(1)
    layers = [nn.Linear(3, 1)] + ([nn.Sigmoid()] if loss == "probabilities" else [])
    model = nn.Sequential(*layers)
    loss_fn = nn.BCEWithLogitsLoss() if loss == "logits" else nn.BCELoss()
    history = fit(model, loss_fn, frozen(model), (x, y), epochs=1, batch_size=16,
                  shuffle=False, metrics=[name], verbose=0)  # fmt: skip
    scores = predict(model, x).ravel()
    predicted = (scores > (0.0 if loss == "logits" else 0.5)).astype(int)
    expected = BINARY[name](y.ravel().astype(int), predicted, scores)
    assert history[name][0] == pytest.approx(expected, rel=1e-9)
    assert evaluate(model, loss_fn, (x, y), metrics=[name])[name] == pytest.approx(expected)


MULTI = {
    "precision_macro": lambda t, s: sk.precision_score(t, s.argmax(1), average="macro",
                                                       zero_division=0),
    "recall_macro": lambda t, s: sk.recall_score(t, s.argmax(1), average="macro", zero_division=0),
    "f1_macro": lambda t, s: sk.f1_score(t, s.argmax(1), average="macro", zero_division=0),
    "top_2_accuracy": lambda t, s: sk.top_k_accuracy_score(t, s, k=2),
    "top_3_accuracy": lambda t, s: sk.top_k_accuracy_score(t, s, k=3),
    "accuracy": lambda t, s: sk.accuracy_score(t, s.argmax(1)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(MULTI))
def test_multiclass_metrics_over_an_epoch_of_batches_match_scikit_learn(name):
    x, y = multi_task(classes=5)
    cr.manual_seed(2)
    model = nn.Sequential(nn.Linear(2, 5))
    history = fit(model, nn.CrossEntropyLoss(), frozen(model), (x, y), epochs=1, batch_size=7,
                  metrics=[name], verbose=0)  # fmt: skip
    expected = MULTI[name](y, predict(model, x))
    assert history[name][0] == pytest.approx(expected, rel=1e-9)


def test_binary_metrics_of_a_two_class_softmax_match_scikit_learn():
    x, y = binary_task()
    labels = y.ravel().astype(np.int64)
    model = nn.Sequential(nn.Linear(3, 2))
    names = ["precision", "recall", "f1", "roc_auc"]
    scores = evaluate(model, nn.CrossEntropyLoss(), (x, labels), metrics=names, batch_size=9)
    out = predict(model, x)
    predicted = out.argmax(axis=1)
    assert scores["precision"] == pytest.approx(sk.precision_score(labels, predicted))
    assert scores["recall"] == pytest.approx(sk.recall_score(labels, predicted))
    assert scores["f1"] == pytest.approx(sk.f1_score(labels, predicted))
    proba = np.exp(out) / np.exp(out).sum(axis=1, keepdims=True)
    assert scores["roc_auc"] == pytest.approx(sk.roc_auc_score(labels, proba[:, 1]))


def test_roc_auc_counts_tied_scores_half_as_scikit_learn_does():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=300).astype(float)  # many ties
    truth = (rng.random(300) < 0.4).astype(float)
    ours = M.roc_auc(scores.reshape(-1, 1), truth.reshape(-1, 1))
    assert ours == pytest.approx(sk.roc_auc_score(truth, scores))


def test_roc_auc_is_nan_when_the_targets_hold_one_class():
    assert np.isnan(M.roc_auc(np.array([[0.1], [0.9]]), np.array([[1.0], [1.0]])))


def test_macro_scores_take_one_hot_targets():
    rng = np.random.default_rng(0)
    out = rng.normal(size=(60, 3))
    labels = rng.integers(0, 3, size=60)
    one_hot = np.eye(3)[labels]
    fn = M.make_class_score("f1", "macro", None)
    assert fn(out, one_hot) == pytest.approx(sk.f1_score(labels, out.argmax(1), average="macro"))


def test_binary_precision_refuses_more_than_two_classes_naming_the_macro_form():
    model = nn.Sequential(nn.Linear(2, 4))
    with pytest.raises(ValueError, match="'precision' is binary .* use 'precision_macro'"):
        evaluate(model, nn.CrossEntropyLoss(), multi_task(), metrics=["precision"])


def test_top_k_accuracy_refuses_a_single_output():
    with pytest.raises(ValueError, match=r"top_2_accuracy needs outputs of shape \(N, C\)"):
        M.make_top_k_accuracy(2)(np.zeros((4, 1)), np.zeros((4, 1)))


def test_a_mid_epoch_resume_keeps_whole_epoch_metrics_bit_for_bit(tmp_path):
    def run(directory, resume=False, stop=None):
        x, y = binary_task(120)
        cr.manual_seed(0)
        model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
        callbacks = [] if stop is None else [stop]
        return fit(model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=0.05),
                   (x, y), epochs=3, batch_size=16, metrics=["precision", "roc_auc", "accuracy"],
                   checkpoint=directory, resume=resume, callbacks=callbacks, verbose=0)  # fmt: skip

    reference = run(tmp_path / "ref")

    def interrupt(trainer, batch, loss):
        if trainer.epoch == 2 and batch == 3:
            os.kill(os.getpid(), signal.SIGINT)

    cut = run(tmp_path / "cut", stop=LambdaCallback(on_batch_end=interrupt))
    assert cut.stopped_early == "interrupted"
    resumed = run(tmp_path / "cut", resume=True)
    for key in ("loss", "precision", "roc_auc", "accuracy"):
        assert resumed[key] == reference[key], key


# ----- logits or probabilities: said, never guessed ---------------------------------------------
class WrappedBCEWithLogits(nn.Module):
    """A custom loss around BCE-with-logits whose name says nothing of logits."""

    def forward(self, output, target):
        return nn.functional.binary_cross_entropy_with_logits(output, target)


def one_output_model():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 1))
    model[0].bias.numpy()[...] = -0.3  # logits mostly in (-0.5, 0.5): the thresholds disagree
    return model


def test_fit_does_not_guess_logits_from_the_loss_name_a_custom_wrapper_must_say():
    model = one_output_model()
    with pytest.raises(ValueError, match=r"Pass fit\(..., from_logits=True\) for logits"):
        fit(model, WrappedBCEWithLogits(), frozen(model), binary_task(), epochs=1, verbose=0)


def test_a_loss_named_with_logits_is_not_believed_for_its_name():
    def my_bce_with_logits(output, target):
        return nn.functional.binary_cross_entropy_with_logits(output, target)

    model = one_output_model()
    with pytest.raises(ValueError, match="pass fit|Pass fit"):
        fit(model, my_bce_with_logits, frozen(model), binary_task(), epochs=1, verbose=0)


def test_from_logits_true_splits_single_outputs_at_zero():
    x, y = binary_task()
    model = one_output_model()
    history = fit(model, WrappedBCEWithLogits(), frozen(model), (x, y), epochs=1,
                  from_logits=True, verbose=0)  # fmt: skip
    expected = np.mean((predict(model, x) > 0) == (y > 0.5))
    assert history["accuracy"][0] == pytest.approx(expected)
    assert expected != pytest.approx(np.mean((predict(model, x) > 0.5) == (y > 0.5)))


def test_a_loss_declaring_from_logits_is_believed():
    x, y = binary_task()
    model = one_output_model()
    loss_fn = WrappedBCEWithLogits()
    loss_fn.from_logits = True
    scores = evaluate(model, loss_fn, (x, y))
    assert scores["accuracy"] == pytest.approx(np.mean((predict(model, x) > 0) == (y > 0.5)))


@pytest.mark.parametrize(
    "loss_fn, expected",
    [
        (nn.BCEWithLogitsLoss(), True),
        (nn.CrossEntropyLoss(), True),
        (nn.functional.binary_cross_entropy_with_logits, True),
        (nn.BCELoss(), False),
        (nn.MSELoss(), False),
        (nn.functional.binary_cross_entropy, False),
        (WrappedBCEWithLogits(), None),
        (lambda o, t: o, None),
    ],
)
def test_known_chainrule_losses_say_whether_they_take_logits(loss_fn, expected):
    assert M.loss_from_logits(loss_fn) is expected


def test_an_unknown_loss_with_several_outputs_needs_no_from_logits():
    def custom(output, target):
        return nn.functional.cross_entropy(output, target)

    model = nn.Sequential(nn.Linear(2, 4))
    history = fit(model, custom, frozen(model), multi_task(), epochs=1, verbose=0)
    assert 0 <= history["accuracy"][0] <= 1


def test_from_logits_must_be_a_bool():
    model = one_output_model()
    with pytest.raises(TypeError, match="from_logits must be True, False or None"):
        fit(model, nn.BCELoss(), frozen(model), binary_task(), epochs=1, from_logits="yes")
