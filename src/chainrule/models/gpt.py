"""A small GPT (decoder-only transformer) over token ids, in the shape of nanoGPT.

    x = wte[idx] + wpe[0..T)                         (B, T, C)
    for each block:  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))
    logits = ln_f(x) wteᵀ                            (B, T, vocab)

Attention is causal: position t reads only positions ≤ t. The read-out shares its weight
with the token embedding (weight tying).

This file imports only ``chainrule`` under the names PyTorch code uses (``torch``, ``nn``,
``F``) and calls only PyTorch's API, so the same source, with the import lines switched to
``torch``, defines the identical model under PyTorch (the side-by-side runs rely on this).
"""

from __future__ import annotations

import math

import chainrule as torch
from chainrule import nn
from chainrule.nn import functional as F


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with one fused q, k, v projection.

    Shapes
    ------
    ``(B, T, n_embd)`` → ``(B, T, n_embd)``.
    """

    def __init__(self, n_embd: int, n_head: int, dropout: float, bias: bool) -> None:
        super().__init__()
        if n_embd % n_head != 0:
            raise ValueError(f"n_embd ({n_embd}) must be divisible by n_head ({n_head})")
        self.n_head = n_head
        self.dropout = dropout
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.resid_dropout = nn.Dropout(dropout)

    def heads(self, x):
        """q, k, v, each ``(B, n_head, T, n_embd // n_head)``."""
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        shape = (B, T, self.n_head, C // self.n_head)
        return [t.view(*shape).transpose(1, 2) for t in (q, k, v)]

    def forward(self, x):
        """Attend over the causal past of every position; ``(B, T, C)`` → ``(B, T, C)``."""
        B, T, C = x.shape
        q, k, v = self.heads(x)
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))

    def weights(self, x):
        """The softmax attention weights ``(B, n_head, T, T)`` (no dropout)."""
        q, k, _ = self.heads(x)
        T = x.shape[1]
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.shape[-1]))
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        return F.softmax(att.masked_fill(~mask, float("-inf")), dim=-1)


class MLP(nn.Module):
    """Linear(C, 4C) → GELU → Linear(4C, C) → dropout; ``(B, T, C)`` → ``(B, T, C)``."""

    def __init__(self, n_embd: int, dropout: float, bias: bool) -> None:
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        """``(B, T, C)`` → ``(B, T, C)``."""
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-norm transformer block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, n_embd: int, n_head: int, dropout: float, bias: bool) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, bias=bias)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout, bias)
        self.ln_2 = nn.LayerNorm(n_embd, bias=bias)
        self.mlp = MLP(n_embd, dropout, bias)

    def forward(self, x):
        """``(B, T, C)`` → ``(B, T, C)``."""
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """A GPT language model: embeddings, ``n_layer`` pre-norm blocks, tied read-out.

    Parameters
    ----------
    vocab_size : int
        Number of distinct tokens (65 for tiny Shakespeare by characters).
    block_size : int
        Longest context the position embedding covers.
    n_layer, n_head, n_embd : int
        Depth, attention heads per block, and width (``n_embd % n_head == 0``).
    dropout : float
        Dropout after the embeddings, on the attention weights and after each residual
        branch, in training mode.
    bias : bool
        Whether the Linear and LayerNorm layers carry biases.

    Shapes
    ------
    forward: ids ``(B, T)`` int64, ``T ≤ block_size`` → logits ``(B, T, vocab_size)`` and
    the mean cross-entropy against ``targets`` ``(B, T)`` (or ``None``).
    """

    def __init__(
        self,
        vocab_size: int,
        block_size: int = 64,
        n_layer: int = 4,
        n_head: int = 4,
        n_embd: int = 128,
        dropout: float = 0.0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.block_size = block_size
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(vocab_size, n_embd),
                wpe=nn.Embedding(block_size, n_embd),
                drop=nn.Dropout(dropout),
                h=nn.ModuleList([Block(n_embd, n_head, dropout, bias) for _ in range(n_layer)]),
                ln_f=nn.LayerNorm(n_embd, bias=bias),
            )
        )
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # tied: one Parameter
        self.apply(self.init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):  # GPT-2: residual branches scaled by depth
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def init_weights(module) -> None:
        """GPT-2's init: normal(0, 0.02) weights, zero biases."""
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def embed(self, idx):
        """Token plus position embeddings, ``(B, T)`` → ``(B, T, n_embd)``."""
        if idx.ndim != 2 or idx.shape[1] > self.block_size:
            raise ValueError(f"GPT expects ids (B, T ≤ {self.block_size}); got {tuple(idx.shape)}")
        pos = torch.arange(idx.shape[1], dtype=torch.long)
        tr = self.transformer
        return tr.drop(tr.wte(idx) + tr.wpe(pos))

    def forward(self, idx, targets=None):
        """Logits ``(B, T, vocab_size)`` and the mean cross-entropy against ``targets``.

        Parameters
        ----------
        idx : Tensor, int64, shape ``(B, T)``
        targets : Tensor, int64, shape ``(B, T)``, optional

        Returns
        -------
        logits : Tensor ``(B, T, vocab_size)``
        loss : scalar Tensor, or None without targets
        """
        x = self.embed(idx)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.reshape(-1))
        return logits, loss

    def configure_optimizers(self, weight_decay: float, learning_rate: float, betas):
        """AdamW with weight decay on the ≥ 2-D parameters only (matrices, embeddings).

        Biases and LayerNorm weights (1-D) are not decayed.
        """
        params = [p for p in self.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ]
        return torch.optim.AdamW(groups, lr=learning_rate, betas=tuple(betas))

    def generate(self, idx, max_new_tokens: int, temperature=1.0, top_k=None, generator=None):
        """Append ``max_new_tokens`` sampled tokens to each row of ``idx`` ``(B, T0)``.

        Each step reads at most the last ``block_size`` tokens. Runs without gradients in
        eval mode and restores the mode the module had. Returns ``(B, T0 + max_new_tokens)``.
        """
        if temperature <= 0:
            raise ValueError(f"temperature must be positive; got {temperature}")
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                for _ in range(max_new_tokens):
                    logits, _ = self(idx[:, -self.block_size :])
                    logits = logits[:, -1, :] / temperature
                    if top_k is not None:
                        kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, -1:]
                        logits = logits.masked_fill(logits < kth, float("-inf"))
                    probs = F.softmax(logits, dim=-1)
                    nxt = torch.multinomial(probs, 1, generator=generator)
                    idx = torch.cat([idx, nxt], dim=1)
            return idx
        finally:
            self.train(was_training)

    def attention_maps(self, idx) -> list:
        """One NumPy array ``(n_head, T, T)`` per layer: the softmax weights for ``idx[0]``.

        Computed without dropout and without gradients; row t sums to 1 over columns ≤ t.
        """
        maps = []
        with torch.no_grad():
            x = self.embed(idx[:1])
            for block in self.transformer.h:
                maps.append(block.attn.weights(block.ln_1(x))[0].numpy())
                x = block(x)
        return maps
