"""Workloads of ``benchmarks/run.py``: module-and-optimizer training steps, FLOP counts, the GEMM
rate, and the fresh-process measurements (peak memory of an epoch, import time).

Unlike ``engine_step.py`` (functional ops and a hand-written SGD update), these steps use what a
user writes: ``nn.Sequential`` models, ``nn.CrossEntropyLoss`` and ``optim.SGD`` / ``optim.Adam``
with default options, in chainrule and PyTorch, plus scikit-learn's ``MLPClassifier.partial_fit``
on one batch. Every side starts from the same weights (chainrule's PyTorch-style init, copied
over) and sees the same batch, so the timed work is identical.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

import chainrule as cr
import harness
from chainrule import nn as cnn
from chainrule import optim as coptim

torch, TORCH_IMPORT_ERROR = harness.import_torch()

try:  # optional: without scikit-learn its column reads 'not installed'
    import sklearn
    from sklearn.neural_network import MLPClassifier

    SKLEARN_IMPORT_ERROR: str | None = None
except ImportError as _err:  # pragma: no cover - depends on the environment
    sklearn = None  # type: ignore[assignment]
    MLPClassifier = None  # type: ignore[assignment,misc]
    SKLEARN_IMPORT_ERROR = f"{type(_err).__name__}: {_err}"

MLP_SIZES = (784, 256, 128, 10)
LR = 1e-3
CNN_BATCH = 64
#: Steps run from the initial weights to check that every side does the same work.
CHECK_STEPS = 3


@dataclass
class Workload:
    """A model architecture, one batch of data and the optimizer, shared by every side."""

    name: str
    description: str
    kind: str  # "mlp" or "cnn"
    optimizer: str  # "sgd" or "adam"
    x: np.ndarray
    labels: np.ndarray
    params: list[np.ndarray]  # chainrule/PyTorch layout, in model.parameters() order
    sizes: tuple[int, ...] = MLP_SIZES  # the MLP's layer widths, input first (unused by the CNN)

    @property
    def batch(self) -> int:
        return int(self.x.shape[0])


def mlp_sizes(depth: int, width: int = 256) -> tuple[int, ...]:
    """Widths of an MLP with ``depth`` Linear layers: 784, then ``width`` each, then 10."""
    return (MLP_SIZES[0],) + (width,) * (depth - 1) + (MLP_SIZES[-1],)


def _build(nn: Any, kind: str, sizes: tuple[int, ...] = MLP_SIZES) -> Any:
    """The architecture in ``nn`` (chainrule.nn or torch.nn): both expose the same names.

    The MLP is Linear, ReLU, ..., Linear through ``sizes`` (784-256-128-10 by default).
    """
    if kind == "mlp":
        layers = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        return nn.Sequential(*layers[:-1])  # no ReLU after the last Linear
    # LeNet-style: 28 -> conv3 26 -> pool 13 -> conv3 11 -> pool 5; 16 * 5 * 5 = 400 features.
    return nn.Sequential(
        nn.Conv2d(1, 8, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 10),
    )


def make_workload(
    kind: str,
    optimizer: str,
    batch: int,
    seed: int = 0,
    sizes: tuple[int, ...] = MLP_SIZES,
    name: str | None = None,
) -> Workload:
    """An MLP (784-256-128-10, or ``sizes``) or the LeNet-style CNN, with a random batch and
    initial weights; ``name`` defaults to ``{kind}-{optimizer}-{batch}``."""
    cr.manual_seed(seed)
    params = [p.numpy().copy() for p in _build(cnn, kind, sizes).parameters()]
    rng = np.random.default_rng(seed + batch)
    shape = (batch, sizes[0]) if kind == "mlp" else (batch, 1, 28, 28)
    x = rng.random(shape, dtype=np.float32)
    labels = rng.integers(0, 10, size=batch, dtype=np.int64)
    widths = "-".join(str(s) for s in sizes)
    net = f"MLP {widths} ReLU" if kind == "mlp" else "LeNet-style CNN, 28x28"
    name = name or f"{kind}-{optimizer}-{batch}"
    description = f"{net}, cross-entropy, {optimizer} lr {LR:g}, batch {batch}"
    return Workload(name, description, kind, optimizer, x, labels, params, sizes)


# ----- FLOPs and the GEMM floor ----------------------------------------------------------------


def step_flops(kind: str, batch: int, sizes: tuple[int, ...] = MLP_SIZES) -> float:
    """Multiply-add FLOPs (2 per MAC) of the products in one training step.

    Forward products, the weight gradients (as many again) and the input gradients of every
    layer but the first (no gradient is needed for the data). Elementwise work is left out: the
    floor is what the matrix products alone would cost at this machine's measured rate.
    """
    if kind == "xor":
        layers = [(2, 4, 1), (4, 1, 1)]  # (fan_in, fan_out, output positions per sample)
    elif kind == "mlp":
        layers = [(a, b, 1) for a, b in zip(sizes[:-1], sizes[1:])]
    else:
        layers = [(1 * 9, 8, 26 * 26), (8 * 9, 16, 11 * 11), (400, 10, 1)]
    macs = [batch * fan_in * fan_out * pos for fan_in, fan_out, pos in layers]
    return 2.0 * (2 * sum(macs) + sum(macs[1:]))


def gemm_rate(n: int = 1024, repeat: int = 7) -> dict[str, Any]:
    """This machine's float32 matrix-product rate with NumPy (FLOP/s), median of ``repeat``.

    A square ``n``-sized product is close to the best rate the BLAS reaches here; the steps'
    products are smaller and slower, so the floor derived from it is a true lower bound.
    """
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    a @ b  # warm-up: thread pool start, page faults
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    seconds = statistics.median(times)
    return {"n": n, "repeat": repeat, "median_seconds": seconds, "flops_per_s": 2 * n**3 / seconds}


# ----- runners ---------------------------------------------------------------------------------


class ModuleRunner:
    """chainrule or PyTorch: ``zero_grad``, forward, ``CrossEntropyLoss``, backward, ``step``."""

    def __init__(self, framework: str, work: Workload) -> None:
        self.framework, self.work = framework, work
        if framework == "chainrule":
            self.lib, self.nn, self.optim = cr, cnn, coptim
            self.x, self.y = cr.tensor(work.x), cr.tensor(work.labels)
        else:
            self.lib, self.nn, self.optim = torch, torch.nn, torch.optim
            self.x, self.y = torch.from_numpy(work.x), torch.from_numpy(work.labels)
        self.model = _build(self.nn, work.kind, work.sizes)
        self.loss_fn = self.nn.CrossEntropyLoss()
        self.reset()

    def reset(self) -> None:
        """Initial weights back in place and a fresh optimizer (no Adam moments, step 0)."""
        params = list(self.model.parameters())
        for p, init in zip(params, self.work.params):
            if self.framework == "chainrule":
                p.numpy()[...] = init
            else:
                with torch.no_grad():
                    p.copy_(torch.from_numpy(init))
            p.grad = None
        cls = self.optim.SGD if self.work.optimizer == "sgd" else self.optim.Adam
        self.opt = cls(params, lr=LR)

    def step(self) -> Any:
        self.opt.zero_grad()
        loss = self.loss_fn(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()
        return loss

    def params_numpy(self) -> list[np.ndarray]:
        if self.framework == "chainrule":
            return [p.numpy().copy() for p in self.model.parameters()]
        return [p.detach().numpy().copy() for p in self.model.parameters()]


class SklearnRunner:
    """scikit-learn's ``MLPClassifier.partial_fit`` on one batch: exactly one minibatch step.

    Options chosen so the update is the same as chainrule's default SGD / Adam: no L2 penalty
    (``alpha=0``), plain SGD (``momentum=0``), no shuffling. The batch is given in float32, which
    scikit-learn keeps (``dtype`` records what its weights actually use).
    """

    framework = "sklearn"

    def __init__(self, work: Workload) -> None:
        self.work = work
        self.clf = MLPClassifier(
            hidden_layer_sizes=work.sizes[1:-1],
            solver=work.optimizer,
            batch_size=work.batch,
            max_iter=1,
            learning_rate_init=LR,
            alpha=0.0,
            momentum=0.0,
            nesterovs_momentum=False,
            shuffle=False,
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.clf.partial_fit(work.x, work.labels, classes=np.arange(MLP_SIZES[-1]))
        self.dtype = str(self.clf.coefs_[0].dtype)
        self.reset()

    def reset(self) -> None:
        """Initial weights (transposed: scikit-learn stores ``(in, out)``) and a fresh optimizer."""
        weights, biases = self.work.params[0::2], self.work.params[1::2]
        for coef, bias, w, b in zip(self.clf.coefs_, self.clf.intercepts_, weights, biases):
            coef[...] = w.T
            bias[...] = b
        # partial_fit makes a new optimizer (zero Adam moments, t = 0) when there is none.
        if hasattr(self.clf, "_optimizer"):
            del self.clf._optimizer

    def step(self) -> Any:
        return self.clf.partial_fit(self.work.x, self.work.labels)

    def params_numpy(self) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        for coef, bias in zip(self.clf.coefs_, self.clf.intercepts_):
            out += [coef.T.copy(), bias.copy()]
        return out


def check_agreement(runners: dict[str, Any], steps: int = CHECK_STEPS) -> dict[str, Any]:
    """Largest parameter difference of each side from PyTorch's (or chainrule's) after ``steps``.

    Large values would mean the sides are not doing the same work; float32 rounding and Adam's
    division by ``sqrt(v) + eps`` on near-zero gradients keep small ones (≈1e-6) expected.
    """
    params = {}
    for name, runner in runners.items():
        runner.reset()
        for _ in range(steps):
            runner.step()
        params[name] = runner.params_numpy()
        runner.reset()
    ref = "torch" if "torch" in params else "chainrule"
    diffs = {
        name: max(float(np.max(np.abs(a.astype(np.float64) - b))) for a, b in zip(ps, params[ref]))
        for name, ps in params.items()
        if name != ref
    }
    return {"steps": steps, "reference": ref, "max_abs_param_diff": diffs}


# ----- fresh processes: peak memory of an epoch, import time -----------------------------------

#: One MNIST-shaped epoch (MLP, SGD) in a fresh process; prints a JSON line of what it measured.
EPOCH_SCRIPT = r"""
import json, resource, sys, time
import numpy as np
framework, n, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if framework == "chainrule":
    import chainrule as lib
    from chainrule import nn, optim
