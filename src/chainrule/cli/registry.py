"""The one list of what the ``chainrule`` command knows: datasets, models, activations, losses
and optimizers, with what each dataset needs installed and how it is loaded.

The parser's help and choices, the option validation, ``chainrule train`` and ``chainrule
explain`` all read these tables, so a name added here is offered, validated and built everywhere
at once. Nothing else in ``cli/`` spells out a dataset, loss, activation or optimizer name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from chainrule import data, nn, optim
from chainrule.cli.errors import PrerequisiteError
from chainrule.learn import classic


@dataclass(frozen=True)
class Requirement:
    """An optional package a feature needs: its import name and the chainrule extra that
    installs it."""

    module: str
    package: str
    extra: str

    def install_hint(self) -> str:
        """The command that installs it."""
        return f'pip install "chainrule[{self.extra}]" (or pip install {self.package})'


class Loaded(NamedTuple):
    """A dataset's arrays as its loader returns them; test arrays only where a test split
    exists."""

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None


#: ``loader(seed, data_dir)``; ``data_dir`` matters for datasets read from files only.
Loader = Callable[[int, "Path | None"], Loaded]


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
    """A built-in dataset: its number of classes (0 for regression), its training defaults, its
    loader, its image shape (H, W) when its rows are images, and the packages it needs."""

    classes: int
    defaults: Defaults
    load: Loader
    image_shape: tuple[int, int] | None = None
    requires: tuple[Requirement, ...] = ()


SCIKIT_LEARN = Requirement("sklearn", "scikit-learn", "datasets")
MATPLOTLIB = Requirement("matplotlib", "matplotlib", "plot")
#: What ``chainrule train --plots DIR`` needs.
PLOTS_REQUIRE = (MATPLOTLIB,)


# ----- loaders ---------------------------------------------------------------------------------
# Each fixes the sample count and noise that the dataset's defaults were tuned on.
def _xor(seed: int, data_dir: Path | None) -> Loaded:
    x, y = data.xor()
    return Loaded(x, y[:, 0].astype(np.int64))


def _toy(make: Callable[..., tuple[np.ndarray, np.ndarray]], **kwargs: object) -> Loader:
    def load(seed: int, data_dir: Path | None) -> Loaded:
        return Loaded(*make(generator=np.random.default_rng(seed), **kwargs))

    return load


def _digits(seed: int, data_dir: Path | None) -> Loaded:
    return Loaded(*data.digits())


def _mnist(seed: int, data_dir: Path | None) -> Loaded:
    """The 60,000 training digits (or the 5,000-digit CSV subset) and the 10,000 test digits."""
    root = data_dir if data_dir is not None else data.default_cache_dir()
    try:
        x, y = data.mnist(root, train=True, flatten=True)
    except FileNotFoundError:
        try:
            x, y = data.mnist_5k(root, flatten=True)
        except FileNotFoundError:
            raise PrerequisiteError(mnist_missing(root, "training")) from None
    try:
        x_test, y_test = data.mnist(root, train=False, flatten=True)
    except FileNotFoundError:
        raise PrerequisiteError(mnist_missing(root, "test")) from None
    return Loaded(x, y, x_test, y_test)


def mnist_missing(root: Path, split: str) -> str:
    """One line saying which MNIST files were looked for in ``root`` and how to get them."""
    prefix = "train" if split == "training" else "t10k"
    wanted = " and ".join(f"{n}[.gz]" for n in data.MNIST_FILES if n.startswith(prefix))
    if split == "training":
        wanted += " (or the 5,000-digit CSV subset mnist_5k.csv[.gz])"
    return (
        f"--data mnist: no MNIST {split} set in {root}: looked for {wanted}. Put the files "
        "there or pass --data-dir DIR; download them once with: python -c "
        f"\"from chainrule.data import download_mnist; download_mnist('{root}')\""
    )


DATASETS_INFO: dict[str, DatasetInfo] = {
    "xor": DatasetInfo(2, Defaults("4", "sigmoid", "bce", "sgd", 3.0, 1000, 4, 0.0), _xor),
    "moons": DatasetInfo(
        2,
        Defaults("32,32", "relu", "cross_entropy", "adam", 1e-2, 60, 32, 0.2),
        _toy(data.moons, n_samples=1000, noise=0.2),
    ),
    "circles": DatasetInfo(
        2,
        Defaults("32,32", "relu", "cross_entropy", "adam", 1e-2, 60, 32, 0.2),
        _toy(data.circles, n_samples=1000, noise=0.08),
    ),
    "spirals": DatasetInfo(
        3,
        Defaults("64,64", "relu", "cross_entropy", "adam", 1e-2, 150, 32, 0.2),
        _toy(data.spirals, n_samples=1500, noise=0.05, arms=3),
    ),
    "blobs": DatasetInfo(
        4,
        Defaults("16", "relu", "cross_entropy", "adam", 1e-2, 30, 32, 0.2),
        _toy(data.blobs, n_samples=1000, centers=4),
    ),
    "sine": DatasetInfo(
        0,
        Defaults("64,64", "tanh", "mse", "adam", 1e-2, 200, 32, 0.2),
        _toy(data.sine, n_samples=1000, noise=0.05),
    ),
    "digits": DatasetInfo(
        10,
        Defaults("64", "relu", "cross_entropy", "adam", 1e-3, 40, 32, 0.2),
        _digits,
        (8, 8),
        (SCIKIT_LEARN,),
    ),
    "mnist": DatasetInfo(
        10,
        Defaults("256,128", "relu", "cross_entropy", "adam", 1e-3, 10, 64, 0.1),
        _mnist,
        (28, 28),
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


@dataclass(frozen=True)
class LossInfo:
    """A loss as ``chainrule train`` uses it, and the targets it takes on a classification
    dataset: ``"index"`` (class indices), ``"binary"`` (one 0/1 column, two classes only) or
    ``"one_hot"`` (rows of 0/1 per class; these losses also train regressions)."""

    module: type[nn.Module]
    targets: str


#: bce trains on logits, so it is the logits form; ``chainrule explain`` puts a sigmoid on the
#: output and uses :mod:`chainrule.learn.explanation`'s own loss modules.
LOSSES_INFO: dict[str, LossInfo] = {
    "cross_entropy": LossInfo(nn.CrossEntropyLoss, "index"),
    "bce": LossInfo(nn.BCEWithLogitsLoss, "binary"),
    "mse": LossInfo(nn.MSELoss, "one_hot"),
    "l1": LossInfo(nn.L1Loss, "one_hot"),
    "huber": LossInfo(nn.HuberLoss, "one_hot"),
}
LOSS_MODULES = {name: info.module for name, info in LOSSES_INFO.items()}
#: Losses that need class labels (they cannot train a regression).
CLASSIFICATION_LOSSES = tuple(n for n, i in LOSSES_INFO.items() if i.targets != "one_hot")
OPTIMIZER_CLASSES: dict[str, type[optim.Optimizer]] = {
    "sgd": optim.SGD,
    "adam": optim.Adam,
    "adamw": optim.AdamW,
    "rmsprop": optim.RMSprop,
    "adagrad": optim.Adagrad,
}
#: The MLP, and the CNN for image datasets (``chainrule.cli.train.build_mlp``, ``build_cnn``).
DEFAULT_MODEL, IMAGE_MODEL = "mlp", "cnn"
MODELS = (DEFAULT_MODEL, IMAGE_MODEL)

DATASETS = tuple(DATASETS_INFO)
ACTIVATIONS = tuple(ACTIVATION_MODULES)
LOSSES = tuple(LOSSES_INFO)
OPTIMIZERS = tuple(OPTIMIZER_CLASSES)
DEFAULTS = {name: info.defaults for name, info in DATASETS_INFO.items()}
CLASSES = {name: info.classes for name, info in DATASETS_INFO.items()}
#: Datasets whose rows are images, as (height, width): the ones a CNN can train on.
IMAGE_SHAPES = {n: i.image_shape for n, i in DATASETS_INFO.items() if i.image_shape is not None}
IMAGE_DATASETS = tuple(IMAGE_SHAPES)

#: What ``chainrule explain`` can show with the article's δ-rule: the activations and losses
#: that :mod:`chainrule.learn.classic` has a rule for, and the datasets small enough to print.
EXPLAIN_DATASETS = tuple(name for name in DATASETS if name != "mnist")
EXPLAIN_ACTIVATIONS = tuple(a for a in classic.ACTIVATIONS if a in ACTIVATION_MODULES)
EXPLAIN_LOSSES = tuple(loss for loss in classic.LOSSES if loss in LOSS_MODULES)
#: ``chainrule explain`` with no options: the article's XOR network and its learning rate.
EXPLAIN_DEFAULT_DATA = "xor"
EXPLAIN_LR = {"xor": 3.0}
EXPLAIN_DEFAULT_LR = 0.1
#: Used when the dataset's ``train`` default has no δ-rule in :mod:`chainrule.learn.classic`.
EXPLAIN_FALLBACK_ACTIVATION, EXPLAIN_FALLBACK_LOSS = "relu", "mse"


def loss_mismatch(loss: str, dataset: str) -> str | None:
    """Why ``loss`` cannot train on ``dataset`` (None when it can): the one statement of the
    rule, so ``train``'s validation and ``explain`` word it alike."""
    classes, targets = CLASSES[dataset], LOSSES_INFO[loss].targets
    if classes == 0 and loss in CLASSIFICATION_LOSSES:
        others = ", ".join(n for n in LOSSES if n not in CLASSIFICATION_LOSSES)
        return (
            f"--loss {loss} needs a classification dataset; {dataset} is a regression "
            f"(use one of: {others})"
        )
    if targets == "binary" and classes != 2:
        index = ", ".join(n for n, i in LOSSES_INFO.items() if i.targets == "index")
        return f"--loss {loss} needs two classes; {dataset} has {classes} (use {index})"
    return None


