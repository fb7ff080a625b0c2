"""The playground's Python side without a server: data sets and CSV validation, training and
runs, the gradient panel against autograd and central differences, divergence explained,
exports (the script reruns to the same weights bit for bit), and the command line."""

from __future__ import annotations

import argparse
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli.playground import add_playground_parser
from chainrule.playground import datasets, export, view
from chainrule.playground.datasets import CSVError, parse_csv
from chainrule.playground.session import ConfigError, Session


# ----- data ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", datasets.DATASETS)
def test_every_dataset_is_on_the_plane_and_reproducible(name):
    x, y = datasets.make_dataset(name, 200, noise=0.3, seed=5)
    assert x.shape == (200, 2) and y.shape == (200, 1) and x.dtype == np.float64
    assert np.abs(x).max() <= datasets.PLANE
    if name in datasets.CLASSIFICATION:
        assert set(np.unique(y)) == {0.0, 1.0}
    x2, y2 = datasets.make_dataset(name, 200, noise=0.3, seed=5)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)


def test_features_are_the_issues_seven():
    p = np.array([[1.0, 2.0]])
    f = datasets.features(p, list(datasets.FEATURES))
    assert f.tolist() == [[1.0, 2.0, 1.0, 4.0, 2.0, np.sin(1.0), np.sin(2.0)]]
    assert [v[0] for v in datasets.FEATURES.values()] == [
        "x₁", "x₂", "x₁²", "x₂²", "x₁x₂", "sin x₁", "sin x₂",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "text, message",
    [
        (b"", "at least 4 data rows; found 0"),
        (b"a,b,c\n1,2,3\n", "at least 4 data rows; found 1"),
        (b"1,2\n3,4\n5,6\n7,8\n", "line 1: expected 3 columns (x1, x2, label); found 2"),
        (b"1,2,0\n3,4,1\n5,six,0\n7,8,1\n", "line 3: 'six' is not a number"),
        (b"1,2,0\n3,4,1\n5,nan,0\n7,8,1\n", "line 3: 'nan' is not a number"),
        (b"1,2,1\n3,4,1\n5,6,1\n7,8,1\n", "every label is 1: nothing to learn"),
        (b"\xff\xfe1,2,3", "not UTF-8"),
        (b"1,2,0\n" * 5001, "at most 5000 rows"),
    ],
)
def test_csv_validation_messages(text, message):
    with pytest.raises(CSVError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_csv(text)


def test_csv_reading_classification_and_regression():
    x, y, problem, note = parse_csv(b"x1;x2;label\n0;0;-1\n10;0;1\n0;5;1\n10;5;-1\n")
    assert problem == "classification" and y.ravel().tolist() == [0, 1, 1, 0]
    assert "label -1 → class 0" in note
    assert np.allclose(np.abs(x).max(axis=0), 0.9 * datasets.PLANE)
    _, y, problem, _ = parse_csv(b"0,0,0.5\n1,0,0.25\n0,1,2\n1,1,3\n")
    assert problem == "regression" and y.ravel().tolist() == [0.5, 0.25, 2, 3]


# ----- training and runs ------------------------------------------------------------------------
def test_options_validation_and_runs():
    s = Session()
    with pytest.raises(ConfigError, match="learning_rate"):
        s.update({"learning_rate": 0})
    with pytest.raises(ConfigError, match="no CSV"):
        s.update({"dataset": "csv"})
    s.update({"dataset": "xor", "hidden": [3, 2], "features": ["x1x2", "x1"]})
    assert s.config.features == ["x1", "x1x2"]  # the page's order
    assert view.network(s)["widths"] == [2, 3, 2, 1]
    s.update({"learning_rate": 0.3})  # not structural: the same run goes on
    assert len(s.runs) == 2
    s.step(30)
    assert s.batches.epoch == 1 and s.run.points[-1][0] == 30  # 250 points, batches of 10
    s.update({"problem": "regression"})
    assert s.problem == "regression" and s.config.dataset == "reg-plane"


def test_reset_to_the_same_init_replays_the_same_run():
    s = Session()
    s.update({"dataset": "moons"})
    first = [p.copy() for p in s.model.state_dict().values()]
    s.step(40)
    after = s.model.state_dict()
    s.control("reset-same-init")
    assert all(np.array_equal(a, b) for a, b in zip(first, s.model.state_dict().values()))
    s.step(40)
    assert all(np.array_equal(after[k], v) for k, v in s.model.state_dict().items())
    s.control("reset")
    assert not np.array_equal(first[0], s.model.state_dict()["0.weight"])
    assert [r.id for r in s.runs][-3:] == [2, 3, 4]


def test_regression_trains_and_frames_are_valid_json():
    import json

    s = Session()
    s.update({"dataset": "reg-gauss", "learning_rate": 0.1, "activation": "relu"})
    start = s.train_loss
    s.step(300)
    assert s.train_loss < start
    frame = view.clean(view.frame(s))
    json.dumps(frame, allow_nan=False)
    widths = [2, 4, 4, 1]
    assert set(frame["heatmaps"]) == {f"{i}-{j}" for i, w in enumerate(widths) for j in range(w)}


# ----- the gradient panel -----------------------------------------------------------------------
@pytest.mark.parametrize("regularization", ["none", "l1", "l2"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
def test_panel_gradients_agree_three_ways(activation, regularization):
    s = Session()
    s.update(
        {
            "dataset": "spiral",
            "activation": activation,
            "regularization": regularization,
            "reg_rate": 0.01,
            "features": ["x1", "x2", "sin1"],
            "hidden": [3, 2],
        }
    )
    s.step(7)
    for sel in [
        {"kind": "neuron", "layer": 1, "index": 2},
        {"kind": "neuron", "layer": 3, "index": 0},
        {"kind": "weight", "layer": 1, "from": 2, "to": 1},
        {"kind": "weight", "layer": 3, "from": 1, "to": 0},
    ]:
        s.select(sel)
        check = view.frame(s)["panel"]["check"]
        assert check["delta_rule"] == pytest.approx(check["autograd"], abs=1e-12)
        assert check["numeric"] == pytest.approx(check["autograd"], abs=1e-7)


def test_panel_update_line_is_the_real_update():
    s = Session()
    s.update({"learning_rate": 0.1})
    s.select({"kind": "weight", "layer": 2, "from": 0, "to": 3})
    preview = view.frame(s)["panel"]
    assert preview["preview"] and "next step" in preview["heading"]
    s.step(1)
    panel = view.frame(s)["panel"]
    before = s.last.before[2][3, 0]
    assert s.linears[1].weight.numpy()[3, 0] == before - 0.1 * panel["check"]["autograd"]
    assert panel["check"]["autograd"] == preview["check"]["autograd"]
    assert any("W⁽²⁾₄₁ ←" in line for line in panel["update"])
    s.select({"kind": "neuron", "layer": 0, "index": 1})
    assert view.frame(s)["panel"]["check"] is None  # inputs have no gradient
    with pytest.raises(ValueError, match="no such neuron"):
        s.select({"kind": "neuron", "layer": 1, "index": 9})


def test_health_speaks_in_words():
    s = Session()
    s.update({"activation": "sigmoid", "hidden": [8, 8, 8, 8, 8, 8], "learning_rate": 0.01})
    s.step(60)
    health = view.frame(s)["health"]
    assert health["rows"] and health["findings"]
    assert any("vanishing gradients" in f or "saturated" in f for f in health["findings"])


def test_divergence_names_the_first_nonfinite_value():
    s = Session()
    s.update(
        {"dataset": "reg-gauss", "learning_rate": 3.0, "activation": "relu", "hidden": [8, 8, 8]}
    )
    s.control("play")
    s.step(500)
    d = s.divergence
    assert d is not None and not s.playing and s.step_count < 500
    assert "first value that stopped being a finite number" in d["message"]
    assert any("lower the learning rate" in a for a in d["advice"])
    s.control("play")
    assert not s.playing  # stays paused until a reset
    s.control("reset")
    assert s.divergence is None


# ----- exports ------------------------------------------------------------------------------------
def rerun(script, tmp_path):
    out = tmp_path / "rerun.npz"
    done = subprocess.run(
        [sys.executable, str(script), str(out)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return cr.load(out), done.stdout


def test_exported_script_reproduces_the_run_bit_for_bit(tmp_path):
    s = Session()
    s.update({"dataset": "circle", "noise": 0.2, "features": ["x1", "x2", "x1sq", "x2sq"]})
    s.control("reset")  # a run whose init seed is not 0
    s.step(25)
    s.update({"learning_rate": 0.3, "batch_size": 7, "regularization": "l1", "reg_rate": 0.003})
    s.step(31)
    s.update({"regularization": "l2", "batch_size": 30})
    s.step(12)
    assert len(s.run.schedule) == 3
    weights, stdout = rerun(export.export_script(s, tmp_path), tmp_path)
    for key, value in s.model.state_dict().items():
        np.testing.assert_array_equal(weights[key], value)
    assert f"train loss {s.train_loss:.6f}" in stdout


def test_exported_script_for_regression_and_linear_units(tmp_path):
    s = Session()
    s.update({"dataset": "reg-plane", "activation": "linear", "hidden": [2]})
    s.step(20)
    weights, _ = rerun(export.export_script(s, tmp_path), tmp_path)
    for key, value in s.model.state_dict().items():
        np.testing.assert_array_equal(weights[key], value)


def test_npz_and_onnx_exports(tmp_path):
    s = Session()
    s.step(3)
    path = export.export_npz(s, tmp_path)
    assert path.parent == tmp_path and path.suffix == ".npz"
    model = cr.nn.Sequential(*list(s.model)).double()
    cr.load_into(model, path)
    pytest.importorskip("onnx")
    path = export.export_onnx(s, tmp_path)
    assert path.suffix == ".onnx" and path.stat().st_size > 0


def test_onnx_export_names_the_extra_when_onnx_is_missing(tmp_path, monkeypatch):
    import chainrule.interop.onnx as onnx_module

    def missing():
        raise ImportError("No module named 'onnx'")

    monkeypatch.setattr(onnx_module, "_import_onnx", missing)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[onnx\]"'):
        export.export_onnx(Session(), tmp_path)


# ----- the command line ---------------------------------------------------------------------------
def test_cli_parser():
    parser = argparse.ArgumentParser(prog="chainrule")
    add_playground_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["playground", "--port", "8123", "--no-browser"])
    assert args.port == 8123 and args.no_browser and callable(args.run)


def test_cli_prints_the_url_with_the_token(tmp_path):
    command = [sys.executable, "-m", "chainrule.cli.playground", "--no-browser"]
    with subprocess.Popen(
        [*command, "--export-dir", str(tmp_path)], stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            line = proc.stdout.readline()
            assert line.startswith("chainrule playground: http://127.0.0.1:")
            assert "/?token=" in line
        finally:
            proc.terminate()
            proc.wait(timeout=10)
