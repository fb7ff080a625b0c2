"""A notebook run in a real Jupyter kernel: the bar, the graph, a plot and a summary display.

The notebook is built here from its cells (nbformat) and executed by nbclient in a kernel that
runs this interpreter (``sys.executable -m ipykernel_launcher``), through a kernel spec written
to a temporary folder, so the kernel sees this chainrule whatever other kernels are installed.
Skipped when the Jupyter packages (the ``test`` extra) are missing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

KERNEL = "chainrule-test"
WIDGET = "application/vnd.jupyter.widget-view+json"

CELLS = {
    "setup": """\
import sys
print(sys.executable)
import chainrule as cr
from chainrule import data, nn, optim

cr.manual_seed(0)
x, y = data.moons(64, noise=0.2, generator=0)
model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))""",
    "train": """\
history = cr.fit(
    model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-2), (x, y),
    epochs=2, batch_size=16, verbose=1,
)""",
    "graph": """\
loss = nn.CrossEntropyLoss()(model(cr.tensor(x[:4])), y[:4])
loss.backward()
cr.draw_graph(loss)""",
    "plot": """\
from chainrule.learn.plots import plot_history
plot_history(history)""",
    "summary": "model.summary((2,))",
}


def write_kernel_spec(root: Path) -> None:
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "chainrule tests", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list]:
    """Each cell's outputs, by the cell's name in CELLS, after one run of the notebook."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    root = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(root)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JUPYTER_PATH", str(root))  # searched before the system's kernel folders
        env.setenv("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's future default; no warning
        env.setenv("IPYTHONDIR", str(root / "ipython"))  # no user profile or startup files
        env.delenv("MPLBACKEND", raising=False)
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS.values()]
        client = nbclient.NotebookClient(
            notebook,
            kernel_name=KERNEL,
            timeout=120,
            allow_errors=True,  # every cell runs, so each test below reports on its own cell
            resources={"metadata": {"path": str(root)}},
        )
        client.execute()
    return {name: cell.outputs for name, cell in zip(CELLS, notebook.cells)}


def mime_types(cell_outputs: list) -> set[str]:
    return {mime for out in cell_outputs for mime in out.get("data", {})}


def test_the_kernel_runs_this_interpreter(outputs):
    import os

    (printed,) = [o.text.strip() for o in outputs["setup"] if o.output_type == "stream"]
    assert os.path.samefile(printed, sys.executable)


def test_fit_shows_a_widget_progress_bar_in_a_notebook(outputs):
    mimes = mime_types(outputs["train"])
    assert WIDGET in mimes, f"fit(verbose=1) in a kernel showed no widget bar, only {mimes}"


def test_fit_prints_the_epoch_lines_in_a_notebook(outputs):
    text = "".join(out.get("text", "") for out in outputs["train"] if out.output_type == "stream")
    assert "Epoch 1/2" in text and "Epoch 2/2" in text


def test_plot_displays_as_a_png_in_a_notebook_without_matplotlib_magic(outputs):
    assert "image/png" in mime_types(outputs["plot"])
    png = next(o["data"]["image/png"] for o in outputs["plot"] if "image/png" in o.get("data", {}))
    import base64

    assert base64.b64decode(png).startswith(b"\x89PNG")


def test_graph_displays_as_svg_or_a_readable_table_in_a_notebook(outputs):
    import shutil

    mimes = mime_types(outputs["graph"])
    if shutil.which("dot") is not None:
        assert "image/svg+xml" in mimes and "text/html" not in mimes
    else:
        assert "text/html" in mimes and "image/svg+xml" not in mimes
    plain = next(o["data"]["text/plain"] for o in outputs["graph"] if "data" in o)
    assert plain.startswith("Graph: ") and "CrossEntropy" in plain


def test_summary_displays_its_table_in_a_notebook(outputs):
    (result,) = [o for o in outputs["summary"] if o.output_type == "execute_result"]
    table = result["data"]["text/plain"]
    assert "Sequential: input (1, 2) float32 -> output (1, 2)" in table
    assert "Total params: 42" in table


def test_no_cell_raised(outputs):
    errors = [
        f"{name}: {o.ename}: {o.evalue}"
        for name, cell in outputs.items()
        for o in cell
        if o.output_type == "error"
    ]
    assert not errors, "\n".join(errors)
