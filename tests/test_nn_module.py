"""Module mechanics: registration, containers, modes, hooks, printing, saving and dtype moves."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn


class Block(nn.Module):
    """A small model with a parameter, a buffer, a submodule and a plain attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(np.ones(3))
        self.register_buffer("count", np.zeros((), dtype=np.int64))
        self.inner = nn.Linear(3, 2, dtype=np.float64)
        self.note = cr.tensor(np.zeros(3))  # a plain tensor: not registered

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        return self.inner(x * self.scale)


# ----- Parameter ---------------------------------------------------------------------------------


def test_parameter_keeps_array_float_dtype_and_requires_grad() -> None:
    for dtype in (np.float32, np.float64):
        p = nn.Parameter(np.zeros((2, 3), dtype=dtype))
        assert p.dtype == dtype and p.requires_grad and p.is_leaf and isinstance(p, cr.Tensor)


def test_parameter_turns_python_floats_into_the_default_dtype() -> None:
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32
    cr.set_default_dtype(np.float64)
    try:
        assert nn.Parameter(0.5).dtype == np.float64
    finally:
        cr.set_default_dtype(np.float32)


@pytest.mark.parametrize("data", [[1, 2], np.arange(3), np.array([True]), np.zeros(2, np.float16)])
def test_parameter_refuses_non_float32_or_float64_data(data: object) -> None:
    with pytest.raises(TypeError, match="float32 or float64"):
        nn.Parameter(data)


def test_parameter_from_a_computed_tensor_is_a_new_leaf_sharing_its_data() -> None:
    x = cr.tensor(np.ones(2), requires_grad=True)
    y = x * 2.0
    p = nn.Parameter(y)
    assert p.is_leaf and p.requires_grad and p.numpy() is y.numpy()


def test_parameter_copies_read_only_arrays_so_it_can_be_written_in_place() -> None:
    p = nn.Parameter(np.broadcast_to(np.zeros(1), (3,)))
    p.numpy()[...] = 1.0
    assert p.numpy().tolist() == [1.0, 1.0, 1.0]


def test_parameter_repr_says_it_is_a_parameter() -> None:
    assert repr(nn.Parameter(np.zeros(2))).startswith("Parameter containing:\ntensor(")


# ----- registration --------------------------------------------------------------------------


def test_assignment_registers_parameters_buffers_and_modules_in_order() -> None:
    block = Block()
    names = [name for name, _ in block.named_parameters()]
    assert names == ["scale", "inner.weight", "inner.bias"]
    assert [name for name, _ in block.named_buffers()] == ["count"]
    assert [name for name, _ in block.named_children()] == ["inner"]
    assert [name for name, _ in block.named_modules()] == ["", "inner"]
    assert list(block.children()) == [block.inner]
    assert list(block.modules()) == [block, block.inner]
    assert len(list(block.parameters(recurse=False))) == 1
    assert all(p is not block.note for p in block.parameters())


def test_shared_parameter_is_listed_once_but_saved_under_each_name() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3))
    model[1].weight = model[0].weight
    assert len(list(model.parameters())) == 3
    assert "1.weight" in model.state_dict() and "0.weight" in model.state_dict()


def test_reassigning_a_name_moves_it_between_registries() -> None:
    block = Block()
    block.inner = nn.Parameter(np.zeros(1))
    assert "inner" not in dict(block.named_children())
    assert [n for n, _ in block.named_parameters()] == ["scale", "inner"]
    block.scale = None  # a parameter name may be cleared, like a disabled bias
    assert [n for n, _ in block.named_parameters()] == ["inner"] and block.scale is None
    del block.inner
    assert list(block.parameters()) == [] and not hasattr(block, "inner")


def test_assigning_a_plain_tensor_to_a_parameter_name_raises() -> None:
    with pytest.raises(TypeError, match="parameter 'scale'"):
        Block().scale = cr.tensor(np.ones(3))


def test_assigning_before_module_init_explains_the_missing_super_call() -> None:
    class Forgetful(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(np.zeros(1))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Forgetful()


def test_buffers_are_saved_but_not_learned_and_follow_persistence() -> None:
    block = Block()
    block.register_buffer("scratch", np.zeros(2), persistent=False)
    block.register_buffer("unused", None)
    assert isinstance(block.count, cr.Tensor) and not block.count.requires_grad
    assert [n for n, _ in block.named_buffers()] == ["count", "scratch"]
    assert "count" in block.state_dict() and "scratch" not in block.state_dict()
    block.count = np.array(5)  # assignment to a buffer name updates the buffer
    assert block.state_dict()["count"] == 5
    with pytest.raises(TypeError, match="buffer 'count'"):
        block.count = [1]


def test_registering_a_taken_or_dotted_name_raises() -> None:
    block = Block()
    with pytest.raises(KeyError, match="already exists"):
        block.register_buffer("forward", np.zeros(1))
    with pytest.raises(KeyError, match=r"no '\.'"):
        block.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="wrap it in"):
        block.register_parameter("w", cr.tensor(np.zeros(1)))


