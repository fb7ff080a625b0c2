"""The shipped text corpora, CharTokenizer, and the character-level datasets built on them."""

from __future__ import annotations

import doctest
import hashlib
import json
import lzma
import random
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import (
    CharTokenizer,
    ChecksumError,
    NamesContextDataset,
    NextTokenDataset,
    TokenizerFormatError,
    load_text,
    names,
    random_blocks,
    shakespeare,
    text_datasets,
)
from chainrule.data import text as text_module

REPO = Path(__file__).resolve().parents[1]
SHARED_TEXT = Path(__file__).resolve().parents[2] / "shared" / "data" / "text"
SHA256 = {
    "names": "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d",
    "shakespeare": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
}
FILES = {"names": "names.txt.xz", "shakespeare": "tinyshakespeare.txt.xz"}


@pytest.fixture(scope="module")
def shakespeare_text() -> str:
    return load_text("shakespeare")


@pytest.fixture(scope="module")
def names_text() -> str:
    return load_text("names")


# -- the corpora -------------------------------------------------------------------------------


def test_shipped_corpora_have_the_published_size_and_sha256(shakespeare_text, names_text):
    for name, text in (("shakespeare", shakespeare_text), ("names", names_text)):
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == SHA256[name]
    assert len(shakespeare_text.encode("utf-8")) == 1_115_394
    assert len(names_text.split("\n")) == 32_033


@pytest.mark.parametrize(
    "name,file", [("names", "names.txt"), ("shakespeare", "tinyshakespeare.txt")]
)
def test_shipped_text_equals_the_reference_copy(name, file):
    reference = SHARED_TEXT / file
    if not reference.is_file():
        pytest.skip(f"reference copy {file} not available")
    assert load_text(name) == reference.read_text(encoding="utf-8")


def test_shipped_files_are_listed_in_the_package_data():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["chainrule.data"]
    shipped = ["text/names.txt.xz", "text/tinyshakespeare.txt.xz", "text/PROVENANCE.md"]
    for path in shipped:
        assert (REPO / "src" / "chainrule" / "data" / path).is_file()
        assert any(fnmatch(path, pattern) for pattern in patterns), path


def test_provenance_records_the_checksums_the_loader_checks():
    provenance = (REPO / "src" / "chainrule" / "data" / "text" / "PROVENANCE.md").read_text()
    for name, (file, _size, sha) in text_module.TEXT_CORPORA.items():
        assert sha == SHA256[name] and sha in provenance and file in provenance


def test_unknown_corpus_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown text corpus 'poems'.*'names', 'shakespeare'"):
        load_text("poems")


def _write_xz(folder: Path, name: str, payload: bytes) -> None:
    (folder / FILES[name]).write_bytes(lzma.compress(payload, format=lzma.FORMAT_XZ))


def test_a_copy_in_another_folder_is_read_and_checked(tmp_path, names_text):
    _write_xz(tmp_path, "names", names_text.encode())
    assert load_text("names", root=tmp_path) == names_text


def test_altered_text_fails_the_checksum(tmp_path, names_text):
    altered = names_text.replace("emma", "emmy", 1).encode()
    assert len(altered) == len(names_text.encode())
    _write_xz(tmp_path, "names", altered)
    with pytest.raises(ChecksumError, match="SHA-256 is [0-9a-f]{64}, not the expected 0a30b5"):
        load_text("names", root=tmp_path)


def test_a_file_that_is_not_xz_is_refused(tmp_path):
    (tmp_path / FILES["names"]).write_bytes(b"emma\nolivia\n")
    with pytest.raises(ChecksumError, match="not a valid xz file"):
        load_text("names", root=tmp_path)


def test_a_truncated_xz_file_is_refused(tmp_path, names_text):
    packed = lzma.compress(names_text.encode(), format=lzma.FORMAT_XZ)
    (tmp_path / FILES["names"]).write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ChecksumError, match="not one complete xz stream"):
        load_text("names", root=tmp_path)


def test_trailing_bytes_after_the_xz_stream_are_refused(tmp_path, names_text):
    packed = lzma.compress(names_text.encode(), format=lzma.FORMAT_XZ)
    (tmp_path / FILES["names"]).write_bytes(packed + b"extra")
    with pytest.raises(ChecksumError, match="not one complete xz stream"):
        load_text("names", root=tmp_path)


def test_a_short_text_is_refused_by_its_size(tmp_path):
    _write_xz(tmp_path, "names", b"emma\n")
    with pytest.raises(ChecksumError, match="decompresses to 5 bytes, not 228,145"):
        load_text("names", root=tmp_path)


