"""Gradcheck cases for the fused recurrent ops: an LSTM layer's whole recurrence as one op
(:class:`chainrule.ops.recurrent.LSTMLayer`), either direction, hidden and cell outputs."""

from __future__ import annotations

from hypothesis import strategies as st

from chainrule.ops.recurrent import lstm_layer
from gradcheck_support import case, leaf, normal


@case("LSTMLayer")
def lstm_layer_over_a_sequence(draw):
    steps, batch, size = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    reverse = draw(st.booleans())
    ih = leaf(normal(draw, (steps, batch, 4 * size)))
    h0, c0 = leaf(normal(draw, (batch, size))), leaf(normal(draw, (batch, size)))
    w_hh = leaf(0.5 * normal(draw, (4 * size, size)))
    b_hh = leaf(normal(draw, (4 * size,)))

    def fn(ih, h0, c0, w_hh, b_hh):
        return lstm_layer(ih, h0, c0, w_hh, b_hh, reverse)

    return fn, [ih, h0, c0, w_hh, b_hh]
