"""A character-level LSTM language model (char-rnn): embedding, stacked LSTM, linear read-out.

At every position the model reads one character id and predicts the next one:

    e = E[idx]                       (B, T, emb)
    out, (h, c) = LSTM(e, state)     (B, T, hidden); h, c: (layers, B, hidden)
    logits = out Wᵀ + b              (B, T, vocab)

The state ``(h, c)`` summarises everything read so far, so text can be generated one
character at a time by feeding each sample back in with the state from the step before.

>>> import chainrule as cr
>>> model = CharLSTM(65, embedding_dim=8, hidden_size=16, num_layers=1)
>>> logits, (h, c) = model(cr.zeros(2, 5, dtype=cr.int64))
>>> logits.shape, h.shape
(chainrule.Size([2, 5, 65]), chainrule.Size([1, 2, 16]))
"""

from __future__ import annotations

from chainrule import nn
from chainrule._tensor import Tensor
from chainrule.autograd import no_grad
from chainrule.nn import functional as F
from chainrule.random import GeneratorLike
from chainrule.sampling import multinomial

LSTMState = tuple[Tensor, Tensor]


class CharLSTM(nn.Module):
    """Embedding → ``nn.LSTM(batch_first=True)`` → Linear, over character ids.

    Parameters
    ----------
    vocab_size : int
        Number of distinct characters (65 for tiny Shakespeare).
    embedding_dim : int
        Length of each character's learned vector.
    hidden_size : int
        Width of each LSTM layer's hidden and cell state.
    num_layers : int
        Stacked LSTM layers.
    dropout : float
        Dropout between LSTM layers, in training mode (``nn.LSTM``'s; 0 with one layer).

    Attributes
    ----------
    embedding : nn.Embedding
        ``(vocab_size, embedding_dim)``.
    lstm : nn.LSTM
        ``embedding_dim`` → ``hidden_size``, ``num_layers`` deep, batch first.
    head : nn.Linear
        ``hidden_size`` → ``vocab_size``.

    Shapes
    ------
    forward: ids ``(B, T)`` int64 → logits ``(B, T, vocab_size)`` and the state ``(h, c)``,
    each ``(num_layers, B, hidden_size)``.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 64,
        hidden_size: int = 256,
        num_layers: int = 2,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(
            embedding_dim, hidden_size, num_layers, batch_first=True, dropout=dropout
        )
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx: Tensor, state: LSTMState | None = None) -> tuple[Tensor, LSTMState]:
        """Next-character logits at every position, and the LSTM state after the last one.

        Parameters
        ----------
        idx : Tensor, int64, shape ``(B, T)``
            Character ids.
        state : pair of Tensors ``(h, c)``, each ``(num_layers, B, hidden_size)``, optional
            Where to continue from (the state a previous call returned); zeros by default.

        Returns
        -------
        logits : Tensor, shape ``(B, T, vocab_size)``
        state : pair of Tensors ``(h, c)``, each ``(num_layers, B, hidden_size)``
        """
        if idx.ndim != 2:
            raise ValueError(f"CharLSTM expects ids of shape (B, T); got {tuple(idx.shape)}")
        out, state = self.lstm(self.embedding(idx), state)
        return self.head(out), state

    def generate(
        self,
        idx: Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: GeneratorLike = None,
    ) -> Tensor:
        """Continue each row of ``idx`` by ``max_new_tokens`` sampled characters.

        The prompt is read once; after that each step feeds only the newest character and
        carries the LSTM state, so a step costs the same however long the text is. Runs
        without gradients and in eval mode (no dropout), and restores the train/eval mode
        the module had.

        Parameters
        ----------
        idx : Tensor, int64, shape ``(B, T0)``, ``T0 ≥ 1``
            The prompts.
        max_new_tokens : int
            How many characters to add.
        temperature : float
            Divides the logits before the softmax: below 1 safer text, above 1 wilder text.
        top_k : int, optional
            Sample only among the ``top_k`` most likely characters.
        generator : chainrule.Generator, numpy.random.Generator, int or None
            The random stream (``None``: chainrule's global one).

        Returns
        -------
        Tensor, int64, shape ``(B, T0 + max_new_tokens)``
            The prompts followed by the samples.
        """
        if idx.ndim != 2 or idx.shape[1] < 1:
            raise ValueError(f"generate() needs prompts of shape (B, T0 ≥ 1); got {idx.shape}")
        if temperature <= 0:
            raise ValueError(f"temperature must be positive; got {temperature}")
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                return self._sample(idx, max_new_tokens, temperature, top_k, generator)
        finally:
            self.train(was_training)

    def _sample(
        self,
        idx: Tensor,
        max_new_tokens: int,
        temperature: float,
        top_k: int | None,
        generator: GeneratorLike,
    ) -> Tensor:
        pieces = [idx]
        step_input, state = idx, None
        for _ in range(max_new_tokens):
            logits, state = self(step_input, state)
            logits = logits[:, -1, :] / temperature  # (B, vocab)
            if top_k is not None:
                kth = logits.topk(min(top_k, logits.shape[-1]), dim=-1).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            step_input = multinomial(F.softmax(logits, dim=-1), 1, generator=generator)
            pieces.append(step_input)
        return F.cat(pieces, dim=1)
