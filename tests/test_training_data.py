"""``fit``'s data options: ``validation_split`` as in Keras, and ``drop_last`` for a last batch
that cannot be trained (one sample into BatchNorm in training mode)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import data, nn, optim
from chainrule.training import LambdaCallback, evaluate, fit
from chainrule.training.loop import split_validation


def task(n=100, seed=0):
    x, y = data.blobs(n, centers=3, cluster_std=0.5, generator=seed)
    return x, y


def model_and_opt(seed=0, batchnorm=False):
    cr.manual_seed(seed)
    layers = [nn.Linear(2, 8)] + ([nn.BatchNorm1d(8)] if batchnorm else []) + [nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(8, 3))
    return model, optim.SGD(model.parameters(), lr=0.1)


# ----- validation_split --------------------------------------------------------------------------
def test_validation_split_holds_out_the_last_fraction_before_shuffling_as_keras():
    x, y = task()
    model, opt = model_and_opt()
    history = fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=2, validation_split=0.2,
                  verbose=0)  # fmt: skip
    assert {"val_loss", "val_accuracy"} <= set(history.history)
    # The validation scores are those of the last 20 rows, the model being the trained one.
    scores = evaluate(model, nn.CrossEntropyLoss(), (x[80:], y[80:]))
    assert history["val_loss"][-1] == pytest.approx(scores["loss"], rel=1e-6)
    assert history["val_accuracy"][-1] == pytest.approx(scores["accuracy"])


def test_validation_split_trains_on_the_first_rows_only():
    x, y = task()
    sizes = []
    model, opt = model_and_opt()
    probe = LambdaCallback(on_epoch_end=lambda t, e, logs: sizes.append(t.metrics.seen))
    fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=1, validation_split=0.25,
        callbacks=[probe], verbose=0)  # fmt: skip
    assert sizes == [75]


@pytest.mark.parametrize("n, fraction, cut", [(100, 0.2, 80), (10, 0.25, 7), (5, 0.5, 2)])
def test_validation_split_cuts_where_keras_does(n, fraction, cut):
    x, y = np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n)
    (xt, yt), (xv, yv) = split_validation((x, y), fraction)
    assert len(xt) == cut and np.array_equal(yt, np.arange(cut))
    assert np.array_equal(yv, np.arange(cut, n)) and np.array_equal(xv, x[cut:])


def test_validation_split_is_deterministic_whatever_the_seed():
    x, y = task()
    runs = []
    for _ in range(2):
        model, opt = model_and_opt(seed=4)
        runs.append(fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=2,
                        validation_split=0.3, verbose=0))  # fmt: skip
    assert runs[0]["val_loss"] == runs[1]["val_loss"] and runs[0]["loss"] == runs[1]["loss"]
    cr.manual_seed(123)
    first = split_validation((x, y), 0.3)
    cr.manual_seed(456)
    second = split_validation((x, y), 0.3)
    assert np.array_equal(first[1][0], second[1][0])


def test_validation_split_works_on_a_dataset():
    x, y = task()
    train, val = split_validation(data.TensorDataset(x, y), 0.1)
    assert len(train) == 90 and len(val) == 10
    np.testing.assert_array_equal(val[0][0], x[90])
    model, opt = model_and_opt()
    history = fit(model, nn.CrossEntropyLoss(), opt, data.TensorDataset(x, y), epochs=1,
                  validation_split=0.1, verbose=0)  # fmt: skip
    assert "val_loss" in history.history


def test_validation_split_refuses_a_dataloader_validation_too_and_bad_fractions():
    x, y = task()
    model, opt = model_and_opt()
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=10)
    with pytest.raises(TypeError, match="validation_split needs the training data as an"):
        fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=1, validation_split=0.2)
    with pytest.raises(ValueError, match="either validation or validation_split, not both"):
        fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=1, validation_split=0.2,
            validation=(x, y))  # fmt: skip
    for bad in (1.0, -0.1, True):
        with pytest.raises(ValueError, match=r"validation_split must be a number in \(0, 1\)"):
            split_validation((x, y), bad)
    with pytest.raises(ValueError, match="leaves 0 for training and 2 for validation"):
        split_validation((x[:2], y[:2]), 0.9)


# ----- drop_last ---------------------------------------------------------------------------------
def test_a_last_batch_of_one_sample_into_batchnorm_gets_a_message_naming_drop_last():
    x, y = task(n=33)
    model, opt = model_and_opt(batchnorm=True)
    message = (
        r"(?s)last batch of epoch 1 \(batch 3\) has 1 sample.*"
        r"BatchNorm1d needs more than 1 value.*Pass drop_last=True to fit"
    )
    with pytest.raises(ValueError, match=message):
        fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=1, batch_size=16, verbose=0)


def test_fit_accepts_drop_last_and_then_trains_with_batchnorm():
    x, y = task(n=33)
    model, opt = model_and_opt(batchnorm=True)
    batches = []
    probe = LambdaCallback(on_batch_end=lambda t, b, loss: batches.append(b))
    history = fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=2, batch_size=16,
                  drop_last=True, callbacks=[probe], verbose=0)  # fmt: skip
    assert batches == [1, 2, 1, 2] and len(history) == 2


def test_fit_with_drop_last_refuses_a_dataloader_built_without_it():
    x, y = task()
    model, opt = model_and_opt()
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=16)
    with pytest.raises(ValueError, match=r"build it with DataLoader\(..., drop_last=True\)"):
        fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=1, drop_last=True)


def test_dataloader_accepts_drop_last_for_fit():
    x, y = task(n=33)
    model, opt = model_and_opt(batchnorm=True)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=16, shuffle=True, drop_last=True)
    history = fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=1, drop_last=True, verbose=0)
    assert len(loader) == 2 and len(history) == 1


def test_an_error_on_a_full_batch_is_not_blamed_on_drop_last():
    x, y = task(n=33)
    model = nn.Sequential(nn.Linear(3, 3))  # wrong input width: every batch fails
    with pytest.raises(ValueError) as info:
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters()), (x, y), epochs=1,
            batch_size=16, verbose=0)  # fmt: skip
    assert "drop_last" not in str(info.value)
