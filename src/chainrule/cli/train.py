"""What ``chainrule train`` does: load a built-in dataset, build an MLP or CNN, fit it, save it.

Each step is a plain function so that examples and tests can reuse it: :func:`load_dataset`,
:func:`build_mlp`, :func:`build_cnn`, :func:`build_loss`, :func:`build_optimizer`, and
:func:`train_command`, which runs them in order from the command line's options.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from chainrule import data, nn, optim
from chainrule.cli.registry import ACTIVATION_MODULES, IMAGE_SHAPES, LOSS_MODULES, OPTIMIZER_CLASSES
from chainrule.io import atomic, save
from chainrule.random import manual_seed
from chainrule.training import evaluate, fit
from chainrule.training.monitor import GradientMonitor


class Task:
    """A dataset ready to train on: arrays plus what kind of problem it is.

    ``x_*`` are float32 of shape (n, features); ``y_*`` are int64 class indices of shape (n,)
    for classification (``classes`` > 0) or float32 targets of shape (n, k) for regression.
    """

    def __init__(
        self,
        name: str,
        x: np.ndarray,
        y: np.ndarray,
        classes: int,
        x_test: np.ndarray | None = None,
        y_test: np.ndarray | None = None,
    ) -> None:
        self.name, self.x, self.y, self.classes = name, x, y, classes
        self.x_test, self.y_test = x_test, y_test


def load_dataset(name: str, data_dir: Path | None = None, seed: int = 0) -> Task:
    """The built-in dataset ``name`` as a :class:`Task` (MNIST reads ``data_dir``)."""
    gen = np.random.default_rng(seed)
    if name == "xor":
        x, y = data.xor()
        return Task(name, x, y[:, 0].astype(np.int64), 2)
    if name == "moons":
        return Task(name, *data.moons(1000, noise=0.2, generator=gen), 2)
    if name == "circles":
        return Task(name, *data.circles(1000, noise=0.08, generator=gen), 2)
    if name == "spirals":
        return Task(name, *data.spirals(1500, noise=0.05, arms=3, generator=gen), 3)
    if name == "blobs":
        return Task(name, *data.blobs(1000, centers=4, generator=gen), 4)
    if name == "sine":
        return Task(name, *data.sine(1000, noise=0.05, generator=gen), 0)
    if name == "digits":
        return Task(name, *data.digits(), 10)
    if name == "mnist":
        root = data_dir if data_dir is not None else data.default_cache_dir()
        try:
            x, y = data.mnist(root, train=True, flatten=True)
        except FileNotFoundError:
            x, y = data.mnist_5k(root, flatten=True)  # the 5,000-digit training subset
        x_test, y_test = data.mnist(root, train=False, flatten=True)
        return Task(name, x, y, 10, x_test, y_test)
    raise ValueError(f"unknown dataset {name!r}")


def build_mlp(n_in: int, hidden: list[int], n_out: int, activation: str) -> nn.Sequential:
    """Linear → activation for each hidden width, then a final Linear to ``n_out`` outputs."""
    layers: list[nn.Module] = []
    width = n_in
    for h in hidden:
        layers += [nn.Linear(width, h), ACTIVATION_MODULES[activation]()]
        width = h
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def build_cnn(image_shape: tuple[int, int], n_out: int, activation: str) -> nn.Sequential:
    """Two stages of 3×3 conv (1→16, 16→32 channels, padding 1) → activation → 2×2 max-pool,
    then flatten and a Linear to ``n_out``: input ``(N, 1, H, W)``, H and W at least 4."""
    act = ACTIVATION_MODULES[activation]
    h, w = image_shape
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        act(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        act(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * (h // 2 // 2) * (w // 2 // 2), n_out),
    )


def as_images(x: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """Rows of ``H·W`` pixels as one-channel images ``(n, 1, H, W)`` (a view, no copy)."""
    return x.reshape(len(x), 1, *image_shape)


def build_loss(loss: str, task: Task) -> tuple[Any, int, np.ndarray]:
    """The loss module, the number of model outputs, and the targets shaped for that loss."""
    if task.classes == 0:
        if loss in ("cross_entropy", "bce"):
            raise ValueError(
                f"--loss {loss} needs a classification dataset; {task.name} is a "
                "regression (use mse, l1 or huber)"
            )
        return LOSS_MODULES[loss](), task.y.shape[1], task.y
    if loss == "cross_entropy":
        return LOSS_MODULES[loss](), task.classes, task.y
    if loss == "bce":
        if task.classes != 2:
            raise ValueError(f"--loss bce needs two classes; {task.name} has {task.classes}")
        return LOSS_MODULES[loss](), 1, task.y.astype(np.float32).reshape(-1, 1)
    one_hot = np.eye(task.classes, dtype=np.float32)[task.y]
    return LOSS_MODULES[loss](), task.classes, one_hot


def build_optimizer(name: str, model: nn.Module, lr: float) -> optim.Optimizer:
    """The optimizer ``name`` over the model's parameters with learning rate ``lr``."""
    return OPTIMIZER_CLASSES[name](model.parameters(), lr=lr)


