"""``chainrule explain``: one training step of an MLP in the article's notation.

The network for ``--data NAME`` is built as ``chainrule train`` builds it (the same registry and
the same seed give the same initial weights); :func:`chainrule.learn.explain` does the rest.
``--model rnn`` prints backpropagation through time instead
(:func:`chainrule.learn.bptt.explain_bptt`); ``--order 2`` the Hessian of the article's XOR loss
with respect to one layer's weights, and its eigenvalues
(:func:`chainrule.learn.curvature.explain_curvature`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from chainrule import nn
from chainrule.cli.errors import UsageError
from chainrule.cli.options import parse_hidden
from chainrule.cli.registry import (
    DEFAULT_MODEL,
    DEFAULTS,
    EXPLAIN_ACTIVATIONS,
    EXPLAIN_DATASETS,
    EXPLAIN_DEFAULT_DATA,
    EXPLAIN_DEFAULT_LR,
    EXPLAIN_FALLBACK_ACTIVATION,
    EXPLAIN_FALLBACK_LOSS,
    EXPLAIN_LOSSES,
    EXPLAIN_LR,
    LOSSES_INFO,
    loss_mismatch,
)
from chainrule.cli.train import build_mlp, load_dataset
from chainrule.learn.bptt import BPTT, explain_bptt
from chainrule.learn.curvature import Curvature, explain_curvature
from chainrule.learn.explanation import Explanation, explain
from chainrule.random import manual_seed

#: ``--model``: the MLP step (the default, the registry's model name) or backprop through time.
RNN_MODEL = "rnn"
EXPLAIN_MODELS = (DEFAULT_MODEL, RNN_MODEL)
DEFAULT_BATCH_SIZE = 64
MODEL_HELP = (
    f"{DEFAULT_MODEL}: one training step of an MLP (default); {RNN_MODEL}: backpropagation "
    "through time in a 2-3-1 tanh RNN over 3 steps, δ per timestep (takes only --seed)"
)


ORDER_HELP = (
    "1: the training step (default); 2: the Hessian of the article's XOR loss with respect to "
    "the weights of --layer, checked against finite differences, with its eigenvalues (takes "
    "only --layer and --seed)"
)


def build_problem(
    data: str, hidden: list[int] | None, activation: str | None, loss: str | None, seed: int
) -> tuple[nn.Sequential, np.ndarray, np.ndarray, str]:
    """A float64 MLP for the built-in dataset ``data``, its inputs, targets shaped for the loss,
    and the loss name; options left out take the dataset's ``chainrule train`` defaults."""
    if data not in EXPLAIN_DATASETS:
        raise ValueError(f"unknown dataset {data!r}; choose one of: {', '.join(EXPLAIN_DATASETS)}")
    defaults = DEFAULTS[data]
    task = load_dataset(data, seed=seed)
    hidden = hidden if hidden is not None else parse_hidden(defaults.hidden)
    activation = activation or (
        defaults.activation
        if defaults.activation in EXPLAIN_ACTIVATIONS
        else EXPLAIN_FALLBACK_ACTIVATION
    )
    loss = loss or (defaults.loss if defaults.loss in EXPLAIN_LOSSES else EXPLAIN_FALLBACK_LOSS)
    for name, value, valid in (
        ("activation", activation, EXPLAIN_ACTIVATIONS),
        ("loss", loss, EXPLAIN_LOSSES),
    ):
        if value not in valid:
            raise ValueError(f"unknown {name} {value!r}; choose one of: {', '.join(valid)}")
    problem = loss_mismatch(loss, data)
    if problem:
        raise ValueError(problem)
    y, n_out, output = _targets(task, loss)
    manual_seed(seed)  # the same initial weights as `chainrule train --seed SEED`
    model = build_mlp(task.x.shape[1], hidden, n_out, activation).double()
    if output is not None:
        model.append(output)
    return model, task.x.astype(np.float64), y, loss


def _targets(task: Any, loss: str) -> tuple[np.ndarray, int, nn.Module | None]:
    """Targets shaped for ``loss`` (which fits the task: see ``loss_mismatch``), the number of
    outputs, and the output activation (if any)."""
    if task.classes == 0:
        return task.y.astype(np.float64), task.y.shape[1], None
    if LOSSES_INFO[loss].targets == "index":
        return task.y, task.classes, None
    if task.classes == 2:  # one sigmoid unit, as in the article
        return task.y.astype(np.float64).reshape(-1, 1), 1, nn.Sigmoid()
    return np.eye(task.classes)[task.y], task.classes, nn.Sigmoid()


