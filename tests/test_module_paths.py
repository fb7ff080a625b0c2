"""PyTorch's module paths work after ``import chainrule as torch``: ``utils.data`` is the same
module as ``chainrule.data``, the usual submodules import, legacy names behave as in old
tutorials, and a missing PyTorch feature fails with a message that names it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr


def test_utils_data_is_the_same_module_as_data():
    import chainrule.utils.data as by_import
    from chainrule.utils.data import DataLoader

    from chainrule.utils import data as by_from

    assert by_import is by_from is cr.data is cr.utils.data
    assert DataLoader is cr.data.DataLoader


def test_utils_data_imports_in_a_fresh_interpreter_without_importing_chainrule_first():
    code = (
        "from chainrule.utils.data import DataLoader\n"
        "import chainrule, chainrule.utils.data as d\n"
        "assert d is chainrule.data and DataLoader is chainrule.data.DataLoader\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_module_paths_of_pytorch_programs_import():
    import chainrule.autograd
    import chainrule.backends.cudnn
    import chainrule.cuda
    import chainrule.nn as nn
    import chainrule.nn.functional as F
    import chainrule.optim
    import chainrule.optim.lr_scheduler

    assert nn.Linear and F.relu and chainrule.optim.SGD and chainrule.autograd
    assert chainrule.optim.lr_scheduler is cr.optim.lr_scheduler
    assert chainrule.cuda is cr.cuda and chainrule.backends.cudnn is cr.backends.cudnn


def test_variable_is_a_tensor_that_requires_grad_as_requested():
    x = cr.Variable(cr.ones(2), requires_grad=True)
    assert isinstance(x, cr.Tensor) and x.requires_grad and x.is_leaf
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    assert not cr.Variable(np.zeros(2)).requires_grad


def test_variable_volatile_is_refused_in_favour_of_no_grad():
    with pytest.raises(RuntimeError, match="volatile=True.*no_grad"):
        cr.Variable(cr.ones(1), volatile=True)


def test_typed_tensor_names_make_tensors_and_check_dtypes():
    assert cr.FloatTensor([1, 2]).dtype == cr.float32
    assert cr.LongTensor([1.7]).tolist() == [1]
    assert cr.FloatTensor(2, 3).shape == (2, 3) and cr.FloatTensor().shape == (0,)
    assert isinstance(cr.zeros(2), cr.FloatTensor) and not isinstance(cr.zeros(2), cr.LongTensor)
    assert isinstance(cr.arange(2), cr.LongTensor) and not isinstance(np.zeros(2), cr.FloatTensor)


def test_typed_tensor_with_a_negative_size_is_refused():
    with pytest.raises(RuntimeError, match="sizes must be non-negative"):
        cr.FloatTensor(2, -3)


def test_a_missing_pytorch_feature_is_named_in_the_attribute_error():
    with pytest.raises(AttributeError, match=r"torch.fft is not implemented in chainrule"):
        cr.fft  # noqa: B018
    with pytest.raises(AttributeError, match="docs/pytorch-compatibility.md"):
        cr.compile  # noqa: B018


def test_a_missing_private_name_gets_the_plain_attribute_error():
    with pytest.raises(AttributeError) as caught:
        cr._no_such_private  # noqa: B018
    assert str(caught.value) == "module 'chainrule' has no attribute '_no_such_private'"
    assert not hasattr(cr, "__wrapped__")


def test_the_top_level_lists_the_new_names():
    for name in ("zeros", "randn", "Generator", "device", "float32", "bool", "Variable"):
        assert name in cr.__all__ and hasattr(cr, name)
    assert {"cuda", "backends", "accelerator", "utils"} <= set(dir(cr))
