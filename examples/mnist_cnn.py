"""MNIST with a small convolutional network, trained by ``chainrule.fit`` on 5,000 digits.

The network sees each 28×28 digit as a one-channel feature map:

    conv 1→16 (3×3, pad 1) → ReLU → max-pool 2    (16 × 14 × 14)
    conv 16→32 (3×3, pad 1) → ReLU → max-pool 2   (32 × 7 × 7)
    flatten → linear 1568 → 10                    (digit scores)

It trains with Adam on the 5,000-digit training subset (500 per class) and is tested on the full
10,000-digit MNIST test set, which training never sees. Each epoch the training digits are
shifted at random by up to 2 pixels, so that 5,000 images do not get memorized. It prints the
first layer's filter shapes, the test accuracy, and a confusion matrix (row: the true digit,
column: the answer).

Run it from the repository (the data folder defaults to ../shared/data/mnist beside it):

    python examples/mnist_cnn.py [--data-dir DIR] [--epochs 12] [--lr 2e-3] [--shift 2] [--seed 0]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import data, nn, optim
from chainrule.training import evaluate, fit, predict

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def build_model() -> nn.Sequential:
    """Two conv/ReLU/max-pool stages and a linear read-out: 1×28×28 → 10 scores."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 10),
    )


class RandomShift(data.Dataset):
    """The digits, each moved by up to ``pixels`` in x and y afresh every time it is read.

    With only 5,000 training digits the network soon memorizes them; small shifts make every
    epoch show slightly different images, which is worth about a point of test accuracy.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, pixels: int, seed: int) -> None:
        p = pixels
        self.padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        self.y, self.pixels, self.size = y, pixels, x.shape[-1]
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        dy, dx = self.rng.integers(0, 2 * self.pixels + 1, size=2)
        image = self.padded[i, :, dy : dy + self.size, dx : dx + self.size]
        return image, self.y[i]


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, classes: int = 10) -> np.ndarray:
    """``counts[i, j]`` = how many digits ``i`` were predicted as ``j``."""
    return np.bincount(true * classes + predicted, minlength=classes * classes).reshape(
        classes, classes
    )


def format_confusion(counts: np.ndarray) -> str:
    """The matrix as text; zeros print as '.' so that the mistakes stand out."""
    width = max(3, len(str(counts.max())) + 1)
    labels = range(len(counts))
    lines = [
        "confusion matrix (rows: true digit, columns: predicted digit)",
        "true\\pred" + "".join(f"{j:>{width}}" for j in labels),
    ]
    for i in labels:
        lines.append(f"{i:>9}" + "".join(f"{v if v else '.':>{width}}" for v in counts[i]))
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="MNIST folder")
    parser.add_argument("--epochs", type=int, default=12, help="passes over the training set")
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam's learning rate")
    parser.add_argument("--batch-size", type=int, default=64, help="digits per step")
    parser.add_argument("--seed", type=int, default=0, help="seed for init and shuffling")
    parser.add_argument("--shift", type=int, default=2, help="random shift in pixels (0: off)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> float:
    args = parse_args(argv)
    cr.manual_seed(args.seed)
    x, y = data.mnist_5k(args.data_dir)  # float32 (5000, 1, 28, 28) in [0, 1]
    x_test, y_test = data.mnist(args.data_dir, train=False)
    model = build_model()
    print(f"first-layer filters: weight {model[0].weight.shape}, bias {model[0].bias.shape}")
    print(f"{sum(p.numel() for p in model.parameters())} parameters; {len(x)} training digits")
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    start = time.perf_counter()
    fit(
        model,
        loss_fn,
        optimizer,
        RandomShift(x, y, args.shift, args.seed) if args.shift else (x, y),
        epochs=args.epochs,
        batch_size=args.batch_size,
        scheduler=scheduler,
        verbose=2,
    )
    train_time = time.perf_counter() - start
    test = evaluate(model, loss_fn, (x_test, y_test))
    predicted = predict(model, x_test).argmax(axis=1)
    print(f"training took {train_time:.1f}s")
    print(f"test accuracy {test['accuracy']:.2%} on {len(x_test)} digits (loss {test['loss']:.4f})")
    print(format_confusion(confusion_matrix(y_test, predicted)))
    return test["accuracy"]


if __name__ == "__main__":
    main()
