"""Handwritten digits with a multilayer perceptron, trained by ``chainrule.fit``.

scikit-learn ships 1,797 small scans of handwritten digits, 8×8 pixels each. Each image becomes
a row of 64 numbers in [0, 1], and a 64-64-10 network learns to map it to ten scores, one per
digit:

    h = relu(x W1ᵀ + b1)          (64 hidden units)
    z = h W2ᵀ + b2                (10 scores, "logits")
    loss = cross_entropy(z, digit) = −log softmax(z)[digit]

``chainrule.fit`` runs the training loop (forward, loss, ``backward()``, Adam step, per batch of
32, per epoch) and prints one line per epoch with the training loss and accuracy. One image in
five is held out as a test set that training never sees; the final test accuracy says how well
the network does on digits it has never seen, and the confusion matrix shows which digits it
mixes up (row: the true digit, column: the network's answer; everything off the diagonal is a
mistake). The split is the same in every run (``--split-seed``), so runs compare like for like.

Run it (needs scikit-learn: ``pip install "chainrule[datasets]"``):

    python examples/digits_mlp.py [--epochs 40] [--lr 1e-3] [--seed 0] [--patience 5]

With the defaults it reaches 98% test accuracy (352 of 359) in under a second of training,
and at least 97% for every ``--seed`` from 0 to 11. The test set is small, so one mistake is
0.3 points and the split matters: other ``--split-seed`` values give 96 to 98%.

``--patience N`` turns on early stopping: a tenth of the training rows become a validation set
(never the test set, which must not steer training), and training stops once the validation
loss has not improved for N epochs, keeping the best weights.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

import chainrule as cr
from chainrule import data, nn, optim
from chainrule.training import EarlyStopping


def split_rows(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(kept, held_out)``: a random ``fraction`` of ``range(n)`` is held out."""
    # Shuffle first: the rows of a dataset are often sorted or grouped, and a held-out slice of
    # the end would then not look like the rest.
    order = np.random.default_rng(seed).permutation(n)
    n_held_out = int(n * fraction)
    return order[n_held_out:], order[:n_held_out]


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """``counts[i, j]`` = how many samples of class ``i`` were predicted as class ``j``."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (true, predicted), 1)
    return counts


def format_confusion(counts: np.ndarray) -> str:
    """The matrix as text; zeros print as '.' so that the mistakes stand out."""
    width = max(3, len(str(counts.max())) + 1)
    labels = range(len(counts))
    lines = [
        "confusion matrix (rows: true digit, columns: predicted digit)",
        "true\\pred" + "".join(f"{j:>{width}}" for j in labels),
    ]
    for i in labels:
        cells = "".join(f"{v if v else '.':>{width}}" for v in counts[i])
        lines.append(f"{i:>9}" + cells)
    return "\n".join(lines)


def build_model() -> nn.Sequential:
    """64 pixels → 64 ReLU units → 10 digit scores (logits; the loss applies the softmax)."""
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40, help="passes over the training set")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate")
    parser.add_argument("--seed", type=int, default=0, help="initial weights and batch order")
    parser.add_argument(
        "--split-seed", type=int, default=0, help="which fifth of the digits is the test set"
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=0,
        help="stop after this many epochs without a better validation loss (0: no early stop)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> float:
    """Train, print the test accuracy and confusion matrix; return the test accuracy."""
    args = parse_args(argv)
    x, y = data.digits()  # float32 (1797, 64) in [0, 1]; int64 digits (1797,)
    train_rows, test_rows = split_rows(len(x), 0.2, args.split_seed)
    x_train, y_train = x[train_rows], y[train_rows]
    x_test, y_test = x[test_rows], y[test_rows]

    validation = None
    callbacks = []
    if args.patience > 0:
        # Early stopping needs a score to watch. Taking it from the test set would let the
        # test set choose the model, and its accuracy would then overstate what the network
        # does on unseen digits; so the validation rows come out of the training set.
        keep, val = split_rows(len(x_train), 0.1, args.split_seed + 1)
        validation = (x_train[val], y_train[val])
        x_train, y_train = x_train[keep], y_train[keep]
        callbacks.append(EarlyStopping(patience=args.patience, restore_best_weights=True))

    print(
        f"digits: {len(x_train)} training, {len(x_test)} test"
        + (f", {len(validation[0])} validation" if validation else "")
        + f" images; model 64-64-10 ReLU, Adam lr={args.lr}, batch 32"
    )
    cr.manual_seed(args.seed)  # the initial weights and the order of the batches
    model = build_model()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    # With early stopping, fit's log says when it stopped and which epoch's weights it kept.
    cr.fit(
        model,
        loss_fn,
        optimizer,
        (x_train, y_train),
        epochs=args.epochs,
        batch_size=32,
        validation=validation,
        callbacks=callbacks,
        verbose=2,  # one line per epoch, no progress bar: an epoch takes a few milliseconds
    )

    # The scores are logits; the largest one is the network's answer.
    predicted = cr.predict(model, x_test).argmax(axis=1)
    accuracy = float(np.mean(predicted == y_test))
    print(f"\ntest accuracy: {accuracy:.4f} ({int(np.sum(predicted == y_test))}/{len(y_test)})")
    print(format_confusion(confusion_matrix(y_test, predicted, 10)))
    return accuracy


if __name__ == "__main__":
    main()
