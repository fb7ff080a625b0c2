"""Containers: Sequential, ModuleList, ModuleDict, ParameterList and ParameterDict as lists and
dicts, with PyTorch's names, renumbering, operators and reprs."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn


def kinds(container: nn.Module) -> list[str]:
    return [type(m).__name__ for m in container]


# ----- Sequential ----------------------------------------------------------------------------


def test_sequential_from_an_ordered_dict_keeps_the_names_and_slices_keep_them_too() -> None:
    model = nn.Sequential(OrderedDict(enc=nn.Linear(2, 3), act=nn.ReLU(), dec=nn.Linear(3, 1)))
    assert list(model.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]
    tail = model[1:]
    assert isinstance(tail, nn.Sequential) and list(dict(tail.named_children())) == ["act", "dec"]
    assert tail.dec is model.dec and model[-1] is model.dec and model[-3] is model.enc


def test_sequential_pop_removes_and_returns_then_renumbers() -> None:
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    model = nn.Sequential(a, b, c)
    assert model.pop(1) is b and list(dict(model.named_children())) == ["0", "1"]
    popped = model.pop(slice(0, 1))
    assert isinstance(popped, nn.Sequential) and list(popped) == [a] and list(model) == [c]
    with pytest.raises(IndexError, match="index 5 is out of range"):
        model.pop(5)


def test_sequential_add_and_iadd_take_another_sequential_only() -> None:
    a, b = nn.ReLU(), nn.Tanh()
    left = nn.Sequential(a)
    both = left + nn.Sequential(b)
    assert list(both) == [a, b] and list(left) == [a]
    left += nn.Sequential(b)
    assert list(left) == [a, b]
    with pytest.raises(ValueError, match="only objects of Sequential class"):
        left + [b]  # noqa: B018


def test_sequential_times_an_int_repeats_the_same_modules() -> None:
    layer = nn.Linear(2, 2)
    twice = nn.Sequential(layer) * 2
    assert len(twice) == 2 and twice[0] is twice[1] is layer
    assert len(list(twice.parameters())) == 2  # shared: listed once
    assert list(3 * nn.Sequential(layer)) == [layer] * 3
    seq = nn.Sequential(layer)
    seq *= 3
    assert len(seq) == 3
    with pytest.raises(ValueError, match="Non-positive multiplication factor 0"):
        seq * 0  # noqa: B018
    with pytest.raises(TypeError, match="unsupported operand"):
        seq * 1.5  # noqa: B018


def test_sequential_insert_checks_the_index_and_the_module() -> None:
    model = nn.Sequential(nn.ReLU(), nn.Tanh())
    model.insert(-1, nn.Sigmoid())
    assert kinds(model) == ["ReLU", "Sigmoid", "Tanh"]
    model.insert(3, nn.Identity())
    assert kinds(model)[-1] == "Identity"
    with pytest.raises(IndexError, match="Index out of range: 9"):
        model.insert(9, nn.ReLU())
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        model.insert(0, 3)


def test_sequential_slice_deletion_renumbers_and_extend_appends() -> None:
    model = nn.Sequential(*(nn.Linear(1, 1) for _ in range(4)))
    del model[1:3]
    assert list(dict(model.named_children())) == ["0", "1"]
    model.extend([nn.ReLU(), nn.Tanh()])
    assert kinds(model) == ["Linear", "Linear", "ReLU", "Tanh"]


# ----- ModuleList ----------------------------------------------------------------------------


def test_module_list_pop_add_and_negative_indices() -> None:
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    layers = nn.ModuleList([a, b])
    joined = layers + [c]
    assert isinstance(joined, nn.ModuleList) and list(joined) == [a, b, c] and len(layers) == 2
    assert layers[-1] is b and layers.pop(-2) is a and list(layers) == [b]
    layers[-1] = c
    assert list(layers) == [c]
    with pytest.raises(IndexError, match="index 1 is out of range"):
        layers[1]
    with pytest.raises(TypeError, match="should be called with an iterable, but got int"):
        layers.extend(3)


def test_module_list_repr_compacts_runs_of_equal_entries() -> None:
    layers = nn.ModuleList([nn.Linear(2, 3) for _ in range(3)] + [nn.ReLU(), nn.Linear(2, 3)])
    assert repr(layers).splitlines()[:-1] == [
        "ModuleList(",
        "  (0-2): 3 x Linear(in_features=2, out_features=3, bias=True)",
        "  (3): ReLU()",
        "  (4): Linear(in_features=2, out_features=3, bias=True)",
        ")",
    ]
    assert repr(nn.ModuleList()) == "ModuleList()"


# ----- ModuleDict ----------------------------------------------------------------------------


def test_module_dict_behaves_like_a_dict_and_registers_under_its_keys() -> None:
    heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "box": nn.Linear(4, 2)})
    assert list(heads) == ["cls", "box"] and list(heads.keys()) == ["cls", "box"]
    assert list(heads.state_dict())[:2] == ["cls.weight", "cls.bias"]
    heads["act"] = nn.ReLU()
    assert "act" in heads and len(heads) == 3 and heads.act is heads["act"]
    assert [k for k, _ in heads.items()] == ["cls", "box", "act"]
    assert heads.pop("box") is not None and "box" not in heads
    del heads["act"]
    heads.update([("extra", nn.Tanh())])
    assert list(heads) == ["cls", "extra"] and len(list(heads.values())) == 2
    heads.clear()
    assert len(heads) == 0 and list(heads.parameters()) == []


def test_module_dict_refuses_bad_entries_by_name() -> None:
    heads = nn.ModuleDict()
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        heads["x"] = 1
    with pytest.raises(ValueError, match="element #0 has length 3; 2 is required"):
        heads.update([("a", nn.ReLU(), 3)])
    with pytest.raises(KeyError, match="already exists"):
        heads["update"] = nn.ReLU()  # would hide the method
    with pytest.raises(NotImplementedError, match="forward"):
        heads(1)


# ----- ParameterList and ParameterDict --------------------------------------------------------


def test_parameter_list_registers_entries_as_numbered_parameters() -> None:
    plist = nn.ParameterList([nn.Parameter(np.zeros(2)), cr.tensor(np.ones(3))])
    assert list(plist.state_dict()) == ["0", "1"]
    assert isinstance(plist[1], nn.Parameter) and plist[1].requires_grad  # wrapped
    plist.append(nn.Parameter(np.zeros((2, 2))))
    plist += [nn.Parameter(np.zeros(1))]
    assert len(plist) == 4 and len(list(plist.parameters())) == 4 and plist[-1].shape == (1,)
    assert isinstance(plist[1:3], nn.ParameterList) and plist[1:3][0] is plist[1]
    replacement = nn.Parameter(np.full(2, 5.0))
    plist[0] = replacement
    assert plist[0] is replacement and list(plist)[0] is replacement
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        plist()
    with pytest.raises(IndexError, match="out of range"):
        plist[4]


def test_parameter_dict_keeps_ordered_dict_order_and_sorts_plain_dicts() -> None:
    w, b = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(1))
    assert list(nn.ParameterDict({"w": w, "b": b})) == ["b", "w"]  # PyTorch sorts a dict
    pdict = nn.ParameterDict(OrderedDict(w=w, b=b))
    assert list(pdict.state_dict()) == ["w", "b"] and pdict["w"] is w and pdict.w is w
    assert list(reversed(pdict)) == ["b", "w"]


def test_parameter_dict_dict_methods() -> None:
    pdict = nn.ParameterDict(OrderedDict(a=nn.Parameter(np.zeros(1))))
    pdict["t"] = cr.tensor(np.ones(2))  # wrapped in a Parameter
    assert isinstance(pdict["t"], nn.Parameter) and "t" in pdict and len(pdict) == 2
    assert pdict.get("missing") is None and pdict.setdefault("c", cr.tensor(np.ones(1))) is pdict.c
    assert pdict.popitem()[0] == "c" and pdict.pop("t").shape == (2,)
    twin = pdict.copy()
    assert twin["a"] is pdict["a"] and twin is not pdict
    merged = pdict | {"z": nn.Parameter(np.zeros(3))}
    assert list(merged) == ["a", "z"] and list(pdict) == ["a"]
    pdict |= merged
    assert list(pdict.keys()) == ["a", "z"] and len(pdict.values()) == 2
    assert list(pdict.fromkeys(["p", "q"], nn.Parameter(np.zeros(1)))) == ["p", "q"]
    with pytest.raises(KeyError, match="nope"):
        pdict["nope"]
    with pytest.raises(TypeError, match="keys must be strings"):
        pdict[3] = nn.Parameter(np.zeros(1))
    del pdict["a"]
    pdict.clear()
    assert len(pdict) == 0 and list(pdict.parameters()) == []


def test_parameter_containers_print_pytorchs_lines() -> None:
    plist = nn.ParameterList([nn.Parameter(np.zeros((2, 3), np.float32)), cr.tensor(np.ones(1))])
    pdict = nn.ParameterDict(OrderedDict(w=nn.Parameter(np.zeros(3))))
    assert repr(plist).splitlines()[1:3] == [
        "    (0): Parameter containing: [torch.float32 of size 2x3]",
        "    (1): Parameter containing: [torch.float64 of size 1]",
    ]
    # One entry fits on the line, as in PyTorch.
    first = "ParameterDict(  (w): Parameter containing: [torch.DoubleTensor of size 3])"
    assert repr(pdict).splitlines()[0] == first


def test_parameter_containers_are_optimized_and_saved() -> None:
    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scales = nn.ParameterList([nn.Parameter(np.ones(2)) for _ in range(2)])
            self.named = nn.ParameterDict(OrderedDict(bias=nn.Parameter(np.zeros(2))))

    model = Model()
    assert list(model.state_dict()) == ["scales.0", "scales.1", "named.bias"]
    opt = cr.optim.SGD(model.parameters(), lr=0.5)
    (model.scales[0] * model.scales[1] + model.named["bias"]).sum().backward()
    opt.step()
    np.testing.assert_allclose(model.named["bias"].numpy(), [-0.5, -0.5])


def test_numbered_children_are_indexed_not_listed_by_dir() -> None:
    names = dir(nn.Sequential(nn.ReLU())) + dir(nn.ModuleList([nn.ReLU()]))
    assert "0" not in names and "append" in names