def test_module_without_forward_says_so() -> None:
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        nn.Module()(1)


def test_apply_visits_children_before_their_parent() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
    seen: list[str] = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]


def test_deepcopy_gives_independent_parameters() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    twin = copy.deepcopy(model)
    twin[0].weight.numpy()[...] = 7.0
    assert isinstance(twin[0].weight, nn.Parameter) and not (model[0].weight.numpy() == 7.0).any()


# ----- containers ------------------------------------------------------------------------------


def test_sequential_indexes_slices_iterates_and_grows() -> None:
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    model = nn.Sequential(a, b)
    assert len(model) == 2 and model[0] is a and model[-1] is b and list(model) == [a, b]
    assert model.append(c) is model and model[2] is c
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    model.insert(1, nn.Tanh())
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "ReLU", "Linear"]
    del model[1]
    assert [name for name, _ in model.named_children()] == ["0", "1", "2"]
    model[1] = nn.Sigmoid()
    assert isinstance(model[1], nn.Sigmoid)
    with pytest.raises(IndexError, match="out of range"):
        model[3]
    with pytest.raises(TypeError, match="holds Modules"):
        model.append(lambda x: x)


def test_sequential_runs_its_stages_in_order_and_accepts_a_dict_of_names() -> None:
    model = nn.Sequential({"scale": nn.Linear(1, 1, bias=False), "act": nn.ReLU()})
    model.scale.weight.numpy()[...] = 2.0
    assert list(model.state_dict()) == ["scale.weight"]
    assert model(cr.tensor(np.array([[3.0], [-1.0]], dtype=np.float32))).tolist() == [[6.0], [0.0]]


def test_module_list_registers_its_modules_but_has_no_forward() -> None:
    layers = nn.ModuleList(nn.Linear(2, 2) for _ in range(2))
    layers += [nn.Linear(2, 1)]
    layers.insert(0, nn.Identity())
    assert len(layers) == 4 and isinstance(layers[0], nn.Identity)
    assert len(list(layers.parameters())) == 6
    assert isinstance(layers[1:], nn.ModuleList) and len(layers[1:]) == 3
    del layers[0]
    assert list(dict(layers.named_children())) == ["0", "1", "2"]
    with pytest.raises(NotImplementedError, match="ModuleList has no forward"):
        layers(cr.tensor(np.zeros(2)))


# ----- modes and gradients -------------------------------------------------------------------


def test_train_and_eval_reach_every_submodule() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)))
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model.train() is model and all(m.training for m in model.modules())
    model[1].train(False)
    assert model.training and not model[1][0].training
    with pytest.raises(ValueError, match="bool"):
        model.train("yes")


def test_zero_grad_sets_gradients_to_none_or_zero_in_place() -> None:
    model = nn.Linear(3, 2)
    model(cr.tensor(np.ones((4, 3), dtype=np.float32))).sum().backward()
    grad = model.weight.grad.numpy()
    model.zero_grad(set_to_none=False)
    assert model.weight.grad.numpy() is grad and not grad.any()
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None


def test_requires_grad_false_freezes_every_parameter() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1)).requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


# ----- hooks -----------------------------------------------------------------------------------


def test_forward_hook_sees_arguments_and_output_and_may_replace_it() -> None:
    layer = nn.Linear(3, 2)
    seen = []

    def hook(module, args, output):
        seen.append((module, args[0].shape, output.shape))
        return output * 0.0

    handle = layer.register_forward_hook(hook)
    x = cr.tensor(np.ones((4, 3), dtype=np.float32))
    assert not layer(x).numpy().any()
    assert seen == [(layer, (4, 3), (4, 2))]
    handle.remove()
    handle.remove()  # a second remove is harmless
    assert layer(x).numpy().any() and len(seen) == 1


def test_forward_pre_hook_may_replace_the_arguments() -> None:
    layer = nn.Identity()
    with layer.register_forward_pre_hook(lambda module, args: args[0] + 1.0):
        assert layer(cr.tensor(np.zeros(2))).tolist() == [1.0, 1.0]
    assert layer(cr.tensor(np.zeros(2))).tolist() == [0.0, 0.0]


