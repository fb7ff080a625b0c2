"""PyTorch parity for the fused LSTM layer (values and gradients in float64): ``nn.LSTM`` on a
padded batch runs each layer and direction as one ``LSTMLayer`` op; here both libraries run
the same LSTM with the case's weights through ``functional_call``, so every weight, the input
and the initial state get their gradients compared."""

from __future__ import annotations

import chainrule as cr
from parity_support import case, inputs, randn, register, torch

T, B, N_IN, H = 5, 3, 4, 6  # steps, batch, input size, hidden size


def _lstm(lib, t, bidirectional: bool):
    module = lib.nn.LSTM(N_IN, H, bidirectional=bidirectional).double()
    suffixes = ["", "_reverse"] if bidirectional else [""]
    params = {}
    for k, sfx in enumerate(suffixes):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            params[f"{name}_l0{sfx}"] = getattr(t, f"{name}{k}")
    out, (h_n, c_n) = lib.func.functional_call(module, params, (t.x, (t.h0, t.c0)))
    return lib.cat([out.reshape(-1), h_n.reshape(-1), c_n.reshape(-1)])


def _weights(directions: int):
    makers = {}
    for k in range(directions):
        makers |= {
            f"weight_ih{k}": randn(4 * H, N_IN, scale=0.4),
            f"weight_hh{k}": randn(4 * H, H, scale=0.4),
            f"bias_ih{k}": randn(4 * H, scale=0.2),
            f"bias_hh{k}": randn(4 * H, scale=0.2),
        }
    return makers


CASES = [
    case(
        f"lstm-layer-{'bidirectional' if bi else 'one-direction'}",
        "LSTMLayer",
        inputs(
            x=randn(T, B, N_IN),
            h0=randn(2 if bi else 1, B, H, scale=0.5),
            c0=randn(2 if bi else 1, B, H, scale=0.5),
            **_weights(2 if bi else 1),
        ),
        lambda t, bi=bi: _lstm(cr, t, bi),
        lambda t, bi=bi: _lstm(torch, t, bi),
    )
    for bi in (False, True)
]

register(*CASES)
