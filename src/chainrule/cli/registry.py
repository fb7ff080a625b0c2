"""The one list of what the ``chainrule`` command knows: datasets, models, activations, losses
and optimizers.

The parser's choices, ``chainrule train`` and ``chainrule explain`` all read these tables, so a
name added here is offered, validated and built everywhere at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from chainrule import nn, optim


@dataclass(frozen=True)
class Defaults:
    """What ``chainrule train --data NAME`` uses when an option is not given."""

    hidden: str
    activation: str
    loss: str
    optimizer: str
    lr: float
    epochs: int
    batch_size: int
    val_split: float


@dataclass(frozen=True)
class DatasetInfo:
    """A built-in dataset: its number of classes (0 for regression), its training defaults, and
    its image shape (H, W) when its rows are images."""

    classes: int
    defaults: Defaults
    image_shape: tuple[int, int] | None = None


DATASETS_INFO: dict[str, DatasetInfo] = {
    "xor": DatasetInfo(2, Defaults("4", "sigmoid", "bce", "sgd", 3.0, 1000, 4, 0.0)),
    "moons": DatasetInfo(2, Defaults("32,32", "relu", "cross_entropy", "adam", 1e-2, 60, 32, 0.2)),
    "circles": DatasetInfo(
        2, Defaults("32,32", "relu", "cross_entropy", "adam", 1e-2, 60, 32, 0.2)
    ),
    "spirals": DatasetInfo(
        3, Defaults("64,64", "relu", "cross_entropy", "adam", 1e-2, 150, 32, 0.2)
    ),
    "blobs": DatasetInfo(4, Defaults("16", "relu", "cross_entropy", "adam", 1e-2, 30, 32, 0.2)),
    "sine": DatasetInfo(0, Defaults("64,64", "tanh", "mse", "adam", 1e-2, 200, 32, 0.2)),
    "digits": DatasetInfo(
        10, Defaults("64", "relu", "cross_entropy", "adam", 1e-3, 40, 32, 0.2), (8, 8)
    ),
    "mnist": DatasetInfo(
        10, Defaults("256,128", "relu", "cross_entropy", "adam", 1e-3, 10, 64, 0.1), (28, 28)
    ),
}

ACTIVATION_MODULES: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "softplus": nn.Softplus,
}
#: Loss name → module as ``chainrule train`` uses it (bce trains on logits, so it is the
#: logits form; ``chainrule explain`` puts a sigmoid on the output and uses ``EXPLAIN_LOSSES``).
LOSS_MODULES: dict[str, type[nn.Module]] = {
    "cross_entropy": nn.CrossEntropyLoss,
    "bce": nn.BCEWithLogitsLoss,
    "mse": nn.MSELoss,
    "l1": nn.L1Loss,
    "huber": nn.HuberLoss,
}
OPTIMIZER_CLASSES: dict[str, type[optim.Optimizer]] = {
    "sgd": optim.SGD,
    "adam": optim.Adam,
    "adamw": optim.AdamW,
    "rmsprop": optim.RMSprop,
    "adagrad": optim.Adagrad,
}
MODELS = ("mlp", "cnn")

DATASETS = tuple(DATASETS_INFO)
ACTIVATIONS = tuple(ACTIVATION_MODULES)
LOSSES = tuple(LOSS_MODULES)
OPTIMIZERS = tuple(OPTIMIZER_CLASSES)
DEFAULTS = {name: info.defaults for name, info in DATASETS_INFO.items()}
CLASSES = {name: info.classes for name, info in DATASETS_INFO.items()}
#: Datasets whose rows are images, as (height, width): the ones a CNN can train on.
IMAGE_SHAPES = {n: i.image_shape for n, i in DATASETS_INFO.items() if i.image_shape is not None}
IMAGE_DATASETS = tuple(IMAGE_SHAPES)

#: What ``chainrule explain`` can show with the article's δ-rule: the activations and losses
#: that :mod:`chainrule.learn.classic` has a rule for, and the datasets small enough to print.
EXPLAIN_DATASETS = tuple(name for name in DATASETS if name != "mnist")
EXPLAIN_ACTIVATIONS = ("sigmoid", "tanh", "relu")
EXPLAIN_LOSSES = ("bce", "cross_entropy", "mse", "l1")