def test_a_decompression_bomb_stops_at_the_expected_size(tmp_path):
    # 1 GiB of zeros compresses to about 150 kB; only size + 1 bytes may ever be inflated.
    bomb = lzma.LZMACompressor(format=lzma.FORMAT_XZ)
    chunk = bytes(1 << 20)
    packed = b"".join(bomb.compress(chunk) for _ in range(64)) + bomb.flush()
    (tmp_path / FILES["names"]).write_bytes(packed)
    with pytest.raises(ChecksumError, match="more than the expected 228,145 bytes"):
        load_text("names", root=tmp_path)


def test_a_compressed_file_larger_than_its_text_is_not_read_whole(tmp_path):
    (tmp_path / FILES["names"]).write_bytes(bytes(228_146))
    with pytest.raises(ChecksumError, match="larger than the 228,145-byte text"):
        load_text("names", root=tmp_path)


def test_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_text("shakespeare", root=tmp_path)


# -- CharTokenizer -----------------------------------------------------------------------------


def test_encode_decode_round_trips_the_whole_corpora(shakespeare_text, names_text):
    tok = CharTokenizer(shakespeare_text)
    ids = tok.encode(shakespeare_text)
    assert len(ids) == len(shakespeare_text)
    assert tok.decode(ids) == shakespeare_text
    assert tok.decode(np.array(ids)) == shakespeare_text
    names_tok = CharTokenizer.for_names(names_text.split("\n"))
    text = names_text.replace("\n", ".")
    assert names_tok.decode(cr.tensor(names_tok.encode(text))) == text


def test_vocabularies_are_65_characters_and_27_for_names(shakespeare_text, names_text):
    tok = CharTokenizer(shakespeare_text)
    assert tok.vocab_size == len(tok) == 65
    assert list(tok.stoi) == sorted(set(shakespeare_text))
    assert tok.itos[0] == "\n" and tok.itos[64] == "z" and tok.boundary is None
    names_tok = CharTokenizer.for_names(names_text.split("\n"))
    assert names_tok.vocab_size == 27
    assert names_tok == CharTokenizer.for_names()


def test_for_names_puts_the_boundary_at_zero_and_letters_at_one_to_26():
    tok = CharTokenizer.for_names()
    assert tok.boundary == "." and tok.stoi["."] == 0
    assert [tok.stoi[c] for c in "abcz"] == [1, 2, 3, 26]
    assert tok.encode(".emma.") == [0, 5, 13, 13, 1, 0]


def test_stoi_and_itos_are_inverse():
    tok = CharTokenizer("the quick brown fox")
    assert all(tok.itos[i] == ch for ch, i in tok.stoi.items())
    assert sorted(tok.itos) == list(range(tok.vocab_size))


def test_a_boundary_that_occurs_in_the_text_is_refused():
    with pytest.raises(ValueError, match="boundary character '.' occurs in the text"):
        CharTokenizer("a.b", boundary=".")
    with pytest.raises(ValueError, match=r"words\[1\] = 'x.y' contains the boundary"):
        NamesContextDataset(["ab", "x.y"], CharTokenizer.for_names(["ab", "xy"]))


def test_unknown_characters_are_named_in_the_error():
    tok = CharTokenizer.for_names()
    with pytest.raises(ValueError, match=r"2 character\(s\) not in the vocabulary of 27: 'A', 'é'"):
        tok.encode("Aébe")


def test_decode_refuses_ids_outside_the_vocabulary_and_non_integers():
    tok = CharTokenizer.for_names()
    assert tok.decode([]) == "" and tok.decode(cr.tensor([1, 2])) == "ab"
    with pytest.raises(ValueError, match=r"outside the vocabulary \[0, 27\): -1, 27"):
        tok.decode([27, 1, -1])
    with pytest.raises(ValueError, match="must be integers; got dtype float"):
        tok.decode(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"1-D sequence of ids; got shape \(2, 2\)"):
        tok.decode(np.ones((2, 2), dtype=np.int64))


def test_save_and_load_round_trip_as_json(tmp_path, shakespeare_text):
    tok = CharTokenizer(shakespeare_text)
    path = tmp_path / "vocab.json"
    tok.save(path)
    state = json.loads(path.read_text(encoding="utf-8"))
    assert state["chars"] == sorted(set(shakespeare_text)) and state["boundary"] is None
    again = CharTokenizer.load(path)
    assert again == tok and again.stoi == tok.stoi
    names_tok = CharTokenizer.for_names()
    names_tok.save(path)
    assert CharTokenizer.load(path).boundary == "."
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_non_ascii_vocabulary_round_trips(tmp_path):
    tok = CharTokenizer("añ€😀")
    tok.save(tmp_path / "v.json")
    assert CharTokenizer.load(tmp_path / "v.json").encode("😀ñ") == tok.encode("😀ñ")


