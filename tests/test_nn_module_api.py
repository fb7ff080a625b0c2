"""The Module API beyond registration: walking with prefixes and duplicates, dotted lookups,
dtype and device moves, state-dict options, assign-loading and the hook options."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn.parameter import Buffer


def tied() -> nn.Sequential:
    """Two Linear layers sharing one weight, and a batch norm with buffers."""
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3, bias=False), nn.BatchNorm1d(3))
    model[1].weight = model[0].weight
    return model


# ----- walking -------------------------------------------------------------------------------


def test_named_members_take_a_prefix_and_may_keep_duplicates() -> None:
    model = tied()
    assert [n for n, _ in model.named_parameters(prefix="net")][:2] == [
        "net.0.weight",
        "net.0.bias",
    ]
    assert len(list(model.named_parameters())) == 4
    assert [n for n, _ in model.named_parameters(remove_duplicate=False)][2] == "1.weight"
    assert [n for n, _ in model.named_buffers(prefix="m")] == [
        "m.2.running_mean",
        "m.2.running_var",
        "m.2.num_batches_tracked",
    ]
    assert list(model.named_buffers(recurse=False)) == []
    shared = nn.ReLU()
    twice = nn.Sequential(shared, shared)
    assert [n for n, _ in twice.named_modules()] == ["", "0"]
    assert [n for n, _ in twice.named_modules(remove_duplicate=False)] == ["", "0", "1"]
    assert [n for n, _ in twice.named_modules(prefix="top")] == ["top", "top.0"]


def test_get_submodule_parameter_and_buffer_follow_dotted_paths() -> None:
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 2)), nn.BatchNorm1d(2))
    assert model.get_submodule("") is model and model.get_submodule("0.0") is model[0][0]
    assert model.get_parameter("0.0.bias") is model[0][0].bias
    assert model.get_buffer("1.running_var") is model[1].running_var
    with pytest.raises(AttributeError, match="Linear has no attribute `x`"):
        model.get_submodule("0.0.x")
    with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
        model.get_submodule("0.0.weight")
    with pytest.raises(AttributeError, match="`in_features` is not an nn.Parameter"):
        model.get_parameter("0.0.in_features")
    with pytest.raises(AttributeError, match="`weight` is not a buffer"):
        model.get_buffer("1.weight")


def test_delattr_and_dir_cover_parameters_buffers_and_modules() -> None:
    model = nn.BatchNorm1d(2)
    assert {"weight", "running_mean"} <= set(dir(model))
    del model.running_mean
    del model.weight
    assert "running_mean" not in dict(model.named_buffers())
    assert "weight" not in dict(model.named_parameters()) and "weight" not in dir(model)


# ----- dtype and device ----------------------------------------------------------------------


def test_to_accepts_a_device_a_tensor_or_both_and_keeps_the_objects() -> None:
    model = nn.Linear(2, 2)
    weight = model.weight
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    assert model.to("cpu") is model and weight.dtype == np.float32
    model.to(cr.tensor(np.zeros(1)))  # a float64 tensor
    assert model.weight is weight and weight.dtype == np.float64
    model.to(device=cr.device("cpu"), dtype=cr.float32)
    model.to("cpu", cr.float64, non_blocking=True)
    assert weight.dtype == np.float64 and model.type(cr.float32) is model
    assert weight.dtype == np.float32 and model.cpu() is model
    model(cr.tensor(np.ones((1, 2), np.float32))).sum().backward()
    opt.step()  # the optimizer still holds the live parameters
    assert opt.param_groups[0]["params"][0] is weight


def test_other_devices_and_dtypes_are_refused_by_name() -> None:
    model = nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match="Module.to\\(\\): device 'cuda:1'"):
        model.to("cuda:1")
    with pytest.raises(RuntimeError, match="Module.cuda\\(\\): device 'cuda'"):
        model.cuda()
    with pytest.raises(RuntimeError, match="nn.Linear: device 'mps'"):
        nn.Linear(2, 2, device="mps")
    with pytest.raises(TypeError, match="float32 or float64; float16"):
        model.half()
    with pytest.raises(TypeError, match="only accepts floating point dtypes"):
        model.type(np.int64)


# ----- state dicts ---------------------------------------------------------------------------


def test_state_dict_prefix_destination_and_keep_vars() -> None:
    model = nn.Linear(2, 1)
    out: dict = {"other": 1}
    assert model.state_dict(destination=out, prefix="head.") is out
    assert list(out) == ["other", "head.weight", "head.bias"]
    kept = model.state_dict(keep_vars=True)
    assert kept["weight"] is model.weight and kept["bias"] is model.bias


def test_non_persistent_buffers_are_neither_saved_nor_expected() -> None:
    model = nn.Linear(1, 1)
    model.register_buffer("cache", np.zeros(2), persistent=False)
    assert "cache" not in model.state_dict() and "cache" in dict(model.named_buffers())
    assert model.load_state_dict(model.state_dict()) == ([], [])


def test_load_with_assign_puts_the_given_tensors_in_place() -> None:
    model = nn.BatchNorm1d(2)
    model.weight.requires_grad_(False)
    weight = nn.Parameter(np.full(2, 3.0, np.float32))
    state = model.state_dict()
    state["weight"] = weight
    state["bias"] = cr.tensor(np.full(2, 4.0, np.float32))
    model.load_state_dict(state, assign=True)
    assert model.weight is weight and not weight.requires_grad  # keeps the old requires_grad
    assert isinstance(model.bias, nn.Parameter) and model.bias.requires_grad
    assert model.bias.numpy().tolist() == [4.0, 4.0]
    assert model.running_mean.numpy() is state["running_mean"]  # the given array itself


def test_load_errors_list_each_problem_on_its_own_line_in_pytorchs_words() -> None:
    with pytest.raises(RuntimeError) as info:
        nn.Linear(2, 1).load_state_dict({"weight": np.zeros((1, 3), np.float32), "x": 0})
    lines = str(info.value).splitlines()
    assert lines[0] == "Error(s) in loading state_dict for Linear:"
    assert lines[1] == "\tMissing key(s) in state_dict: 'bias'."
    assert lines[2] == "\tUnexpected key(s) in state_dict: 'x'."
    assert lines[3].startswith("\tweight: got shape (1, 3)")
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like, got list"):
        nn.Linear(1, 1).load_state_dict([])


# ----- hooks ---------------------------------------------------------------------------------


def test_prepended_hooks_run_first() -> None:
    layer, calls = nn.Identity(), []
    layer.register_forward_hook(lambda m, a, o: calls.append("late"))
    layer.register_forward_hook(lambda m, a, o: calls.append("early"), prepend=True)
    layer.register_forward_pre_hook(lambda m, a: calls.append("pre"))
    layer.register_forward_pre_hook(lambda m, a: calls.append("pre-first"), prepend=True)
    layer(1)
    assert calls == ["pre-first", "pre", "early", "late"]


def test_hooks_with_kwargs_see_and_replace_keyword_arguments() -> None:
    class Scale(nn.Module):
        def forward(self, x, *, factor=1.0):
            return x * factor

    module, seen = Scale(), []
    module.register_forward_pre_hook(lambda m, a, kw: (a, {"factor": 3.0}), with_kwargs=True)
    module.register_forward_hook(lambda m, a, kw, out: seen.append(kw) or out + 1, with_kwargs=True)
    assert module(2.0, factor=10.0) == 7.0 and seen == [{"factor": 3.0}]
    handle = module.register_forward_pre_hook(lambda m, a, kw: 5, with_kwargs=True)
    with pytest.raises(
        RuntimeError, match="must return None or a tuple of \\(new_args, new_kwargs"
    ):
        module(1.0)
    handle.remove()
    assert not module._forward_pre_hooks_with_kwargs - set(module._forward_pre_hooks)


def test_always_call_hooks_run_when_forward_raises() -> None:
    class Broken(nn.Module):
        def forward(self, x):
            raise ValueError("bad input")

    module, calls = Broken(), []
    module.register_forward_hook(lambda m, a, o: calls.append(("always", o)), always_call=True)
    module.register_forward_hook(lambda m, a, o: calls.append("normal"))
    with pytest.raises(ValueError, match="bad input"):
        module(1)
    assert calls == [("always", None)]


def test_a_hook_must_be_callable() -> None:
    with pytest.raises(TypeError, match="must be callable"):
        nn.ReLU().register_forward_hook(3)


# ----- layers --------------------------------------------------------------------------------


def test_linear_takes_device_and_dtype_in_pytorchs_positions() -> None:
    layer = nn.Linear(2, 3, False, "cpu", np.float64)
    assert layer.bias is None and layer.weight.dtype == np.float64
    with pytest.raises(TypeError):
        nn.Linear(2, 3, True, None, None, 0)  # generator is keyword-only


def test_bilinear_computes_x1_a_x2_plus_b_over_leading_axes() -> None:
    layer = nn.Bilinear(2, 3, 4, dtype=np.float64, generator=0)
    rng = np.random.default_rng(1)
    x1, x2 = rng.standard_normal((5, 6, 2)), rng.standard_normal((5, 6, 3))
    out = layer(cr.tensor(x1), cr.tensor(x2))
    expected = np.einsum("bni,oij,bnj->bno", x1, layer.weight.numpy(), x2) + layer.bias.numpy()
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert np.abs(layer.weight.numpy()).max() <= 1 / np.sqrt(2)
    assert repr(nn.Bilinear(2, 3, 4, bias=False)).startswith(
        "Bilinear(in1_features=2, in2_features=3, out_features=4, bias=False)"
    )
    with pytest.raises(ValueError, match="shapes \\(5, 2\\) and \\(4, 3\\)"):
        layer(cr.tensor(np.zeros((5, 2))), cr.tensor(np.zeros((4, 3))))


def test_a_clean_load_prints_as_pytorchs_does() -> None:
    model = nn.Linear(1, 1)
    assert repr(model.load_state_dict(model.state_dict())) == "<All keys matched successfully>"
    partial = model.load_state_dict({}, strict=False)
    assert partial.missing_keys == ["weight", "bias"] and "missing_keys" in repr(partial)


# ----- Buffer and Parameter() ----------------------------------------------------------------


def test_assigning_a_buffer_registers_it_with_its_persistence() -> None:
    class Stats(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scratch = Buffer(np.zeros(2), persistent=False)
            self.total = Buffer(cr.ones(1))

    stats = Stats()
    assert list(stats.state_dict()) == ["total"]
    assert [n for n, _ in stats.named_buffers()] == ["scratch", "total"]
    assert type(stats.total) is cr.Tensor  # stored as a plain tensor, as in PyTorch
    stats.total = cr.zeros(3)  # a plain tensor assigned to a buffer name replaces it
    assert stats.get_buffer("total").shape == (3,)


def test_a_buffer_assigned_before_init_explains_the_missing_super_call() -> None:
    class Forgetful(nn.Module):
        def __init__(self) -> None:
            self.b = Buffer(np.zeros(1))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Forgetful()


def test_parameter_without_data_is_empty_as_in_pytorch() -> None:
    p = nn.Parameter()
    assert p.shape == (0,) and p.dtype == np.float32 and p.requires_grad


def test_a_module_pickled_without_the_hook_option_sets_still_takes_hooks() -> None:
    layer = nn.Identity()
    for name in ("_forward_pre_hooks_with_kwargs", "_forward_hooks_with_kwargs"):
        del layer.__dict__[name]
    del layer.__dict__["_forward_hooks_always_call"]
    calls = []
    layer.register_forward_hook(lambda m, a, o: calls.append(o))
    layer.register_forward_pre_hook(lambda m, a, kw: None, with_kwargs=True)
    assert layer(4) == 4 and calls == [4]


def test_backward_hooks_may_be_prepended_and_pre_hooks_checked() -> None:
    layer, calls = nn.Linear(2, 1, dtype=np.float64), []
    layer.register_full_backward_hook(lambda m, gi, go: calls.append("late"))
    layer.register_full_backward_hook(lambda m, gi, go: calls.append("early"), prepend=True)
    handle = layer.register_full_backward_pre_hook(lambda m, go: (go[0], go[0]))
    x = cr.tensor(np.ones((1, 2)), requires_grad=True)
    with pytest.raises(RuntimeError, match="invalid number of grad_output, got 2, but expected 1"):
        layer(x).sum().backward()
    handle.remove()
    layer(x).sum().backward()
    assert calls == ["early", "late"]
