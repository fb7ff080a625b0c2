"""Pictures of training: curves, decision boundaries, gradient flow, activations, weights, and
a transformer's attention (:func:`attention`).

Needs matplotlib (``pip install "chainrule[plot]"``), imported only when a function here runs,
so ``import chainrule`` never loads it. Figures are built with matplotlib's object API on the
Agg canvas: no window, no global pyplot state, safe on a headless server. Each function returns
a ``matplotlib.figure.Figure`` (an :class:`InlineFigure`, which adds ``_repr_png_``), so a
figure left as a notebook cell's last value is drawn inline without ``%matplotlib`` magic;
:func:`save_all` writes PNGs.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

_MISSING = 'chainrule.learn.plots needs matplotlib: pip install "chainrule[plot]"'
_inline_figure: type | None = None  # made on first use: defining it needs matplotlib


def _inline_figure_class() -> type:
    """matplotlib's ``Figure`` plus ``_repr_png_``.

    IPython draws a ``Figure`` only through the formatter that pyplot's inline backend installs;
    a figure made without pyplot shows as ``<Figure size 600x400 with 1 Axes>``. IPython asks
    any object for ``_repr_png_``, so this subclass is drawn whatever the backend. Where pyplot
    has installed its formatter too, that one answers instead: still one PNG, not two.
    """
    global _inline_figure
    from matplotlib.figure import Figure  # every call, so a missing matplotlib fails here

    if _inline_figure is None:

        class InlineFigure(Figure):
            """A ``matplotlib.figure.Figure`` that Jupyter displays as a PNG."""

            def _repr_png_(self) -> bytes:
                buffer = io.BytesIO()
                self.savefig(buffer, format="png")
                return buffer.getvalue()

        # Named as a module attribute (see __getattr__), so a figure pickles and unpickles.
        InlineFigure.__qualname__ = "InlineFigure"
        _inline_figure = InlineFigure
    return _inline_figure


def __getattr__(name: str) -> Any:
    # ``InlineFigure`` is created on first use, so that importing this module needs no matplotlib.
    if name == "InlineFigure":
        try:
            return _inline_figure_class()
        except ImportError as err:
            raise ImportError(_MISSING) from err
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _figure(width: float = 6.0, height: float = 4.0) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        figure_class = _inline_figure_class()
    except ImportError as err:
        raise ImportError(_MISSING) from err
    fig = figure_class(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def plot_history(history: Any) -> Any:
    """Training curves: loss (and val_loss) on the left, other metrics on the right.

    ``history`` is a :class:`~chainrule.History` (or its ``.history`` dict).
    """
    h = getattr(history, "history", history)
    metrics = [k for k in h if not k.endswith("loss") and k not in ("lr", "seconds")]
    metrics = [k for k in metrics if not k.startswith("val_")]
    fig = _figure(10 if metrics else 6, 4)
    axes = fig.subplots(1, 2 if metrics else 1, squeeze=False)[0]
    for key in ("loss", "val_loss"):
        if key in h:
            axes[0].plot(range(1, len(h[key]) + 1), h[key], label=key)
    axes[0].set(xlabel="epoch", ylabel="loss", title="loss")
    axes[0].legend()
    if metrics:
        for key in metrics:
            for name in (key, f"val_{key}"):
                if name in h:
                    axes[1].plot(range(1, len(h[name]) + 1), h[name], label=name)
        axes[1].set(xlabel="epoch", title=", ".join(metrics))
        axes[1].legend()
    return fig


def plot_decision_boundary(
    model: Any, x: np.ndarray, y: np.ndarray, resolution: int = 200, padding: float = 0.5
) -> Any:
    """The classes a 2-input classifier assigns over the plane, with the data on top.

    ``x`` of shape (n, 2); ``y`` class indices (n,) or 0/1 of shape (n, 1). The model's output
    is read as class scores (argmax) or, with one column, as a logit or probability split at
    the usual threshold (0 for logits, 0.5 when every output lies in [0, 1]).
    """
    from chainrule.training import predict

    x, y = np.asarray(x), np.asarray(y).reshape(len(x), -1)[:, 0]
    lo, hi = x.min(axis=0) - padding, x.max(axis=0) + padding
    gx, gy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)
    scores = np.asarray(predict(model, grid))
    if scores.ndim == 2 and scores.shape[1] > 1:
        classes = scores.argmax(axis=1)
    else:
        s = scores.reshape(-1)
        classes = (s > (0.5 if s.min() >= 0 and s.max() <= 1 else 0.0)).astype(int)
    fig = _figure(5, 5)
    ax = fig.subplots()
    ax.contourf(gx, gy, classes.reshape(gx.shape), alpha=0.3, cmap="coolwarm")
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=15)
    ax.set(title="decision boundary", xlabel="x₁", ylabel="x₂")
    return fig


def plot_gradient_flow(monitor: Any) -> Any:
    """Per-layer gradient norms over epochs from a
    :class:`~chainrule.training.monitor.GradientMonitor`, on a log scale: lines far apart mean
    vanishing or exploding gradients."""
    fig = _figure()
    ax = fig.subplots()
    for layer, metrics in monitor.history.items():
        if "grad_norm" in metrics:
            values = np.maximum(metrics["grad_norm"], 1e-300)
            ax.plot(range(1, len(values) + 1), values, marker="o", label=f"layer {layer}")
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="‖∇W‖", title="gradient flow")
    ax.legend(fontsize=7)
    return fig


def plot_activation_histograms(model: Any, x: np.ndarray, bins: int = 40) -> Any:
    """Histograms of each ReLU/Sigmoid/Tanh module's outputs on the inputs ``x`` (n, features):
    a spike at 0 is dead ReLUs, spikes at the ends are saturated sigmoid/tanh units."""
    from chainrule import nn
    from chainrule.training import predict

    outputs: dict[str, list[np.ndarray]] = {}
    handles = []
    for name, module in model.named_modules():
        if isinstance(module, (nn.ReLU, nn.Sigmoid, nn.Tanh)):

            def hook(mod: Any, args: Any, out: Any, name: str = name) -> None:
                outputs.setdefault(f"{name} {type(mod).__name__}", []).append(out._data.ravel())

            handles.append(module.register_forward_hook(hook))
    try:
        # predict: eval mode and no gradients, so batch norm's running statistics stay put
        # and dropout does not hide units; it runs in batches, hence the lists.
        predict(model, np.asarray(x))
    finally:
        for h in handles:
            h.remove()
    if not outputs:
        raise ValueError("plot_activation_histograms: the model has no ReLU, Sigmoid or Tanh")
    fig = _figure(3 * len(outputs), 3)
    for ax, (name, chunks) in zip(fig.subplots(1, len(outputs), squeeze=False)[0], outputs.items()):
        ax.hist(np.concatenate(chunks), bins=bins, color="tab:blue")
        ax.set(title=name, xlabel="activation")
    return fig


def plot_first_layer_weights(model: Any, image_shape: tuple[int, int], max_units: int = 32) -> Any:
    """Each first-layer unit's weights (a row of W⁽¹⁾) drawn as an image of ``image_shape``,
    e.g. (8, 8) for digits: what pattern in the input each hidden unit responds to."""
    from chainrule import nn

    first = next(m for m in model.modules() if isinstance(m, nn.Linear))
    w = first.weight._data[:max_units]
    if w.shape[1] != image_shape[0] * image_shape[1]:
        raise ValueError(
            f"the first layer has {w.shape[1]} inputs; image_shape {image_shape} has "
            f"{image_shape[0] * image_shape[1]} pixels"
        )
    cols = int(np.ceil(np.sqrt(len(w))))
    rows = int(np.ceil(len(w) / cols))
    fig = _figure(1.2 * cols, 1.2 * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, row in zip(axes, w):
        bound = np.abs(row).max() or 1.0  # symmetric colours: 0 is white
        ax.imshow(row.reshape(image_shape), cmap="seismic", vmin=-bound, vmax=bound)
    fig.suptitle("first-layer weights")
    return fig


#: How a token's invisible characters are drawn in tick labels, so that a space is not blank.
VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥"}


def visible_token(token: str) -> str:
    """``token`` with spaces, newlines and tabs as ␣ ↵ ⇥ and other control characters escaped
    (``\\r`` → ``\\x0d``): what a tick label shows for it."""
    out = []
    for ch in str(token):
        if ch in VISIBLE:
            out.append(VISIBLE[ch])
        elif not ch.isprintable():
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out) or "∅"  # an empty token still gets a label


def _attention_layer(maps: Any, layer: int) -> np.ndarray:
    """``maps[layer]`` as a float array (n_head, T, T), or a ValueError saying what is wrong."""
    n_layer = len(maps)
    if not 0 <= layer < n_layer:
        raise ValueError(
            f"layer {layer} is out of range: maps has {n_layer} layer(s), 0 … {n_layer - 1}"
        )
    weights = np.asarray(maps[layer], dtype=np.float64)
    if weights.ndim != 3:
        raise ValueError(
            f"maps[{layer}] must have 3 axes (n_head, T, T), one array per layer as "
            f"GPT.attention_maps returns; got shape {weights.shape}"
        )
    if weights.shape[1] != weights.shape[2]:
        raise ValueError(
            f"maps[{layer}] must be square in its last two axes (query T × key T); "
            f"got shape {weights.shape}"
        )
    return weights


def _attention_heads(heads: Any, n_head: int, layer: int) -> list[int]:
    """The head indices to draw: all for None, else each checked against ``n_head``."""
    if heads is None:
        return list(range(n_head))
    chosen = [heads] if np.ndim(heads) == 0 else list(heads)
    if not chosen:
        raise ValueError("heads is empty: pass None for every head, or some head indices")
    for h in chosen:
        if not isinstance(h, (int, np.integer)) or isinstance(h, bool):
            raise TypeError(f"heads must be ints; got {h!r}")
        if not 0 <= h < n_head:
            raise ValueError(
                f"head {h} is out of range: layer {layer} has {n_head} head(s), 0 … {n_head - 1}"
            )
    return [int(h) for h in chosen]


def attention(maps: Any, tokens: Any, layer: int = 0, heads: Any = None) -> Any:
    """One layer's attention weights as heatmaps, one per head.

    Row t of a head's map is the softmax over the positions query t reads; a causal model
    leaves the upper triangle at 0. Colours run from 0 to 1 in every panel, so heads compare.

    Parameters
    ----------
    maps : sequence of ndarray of shape (n_head, T, T)
        One array per layer, as :meth:`chainrule.models.gpt.GPT.attention_maps` returns;
        ``maps[l][h, q, k]`` is how much query position q attends to key position k.
    tokens : str or sequence of str, length T
        The tokens of the sequence (a string: one token per character). Spaces, newlines and
        tabs are drawn as ␣ ↵ ⇥ (:func:`visible_token`).
    layer : int
        Which layer, 0-based.
    heads : int or sequence of int, optional
        The heads to draw (0-based); all of them by default.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes per head drawn (grid of up to 4 columns): rows are queries, columns keys,
        both ticked with the tokens.
    """
    weights = _attention_layer(maps, layer)
    n_head, T, _ = weights.shape
    labels = [visible_token(t) for t in tokens]
    if len(labels) != T:
        raise ValueError(
            f"tokens has {len(labels)} entries but layer {layer}'s maps are {T} × {T}: "
            f"pass one token per position (T = {T})"
        )
    chosen = _attention_heads(heads, n_head, layer)
    cols = min(len(chosen), 4)
    rows = -(-len(chosen) // cols)
    side = max(2.5, 0.25 * T)  # room for T tick labels
    fig = _figure(side * cols + 0.5, side * rows + 0.8)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[len(chosen) :]:
        fig.delaxes(ax)  # the grid's spare cells: one Axes per head drawn, no empty frames
    size = max(5.0, min(10.0, 160.0 / T))
    turn = 90 if max(len(label) for label in labels) > 2 else 0  # long tokens would overlap
    for ax, h in zip(axes, chosen):
        ax.imshow(weights[h], cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_xticks(range(T), labels, fontsize=size, rotation=turn, parse_math=False)
        ax.set_yticks(range(T), labels, fontsize=size, parse_math=False)
        ax.set(title=f"head {h}", xlabel="key", ylabel="query")
    fig.suptitle(f"attention, layer {layer} (0 dark … 1 bright; each row sums to 1)")
    return fig


def save_all(
    out_dir: str | Path,
    *,
    history: Any = None,
    model: Any = None,
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
    monitor: Any = None,
    image_shape: tuple[int, int] | None = None,
) -> list[Path]:
    """Write every picture the arguments allow as PNGs in ``out_dir``; returns their paths.

    history → history.png; model + 2-D x, y → decision_boundary.png; monitor →
    gradient_flow.png; model + x → activations.png; model + image_shape → weights.png.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {}
    if history is not None:
        figures["history"] = plot_history(history)
    if model is not None and x is not None:
        if y is not None and np.asarray(x).shape[1] == 2:
            figures["decision_boundary"] = plot_decision_boundary(model, x, y)
        figures["activations"] = plot_activation_histograms(model, x)
    if monitor is not None:
        figures["gradient_flow"] = plot_gradient_flow(monitor)
    if model is not None and image_shape is not None:
        figures["weights"] = plot_first_layer_weights(model, image_shape)
    paths = []
    for name, fig in figures.items():
        path = out / f"{name}.png"
        fig.savefig(path)
        paths.append(path)
    return paths