# ----- language models -------------------------------------------------------------------------
# ``chainrule train --data CORPUS --model NAME``: a character-level model trained for a number
# of iterations on random batches, one table row per (corpus, model) pair.
class TextData(NamedTuple):
    """A corpus ready to train on: its tokenizer and its train and validation splits, each an
    int64 id stream ``(n,)`` (``contexts`` False) or a pair of contexts ``(N, block)`` and
    next ids ``(N,)`` (``contexts`` True)."""

    tokenizer: data.CharTokenizer
    train: np.ndarray | tuple[np.ndarray, np.ndarray]
    val: np.ndarray | tuple[np.ndarray, np.ndarray]
    contexts: bool


def _shakespeare(block_size: int) -> TextData:
    train, val = data.shakespeare("train", block_size), data.shakespeare("val", block_size)
    return TextData(train.tokenizer, train.tokens.numpy(), val.tokens.numpy(), False)


def _names(block_size: int) -> TextData:
    train, val = data.names("train", block_size), data.names("val", block_size)
    return TextData(
        train.tokenizer, (train.X.numpy(), train.Y.numpy()), (val.X.numpy(), val.Y.numpy()), True
    )


#: Corpus name → ``load(block_size)``.
TEXT_CORPORA: dict[str, Callable[[int], TextData]] = {"shakespeare": _shakespeare, "names": _names}