def add_explain_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``chainrule explain`` on an ``add_subparsers()`` object; returns its parser."""
    p = subparsers.add_parser(
        "explain",
        help="print one training step of an MLP in the backpropagation article's notation",
        description=(
            "Explain one step of gradient descent: forward values, loss, δ per layer, "
            "gradients, the update, and a check of δ-rule vs autograd vs numeric gradients. "
            "Defaults: the article's 2-4-1 sigmoid network on XOR with log loss."
        ),
    )
    _add_lesson_options(p)
    p.add_argument(
        "--data",
        default=EXPLAIN_DEFAULT_DATA,
        choices=EXPLAIN_DATASETS,
        metavar="NAME",
        help=f"dataset: {', '.join(EXPLAIN_DATASETS)} (default {EXPLAIN_DEFAULT_DATA})",
    )
    p.add_argument("--hidden", default=None, help="hidden widths, comma-separated, e.g. 4 or 8,8")
    p.add_argument(
        "--activation",
        default=None,
        choices=EXPLAIN_ACTIVATIONS,
        metavar="NAME",
        help=f"hidden activation: {', '.join(EXPLAIN_ACTIVATIONS)}",
    )
    p.add_argument(
        "--loss",
        default=None,
        choices=EXPLAIN_LOSSES,
        metavar="NAME",
        help=f"loss: {', '.join(EXPLAIN_LOSSES)}",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for data and initial weights")
    special = ", ".join(f"{name}: {lr:g}" for name, lr in EXPLAIN_LR.items())
    p.add_argument(
        "--lr",
        type=float,
        default=None,
        help=f"learning rate η (default: {special}, else {EXPLAIN_DEFAULT_LR:g})",
    )
    p.add_argument("--step", type=int, default=1, help="explain the N-th step of training")
    p.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="samples per step")
    p.add_argument("--graph", action="store_true", help="also walk the autograd graph node by node")
    p.add_argument(
        "--no-numeric",
        action="store_true",
        help="skip the central-difference check (slow on big networks)",
    )
    p.set_defaults(run=run_explain)
    return p


def _add_lesson_options(p: argparse.ArgumentParser) -> None:
    """``--model``, ``--order`` and ``--layer``: which lesson is printed."""
    p.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        choices=EXPLAIN_MODELS,
        metavar="NAME",
        help=MODEL_HELP,
    )
    p.add_argument("--order", type=int, default=1, choices=(1, 2), help=ORDER_HELP)
    p.add_argument(
        "--layer",
        type=int,
        default=None,
        help="with --order 2: which Linear layer's weights (1 = W⁽¹⁾, 4×2; default 2 = W⁽²⁾)",
    )


def explain_from_args(args: argparse.Namespace) -> Explanation:
    """Validate the parsed options, build the problem and explain the step."""
    hidden = parse_hidden(args.hidden) if args.hidden is not None else None
    if args.step < 1 or args.batch_size < 1 or (args.lr is not None and args.lr <= 0):
        raise ValueError("--step, --batch-size and --lr must be positive")
    model, x, y, loss = build_problem(args.data, hidden, args.activation, args.loss, args.seed)
    lr = args.lr if args.lr is not None else EXPLAIN_LR.get(args.data, EXPLAIN_DEFAULT_LR)
    return explain(
        model,
        x,
        y,
        loss=loss,
        lr=lr,
        name=args.data,
        seed=args.seed,
        step=args.step,
        batch_size=args.batch_size,
        numeric=not args.no_numeric,
        graph=args.graph,
    )


def _fixed_network_options(args: argparse.Namespace) -> list[str]:
    """The MLP options given with ``--model rnn`` or ``--order 2``, whose network and data are
    fixed."""
    given = {
        "--model": args.model != DEFAULT_MODEL,
        "--data": args.data != EXPLAIN_DEFAULT_DATA,
        "--hidden": args.hidden is not None,
        "--activation": args.activation is not None,
        "--loss": args.loss is not None,
        "--lr": args.lr is not None,
        "--step": args.step != 1,
        "--batch-size": args.batch_size != DEFAULT_BATCH_SIZE,
        "--graph": args.graph,
        "--no-numeric": args.no_numeric,
    }
    return [option for option, used in given.items() if used]


def bptt_from_args(args: argparse.Namespace) -> BPTT:
    """``--model rnn``: refuse the MLP's options, then explain backprop through time."""
    unused = [o for o in _fixed_network_options(args) if o != "--model"]
    if args.order != 1 or args.layer is not None:
        unused += ["--order"] if args.order != 1 else []
        unused += ["--layer"] if args.layer is not None else []
    if unused:
        raise ValueError(
            f"--model {RNN_MODEL} explains a fixed 2-3-1 tanh RNN and takes only --seed; "
            f"drop {', '.join(unused)}"
        )
    return explain_bptt(seed=args.seed)


def curvature_from_args(args: argparse.Namespace) -> Curvature:
    """``--order 2``: refuse the step's options, then the Hessian of the article's XOR loss."""
    unused = _fixed_network_options(args)
    if unused:
        raise ValueError(
            "--order 2 explains the Hessian of the article's 2-4-1 XOR network and takes only "
            f"--layer and --seed; drop {', '.join(unused)}"
        )
    return explain_curvature(layer=2 if args.layer is None else args.layer, seed=args.seed)


def _explain_any(args: argparse.Namespace) -> Explanation | BPTT | Curvature:
    if args.order == 2:
        return curvature_from_args(args)
    if args.layer is not None:
        raise ValueError("--layer chooses the Hessian's layer and needs --order 2")
    return bptt_from_args(args) if args.model == RNN_MODEL else explain_from_args(args)


def run_explain(args: argparse.Namespace) -> int:
    """Run ``chainrule explain`` with parsed arguments; returns the exit status."""
    try:
        result = _explain_any(args)
    except (UsageError, ValueError, ImportError) as err:
        print(f"chainrule explain: error: {err}", file=sys.stderr)
        return 2
    print(result)
    return 0 if result.agree else 1