def test_from_dict_keeps_the_saved_order():
    tok = CharTokenizer.from_dict(
        {"format": "chainrule.CharTokenizer", "version": 1, "chars": ["b", "a"], "boundary": None}
    )
    assert tok.encode("ab") == [1, 0]


@pytest.mark.parametrize(
    "content,message",
    [
        (b'{"format": "chainrule.CharTokenizer", "version": 1, "chars": ["a"', "not a saved"),
        (b"\xff\xfe", "not a saved"),
        (b"[" * 100_000, "not a saved"),
        (b"[1, 2]", "is a JSON object; got list"),
        (b'{"chars": ["a"]}', "exactly the keys"),
        (b'{"format": "other", "version": 1, "chars": [], "boundary": null}', "format 'other'"),
        (
            b'{"format": "chainrule.CharTokenizer", "version": 1, "chars": "ab", "boundary": null}',
            "'chars' must be a list",
        ),
        (
            b'{"format": "chainrule.CharTokenizer", "version": 1, "chars": ["a", "a"], '
            b'"boundary": null}',
            "repeats characters 'a'",
        ),
        (
            b'{"format": "chainrule.CharTokenizer", "version": 1, "chars": ["ab"], '
            b'"boundary": null}',
            "single character",
        ),
        (
            b'{"format": "chainrule.CharTokenizer", "version": 1, "chars": [3], "boundary": null}',
            "single character",
        ),
        (
            b'{"format": "chainrule.CharTokenizer", "version": 1, "chars": ["a", "."], '
            b'"boundary": "."}',
            "must be the first",
        ),
    ],
)
def test_malformed_tokenizer_files_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(TokenizerFormatError, match=message):
        CharTokenizer.load(path)


def test_an_oversized_tokenizer_file_is_refused_unread(tmp_path):
    path = tmp_path / "big.json"
    path.write_bytes(b" " * (text_module.MAX_TOKENIZER_BYTES + 1))
    with pytest.raises(TokenizerFormatError, match="larger than"):
        CharTokenizer.load(path)


# -- datasets ----------------------------------------------------------------------------------


def test_next_token_windows_are_the_stream_shifted_by_one():
    tokens = np.arange(10, 20)
    ds = NextTokenDataset(tokens, block_size=4)
    assert len(ds) == 6
    x, y = ds[0]
    assert x.dtype == np.int64 and x.shape == (4,) and y.shape == (4,)
    assert x.tolist() == [10, 11, 12, 13] and y.tolist() == [11, 12, 13, 14]
    x, y = ds[-1]
    assert x.tolist() == [15, 16, 17, 18] and y.tolist() == [16, 17, 18, 19]
    with pytest.raises(IndexError, match="index 6 is out of range"):
        ds[6]


def test_next_token_dataset_refuses_short_or_non_integer_streams():
    with pytest.raises(ValueError, match="more than block_size=4 ids"):
        NextTokenDataset([1, 2, 3, 4], 4)
    with pytest.raises(ValueError, match="integer ids"):
        NextTokenDataset(np.zeros(8), 2)
    with pytest.raises(ValueError, match="block_size must be a positive integer"):
        NextTokenDataset([1, 2, 3], 0)


def test_next_token_dataset_batches_through_a_dataloader():
    ds = NextTokenDataset(cr.tensor(list(range(50))), block_size=5)
    x, y = next(iter(cr.data.DataLoader(ds, batch_size=8)))
    assert x.shape == (8, 5) and y.shape == (8, 5)
    assert np.array_equal(y.numpy()[:, :-1], x.numpy()[:, 1:])


def _makemore_contexts(words, tok, block_size):
    """makemore part 2's dataset loop, written out as the lecture builds it."""
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = tok.stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return np.array(X, dtype=np.int64).reshape(-1, block_size), np.array(Y, dtype=np.int64)


def test_names_contexts_match_the_makemore_loop(names_text):
    words = names_text.split("\n")[:500] + ["a", ""]
    tok = CharTokenizer.for_names()
    for block_size in (1, 3, 8):
        ds = NamesContextDataset(words, tok, block_size)
        X, Y = _makemore_contexts(words, tok, block_size)
        assert ds.X.dtype == np.int64 and ds.X.shape == (len(Y), block_size)
        assert np.array_equal(ds.X.numpy(), X) and np.array_equal(ds.Y.numpy(), Y)


def test_emma_gives_five_contexts_ending_with_the_boundary():
    tok = CharTokenizer.for_names()
    ds = NamesContextDataset(["emma"], tok, block_size=3)
    pairs = [(tok.decode(x), tok.itos[int(y.item())]) for x, y in ds]
    assert pairs == [("...", "e"), ("..e", "m"), (".em", "m"), ("emm", "a"), ("mma", ".")]
    x, y = ds[-1]
    assert x.shape == (3,) and y.shape == () and y.dtype == np.int64