else:
    import torch as lib
    from torch import nn, optim
def vm_hwm_kb():
    # The peak RSS of this process's own memory map. ru_maxrss is not used for the result: Linux
    # carries it over an exec from the parent's memory map (vfork), so a child of a big process
    # would report the parent's peak.
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
import_kb = vm_hwm_kb()
rng = np.random.default_rng(0)
X = rng.random((n, 784), dtype=np.float32)
y = rng.integers(0, 10, size=n, dtype=np.int64)
model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                      nn.Linear(128, 10))
opt = optim.SGD(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
t0 = time.perf_counter()
for i in range(0, n, batch):
    xb, yb = lib.from_numpy(X[i:i + batch]), lib.from_numpy(y[i:i + batch])
    opt.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    opt.step()
seconds = time.perf_counter() - t0
peak_kb = vm_hwm_kb()
maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_kb": peak_kb, "ru_maxrss_kb": maxrss_kb, "import_peak_kb": import_kb,
                  "epoch_seconds": seconds, "last_loss": float(loss.item())}))
"""

IMPORT_SCRIPT = (
    "import time; t0 = time.perf_counter(); import {module}; print(time.perf_counter() - t0)"
)


def _python(code: str, *args: str) -> str:
    """Run ``code`` in a fresh interpreter of this environment and return its stdout.

    The child may write and read bytecode caches even where ``PYTHONDONTWRITEBYTECODE`` is set
    for this process, as an installed package has its ``.pyc`` files: without them every import
    compiles the library's source again (about twice the import time of chainrule here).
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, env=env
    )
    return done.stdout.strip().splitlines()[-1]


