"""The sequence models (NamesMLP, CharLSTM) and their examples, names_mlp.py and char_rnn.py.

The examples run as scripts (``runpy`` with ``sys.argv`` set) on a tiny budget, and the test
reads what they print. The models are checked for shapes, sampling that a seeded generator
repeats, the train/eval mode that ``generate`` must leave alone, and, for CharLSTM, logits
and gradients against the same network built in PyTorch.
"""

from __future__ import annotations

import doctest
import math
import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import data
from chainrule.models import CharLSTM, NamesMLP, char_lstm, names_mlp
from chainrule.nn import functional as F

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    """Run ``examples/<name>`` as ``python examples/<name> *args`` would."""
    monkeypatch.setattr(sys, "argv", [name, *args])
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")


@pytest.mark.parametrize("module", [names_mlp, char_lstm], ids=lambda m: m.__name__)
def test_model_docstring_examples_print_what_they_say(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# ----- NamesMLP ---------------------------------------------------------------------------------
def test_names_mlp_scores_every_character_for_each_context():
    cr.manual_seed(0)
    model = NamesMLP(vocab_size=27, block_size=3, embedding_dim=10, hidden=200)
    logits = model(data.names("val").X[:5])
    assert logits.shape == (5, 27)
    assert model.C.weight.shape == (27, 10)
    assert model.hidden_layer.weight.shape == (200, 30)
    assert model.output.weight.shape == (27, 200)
    # The lecture's count: 27·10 + (30·200 + 200) + (200·27 + 27).
    assert sum(p.numel() for p in model.parameters()) == 11897


def test_names_mlp_concatenates_the_context_embeddings_in_order():
    cr.manual_seed(0)
    model = NamesMLP(vocab_size=5, block_size=2, embedding_dim=3, hidden=4)
    context = cr.tensor([[1, 4], [4, 1]])
    C, W1, b1 = model.C.weight.numpy(), model.hidden_layer.weight.numpy(), model.hidden_layer.bias
    W2, b2 = model.output.weight.numpy(), model.output.bias.numpy()
    e = np.concatenate([C[[1, 4]], C[[4, 1]]]).reshape(2, 6)
    expected = np.tanh(e @ W1.T + b1.numpy()) @ W2.T + b2
    np.testing.assert_allclose(model(context).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_names_mlp_refuses_a_context_of_the_wrong_width():
    with pytest.raises(ValueError, match=r"\(B, 3\)"):
        NamesMLP()(cr.zeros(2, 4, dtype=cr.int64))


def test_names_mlp_generate_repeats_with_the_same_seed_and_differs_with_another():
    cr.manual_seed(0)
    model, tokenizer = NamesMLP(), data.CharTokenizer.for_names()
    first = model.generate(tokenizer, 8, generator=cr.Generator().manual_seed(3))
    again = model.generate(tokenizer, 8, generator=cr.Generator().manual_seed(3))
    other = model.generate(tokenizer, 8, generator=cr.Generator().manual_seed(4))
    assert first == again
    assert first != other
    assert len(first) == 8
    assert all(set(name) <= set("abcdefghijklmnopqrstuvwxyz") for name in first)


def test_names_mlp_generate_stops_at_the_end_token_or_the_length_cap():
    model, tokenizer = NamesMLP(), data.CharTokenizer.for_names()
    with cr.no_grad():
        model.output.weight.zero_()
        model.output.bias.zero_()
        model.output.bias[0] = 50.0  # "." (end) is all but certain
    assert model.generate(tokenizer, 3, generator=0) == ["", "", ""]
    with cr.no_grad():
        model.output.bias[0] = 0.0
        model.output.bias[1] = 50.0  # "a", and never the end
    assert model.generate(tokenizer, 1, generator=0) == ["a" * names_mlp.MAX_NAME_LENGTH]


@pytest.mark.parametrize("training", [True, False])
def test_names_mlp_generate_leaves_the_mode_as_it_was(training):
    model = NamesMLP().train(training)
    model.generate(data.CharTokenizer.for_names(), 2, generator=0)
    assert model.training is training
    assert all(m.training is training for m in model.modules())


def test_names_mlp_low_temperature_picks_the_likeliest_letter():
    model, tokenizer = NamesMLP(), data.CharTokenizer.for_names()
    with cr.no_grad():
        model.output.weight.zero_()
        model.output.bias.zero_()
        model.output.bias[0] = 1.0  # end: e/(e + 26) ≈ 0.09 at temperature 1
    # At temperature 0.01 the logit gap of 1 becomes 100: the end is sampled first every time.
    assert model.generate(tokenizer, 20, generator=0, temperature=0.01) == [""] * 20
    assert any(model.generate(tokenizer, 20, generator=0, temperature=1.0))


# ----- CharLSTM ---------------------------------------------------------------------------------
def small_lstm(**kwargs) -> CharLSTM:
    cr.manual_seed(0)
    options = {"embedding_dim": 6, "hidden_size": 8, "num_layers": 2} | kwargs
    return CharLSTM(11, **options)


def test_char_lstm_returns_logits_per_position_and_the_state_of_each_layer():
    model = small_lstm()
    logits, (h, c) = model(cr.randint(0, 11, (3, 7)))
    assert logits.shape == (3, 7, 11)
    assert h.shape == c.shape == (2, 3, 8)


def test_char_lstm_defaults_are_a_two_layer_lstm_of_256_units():
    model = CharLSTM(65)
    assert model.embedding.weight.shape == (65, 64)
    assert (model.lstm.hidden_size, model.lstm.num_layers) == (256, 2)
    assert model.lstm.batch_first
    assert model.head.weight.shape == (65, 256)


def test_char_lstm_state_carries_a_sequence_across_calls():
    model = small_lstm()
    idx = cr.randint(0, 11, (2, 9))
    whole, (h, c) = model(idx)
    first, state = model(idx[:, :4])
    second, (h2, c2) = model(idx[:, 4:], state)
    np.testing.assert_allclose(
        np.concatenate([first.numpy(), second.numpy()], axis=1), whole.numpy(), atol=1e-6
    )
    np.testing.assert_allclose(h2.numpy(), h.numpy(), atol=1e-6)
    np.testing.assert_allclose(c2.numpy(), c.numpy(), atol=1e-6)


def test_char_lstm_generate_keeps_the_prompt_and_adds_the_new_tokens():
    model = small_lstm()
    prompt = cr.tensor([[1, 2, 3], [4, 5, 6]])
    out = model.generate(prompt, 10, generator=cr.Generator().manual_seed(0))
    assert out.shape == (2, 13)
    assert out.dtype == cr.int64
    np.testing.assert_array_equal(out.numpy()[:, :3], prompt.numpy())
    assert ((out.numpy() >= 0) & (out.numpy() < 11)).all()


def test_char_lstm_generate_repeats_with_the_same_seed_and_differs_with_another():
    model = small_lstm()
    prompt = cr.tensor([[0], [1]])
    sample = lambda seed: model.generate(prompt, 30, generator=cr.Generator().manual_seed(seed))  # noqa: E731
    np.testing.assert_array_equal(sample(7).numpy(), sample(7).numpy())
    assert not np.array_equal(sample(7).numpy(), sample(8).numpy())


def test_char_lstm_generate_with_top_k_1_follows_the_argmax():
    model = small_lstm()
    prompt = cr.tensor([[3, 1]])
    out = model.generate(prompt, 8, top_k=1, generator=0).numpy()[0].tolist()
    # Greedy decoding the slow way: rerun the whole text every step and take the best score.
    ids = [3, 1]
    with cr.no_grad():
        for _ in range(8):
            logits, _ = model(cr.tensor([ids]))
            ids.append(int(logits[0, -1].argmax().item()))
    assert out == ids


def test_char_lstm_top_k_samples_only_among_the_k_likeliest():
    model = small_lstm()
    with cr.no_grad():
        model.head.weight.zero_()
        model.head.bias.copy_(cr.arange(11, dtype=cr.float32))  # 10 is likeliest, then 9
    out = model.generate(cr.zeros(4, 1, dtype=cr.int64), 50, top_k=2, generator=0)
    new = out.numpy()[:, 1:]
    assert set(np.unique(new)) == {9, 10}


@pytest.mark.parametrize("training", [True, False])
def test_char_lstm_generate_leaves_the_mode_as_it_was(training):
    model = small_lstm(dropout=0.5).train(training)
    model.generate(cr.tensor([[0]]), 5, generator=0)
    assert model.training is training
    assert all(m.training is training for m in model.modules())


def test_char_lstm_generate_samples_without_dropout_and_without_a_graph():
    # With dropout active the same seed would still repeat, but two models that differ only in
    # dropout would not agree; generate must switch dropout off whatever the mode.
    plain, dropped = small_lstm(), small_lstm(dropout=0.5)
    dropped.load_state_dict(plain.state_dict())
    prompt = cr.tensor([[2, 5]])
    a = plain.train().generate(prompt, 20, generator=1)
    b = dropped.train().generate(prompt, 20, generator=1)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not a.requires_grad


def test_char_lstm_matches_pytorch_in_float64():
    torch = pytest.importorskip("torch")
    model = small_lstm().double()

    class TorchCharLSTM(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embedding = torch.nn.Embedding(11, 6)
            self.lstm = torch.nn.LSTM(6, 8, 2, batch_first=True)
            self.head = torch.nn.Linear(8, 11)

    reference = TorchCharLSTM().double()
    state = {k: torch.from_numpy(np.array(v)) for k, v in model.state_dict().items()}
    reference.load_state_dict(state)

    idx = np.random.default_rng(0).integers(0, 11, size=(3, 7))
    target = np.random.default_rng(1).integers(0, 11, size=(3, 7))
    logits, (h, c) = model(cr.tensor(idx))
    loss = F.cross_entropy(logits.reshape(-1, 11), cr.tensor(target).reshape(-1))
    loss.backward()

    t_out, (t_h, t_c) = reference.lstm(reference.embedding(torch.from_numpy(idx)))
    t_logits = reference.head(t_out)
    t_loss = torch.nn.functional.cross_entropy(
        t_logits.reshape(-1, 11), torch.from_numpy(target).reshape(-1)
    )
    t_loss.backward()

    np.testing.assert_allclose(logits.numpy(), t_logits.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h.numpy(), t_h.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c.numpy(), t_c.detach().numpy(), rtol=1e-10, atol=1e-12)
    grads = dict(reference.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), grads[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name
        )
    assert len(grads) == len(list(model.parameters()))


# ----- the examples -----------------------------------------------------------------------------
def test_names_example_lowers_the_loss_and_prints_names(monkeypatch, capsys):
    run_example("names_mlp.py", monkeypatch, "--steps", "2000", "--log-every", "1000")
    out = capsys.readouterr().out
    batch_losses = [float(v) for v in re.findall(r"batch loss (\d+\.\d+)", out)]
    assert len(batch_losses) == 3  # steps 0, 1000 and the last
    assert batch_losses[0] > 3.0  # near log 27 ≈ 3.30 before training
    train_loss = float(re.search(r"^train loss (\d+\.\d+)$", out, re.MULTILINE)[1])
    val_loss = float(re.search(r"^val loss (\d+\.\d+)$", out, re.MULTILINE)[1])
    # 2,000 steps measured 2.40 for both; a bigram table scores about 2.45.
    assert train_loss < 2.6
    assert val_loss < 2.6
    names = out.split("sampled names:\n")[1].splitlines()
    assert len(names) == 20
    assert all(re.fullmatch(r"  [a-z]*", name) for name in names)


def test_char_rnn_example_lowers_the_loss_and_prints_a_sample(monkeypatch, capsys):
    tiny = ["--steps", "40", "--eval-every", "20", "--eval-batches", "2", "--block-size", "16"]
    small = ["--hidden-size", "32", "--num-layers", "1", "--embedding-dim", "16"]
    run_example("char_rnn.py", monkeypatch, *tiny, *small, "--sample-length", "120")
    out = capsys.readouterr().out
    estimates = re.findall(r"^step +(\d+): train loss (\d+\.\d+), val loss (\d+\.\d+)$", out, re.M)
    assert [int(step) for step, _, _ in estimates] == [0, 20, 40]
    train_losses = [float(t) for _, t, _ in estimates]
    val_losses = [float(v) for _, _, v in estimates]
    assert abs(val_losses[0] - math.log(65)) < 0.1  # an untrained model is a uniform guess
    assert train_losses[-1] < train_losses[0] - 0.3
    assert val_losses[-1] < val_losses[0] - 0.3
    sample = out.split("sample (temperature 0.8):\n")[1]
    assert len(sample) == 1 + 120 + 1  # the newline prompt, the new characters, print's "\n"
    assert set(sample) <= set(data.load_text("shakespeare"))
