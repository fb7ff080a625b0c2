"""chainrule.plots.attention: one heatmap per head of a GPT layer's attention weights, the tokens
as tick labels (skipped without matplotlib)."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")  # no window, whatever MPLBACKEND says

import chainrule as cr  # noqa: E402  after the skip: nothing to test without matplotlib
from chainrule.learn.plots import attention, visible_token  # noqa: E402
from chainrule.models.gpt import GPT  # noqa: E402

TEXT = "to be\nor\tnot"  # 12 characters: a space, a newline and a tab among them
N_HEAD = 3


@pytest.fixture(scope="module")
def maps():
    cr.manual_seed(0)
    vocab = sorted(set(TEXT))
    model = GPT(len(vocab), block_size=16, n_layer=2, n_head=N_HEAD, n_embd=12)
    ids = cr.tensor([[vocab.index(c) for c in TEXT]])
    return model.attention_maps(ids)


def labels(ticks) -> list[str]:
    return [t.get_text() for t in ticks]


def test_one_axes_per_head_ticked_with_the_visible_tokens(maps):
    assert [m.shape for m in maps] == [(N_HEAD, 12, 12)] * 2
    fig = attention(maps, TEXT, layer=1)
    assert cr.plots.attention is attention
    assert len(fig.axes) == N_HEAD
    expected = list("to␣be↵or⇥not")
    for h, ax in enumerate(fig.axes):
        assert ax.get_title() == f"head {h}"
        assert labels(ax.get_xticklabels()) == labels(ax.get_yticklabels()) == expected
    fig.canvas.draw()  # renders every glyph: a missing one would warn, and warnings are errors


def test_the_drawn_rows_are_the_softmax_weights_and_sum_to_one(maps):
    fig = attention(maps, list(TEXT), layer=0)
    for h, ax in enumerate(fig.axes):
        (image,) = ax.images
        drawn = np.asarray(image.get_array(), dtype=np.float64)
        np.testing.assert_allclose(drawn, maps[0][h])
        np.testing.assert_allclose(drawn.sum(axis=1), 1.0, atol=1e-6)
        assert np.all(np.triu(drawn, k=1) == 0)  # causal: no query reads a later key
        assert image.get_clim() == (0.0, 1.0)


def test_chosen_heads_only():
    weights = np.full((4, 2, 2), 0.5)
    fig = attention([weights], ["ab", " "], heads=[3, 1])
    assert [ax.get_title() for ax in fig.axes] == ["head 3", "head 1"]
    assert labels(fig.axes[0].get_xticklabels()) == ["ab", "␣"]
    assert len(attention([weights], "xy", heads=2).axes) == 1


def test_invisible_characters_are_shown():
    assert visible_token(" \n\t") == "␣↵⇥"
    assert visible_token("\r") == "\\x0d" and visible_token("") == "∅"
    assert visible_token("$x$") == "$x$"  # drawn as text, not as mathtext


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"layer": 2}, ValueError, r"layer 2 is out of range: maps has 2 layer\(s\), 0 … 1"),
        ({"layer": -1}, ValueError, r"layer -1 is out of range"),
        ({"tokens": "to be"}, ValueError, r"tokens has 5 entries but layer 0's maps are 12 × 12"),
        ({"heads": 3}, ValueError, r"head 3 is out of range: layer 0 has 3 head\(s\), 0 … 2"),
        ({"heads": [0, -1]}, ValueError, r"head -1 is out of range"),
        ({"heads": []}, ValueError, r"heads is empty"),
        ({"heads": [0.5]}, TypeError, r"heads must be ints; got 0.5"),
    ],
)
def test_bad_inputs_are_refused_precisely(maps, kwargs, error, message):
    with pytest.raises(error, match=message):
        attention(maps, kwargs.pop("tokens", TEXT), **kwargs)


def test_maps_of_the_wrong_shape_are_refused(maps):
    rank = r"maps\[0\] must have 3 axes \(n_head, T, T\).* got shape \(12, 12\)"
    with pytest.raises(ValueError, match=rank):
        attention([maps[0][0]], TEXT)
    with pytest.raises(ValueError, match=r"square in its last two axes.*got shape \(3, 12, 5\)"):
        attention([maps[0][:, :, :5]], TEXT)
