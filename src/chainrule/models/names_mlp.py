"""The names MLP of makemore part 2: a character-level model that reads the last few letters.

Each of the ``vocab_size`` characters has a learned ``embedding_dim``-vector (the table C).
The ``block_size`` previous characters are looked up, their vectors laid side by side, and a
one-hidden-layer tanh network turns them into scores for the next character:

    e = C[context]                         (B, block, emb)
    h = tanh(e.view(B, block·emb) W1ᵀ + b1)  (B, hidden)
    logits = h W2ᵀ + b2                    (B, vocab)

>>> import chainrule as cr
>>> model = NamesMLP()
>>> model(cr.zeros(4, 3, dtype=cr.int64)).shape
chainrule.Size([4, 27])
"""

from __future__ import annotations

from chainrule import nn
from chainrule._tensor import Tensor
from chainrule.autograd import no_grad
from chainrule.data import CharTokenizer
from chainrule.nn import functional as F
from chainrule.random import GeneratorLike
from chainrule.sampling import multinomial

#: A generated name stops here even if the model never samples the end token.
MAX_NAME_LENGTH = 50


class NamesMLP(nn.Module):
    """Embedding table, concatenated context, one tanh hidden layer, next-character logits.

    Parameters
    ----------
    vocab_size : int
        Number of characters, the boundary ``"."`` included (27 for the names corpus).
    block_size : int
        How many previous characters the model reads.
    embedding_dim : int
        Length of each character's vector.
    hidden : int
        Width of the tanh layer.

    Attributes
    ----------
    C : nn.Embedding
        The ``(vocab_size, embedding_dim)`` table of character vectors.
    hidden_layer : nn.Linear
        ``block_size · embedding_dim`` → ``hidden``.
    output : nn.Linear
        ``hidden`` → ``vocab_size``.

    Shapes
    ------
    forward: context ``(B, block_size)`` int64 → logits ``(B, vocab_size)``.
    """

    def __init__(
        self, vocab_size: int = 27, block_size: int = 3, embedding_dim: int = 10, hidden: int = 200
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.block_size = block_size
        self.C = nn.Embedding(vocab_size, embedding_dim)
        self.hidden_layer = nn.Linear(block_size * embedding_dim, hidden)
        self.output = nn.Linear(hidden, vocab_size)

    def forward(self, context: Tensor) -> Tensor:
        """Scores for the character after each context.

        Parameters
        ----------
        context : Tensor, int64, shape ``(B, block_size)``
            Character ids, the oldest first (padded on the left with the boundary id).

        Returns
        -------
        Tensor, shape ``(B, vocab_size)``
            Unnormalised log-probabilities (logits) of the next character.
        """
        if context.ndim != 2 or context.shape[1] != self.block_size:
            raise ValueError(
                f"NamesMLP expects contexts of shape (B, {self.block_size}); "
                f"got {tuple(context.shape)}"
            )
        e = self.C(context)  # (B, block, emb)
        h = F.tanh(self.hidden_layer(e.view(e.shape[0], -1)))
        return self.output(h)

    def generate(
        self,
        tokenizer: CharTokenizer,
        num: int,
        generator: GeneratorLike = None,
        temperature: float = 1.0,
    ) -> list[str]:
        """Sample ``num`` new words, one character at a time, until the end token.

        Each word starts from a context of ``block_size`` boundary characters; the sampled
        character joins the context (the oldest drops out) until the boundary is sampled, or
        after :data:`MAX_NAME_LENGTH` characters. Runs without gradients and in eval mode,
        and leaves the module's train/eval mode as it found it.

        Parameters
        ----------
        tokenizer : CharTokenizer
            The vocabulary the model was trained with; it must have a ``boundary``.
        num : int
            How many words.
        generator : chainrule.Generator, numpy.random.Generator, int or None
            The random stream (``None``: chainrule's global one).
        temperature : float
            Divides the logits: below 1 more likely letters, above 1 more varied ones.

        Returns
        -------
        list of str, length ``num``
            The words, without the boundary.
        """
        if tokenizer.boundary is None:
            raise ValueError("generate() needs a tokenizer with a boundary (end) character")
        if temperature <= 0:
            raise ValueError(f"temperature must be positive; got {temperature}")
        end = tokenizer.stoi[tokenizer.boundary]
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                return [
                    self._sample_word(tokenizer, end, generator, temperature) for _ in range(num)
                ]
        finally:
            self.train(was_training)

    def _sample_word(
        self, tokenizer: CharTokenizer, end: int, generator: GeneratorLike, temperature: float
    ) -> str:
        context = [end] * self.block_size
        ids: list[int] = []
        for _ in range(MAX_NAME_LENGTH):
            logits = self(Tensor([context]).long()) / temperature
            probs = F.softmax(logits, dim=1)
            ix = int(multinomial(probs, 1, generator=generator).item())
            if ix == end:
                break
            ids.append(ix)
            context = context[1:] + [ix]
        return tokenizer.decode(ids)
