"""Export from the playground: the trained model (``.npz``, ONNX) and a Python script that
reproduces the run exactly.

The script rebuilds the data with the same calls (or embeds an uploaded CSV's points), seeds
chainrule as the session did, builds the same ``nn.Sequential`` and replays the run's schedule
(steps, learning rate, batch size, regularization, segment by segment) with the session's own
step code, copied in by :func:`inspect.getsource`. Its final weights equal the page's bit for
bit (``tests/test_playground_export.py`` runs it).

Files are written only into the export folder the server was given.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from chainrule.io import save
from chainrule.playground import training

ONNX_HINT = 'ONNX export needs the onnx extra: pip install "chainrule[onnx]"'
_MODULE_NAMES = {"Tanh": "nn.Tanh()", "ReLU": "nn.ReLU()", "Sigmoid": "nn.Sigmoid()"}


def _stem(session: Any) -> str:
    return f"playground-run{session.run.id}-step{session.step_count}"


def export_npz(session: Any, folder: Path) -> Path:
    """The model's state dict with :func:`chainrule.save` (load it with ``cr.load_into``)."""
    with session.lock:
        path = Path(folder) / f"{_stem(session)}.npz"
        save(session.model.state_dict(), path)
    return path


def export_onnx(session: Any, folder: Path) -> Path:
    """The model as ONNX; raises ImportError with the extra to install when onnx is missing."""
    try:
        from chainrule.interop.onnx import export
    except ImportError as err:  # pragma: no cover - the interop module itself imports lazily
        raise ImportError(ONNX_HINT) from err
    with session.lock:
        path = Path(folder) / f"{_stem(session)}.onnx"
        try:
            export(session.model, session.f_train[:1], path)
        except ImportError as err:
            raise ImportError(ONNX_HINT) from err
    return path


def export_script(session: Any, folder: Path) -> Path:
    """The reproduce-this-run script (see the module docstring)."""
    with session.lock:
        path = Path(folder) / f"{_stem(session)}.py"
        text = script_text(session)
    path.write_text(text, encoding="utf-8")
    return path


def _model_lines(session: Any) -> list[str]:
    """``nn.Sequential(...)`` written out module by module, exactly as build_model makes it."""
    lines = ["model = nn.Sequential("]
    for module in session.model:
        name = type(module).__name__
        if name == "Linear":
            lines.append(f"    nn.Linear({module.in_features}, {module.out_features}),")
        else:
            lines.append(f"    {_MODULE_NAMES[name]},")
    lines.append(").double()  # float64, as on the page")
    return lines


def _data_lines(session: Any) -> list[str]:
    c = session.config
    if c.dataset == "csv":
        x, y = session.raw_data()
        head = [
            "# The uploaded CSV's points, as the page scaled them onto the plane.",
            f"x = np.array({x.tolist()!r})",
            f"y = np.array({y.tolist()!r})",
        ]
    else:
        head = [
            f"x, y = make_dataset({c.dataset!r}, n={c.n_points}, noise={c.noise!r}, seed={c.seed})"
        ]
    return head + [
        f"x_train, y_train, x_test, y_test = split(x, y, train_ratio={c.train_ratio!r}, "
        f"seed={c.seed})",
        "f_train, f_test = features(x_train, FEATURES), features(x_test, FEATURES)",
    ]


def _header_lines(session: Any) -> list[str]:
    """The script's docstring and imports."""
    c = session.config
    widths = "-".join(map(str, [len(c.features), *c.hidden, 1]))
    steps = session.step_count
    return [
        f'"""Reproduce a chainrule playground run: {c.dataset}, network {widths} '
        f"({c.activation} hidden units), {steps} steps.",
        "",
        "Written by `chainrule playground`. It retrains from the same initial weights, on the",
        "same data, with the same batches and options, so it ends with the page's weights bit",
        "for bit.  Run:  python THIS_FILE.py [weights.npz]",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import sys",
        "",
        "import numpy as np",
        "",
        "import chainrule as cr",
        "from chainrule import Tensor, nn, optim, tensor",
        "from chainrule.playground.datasets import features, make_dataset, split",
        "",
    ]


def script_text(session: Any) -> str:
    """The source of the reproduce-this-run script for the session's current run."""
    c = session.config
    steps = session.step_count
    schedule = ",\n".join(f"    {tuple(seg)!r}" for seg in session.run.schedule)
    loss = "nn.BCELoss()" if session.problem == "classification" else "nn.MSELoss()"
    shared = "\n\n".join(
        inspect.getsource(obj) for obj in (training.Batches, training.penalty, training.train_step)
    )
    parts = [
        *_header_lines(session),
        f"INIT_SEED = {session.init_seed}  # initial weights and the order of the batches",
        f"FEATURES = {c.features!r}",
        "# Segments of the run: (steps, learning rate η, batch size, regularization, its rate λ)",
        f"SCHEDULE = [\n{schedule}\n]" if schedule else "SCHEDULE = []",
        "",
        *_data_lines(session),
        "",
        "",
        "# ----- the playground's training step (chainrule.playground.training) -----",
        shared.rstrip(),
        "",
        "",
        "cr.manual_seed(INIT_SEED)",
        *_model_lines(session),
        f"loss_fn = {loss}",
        f"optimizer = optim.SGD(model.parameters(), lr={c.learning_rate!r})",
        "batches = Batches(len(f_train), INIT_SEED)",
        "for steps, lr, batch_size, regularization, rate in SCHEDULE:",
        '    optimizer.param_groups[0]["lr"] = lr',
        "    for _ in range(steps):",
        "        idx = batches.next(batch_size)",
        "        train_step(model, loss_fn, optimizer, f_train[idx], y_train[idx], "
        "regularization, rate)",
        "",
        "with cr.no_grad():",
        "    train_loss = loss_fn(model(tensor(f_train)), y_train).item()",
        "    test_loss = loss_fn(model(tensor(f_test)), y_test).item()",
        f'print(f"after {steps} steps: train loss {{train_loss:.6f}}, '
        'test loss {test_loss:.6f}")',
        "if len(sys.argv) > 1:",
        "    cr.save(model.state_dict(), sys.argv[1])",
        '    print(f"weights saved to {sys.argv[1]}")',
        "",
    ]
    return "\n".join(parts)
