"""Device-agnostic PyTorch code takes the CPU path: ``device`` objects, the ``cuda`` /
``accelerator`` / ``mps`` / ``backends`` queries, ``.to(device)``; a non-CPU device is refused
only where it is really asked for. Also the dtype objects and ``Tensor.to``'s forms."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

NO_GPU = "chainrule runs on the CPU only"


@pytest.mark.parametrize(
    "args", [("cpu",), ("cpu:0",), ("cuda",), ("cuda:1",), ("cuda", 0), ("mps",)]
)
def test_device_objects_print_and_compare_as_pytorchs(args):
    ours, theirs = cr.device(*args), torch.device(*args)
    assert (repr(ours), str(ours), ours.type, ours.index) == (
        repr(theirs),
        str(theirs),
        theirs.type,
        theirs.index,
    )
    assert ours == cr.device(*args) and hash(ours) == hash(cr.device(*args))


def test_a_device_equals_only_devices_as_in_pytorch():
    assert (cr.device("cpu") == "cpu") is (torch.device("cpu") == "cpu") is False
    assert cr.device("cpu") != cr.device("cuda")


def test_devices_pickle():
    assert pickle.loads(pickle.dumps(cr.device("cuda:2"))) == cr.device("cuda:2")


def test_an_index_alone_is_refused_as_pytorch_refuses_it_without_an_accelerator():
    with pytest.raises(RuntimeError):
        torch.device(0)
    with pytest.raises(RuntimeError, match=r"device\(0\): an index alone .* CPU only"):
        cr.device(0)


def test_an_unknown_device_type_is_refused():
    with pytest.raises(RuntimeError, match="unknown device type 'gpu'"):
        cr.device("gpu")


def test_a_malformed_device_string_is_refused():
    with pytest.raises(RuntimeError, match="invalid device string"):
        cr.device("cuda:x")


def test_queries_scripts_make_answer_cpu_only():
    assert cr.cuda.is_available() is torch.cuda.is_available() is False
    assert cr.cuda.device_count() == 0 and not cr.cuda.is_initialized()
    assert cr.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert not cr.backends.mps.is_built() and not cr.backends.cudnn.is_available()
    assert cr.accelerator.is_available() is torch.accelerator.is_available() is False
    assert cr.accelerator.current_accelerator() is torch.accelerator.current_accelerator()
    assert cr.accelerator.device_count() == 0 and cr.mps.is_available() is False
    assert cr.cuda.memory_allocated() == torch.cuda.memory_allocated() == 0
    cr.cuda.manual_seed(0), cr.cuda.manual_seed_all(0), cr.cuda.empty_cache()  # no-ops
    cr.backends.cudnn.benchmark = True  # harmless, as scripts do it
    cr.backends.cudnn.benchmark = False


def test_the_device_idiom_of_pytorch_scripts_runs_on_the_cpu():
    device = cr.device("cuda" if cr.cuda.is_available() else "cpu")
    x = cr.randn(2, 3, device=device).to(device)
    model = cr.nn.Linear(3, 1)
    assert x.device == device == cr.device("cpu") and model(x).shape == (2, 1)
    assert x.is_cuda is False and x.is_cpu and x.get_device() == -1 and x.cpu() is x


def test_cuda_queries_that_need_a_gpu_are_refused():
    with pytest.raises(RuntimeError, match=r"torch.cuda.current_device\(\) needs a CUDA device"):
        cr.cuda.current_device()


def test_accelerator_queries_that_need_a_device_are_refused():
    with pytest.raises(RuntimeError, match="none is available"):
        cr.accelerator.current_device_index()


@pytest.mark.parametrize(
    "call",
    [
        lambda: cr.zeros(2, device="cuda"),
        lambda: cr.tensor([1.0], device="cuda:0"),
        lambda: cr.randn(2, device=cr.device("mps")),
        lambda: cr.arange(3, device=0),
        lambda: cr.ones(2).to("cuda"),
        lambda: cr.ones(2).to(cr.device("cuda", 1)),
        lambda: cr.ones(2).to(device="cuda", dtype=cr.float64),
        lambda: cr.ones(2).cuda(),
        lambda: cr.zeros_like(cr.ones(2), device="cuda"),
        lambda: cr.Generator(device="cuda"),
    ],
)
def test_a_non_cpu_device_is_refused_where_it_is_asked_for(call):
    with pytest.raises(RuntimeError, match=NO_GPU):
        call()


def test_cpu_devices_are_accepted_everywhere():
    for where in ("cpu", "cpu:0", cr.device("cpu"), None):
        assert cr.zeros(1, device=where).device == cr.device("cpu")
        assert cr.tensor([1.0], device=where).to(where).device.type == "cpu"


# ----- Tensor.to: every form PyTorch has -------------------------------------------------------
def test_to_a_dtype_a_device_a_device_and_dtype_or_another_tensor():
    x = cr.tensor([1.5, 2.5])
    assert x.to("cpu") is x and x.to(cr.float32) is x
    assert x.to(cr.float64).dtype == cr.float64
    assert x.to("cpu", cr.int64).tolist() == [1, 2]
    assert x.to(device="cpu", dtype=cr.float64).dtype == cr.float64
    assert x.to(cr.zeros(1, dtype=cr.float64)).dtype == cr.float64
    assert x.to(cr.float32, non_blocking=True) is x


def test_to_copy_gives_a_new_tensor():
    x = cr.tensor([1.0])
    y = x.to("cpu", copy=True)
    assert y is not x and not np.shares_memory(x.numpy(), y.numpy())


def test_to_between_floats_is_differentiable():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x.to(cr.float64) * 3).sum().backward()
    assert x.grad.dtype == cr.float32 and x.grad.tolist() == [3.0, 3.0]


def test_to_with_an_unknown_keyword_is_refused():
    with pytest.raises(TypeError, match="unexpected keyword argument 'dtpye'"):
        cr.ones(1).to(dtpye=cr.float64)


# ----- dtype objects ---------------------------------------------------------------------------
NAMES = [
    "float32", "float", "float64", "double", "float16", "half", "int64", "long", "int32", "int",
    "int16", "short", "int8", "uint8", "bool",
]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_dtype_objects_name_the_same_dtypes_as_pytorchs(name):
    ours = getattr(cr, name)
    assert np.dtype(ours) == torch.zeros(1, dtype=getattr(torch, name)).numpy().dtype
    assert cr.zeros(2, dtype=ours).dtype == ours  # usable wherever a NumPy dtype is
    assert np.zeros(2, dtype=ours).dtype == ours


def test_dtype_objects_compare_with_tensor_dtypes():
    assert cr.ones(2).dtype == cr.float32 and cr.arange(2).dtype == cr.int64
    assert cr.get_default_dtype() == cr.float32


def test_the_builtins_are_not_shadowed_inside_chainrule():
    import builtins

    assert cr.bool is not builtins.bool and cr.int == np.dtype(np.int32)


def test_is_floating_point_finfo_iinfo():
    assert cr.is_floating_point(cr.ones(1)) and not cr.is_floating_point(cr.arange(2))
    assert cr.finfo(cr.float32).eps == torch.finfo(torch.float32).eps
    assert cr.finfo().eps == torch.finfo().eps
    assert cr.iinfo(cr.int64).max == torch.iinfo(torch.int64).max


@pytest.mark.parametrize("name", ["bfloat16", "complex64", "cfloat"])
def test_unsupported_dtypes_are_refused_naming_the_reason(name):
    with pytest.raises(AttributeError, match=f"the dtype torch.{name} is not supported"):
        getattr(cr, name)
