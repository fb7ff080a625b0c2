"""models.GPT: shapes, weight tying, optimizer groups, sampling, attention maps, torch parity."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.models import GPT

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "char_gpt.py"


def load_example():
    spec = importlib.util.spec_from_file_location("char_gpt_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny(**kw) -> GPT:
    cr.manual_seed(0)
    return GPT(11, **{"block_size": 8, "n_layer": 2, "n_head": 2, "n_embd": 16, **kw})


def ids(b: int, t: int, seed: int = 0) -> cr.Tensor:
    return cr.from_numpy(np.random.default_rng(seed).integers(0, 11, (b, t)))


def test_forward_shapes_and_loss_near_uniform_at_init():
    logits, loss = tiny()(ids(3, 8), ids(3, 8, 1))
    assert logits.shape == (3, 8, 11)
    assert abs(loss.item() - np.log(11)) < 0.2
    assert tiny()(ids(2, 5))[1] is None


def test_context_longer_than_block_size_is_refused():
    with pytest.raises(ValueError):
        tiny()(ids(1, 9))


def test_head_weight_is_the_token_embedding_parameter():
    model = tiny()
    assert model.lm_head.weight is model.transformer.wte.weight
    names = [n for n, _ in model.named_parameters()]
    assert "lm_head.weight" not in names  # counted once
    keys = set(model.state_dict())
    assert {"transformer.wte.weight", "transformer.wpe.weight", "lm_head.weight"} <= keys
    assert "transformer.h.1.attn.c_attn.weight" in keys
    assert "transformer.h.0.mlp.c_proj.bias" in keys
    assert "transformer.ln_f.weight" in keys


def test_residual_projections_have_the_smaller_init():
    cr.manual_seed(0)
    model = GPT(50, block_size=16, n_layer=8, n_head=4, n_embd=64)
    proj = model.transformer.h[0].mlp.c_proj.weight.numpy().std()
    fc = model.transformer.h[0].mlp.c_fc.weight.numpy().std()
    assert abs(fc - 0.02) < 0.002
    assert abs(proj - 0.02 / 4) < 0.001


def test_weight_decay_only_on_matrices_and_embeddings():
    model = tiny()
    opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.99))
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decay["params"])
    assert all(p.dim() == 1 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))
    assert any(p is model.transformer.wte.weight for p in decay["params"])


@pytest.mark.parametrize("training", [True, False])
def test_generate_is_reproducible_and_restores_the_mode(training):
    model = tiny(dropout=0.1)
    model.train(training)
    prompt = ids(2, 3)
    a = model.generate(prompt, 12, top_k=5, generator=cr.Generator().manual_seed(3))
    b = model.generate(prompt, 12, top_k=5, generator=cr.Generator().manual_seed(3))
    assert a.shape == (2, 15)
    assert np.array_equal(a.numpy(), b.numpy())
    assert np.array_equal(a.numpy()[:, :3], prompt.numpy())
    assert model.training is training


def test_attention_maps_are_causal_distributions():
    maps = tiny().attention_maps(ids(1, 6))
    assert len(maps) == 2
    for m in maps:
        assert isinstance(m, np.ndarray) and m.shape == (2, 6, 6)
        np.testing.assert_allclose(m.sum(-1), 1.0, rtol=1e-5)
        assert np.all(np.triu(m, 1) == 0)
        assert np.all(m[:, np.tril(np.ones((6, 6), bool))] > 0)


def test_same_source_under_torch_gives_the_same_logits_loss_and_gradients():
    torch = pytest.importorskip("torch")
    torch_gpt = load_example().load_gpt_source("torch")
    ours = tiny().double()
    theirs = torch_gpt.GPT(11, 8, 2, 2, 16, 0.0, True).double()
    state = {k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)
    x, y = ids(3, 8), ids(3, 8, 1)
    logits, loss = ours(x, y)
    t_logits, t_loss = theirs(torch.from_numpy(x.numpy()), torch.from_numpy(y.numpy()))
    np.testing.assert_allclose(logits.numpy(), t_logits.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=1e-12)
    loss.backward()
    t_loss.backward()
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), t_params[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name
        )


def test_example_tiny_run_lowers_the_loss(capsys):
    out = load_example().main(
        ["--iters", "40", "--eval-interval", "20", "--warmup", "5", "--lr", "3e-3",
         "--eval-iters", "2", "--n-layer", "1", "--n-embd", "32", "--block-size", "16",
         "--sample-length", "20"]
    )  # fmt: skip
    first, last = out["history"][0], out["history"][-1]
    assert last["train"] < first["train"] - 0.3
    assert len(out["samples"]) == 2 and len(out["samples"][0]) == 21
    assert "wall time" in capsys.readouterr().out
