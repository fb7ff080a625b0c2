"""Make up new names with a character-level MLP (makemore part 2), trained by minibatch SGD.

The names corpus holds 32,033 first names. The model reads the three previous characters of a
name (``"."`` pads the start and marks the end) and scores each of the 27 possible next ones:

    e = C[context]                   each character → a learned 10-vector; (32, 3, 10)
    h = tanh(e.view(32, 30) W1ᵀ + b1)  200 hidden units
    logits = h W2ᵀ + b2              27 scores
    loss = cross_entropy(logits, next character)

Training is plain minibatch SGD as in the lecture: each step draws 32 random contexts, and the
learning rate is 0.1 for the first half of the steps and 0.01 for the second. The names are
split 80/10/10 into train/val/test with the lecture's shuffle (seed 42); the validation loss,
on names the model never trained on, says how well it generalises. A uniform guess scores
``log 27 ≈ 3.30``; counting letter pairs (a bigram table) about 2.45.

Run it:

    python examples/names_mlp.py [--steps 200000] [--batch-size 32] [--seed 0] [--samples 20]

With the defaults (the lecture's 200,000 steps, about a minute of training) the training loss
ends near 2.06 and the validation loss near 2.11 (seeds 0 and 1: 2.112, 2.114), below the 2.20
this script promises. The lecture reaches about 2.17; it draws the weights and biases of both
layers from a standard normal, while ``nn.Linear`` starts them at PyTorch's much smaller
default (uniform in ``±1/√fan_in``), so no steps are spent undoing confident wrong guesses
and no tanh unit starts saturated. The samples look like plausible names.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import chainrule as cr
from chainrule import data, optim
from chainrule.models import NamesMLP
from chainrule.nn import functional as F


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000, help="SGD steps")
    parser.add_argument("--batch-size", type=int, default=32, help="contexts per step")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate (÷10 halfway)")
    parser.add_argument("--seed", type=int, default=0, help="initial weights and batches")
    parser.add_argument("--samples", type=int, default=20, help="names to sample at the end")
    parser.add_argument("--log-every", type=int, default=10_000, help="steps between prints")
    return parser.parse_args(argv)


def split_loss(model: NamesMLP, split: data.NamesContextDataset) -> float:
    """The mean cross-entropy over every context of a split, without building a graph."""
    model.eval()
    with cr.no_grad():
        loss = F.cross_entropy(model(split.X), split.Y).item()
    model.train()
    return loss


def train(model: NamesMLP, train_set: data.NamesContextDataset, args: argparse.Namespace) -> None:
    """Minibatch SGD, printing the loss of the current batch every ``--log-every`` steps."""
    optimizer = optim.SGD(model.parameters(), lr=args.lr)
    X, Y = train_set.X, train_set.Y
    for step in range(args.steps):
        if step == args.steps // 2:
            # The lecture's schedule: once the loss has settled, a smaller step fine-tunes.
            for group in optimizer.param_groups:
                group["lr"] = args.lr / 10
        ix = cr.randint(0, X.shape[0], (args.batch_size,))
        loss = F.cross_entropy(model(X[ix]), Y[ix])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % args.log_every == 0 or step == args.steps - 1:
            print(f"step {step:>7}/{args.steps}  batch loss {loss.item():.4f}")


def main(argv: Sequence[str] | None = None) -> tuple[float, float]:
    """Train, print the train and validation losses and some names; return both losses."""
    args = parse_args(argv)
    train_set, val_set = data.names("train"), data.names("val")
    tokenizer = train_set.tokenizer
    print(
        f"names: {len(train_set.words)} training names ({len(train_set)} contexts), "
        f"{len(val_set.words)} validation names; context 3, embedding 10, 200 tanh units"
    )
    cr.manual_seed(args.seed)  # the initial weights and the batches drawn
    model = NamesMLP(tokenizer.vocab_size, block_size=3, embedding_dim=10, hidden=200)
    print(f"{sum(p.numel() for p in model.parameters())} parameters")
    train(model, train_set, args)

    train_loss, val_loss = split_loss(model, train_set), split_loss(model, val_set)
    print(f"\ntrain loss {train_loss:.4f}\nval loss {val_loss:.4f}")
    print("\nsampled names:")
    generator = cr.Generator().manual_seed(args.seed)
    for name in model.generate(tokenizer, args.samples, generator=generator):
        print(f"  {name}")
    return train_loss, val_loss


if __name__ == "__main__":
    main()