@dataclass(frozen=True)
class TextDefaults:
    """The defaults of one (corpus, model) pair. The first group are options; ``None`` marks a
    model option the pair does not take. The rest is the recipe: the optimizer (``adamw`` is
    built by the model's ``configure_optimizers``), the schedule (``cosine``: linear warmup
    then a cosine to ``lr * lr_final``; ``step``: ``lr`` then ``lr * lr_final`` from half way;
    ``constant``), and the gradient-norm clip (0: none)."""

    iters: int
    eval_interval: int
    eval_iters: int
    batch_size: int
    block_size: int
    lr: float
    n_layer: int | None
    n_head: int | None
    n_embd: int | None
    hidden: int | None
    dropout: float | None
    optimizer: str = "adam"
    schedule: str = "constant"
    lr_final: float = 1.0
    warmup: int = 0
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    clip: float = 0.0


@dataclass(frozen=True)
class TextModelInfo:
    """How a pair's model is built (``chainrule.models.<model_class>(**model_kwargs(opts,
    vocab_size))``), trained (``loss_in_forward``: ``model(x, y)`` returns ``(logits, loss)``)
    and sampled (``samples_words``: ``generate(tokenizer, num)`` instead of ids)."""

    model_class: str
    defaults: TextDefaults
    model_kwargs: Callable[[dict, int], dict]
    loss_in_forward: bool = False
    samples_words: bool = False