def test_hooks_run_in_registration_order_and_may_remove_themselves() -> None:
    layer, calls = nn.Identity(), []
    handles = []
    handles.append(
        layer.register_forward_hook(lambda m, a, o: calls.append(1) or handles[0].remove())
    )
    layer.register_forward_hook(lambda m, a, o: calls.append(2))
    layer(1)
    layer(1)
    assert calls == [1, 2, 2]


# ----- printing ----------------------------------------------------------------------------------


def test_repr_nests_layers_with_their_settings_and_ends_with_the_parameter_count() -> None:
    model = nn.Sequential(nn.Linear(100, 12), nn.Sequential(nn.ReLU(), nn.Dropout(0.25)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=100, out_features=12, bias=True)\n"
        "  (1): Sequential(\n"
        "    (0): ReLU()\n"
        "    (1): Dropout(p=0.25, inplace=False)\n"
        "  )\n"
        ")\n"
        "Trainable parameters: 1,212"
    )


def test_repr_counts_frozen_parameters_apart_and_shared_ones_once() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3, bias=False))
    model[1].weight = model[0].weight
    model[0].bias.requires_grad_(False)
    assert repr(model).splitlines()[-2:] == ["Frozen parameters: 3", "Trainable parameters: 9"]


# ----- state dicts ----------------------------------------------------------------------------


def test_state_dict_holds_copies_under_dotted_names() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    state = model.state_dict()
    assert list(state) == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
    ]
    assert all(type(v) is np.ndarray for v in state.values())
    state["0.weight"][...] = 5.0
    assert not (model[0].weight.numpy() == 5.0).any()


def test_load_state_dict_round_trip_copies_into_the_existing_arrays() -> None:
    source = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    source(cr.tensor(np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)))
    target = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    arrays = {name: t.numpy() for name, t in target._state_entries()}
    assert target.load_state_dict(source.state_dict()) == ([], [])
    for name, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[name], value)
        assert dict(target._state_entries())[name].numpy() is arrays[name]
    assert target[1].num_batches_tracked.item() == 1


def test_load_state_dict_lists_every_problem_in_one_error_and_loads_nothing() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    before = model.state_dict()
    state = model.state_dict()
    del state["0.bias"], state["1.running_var"]
    state["0.weight"] = np.zeros((2, 3), dtype=np.float32)  # transposed
    state["1.weight"] = np.ones(3)  # float64 into a float32 model
    state["1.bias"] = [0.0, 0.0, 0.0]  # not an array
    state["2.weight"] = np.zeros(1)
    state["1.running_mean"] = np.full(3, 9.0, dtype=np.float32)  # fine, but must not be copied
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert message.startswith("Error(s) in loading state_dict for Sequential:\n\t")
    assert "Missing key(s) in state_dict: '0.bias', '1.running_var'." in message
    assert "Unexpected key(s) in state_dict: '2.weight'." in message
    assert "0.weight: got shape (2, 3) and dtype float32; the model has shape (3, 2)" in message
    assert (
        "1.weight: got shape (3,) and dtype float64; the model has shape (3,) and dtype float32"
        in message
    )
    assert "1.bias: got a list" in message
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_non_strict_load_reports_missing_and_unexpected_but_still_checks_shapes() -> None:
    model = nn.Linear(2, 3)
    result = model.load_state_dict(
        {"weight": np.ones((3, 2), np.float32), "extra": 1}, strict=False
    )
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert (model.weight.numpy() == 1).all()
    with pytest.raises(RuntimeError, match=r"weight: got shape \(2, 3\)"):
        model.load_state_dict({"weight": np.ones((2, 3), np.float32)}, strict=False)


def test_load_state_dict_accepts_tensors_and_refuses_non_mappings() -> None:
    model = nn.Linear(2, 1, bias=False)
    model.load_state_dict({"weight": cr.tensor(np.full((1, 2), 3.0, np.float32))})
    assert (model.weight.numpy() == 3).all()
    with pytest.raises(TypeError, match="mapping"):
        model.load_state_dict([("weight", np.zeros((1, 2)))])


# ----- dtype -------------------------------------------------------------------------------------


def test_to_converts_parameters_grads_and_float_buffers_in_place_keeping_the_objects() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    weight, running_mean = model[0].weight, model[1].running_mean
    model(cr.tensor(np.ones((4, 2), dtype=np.float32))).sum().backward()
    assert model.double() is model
    assert model[0].weight is weight and model[1].running_mean is running_mean
    assert weight.dtype == np.float64 and weight.grad.dtype == np.float64
    assert running_mean.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64
    model.float()
    assert {t.dtype for t in model.parameters()} | {running_mean.dtype} == {np.dtype(np.float32)}
    with pytest.raises(TypeError, match="only accepts floating point dtypes"):
        model.to(np.int32)
    with pytest.raises(TypeError, match="float32 or float64"):
        model.half()
