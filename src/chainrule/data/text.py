"""Built-in text corpora, and a character tokenizer whose vocabulary is saved as JSON.

>>> from chainrule.data.text import CharTokenizer, load_text
>>> text = load_text("shakespeare")          # str of 1,115,394 characters
>>> tok = CharTokenizer(text)                # the 65 distinct characters, sorted
>>> tok.decode(tok.encode("First Citizen")) == "First Citizen"
True

Two corpora ship with chainrule, compressed with xz, so nothing is downloaded:

``"shakespeare"`` (``tinyshakespeare.txt``, 1,115,394 bytes)
    "Tiny Shakespeare": about 40,000 lines of Shakespeare's plays, 65 distinct characters. The
    text is in the public domain; this file was first published with the char-rnn project
    (MIT licence), and is the standard character-level language-modelling set.
``"names"`` (``names.txt``, 228,145 bytes)
    32,033 lowercase first names, one per line, from the US Social Security Administration's
    public baby-name data, as published with the makemore project (MIT licence).

Every load checks the SHA-256 of the decompressed text against the value recorded here (and in
``text/PROVENANCE.md`` beside this module), and decompresses at most the expected size plus one
byte, so neither a damaged nor a hostile file can hand back wrong text or exhaust memory.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chainrule._tensor import Tensor
from chainrule.data.download import ChecksumError
from chainrule.io.atomic import open_regular, write_bytes

#: The shipped corpora: name -> (file in the ``text`` folder, decompressed size, SHA-256).
TEXT_CORPORA: dict[str, tuple[str, int, str]] = {
    "names": (
        "names.txt.xz",
        228_145,
        "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d",
    ),
    "shakespeare": (
        "tinyshakespeare.txt.xz",
        1_115_394,
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    ),
}

_TEXT_DIR = Path(__file__).with_name("text")
_FORMAT = "chainrule.CharTokenizer"
_VERSION = 1
#: A tokenizer file is a short JSON list of characters; anything larger is not one.
MAX_TOKENIZER_BYTES = 4 << 20
_SHOWN = 10  # unknown characters or ids named in an error message, at most


def load_text(name: str, root: str | os.PathLike[str] | None = None) -> str:
    """The text of a built-in corpus, decompressed and checked against its SHA-256.

    Parameters
    ----------
    name : {"names", "shakespeare"}
        Which corpus (see the module docstring for what each holds and where it comes from).
    root : path, optional
        Folder holding the ``.xz`` file (``names.txt.xz`` or ``tinyshakespeare.txt.xz``).
        By default the copy shipped inside chainrule; another folder is checked just the same.

    Returns
    -------
    str
        The whole corpus (UTF-8 decoded, ``\\n`` line ends): 1,115,394 characters for
        ``"shakespeare"``, 32,033 names separated by ``\\n`` for ``"names"``.

    Raises
    ------
    ValueError
        ``name`` is not one of the corpora.
    ChecksumError
        The file is not a complete xz stream, decompresses to more or fewer bytes than the
        corpus has, or its SHA-256 differs from the recorded one.
    """
    if name not in TEXT_CORPORA:
        known = ", ".join(repr(k) for k in TEXT_CORPORA)
        raise ValueError(f"unknown text corpus {name!r}; the built-in ones are {known}")
    filename, size, sha256 = TEXT_CORPORA[name]
    path = (_TEXT_DIR if root is None else Path(root)) / filename
    raw = _decompress_bounded(path, size)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != sha256:
        raise ChecksumError(
            f"{path} decompresses to text whose SHA-256 is {digest}, not the expected {sha256}: "
            f"the file is damaged or not the {name!r} corpus"
        )
    return raw.decode("utf-8")


def _decompress_bounded(path: Path, size: int) -> bytes:
    """The xz-decompressed bytes of ``path``, refused unless they are exactly ``size`` long."""
    with open_regular(path) as f:
        # Both texts compress to a third of their size, so a file larger than the text is not
        # one of them, and reading at most that much bounds the memory a hostile file can take.
        packed = f.read(size + 1)
    if len(packed) > size:
        raise ChecksumError(f"{path} is larger than the {size:,}-byte text it should compress")
    decompressor = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    try:
        raw = decompressor.decompress(packed, max_length=size + 1)
    except lzma.LZMAError as err:
        raise ChecksumError(f"{path} is not a valid xz file ({err})") from err
    if len(raw) > size:
        raise ChecksumError(f"{path} decompresses to more than the expected {size:,} bytes")
    if not decompressor.eof or decompressor.unused_data:
        raise ChecksumError(
            f"{path} is not one complete xz stream (truncated, or followed by extra bytes)"
        )
    if len(raw) != size:
        raise ChecksumError(f"{path} decompresses to {len(raw):,} bytes, not {size:,}")
    return raw


class TokenizerFormatError(ValueError):
    """A tokenizer file or dict that is not a valid saved :class:`CharTokenizer`."""


class CharTokenizer:
    """Characters to integer ids and back: the vocabulary is every distinct character, sorted.

    Parameters
    ----------
    text : str
        The corpus whose characters make the vocabulary (ids follow Unicode code point order).
    boundary : str, optional
        A single character reserved as the start/end token at id 0, ahead of the sorted
        characters of ``text`` (which must not contain it). :meth:`for_names` uses ``"."``,
        the makemore convention.

    Attributes
    ----------
    stoi : dict of str to int
        Each character's id.
    itos : dict of int to str
        Each id's character.
    boundary : str or None
        The start/end character, or ``None``.

    Examples
    --------
    >>> tok = CharTokenizer("hello")
    >>> tok.vocab_size, tok.encode("hole"), tok.decode([3, 2])
    (4, [1, 3, 2, 0], 'ol')
    """

    def __init__(self, text: str, boundary: str | None = None) -> None:
        if not isinstance(text, str):
            raise TypeError(f"CharTokenizer needs the text as a str; got {type(text).__name__}")
        chars = sorted(set(text))
        if boundary is not None:
            _check_char(boundary, "boundary")
            if boundary in chars:
                raise ValueError(
                    f"the boundary character {boundary!r} occurs in the text; it must be a "
                    "character the text never uses"
                )
            chars.insert(0, boundary)
        self._set_vocabulary(chars, boundary)

    @classmethod
    def from_chars(cls, chars: Sequence[str], boundary: str | None = None) -> CharTokenizer:
        """A tokenizer with exactly this vocabulary, in this order (id ``i`` is ``chars[i]``).

        ``boundary``, if given, must be ``chars[0]``.
        """
        chars = list(chars)
        for position, ch in enumerate(chars):
            _check_char(ch, f"chars[{position}]")
        if len(set(chars)) != len(chars):
            repeated = sorted({ch for ch in chars if chars.count(ch) > 1})
            raise ValueError(f"the vocabulary repeats characters {_show(repeated)}")
        if boundary is not None and (not chars or chars[0] != boundary):
            raise ValueError(f"the boundary character {boundary!r} must be the first (id 0)")
        tokenizer = cls.__new__(cls)
        tokenizer._set_vocabulary(chars, boundary)
        return tokenizer

    @classmethod
    def for_names(cls, words: Iterable[str] | None = None) -> CharTokenizer:
        """makemore's vocabulary for names: ``"."`` (id 0) starts and ends a name, then letters.

        Parameters
        ----------
        words : iterable of str, optional
            The names whose characters make the vocabulary; by default the 26 letters
            ``a..z`` (ids 1..26), which are exactly those of the ``"names"`` corpus.
        """
        if words is None:
            return cls("abcdefghijklmnopqrstuvwxyz", boundary=".")
        return cls("".join(words), boundary=".")

    def _set_vocabulary(self, chars: list[str], boundary: str | None) -> None:
        self.itos: dict[int, str] = dict(enumerate(chars))
        self.stoi: dict[str, int] = {ch: i for i, ch in enumerate(chars)}
        self.boundary = boundary

    @property
    def vocab_size(self) -> int:
        """How many distinct ids there are (the width of a model's embedding and output)."""
        return len(self.itos)

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        """The id of each character of ``text``, shape ``(len(text),)``.

        Raises ``ValueError`` naming the characters that are not in the vocabulary.
        """
        if not isinstance(text, str):
            raise TypeError(f"encode() takes a str; got {type(text).__name__}")
        stoi = self.stoi
        try:
            return [stoi[ch] for ch in text]
        except KeyError:
            unknown = sorted(set(text) - stoi.keys())
            raise ValueError(
                f"{len(unknown)} character(s) not in the vocabulary of {self.vocab_size}: "
                f"{_show(unknown)}"
            ) from None

    def decode(self, ids: Sequence[int] | np.ndarray | Tensor) -> str:
        """The text of a 1-D sequence of ids (a list, an integer ndarray or Tensor).

        Raises ``ValueError`` for ids outside ``[0, vocab_size)``, non-integers or a
        sequence that is not 1-D (decode a batch row by row).
        """
        array = ids.numpy() if isinstance(ids, Tensor) else np.asarray(ids)
        if array.size == 0 and array.ndim == 1:
            return ""
        if array.ndim != 1:
            raise ValueError(f"decode() takes a 1-D sequence of ids; got shape {array.shape}")
        if array.dtype.kind not in "iu":
            raise ValueError(f"token ids must be integers; got dtype {array.dtype}")
        bad = (array < 0) | (array >= self.vocab_size)
        if bad.any():
            wrong = sorted({int(i) for i in array[bad]})
            raise ValueError(f"ids outside the vocabulary [0, {self.vocab_size}): {_show(wrong)}")
        itos = self.itos
        return "".join(itos[i] for i in array.tolist())

    def to_dict(self) -> dict[str, Any]:
        """The vocabulary as plain JSON-ready data; :meth:`from_dict` rebuilds the tokenizer."""
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "chars": [self.itos[i] for i in range(self.vocab_size)],
            "boundary": self.boundary,
        }

    @classmethod
    def from_dict(cls, state: Any) -> CharTokenizer:
        """The tokenizer :meth:`to_dict` described; ``TokenizerFormatError`` if malformed."""
        if not isinstance(state, dict):
            raise TokenizerFormatError(
                f"a saved CharTokenizer is a JSON object; got {type(state).__name__}"
            )
        expected = {"format", "version", "chars", "boundary"}
        if set(state) != expected:
            raise TokenizerFormatError(
                f"a saved CharTokenizer has exactly the keys {sorted(expected)}; got "
                f"{sorted(map(str, state))}"
            )
        if state["format"] != _FORMAT or state["version"] != _VERSION:
            raise TokenizerFormatError(
                f"not a {_FORMAT} version {_VERSION} vocabulary: format {state['format']!r}, "
                f"version {state['version']!r}"
            )
        chars, boundary = state["chars"], state["boundary"]
        if not isinstance(chars, list):
            raise TokenizerFormatError(f"'chars' must be a list; got {type(chars).__name__}")
        try:
            return cls.from_chars(chars, boundary)
        except (TypeError, ValueError) as err:
            raise TokenizerFormatError(f"invalid saved vocabulary: {err}") from None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the vocabulary to ``path`` as UTF-8 JSON, atomically (never half written)."""
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=1)
        write_bytes(path, (text + "\n").encode("utf-8"))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CharTokenizer:
        """Read a tokenizer :meth:`save` wrote; ``TokenizerFormatError`` if it is not one."""
        with open_regular(path) as f:
            raw = f.read(MAX_TOKENIZER_BYTES + 1)
        if len(raw) > MAX_TOKENIZER_BYTES:
            raise TokenizerFormatError(
                f"{path} is larger than {MAX_TOKENIZER_BYTES:,} bytes: not a saved CharTokenizer"
            )
        try:
            state = json.loads(raw.decode("utf-8"))
        # RecursionError: deeply nested brackets, which no tokenizer file has.
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
            raise TokenizerFormatError(f"{path} is not a saved CharTokenizer: {err}") from None
        return cls.from_dict(state)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CharTokenizer):
            return NotImplemented
        return self.itos == other.itos and self.boundary == other.boundary

    __hash__ = None  # type: ignore[assignment]  # mutable attributes: equal ones may change

    def __repr__(self) -> str:
        extra = "" if self.boundary is None else f", boundary={self.boundary!r}"
        return f"CharTokenizer(vocab_size={self.vocab_size}{extra})"


def _check_char(ch: Any, name: str) -> None:
    if not isinstance(ch, str) or len(ch) != 1:
        raise TypeError(f"{name} must be a single character (a str of length 1); got {ch!r}")


def _show(items: list[Any]) -> str:
    """``items`` for an error message: the first few, reprs, and how many more."""
    shown = ", ".join(repr(x) for x in items[:_SHOWN])
    more = len(items) - _SHOWN
    return shown + (f" and {more} more" if more > 0 else "")
