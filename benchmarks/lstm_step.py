"""Time one char-level LSTM language-model training step in chainrule and in PyTorch.

The model is ``chainrule.models.CharLSTM``'s architecture: an embedding of the 65 characters
(width 256), ``nn.LSTM(256, 256, num_layers=2, batch_first=True)`` and a ``Linear(256, 65)``
read-out; the loss is the cross-entropy over all ``batch × seq_len`` positions (32 × 64) and
the optimizer ``Adam(lr=1e-3)``, in float32. The PyTorch side is a twin module with the same
attribute names, so the two state dicts have the same keys. Both start from the same
weights (chainrule's initialisation copied into torch) and see the same batches; before timing
both run a few steps and their parameters are compared (the same-work check).

Timing is done by ``benchmarks/harness.py`` (interleaved rounds; see ``benchmarks/README.md``).

Run from the repository root::

    python benchmarks/lstm_step.py            # full run
    python benchmarks/lstm_step.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

import chainrule as cr
import harness
from chainrule.models import CharLSTM

torch, TORCH_IMPORT_ERROR = harness.import_torch()

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "lstm_step.json"
CHECK_STEPS = 3
LR = 1e-3
N_BATCHES = 8


@dataclass(frozen=True)
class Config:
    """Sizes of the workload (the defaults are the benchmark's; tests pass tiny ones)."""

    vocab_size: int = 65
    embedding_dim: int = 256
    hidden_size: int = 256
    num_layers: int = 2
    batch: int = 32
    seq_len: int = 64


CONFIG = Config()


def torch_char_lstm(cfg: Config) -> Any:
    """PyTorch's twin of ``CharLSTM``: the same layers under the same attribute names."""

    class TorchCharLSTM(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = torch.nn.Embedding(cfg.vocab_size, cfg.embedding_dim)
            self.lstm = torch.nn.LSTM(
                cfg.embedding_dim, cfg.hidden_size, cfg.num_layers, batch_first=True
            )
            self.head = torch.nn.Linear(cfg.hidden_size, cfg.vocab_size)

        def forward(self, idx: Any) -> tuple[Any, Any]:
            out, state = self.lstm(self.embedding(idx))
            return self.head(out), state

    return TorchCharLSTM()


def build_model(lib: Any, cfg: Config) -> Any:
    """The model in ``lib`` (chainrule or torch), float32, freshly initialised."""
    if lib is cr:
        return CharLSTM(cfg.vocab_size, cfg.embedding_dim, cfg.hidden_size, cfg.num_layers)
    return torch_char_lstm(cfg)


class Runner:
    """One library's model, Adam and a fixed list of batches; ``step()`` trains on the next."""

    def __init__(self, lib: Any, cfg: Config, state: dict, batches: list) -> None:
        self.lib, self.cfg, self.state = lib, cfg, state
        self.batches = [(lib.from_numpy(x), lib.from_numpy(y.reshape(-1))) for x, y in batches]
        self.model = build_model(lib, cfg)
        self.reset()

    def reset(self) -> None:
        """Back to the shared initial weights and a fresh optimizer."""
        self.model.load_state_dict(
            {k: self.lib.from_numpy(v.copy()) for k, v in self.state.items()}
        )
        self.opt = self.lib.optim.Adam(self.model.parameters(), lr=LR)
        self.i = 0

    def step(self) -> Any:
        """zero_grad, forward, cross-entropy over every position, backward, Adam step."""
        x, y = self.batches[self.i % len(self.batches)]
        self.i += 1
        logits, _ = self.model(x)  # (B, T, vocab)
        loss = self.lib.nn.functional.cross_entropy(logits.reshape(-1, self.cfg.vocab_size), y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return loss

    def params(self) -> dict[str, np.ndarray]:
        return {n: p.detach().numpy().copy() for n, p in self.model.named_parameters()}


def make_runners(use_torch: bool, cfg: Config = CONFIG) -> dict[str, Runner]:
    """The runners, sharing chainrule's initial weights and N_BATCHES random batches."""
    cr.manual_seed(0)
    state = {k: np.array(v) for k, v in build_model(cr, cfg).state_dict().items()}
    rng = np.random.default_rng(0)
    shape = (cfg.batch, cfg.seq_len)
    v = cfg.vocab_size
    batches = [(rng.integers(0, v, shape), rng.integers(0, v, shape)) for _ in range(N_BATCHES)]
    runners = {"chainrule": Runner(cr, cfg, state, batches)}
    if use_torch and torch is not None:
        runners["torch"] = Runner(torch, cfg, state, batches)
    return runners


def check_agreement(runners: dict[str, Runner]) -> dict[str, Any]:
    """CHECK_STEPS steps on each side; the largest parameter difference from chainrule."""
    return harness.named_parameter_agreement(runners, CHECK_STEPS)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.add_timing_arguments(p)
    p.add_argument("--no-torch", action="store_true", help="time chainrule only")
    p.add_argument("--json", type=Path, default=DEFAULT_JSON)
    p.add_argument("--batch", type=int, default=CONFIG.batch, help="sequences per step (32)")
    p.add_argument("--seq-len", type=int, default=CONFIG.seq_len, help="positions (64)")
    p.add_argument("--hidden", type=int, default=CONFIG.hidden_size, help="LSTM width (256)")
    p.add_argument("--layers", type=int, default=CONFIG.num_layers, help="LSTM layers (2)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Check, time, print and write the JSON report; return the report."""
    args = parse_args(argv)
    cfg = Config(
        hidden_size=args.hidden,
        embedding_dim=args.hidden,
        num_layers=args.layers,
        batch=args.batch,
        seq_len=args.seq_len,
    )
    timing = harness.make_config(args.quick, args.repeat, args.block_seconds, args.settle_seconds)
    facts = harness.machine_facts(torch, TORCH_IMPORT_ERROR, not args.no_torch)
    print(harness.format_facts(facts))
    runners = make_runners(not args.no_torch, cfg)
    check = check_agreement(runners)
    timings = harness.time_case(
        {n: r.step for n, r in runners.items()},
        timing,
        resets={n: r.reset for n, r in runners.items()},
    )
    results = timings["frameworks"]
    ratio = harness.ratio(results.get("chainrule"), results.get("torch"))
    for name, res in results.items():
        print(f"{name:10s} {harness.fmt_us(res, '-')} µs per step")
    print(f"chainrule/torch {harness.fmt_ratio(ratio)}; same work: {check}")
    report = {
        "benchmark": "lstm_step",
        "created": harness.utc_timestamp(),
        "quick": bool(args.quick),
        "config": {**asdict(cfg), "lr": LR},
        "machine": facts,
        "results": results,
        "ratio_chainrule_torch": ratio,
        "check": check,
        "rounds": timings["rounds"],
    }
    harness.write_json(args.json, report)
    return report


if __name__ == "__main__":
    main()