def split(x: np.ndarray, y: np.ndarray, fraction: float, seed: int):
    """Shuffle and hold out ``fraction`` of the rows: ((x_train, y_train), (x_val, y_val) or
    None)."""
    n_val = int(round(len(x) * fraction))
    if n_val == 0:
        return (x, y), None
    order = np.random.default_rng(seed).permutation(len(x))
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def train_command(opts: dict[str, Any], data_dir: Path | None, out: Path, verbose: int = 1) -> dict:
    """Run ``chainrule train`` with resolved options; returns the final metrics per split."""
    manual_seed(opts["seed"])
    task = load_dataset(opts["data"], data_dir, opts["seed"])
    loss_fn, n_out, targets = build_loss(opts["loss"], task)
    if opts.get("model", "mlp") == "cnn":
        if task.name not in IMAGE_SHAPES:
            raise ValueError(f"--model cnn needs an image dataset; {task.name} is not one")
        shape = IMAGE_SHAPES[task.name]
        task.x = as_images(task.x, shape)
        if task.x_test is not None:
            task.x_test = as_images(task.x_test, shape)
        model = build_cnn(shape, n_out, opts["activation"])
        description = f"CNN 1x{shape[0]}x{shape[1]} conv16-conv32-{n_out}"
    else:
        model = build_mlp(task.x.shape[1], opts["hidden"], n_out, opts["activation"])
        description = f"{task.x.shape[1]}-{'-'.join(map(str, opts['hidden']))}-{n_out}"
    optimizer = build_optimizer(opts["optimizer"], model, opts["lr"])
    metrics = ("accuracy",) if task.classes else ("mae",)
    train, val = split(task.x, targets, opts["val_split"], opts["seed"])
    if verbose:
        print(
            f"chainrule train: {task.name}, {len(train[0])} training samples"
            + (f", {len(val[0])} validation" if val else "")
            + f"; model {description} "
            f"{opts['activation']}, {opts['loss']}, {opts['optimizer']} lr={opts['lr']}"
        )
    # The options first, so that `chainrule train --resume OUT` can rebuild the same run.
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / "config.json", opts)
    monitor = GradientMonitor(warn=False) if opts.get("monitor") else None
    history = fit(
        model,
        loss_fn,
        optimizer,
        train,
        epochs=opts["epochs"],
        batch_size=opts["batch_size"],
        validation=val,
        metrics=metrics,
        callbacks=[monitor] if monitor is not None else (),
        checkpoint=out,
        resume=bool(opts.get("resume")),
        verbose=2 if verbose and opts["epochs"] > 100 else verbose,
    )
    if monitor is not None:
        print("gradient health per layer (last epoch):\n" + monitor.report())
    results = {"train": evaluate(model, loss_fn, train, metrics=metrics)}
    if val is not None:
        results["validation"] = evaluate(model, loss_fn, val, metrics=metrics)
    if task.x_test is not None:
        _, _, test_targets = build_loss(
            opts["loss"], Task(task.name, task.x_test, task.y_test, task.classes)
        )
        results["test"] = evaluate(model, loss_fn, (task.x_test, test_targets), metrics=metrics)
    print(_table(results))
    if opts.get("plots"):
        from chainrule.learn.plots import save_all  # matplotlib only when pictures are asked for

        is_image_mlp = task.name in IMAGE_SHAPES and opts.get("model", "mlp") == "mlp"
        paths = save_all(
            opts["plots"],
            history=history,
            model=model,
            x=train[0][:2000],
            y=train[1][:2000] if task.classes else None,
            monitor=monitor,
            image_shape=IMAGE_SHAPES[task.name] if is_image_mlp else None,
        )
        print("pictures: " + ", ".join(str(p) for p in paths))
    save(model.state_dict(), out / "weights.npz")
    _write_json(out / "history.json", history.to_dict())
    _write_json(out / "config.json", {**opts, "results": results})
    return results


def _table(results: dict[str, dict[str, float]]) -> str:
    names = list(next(iter(results.values())))
    lines = [f"{'':12}" + "".join(f"{n:>12}" for n in names)]
    for split_name, values in results.items():
        lines.append(f"{split_name:12}" + "".join(f"{values[n]:>12.4f}" for n in names))
    return "\n".join(lines)


def _write_json(path: Path, value: Any) -> None:
    atomic.write_bytes(path, (json.dumps(value, indent=2) + "\n").encode())