def _gpt_kwargs(o: dict, vocab: int) -> dict:
    keys = ("block_size", "n_layer", "n_head", "n_embd", "dropout")
    return {"vocab_size": vocab, **{k: o[k] for k in keys}, "bias": True}


def _lstm_kwargs(o: dict, vocab: int) -> dict:
    return {
        "vocab_size": vocab,
        "embedding_dim": o["n_embd"],
        "hidden_size": o["hidden"],
        "num_layers": o["n_layer"],
        "dropout": o["dropout"],
    }


def _names_kwargs(o: dict, vocab: int) -> dict:
    return {
        "vocab_size": vocab,
        "block_size": o["block_size"],
        "embedding_dim": o["n_embd"],
        "hidden": o["hidden"],
    }


#: (corpus, model) → how it trains. gpt is nanoGPT's CPU configuration for Shakespeare; lstm a
#: char-rnn; the names mlp makemore part 2's (SGD, lr ÷ 10 half way).
TEXT_MODELS_INFO: dict[tuple[str, str], TextModelInfo] = {
    ("shakespeare", "gpt"): TextModelInfo(
        "GPT",
        TextDefaults(
            2000,
            250,
            20,
            12,
            64,
            1e-3,
            4,
            4,
            128,
            None,
            0.0,
            "adamw",
            "cosine",
            0.1,
            100,
            0.1,
            (0.9, 0.99),
            1.0,
        ),  # fmt: skip
        _gpt_kwargs,
        loss_in_forward=True,
    ),
    ("shakespeare", "lstm"): TextModelInfo(
        "CharLSTM",
        TextDefaults(2000, 250, 20, 32, 64, 2e-3, 2, None, 64, 256, 0.0, clip=1.0),
        _lstm_kwargs,
    ),
    ("names", DEFAULT_MODEL): TextModelInfo(
        "NamesMLP",
        TextDefaults(
            200_000, 10_000, 20, 32, 3, 0.1, None, None, 10, 200, None, "sgd", "step", 0.1
        ),  # fmt: skip
        _names_kwargs,
        samples_words=True,
    ),
}
TEXT_DATASETS = tuple(TEXT_CORPORA)
TEXT_PAIRS = tuple(TEXT_MODELS_INFO)
#: The model options a language model may take (None in a pair's defaults: not that pair's).
TEXT_MODEL_OPTIONS = ("n_layer", "n_head", "n_embd", "hidden", "dropout")


def text_pairs_phrase() -> str:
    """The valid (corpus, model) pairs in words: ``shakespeare with gpt or lstm, ...``."""
    parts = []
    for corpus in TEXT_DATASETS:
        models = [m for c, m in TEXT_PAIRS if c == corpus]
        parts.append(f"--data {corpus} with --model {' or '.join(models)}")
    return "; ".join(parts)
