"""``repr`` of modules: PyTorch's nested layout, then the parameter counts.

The architecture part is PyTorch's text exactly (``(0): Linear(in_features=2, ...)``, children
indented by two spaces), so printed models read the same in both libraries.
"""

from __future__ import annotations

from typing import Any


def indent(text: str) -> str:
    """``text`` with every line after the first indented by two spaces."""
    return text.replace("\n", "\n  ")


def wrap(name: str, extra_lines: list[str], child_lines: list[str]) -> str:
    """``Name(extra)`` on one line, or ``Name(`` with one indented line per entry."""
    lines = extra_lines + child_lines
    out = name + "("
    if len(extra_lines) == 1 and not child_lines:
        out += extra_lines[0]
    elif lines:
        out += "\n  " + "\n  ".join(lines) + "\n"
    return out + ")"


def architecture(module: Any) -> str:
    """PyTorch's ``repr`` of ``module``: its ``extra_repr`` and each child, nested."""
    extra = module.extra_repr()
    child_lines = []
    for name, child in module._modules.items():
        text = "None" if child is None else child._architecture()
        child_lines.append(f"({name}): " + indent(text))
    return wrap(type(module).__name__, extra.split("\n") if extra else [], child_lines)


def with_counts(module: Any) -> str:
    """The architecture followed by the frozen and trainable parameter counts."""
    trainable = frozen = 0
    params = list(module.parameters())
    for p in params:
        if p.requires_grad:
            trainable += p.numel()
        else:
            frozen += p.numel()
    text = module._architecture()
    if not params:
        # Losses, activations, pooling: nothing to count, and "Trainable parameters: 0"
        # under a loss reads as if something were wrong. PyTorch's repr exactly.
        return text
    if frozen:
        text += f"\nFrozen parameters: {frozen:,}"
    return text + f"\nTrainable parameters: {trainable:,}"
