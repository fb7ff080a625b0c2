"""chainrule.learn.plots: every picture is written and is not blank (skipped without matplotlib)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import chainrule as cr
from chainrule import data, nn, optim
from chainrule.training.monitor import GradientMonitor


def test_import_chainrule_does_not_import_matplotlib():
    code = "import sys, chainrule, chainrule.training.monitor, chainrule.learn, "
    code += "chainrule.learn.plots; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.fixture
def trained():
    pytest.importorskip("matplotlib")
    cr.manual_seed(0)
    x, y = data.moons(200, noise=0.2, generator=0)
    model = nn.Sequential(
        nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 2)
    )
    monitor = GradientMonitor(warn=False)
    history = cr.fit(
        model,
        nn.CrossEntropyLoss(),
        optim.Adam(model.parameters(), lr=1e-2),
        (x[:160], y[:160]),
        validation=(x[160:], y[160:]),
        epochs=5,
        callbacks=[monitor],
        verbose=0,
    )
    return model, x, y, history, monitor


def not_blank(path):
    from matplotlib.image import imread

    pixels = imread(path)
    assert pixels.ndim == 3 and pixels.var() > 1e-3, f"{path} looks blank"


def test_save_all_writes_non_blank_pngs(trained, tmp_path):
    from chainrule.learn.plots import save_all

    model, x, y, history, monitor = trained
    paths = save_all(tmp_path, history=history, model=model, x=x, y=y, monitor=monitor)
    assert sorted(p.name for p in paths) == [
        "activations.png",
        "decision_boundary.png",
        "gradient_flow.png",
        "history.png",
    ]
    for path in paths:
        not_blank(path)


def test_first_layer_weights_as_images(tmp_path):
    pytest.importorskip("matplotlib")
    from chainrule.learn.plots import plot_first_layer_weights, save_all

    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 10), nn.ReLU(), nn.Linear(10, 10))
    (path,) = save_all(tmp_path, model=model, image_shape=(8, 8))
    not_blank(path)
    with pytest.raises(ValueError, match="64 inputs"):
        plot_first_layer_weights(model, (7, 7))


def test_figures_are_returned(trained):
    from matplotlib.figure import Figure

    from chainrule.learn.plots import plot_decision_boundary, plot_gradient_flow, plot_history

    model, x, y, history, monitor = trained
    assert isinstance(plot_history(history), Figure)
    assert isinstance(plot_gradient_flow(monitor), Figure)
    assert isinstance(plot_decision_boundary(model, x, y), Figure)


def test_missing_matplotlib_names_the_extra(monkeypatch):
    import chainrule.learn.plots as plots

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[plot\]"'):
        plots.plot_history({"loss": [1.0]})


def test_plots_render_as_png_in_a_notebook_without_matplotlib_magic(trained):
    formatters = pytest.importorskip("IPython.core.formatters")
    from chainrule.learn.plots import plot_gradient_flow, plot_history

    _, _, _, history, monitor = trained
    for fig in (plot_history(history), plot_gradient_flow(monitor)):
        data, _ = formatters.DisplayFormatter().format(fig)
        assert "image/png" in data and data["image/png"].startswith(b"\x89PNG")


def test_plot_figures_pickle_and_load_in_a_fresh_process(tmp_path):
    pytest.importorskip("matplotlib")
    import pickle

    from chainrule.learn.plots import plot_history

    path = tmp_path / "figure.pickle"
    path.write_bytes(pickle.dumps(plot_history({"loss": [1.0, 0.5]})))
    code = (
        "import pickle, sys; fig = pickle.loads(open(sys.argv[1], 'rb').read()); "
        "print(type(fig).__name__, fig._repr_png_()[:4] == b'\\x89PNG')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["InlineFigure", "True"]


def test_activation_histograms_leave_batch_norm_statistics_and_the_mode_alone():
    pytest.importorskip("matplotlib")
    from chainrule.learn.plots import plot_activation_histograms

    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
    before = {k: v.copy() for k, v in model.state_dict().items()}
    x, _ = data.moons(300, generator=0)  # more than one predict() batch
    fig = plot_activation_histograms(model, x)
    assert model.training
    assert all((model.state_dict()[k] == v).all() for k, v in before.items())
    (ax,) = fig.axes
    assert sum(p.get_height() for p in ax.patches) == 300 * 4  # every batch counted
