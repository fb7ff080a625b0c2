"""The autograd engine: ``Function`` (one op), the backward pass, and the grad-mode switches."""