def epoch_memory(framework: str, rows: int, batch: int, runs: int) -> dict[str, Any]:
    """Peak resident memory of a fresh process training one epoch, median over ``runs``.

    The peak is ``VmHWM`` from ``/proc/self/status`` (``ru_maxrss`` where that is missing);
    the child's ``ru_maxrss`` is recorded too, but it includes this parent's peak (see the
    script), so it is only meaningful when this process is smaller than the child.
    """
    results = [
        json.loads(_python(EPOCH_SCRIPT, framework, str(rows), str(batch))) for _ in range(runs)
    ]
    peaks = [r["peak_kb"] / 1024 for r in results]
    return {
        "peak_mb": statistics.median(peaks),
        "peak_mb_runs": peaks,
        "ru_maxrss_mb": statistics.median(r["ru_maxrss_kb"] / 1024 for r in results),
        "import_peak_mb": statistics.median(r["import_peak_kb"] / 1024 for r in results),
        "epoch_seconds": statistics.median(r["epoch_seconds"] for r in results),
        "last_loss": results[-1]["last_loss"],
    }


def import_time(module: str, runs: int, warmup: int = 1) -> dict[str, Any]:
    """Seconds ``import module`` takes in a fresh interpreter (interpreter start excluded).

    ``warmup`` untimed runs first, so the median does not include a cold page cache.
    """
    for _ in range(warmup):
        _python(IMPORT_SCRIPT.format(module=module))
    times = [float(_python(IMPORT_SCRIPT.format(module=module))) for _ in range(runs)]
    return {"median_s": statistics.median(times), "runs_s": times}
