"""Train a small GPT on tiny Shakespeare, by characters, in chainrule or in PyTorch.

The configuration is nanoGPT's shakespeare-char CPU one: 4 layers, 4 heads, width 128,
context 64, batch 12, 2000 iterations, no dropout; AdamW (lr 1e-3, betas (0.9, 0.99),
weight decay 0.1 on matrices and embeddings) with 100 iterations of linear warm-up and then
a cosine decay to 1e-4 at iteration 2000; gradients clipped to norm 1.

Every ``--eval-interval`` iterations the script averages the loss of ``--eval-iters`` random
batches of each split; at the end it prints a few samples.

``--library torch`` runs the very same model source (``chainrule/models/gpt.py``) and the
very same loop under PyTorch: :func:`load_gpt_source` reads that file, switches its three
import lines to ``torch``, and executes it as a fresh module.

Run it:

    python examples/char_gpt.py [--library chainrule|torch] [--iters 2000] [--seed 0]
"""

from __future__ import annotations

import argparse
import importlib
import math
import time
import types
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from chainrule import data

IMPORTS = {
    "import chainrule as torch": "import torch",
    "from chainrule import nn": "from torch import nn",
    "from chainrule.nn import functional as F": "from torch.nn import functional as F",
}


def load_gpt_source(library: str = "chainrule") -> types.ModuleType:
    """The GPT module, its source executed with ``library``'s imports ("chainrule" or "torch")."""
    import chainrule.models.gpt as gpt

    if library == "chainrule":
        return gpt
    source = Path(gpt.__file__).read_text()
    for ours, theirs in IMPORTS.items():
        if ours + "\n" not in source:
            raise RuntimeError(f"gpt.py no longer has the line {ours!r}")
        source = source.replace(ours + "\n", theirs + "\n")
    module = types.ModuleType("gpt_torch")
    exec(compile(source, "gpt_torch.py", "exec"), module.__dict__)
    return module


def learning_rate(it: int, lr: float, min_lr: float, warmup: int, decay_iters: int) -> float:
    """Linear warm-up for ``warmup`` iterations, then cosine decay to ``min_lr``."""
    if it < warmup:
        return lr * (it + 1) / (warmup + 1)
    if it > decay_iters:
        return min_lr
    ratio = (it - warmup) / max(1, decay_iters - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)


def batch(lib, tokens, block_size: int, batch_size: int, rng):
    """A batch of random windows ``(x, y)``, each ``(B, T)`` int64 in ``lib``'s tensors."""
    starts = rng.integers(0, len(tokens) - block_size, size=batch_size)
    x = np.stack([tokens[s : s + block_size] for s in starts]).astype(np.int64)
    y = np.stack([tokens[s + 1 : s + 1 + block_size] for s in starts]).astype(np.int64)
    return lib.from_numpy(x), lib.from_numpy(y)


def estimate(lib, model, splits, args, rng) -> dict:
    """Mean loss over ``eval_iters`` random batches of each split, in eval mode, no graph."""
    model.eval()
    out = {}
    with lib.no_grad():
        for name, tokens in splits.items():
            losses = [
                model(*batch(lib, tokens, args.block_size, args.batch_size, rng))[1].item()
                for _ in range(args.eval_iters)
            ]
            out[name] = sum(losses) / len(losses)
    model.train()
    return out


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--library", choices=["chainrule", "torch"], default="chainrule")
    p.add_argument("--iters", type=int, default=2000)
    p.add_argument("--eval-interval", type=int, default=250)
    p.add_argument("--eval-iters", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=12)
    p.add_argument("--block-size", type=int, default=64)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--samples", type=int, default=2)
    p.add_argument("--sample-length", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(argv)
    lib = importlib.import_module(args.library)
    lib.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train_set = data.shakespeare("train", args.block_size)
    splits = {"train": train_set.tokens.numpy(), "val": data.shakespeare("val").tokens.numpy()}
    tok = train_set.tokenizer
    gpt = load_gpt_source(args.library)
    model = gpt.GPT(
        tok.vocab_size, args.block_size, args.n_layer, args.n_head, args.n_embd, 0.0, True
    )
    opt = model.configure_optimizers(0.1, args.lr, (0.9, 0.99))
    history, start = [], time.perf_counter()
    for it in range(args.iters + 1):
        if it % args.eval_interval == 0 or it == args.iters:
            losses = estimate(lib, model, splits, args, rng)
            history.append({"iter": it, **losses})
            elapsed = time.perf_counter() - start
            print(f"iter {it:5d}  train {losses['train']:.4f}  val {losses['val']:.4f}"
                  f"  {elapsed:7.1f} s", flush=True)  # fmt: skip
        if it == args.iters:
            break
        for group in opt.param_groups:
            group["lr"] = learning_rate(it, args.lr, args.min_lr, args.warmup, args.iters)
        _, loss = model(*batch(lib, splits["train"], args.block_size, args.batch_size, rng))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    print(f"wall time {time.perf_counter() - start:.1f} s ({args.library})")
    gen = lib.Generator().manual_seed(args.seed)
    prompt = lib.tensor([tok.encode("\n")] * args.samples, dtype=lib.int64)
    out = model.generate(prompt, args.sample_length, generator=gen)
    texts = [tok.decode(row) for row in out.tolist()]
    for text in texts:
        print("-" * 40 + text)
    return {"history": history, "samples": texts}


if __name__ == "__main__":
    main()
