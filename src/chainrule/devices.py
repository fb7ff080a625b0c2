"""``chainrule.device``: where a tensor lives, which is always the CPU.

Device-agnostic PyTorch code asks ``torch.cuda.is_available()``, builds ``torch.device(...)``
and passes ``device=`` or calls ``.to(device)``. All of that works here as long as the device
asked for is the CPU; naming any other device (``"cuda"``, ``"mps"``, an index) is refused by
:func:`check_cpu` with a message saying so, at the place it was asked for.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import dtypes

#: The device types PyTorch knows; only "cpu" exists in chainrule, the rest are refused.
KNOWN_TYPES = (
    "cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "mtia", "hpu", "ipu", "vulkan", "lazy",
    "mkldnn", "opengl", "opencl", "ideep", "ve", "fpga", "maia", "privateuseone",
)  # fmt: skip


class device:  # noqa: N801  PyTorch's name, lower case as in torch.device
    """A device, as ``torch.device``: ``device("cpu")``, ``device("cuda:1")``,
    ``device("cuda", 0)``. ``device(0)`` (an index alone: the current accelerator's) is refused,
    as PyTorch refuses it on a machine without an accelerator.

    Attributes
    ----------
    type : str
        ``"cpu"``, ``"cuda"``, …
    index : int or None
    """

    __slots__ = ("type", "index")

    def __init__(self, type: str | device | int, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, int) and not isinstance(type, bool):
            # PyTorch reads an index alone as the current accelerator's device; there is none.
            raise RuntimeError(
                f"device({type}): an index alone names an accelerator device, but chainrule "
                "runs on the CPU only (no accelerator is available); use device('cpu')"
            )
        elif not isinstance(type, str):
            raise TypeError(f"device() takes a string, a device or an index; got {type!r}")
        elif ":" in type:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index: {type!r}")
            type, _, text = type.partition(":")
            if not text.isdigit():
                raise RuntimeError(f"invalid device string: {type}:{text}")
            index = int(text)
        if type not in KNOWN_TYPES:
            raise RuntimeError(
                f"unknown device type {type!r}; expected one of {', '.join(KNOWN_TYPES)}"
            )
        if index is not None and index < 0:
            raise RuntimeError(f"device index must not be negative; got {index}")
        self.type, self.index = type, index

    def __repr__(self) -> str:
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{extra})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    # As in PyTorch, a device equals only another device: device("cpu") == "cpu" is False.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self) -> tuple:
        return device, (self.type, self.index)


CPU = device("cpu")

DeviceLike = str | device | int | None


def no_device(where: DeviceLike, what: str) -> RuntimeError:
    """The error for ``what`` asking for non-CPU device ``where``."""
    return RuntimeError(
        f"{what}: device {str(device(where))!r} was asked for, but chainrule runs on the CPU "
        "only (no CUDA, MPS or other accelerator). chainrule.cuda.is_available() is False, so "
        "device-agnostic code (`'cuda' if torch.cuda.is_available() else 'cpu'`) picks 'cpu'."
    )


def check_cpu(where: DeviceLike, what: str) -> device:
    """The CPU device if ``where`` names it (or is None); otherwise a ``RuntimeError`` saying
    that ``what`` asked for a device chainrule does not have."""
    if where is None or where == "cpu" or where is CPU:
        return CPU
    if device(where).type != "cpu":
        raise no_device(where, what)
    return CPU


def target_dtype(args: tuple, kw: dict[str, Any], tensor_type: type) -> np.dtype | None:
    """The dtype ``Tensor.to(*args, **kw)`` asks for (None: keep it), after refusing any device
    but the CPU. ``args`` is ``(dtype,)``, ``(device[, dtype])`` or ``(other_tensor,)``."""
    unknown = set(kw) - {"device", "dtype", "memory_format"}
    if unknown:
        raise TypeError(f"to() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    where, dtype = kw.get("device"), kw.get("dtype")
    rest = list(args)
    if rest and isinstance(rest[0], tensor_type):
        dtype = rest.pop(0).dtype
    elif rest and (is_device_like(rest[0]) or isinstance(rest[0], int)):
        where = rest.pop(0)
    if rest and dtype is None:
        dtype = rest.pop(0)
    if rest:
        raise TypeError(f"to() got unexpected positional arguments {tuple(rest)!r}")
    check_cpu(where, "Tensor.to()")
    return dtypes.resolve_dtype(dtype)


def is_device_like(value: object) -> bool:
    """Whether ``value`` names a device (as opposed to a dtype) in ``Tensor.to(...)``."""
    return isinstance(value, device) or (
        isinstance(value, str) and value.partition(":")[0] in KNOWN_TYPES
    )