def test_names_context_dataset_needs_a_boundary():
    with pytest.raises(ValueError, match="boundary character"):
        NamesContextDataset(["ab"], CharTokenizer("ab"))
    with pytest.raises(TypeError, match="not one str: split the text into words first"):
        NamesContextDataset("emma\nava", CharTokenizer.for_names())


def test_whole_names_corpus_gives_one_sample_per_letter_and_per_name(names_text):
    words = names_text.split("\n")
    ds = NamesContextDataset(words, CharTokenizer.for_names(), 3)
    assert len(ds) == sum(len(w) for w in words) + len(words) == 228_146


def test_names_splits_are_makemores_80_10_10_of_the_shuffled_words(names_text):
    splits = {s: names(s) for s in ("train", "val", "test")}
    assert [len(splits[s].words) for s in splits] == [25_626, 3_203, 3_204]
    # The sample counts makemore part 2 prints for these splits with block_size = 3.
    assert [splits[s].X.shape[0] for s in splits] == [182_625, 22_655, 22_866]
    reference = names_text.split("\n")
    random.seed(42)
    random.shuffle(reference)
    assert splits["train"].words + splits["val"].words + splits["test"].words == reference
    assert splits["train"].tokenizer.vocab_size == 27


def test_another_names_seed_gives_another_split():
    assert names("val", seed=1).words != names("val", seed=42).words
    assert names("test", block_size=5).X.shape[1] == 5


def test_shakespeare_splits_are_the_first_90_and_last_10_percent(shakespeare_text):
    train, val = shakespeare("train", block_size=8), shakespeare("val", block_size=8)
    assert len(train.tokens) == int(0.9 * len(shakespeare_text)) == 1_003_854
    assert len(val.tokens) == len(shakespeare_text) - len(train.tokens) == 111_540
    tok = train.tokenizer
    assert tok.decode(train.tokens) + tok.decode(val.tokens) == shakespeare_text
    x, y = train[0]
    assert tok.decode(x) == "First Ci" and tok.decode(y) == "irst Cit"
    assert len(train) == len(train.tokens) - 8


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="split must be one of 'train', 'val'; got 'test'"):
        shakespeare("test")
    with pytest.raises(ValueError, match="'train', 'val', 'test'; got 'dev'"):
        names("dev")


# -- random_blocks -----------------------------------------------------------------------------


def test_random_blocks_are_windows_and_their_shift():
    tokens = np.arange(1000, 1100)
    x, y = random_blocks(tokens, block_size=7, batch_size=32, generator=0)
    assert x.shape == y.shape == (32, 7) and x.dtype == y.dtype == np.int64
    starts = x.numpy()[:, 0] - 1000
    assert starts.min() >= 0 and starts.max() <= 100 - 7 - 1
    assert np.array_equal(x.numpy(), (starts[:, None] + np.arange(7)) + 1000)
    assert np.array_equal(y.numpy(), x.numpy() + 1)


def test_random_blocks_are_reproducible_with_a_seeded_generator():
    tokens = cr.tensor(np.arange(500))
    a = random_blocks(tokens, 8, 16, generator=cr.Generator().manual_seed(3))
    b = random_blocks(tokens, 8, 16, generator=cr.Generator().manual_seed(3))
    c = random_blocks(tokens, 8, 16, generator=cr.Generator().manual_seed(4))
    assert np.array_equal(a[0].numpy(), b[0].numpy()) and np.array_equal(a[1].numpy(), b[1].numpy())
    assert not np.array_equal(a[0].numpy(), c[0].numpy())
    cr.manual_seed(5)
    d = random_blocks(tokens, 8, 16)
    cr.manual_seed(5)
    assert np.array_equal(d[0].numpy(), random_blocks(tokens, 8, 16)[0].numpy())


def test_random_blocks_reach_the_last_window_and_refuse_short_streams():
    x, y = random_blocks([0, 1, 2, 3], block_size=3, batch_size=5, generator=0)
    assert x.tolist() == [[0, 1, 2]] * 5 and y.tolist() == [[1, 2, 3]] * 5
    with pytest.raises(ValueError, match="more than block_size=4 ids"):
        random_blocks([0, 1, 2, 3], 4, 2)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        random_blocks([0, 1, 2, 3], 2, 0)


def test_text_names_are_exported_under_torch_utils_data():
    import chainrule.utils.data as tud

    assert tud.CharTokenizer is CharTokenizer and tud.random_blocks is random_blocks
    assert "NamesContextDataset" in cr.data.__all__ and "load_text" in cr.data.__all__


@pytest.mark.parametrize("module", [text_module, text_datasets])
def test_docstring_examples_hold(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
