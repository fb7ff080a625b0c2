"""chainrule.interop.sklearn: real scikit-learn estimators (check_estimator, Pipeline, ...)."""

import importlib
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr

sklearn = pytest.importorskip("sklearn")

from sklearn.datasets import make_blobs, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from chainrule.interop.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

# Short runs stop at max_iter before the loss settles: scikit-learn's warning for that is expected.
no_convergence_warning = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@no_convergence_warning
@parametrize_with_checks(
    [MLPClassifier((32,), random_state=0), MLPRegressor((32,), random_state=0)]
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def blobs(n=240, centers=3, seed=0):
    X, y = make_blobs(n, centers=centers, random_state=seed)
    return StandardScaler().fit_transform(X), y


@no_convergence_warning
@pytest.mark.parametrize("centers", [2, 4])
def test_classifier_attributes_follow_scikit_learn(centers):
    X, y = blobs(centers=centers)
    labels = np.array(["ant", "bee", "cat", "dog"])[y]
    clf = MLPClassifier((16, 8), max_iter=40, learning_rate_init=0.01, random_state=0)
    clf.fit(X, labels)
    n_out = 1 if centers == 2 else centers
    assert [c.shape for c in clf.coefs_] == [(2, 16), (16, 8), (8, n_out)]
    assert [b.shape for b in clf.intercepts_] == [(16,), (8,), (n_out,)]
    assert clf.out_activation_ == ("logistic" if centers == 2 else "softmax")
    assert list(clf.classes_) == sorted(set(labels)) and clf.n_features_in_ == 2
    assert clf.n_layers_ == 4 and clf.n_outputs_ == n_out and clf.t_ == 40 * len(X)
    assert len(clf.loss_curve_) == clf.n_iter_ == 40
    assert clf.best_loss_ == min(clf.loss_curve_) and clf.validation_scores_ is None
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), centers)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert clf.score(X, labels) > 0.9
    # model_ is the chainrule network: its logits give the same probabilities.
    logits = clf.model_(cr.tensor(X)).numpy()
    if centers == 2:
        np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-logits[:, 0])))
    else:
        np.testing.assert_allclose(proba.argmax(axis=1), logits.argmax(axis=1))
    # coefs_ are views: scikit-learn code that edits them in place edits the model.
    clf.coefs_[-1][...] = 0
    clf.intercepts_[-1][...] = 0
    np.testing.assert_allclose(clf.predict_proba(X), 1 / centers)


def test_partial_fit_keeps_the_optimizer_state():
    X, y = blobs()
    # Three partial_fit calls are three epochs of one run: equal to fit with max_iter=3, which
    # only holds if Adam's moments carry over between calls.
    steps = MLPClassifier((8,), random_state=0, batch_size=50)
    steps.partial_fit(X, y, classes=[0, 1, 2])
    optimizer = steps._optimizer
    steps.partial_fit(X, y)
    steps.partial_fit(X, y)
    assert steps._optimizer is optimizer and steps.n_iter_ == 3
    with pytest.warns(ConvergenceWarning):
        whole = MLPClassifier((8,), random_state=0, batch_size=50, max_iter=3).fit(X, y)
    for a, b in zip(steps.coefs_, whole.coefs_):
        np.testing.assert_array_equal(a, b)
    assert steps.loss_curve_ == whole.loss_curve_


def test_partial_fit_class_checks():
    X, y = blobs()
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        MLPClassifier().partial_fit(X, y)
    clf = MLPClassifier((4,)).partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    assert list(clf.classes_) == [0, 1, 2] and clf.coefs_[-1].shape == (4, 3)
    with pytest.raises(ValueError, match="is not the same as on the first call"):
        clf.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X, y + 5)


def test_early_stopping_keeps_the_best_validation_epoch():
    X, y = blobs(400)
    clf = MLPClassifier(
        (16,),
        early_stopping=True,
        n_iter_no_change=5,
        learning_rate_init=0.01,
        max_iter=500,
        random_state=0,
    ).fit(X, y)
    assert clf.best_loss_ is None and len(clf.validation_scores_) == clf.n_iter_ < 500
    assert clf.best_validation_score_ == max(clf.validation_scores_) > 0.9


@no_convergence_warning
def test_warm_start_continues_from_the_fitted_weights():
    X, y = blobs()
    clf = MLPClassifier((8,), max_iter=5, warm_start=True, random_state=0).fit(X, y)
    before = [c.copy() for c in clf.coefs_]
    clf.fit(X, y)
    assert clf.n_iter_ == 10 and len(clf.loss_curve_) == 10
    assert clf.loss_curve_[5] < clf.loss_curve_[0]
    assert not np.array_equal(before[0], clf.coefs_[0])


@no_convergence_warning
@pytest.mark.parametrize("loss", ["squared_error", "absolute_error", "huber"])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_regressor_multi_output(loss, solver):
    X, y = make_regression(200, 5, n_targets=2, noise=1, random_state=0)
    y = StandardScaler().fit_transform(y)
    reg = MLPRegressor(
        (32,), solver=solver, loss=loss, learning_rate_init=0.01, max_iter=150, random_state=0
    ).fit(X, y)
    assert reg.predict(X).shape == (200, 2) and reg.out_activation_ == "identity"
    assert reg.score(X, y) > 0.9


def test_float32_input_trains_a_float32_network():
    X, y = blobs()
    clf = MLPClassifier((8,), max_iter=20, tol=10.0, random_state=0).fit(X.astype(np.float32), y)
    assert clf.coefs_[0].dtype == np.float32
    assert MLPClassifier((8,), max_iter=20, tol=10.0).fit(X, y).coefs_[0].dtype == np.float64


@pytest.mark.parametrize(
    "params, message",
    [
        ({"hidden_layer_sizes": (4, 0)}, "hidden_layer_sizes"),
        ({"activation": "softsign"}, "activation"),
        ({"solver": "lbfgs"}, "solver"),
        ({"batch_size": 0}, "batch_size"),
        ({"dropout": 1.0}, "dropout"),
        ({"validation_fraction": 0.0}, "validation_fraction"),
        ({"loss": "hinge"}, "loss"),
        ({"max_iter": 0}, "max_iter"),
    ],
)
def test_bad_parameters_raise_at_fit(params, message):
    X, y = blobs(30)
    clf = MLPClassifier(**params)  # scikit-learn's rule: the constructor never raises
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)


@no_convergence_warning
def test_pipeline_and_parallel_grid_search():
    X, y = make_blobs(150, centers=3, random_state=1)
    X = X * 10  # the scaler in the pipeline has real work to do
    pipe = make_pipeline(
        StandardScaler(), MLPClassifier(max_iter=60, learning_rate_init=0.01, random_state=0)
    )
    grid = {"mlpclassifier__hidden_layer_sizes": [(4,), (16,)], "mlpclassifier__alpha": [1e-4, 1]}
    search = GridSearchCV(pipe, grid, cv=3, n_jobs=2, error_score="raise").fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_score_ > 0.9 and search.score(X, y) > 0.9


def test_import_chainrule_does_not_import_optional_packages():
    code = (
        "import sys, chainrule, chainrule.interop.onnx, chainrule.interop\n"
        "loaded = {'sklearn', 'onnx', 'onnxruntime', 'safetensors', 'torch'} & set(sys.modules)\n"
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_missing_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.delitem(sys.modules, "chainrule.interop.sklearn")
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn...` fail
    monkeypatch.setitem(sys.modules, "sklearn.base", None)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[sklearn\]"'):
        importlib.import_module("chainrule.interop.sklearn")
