"""Optimizers and learning-rate schedules, with PyTorch's names, defaults and update rules.

>>> from chainrule import optim
>>> opt = optim.SGD([w, b], lr=0.1, momentum=0.9)        # doctest: +SKIP
>>> sched = optim.lr_scheduler.StepLR(opt, step_size=10)  # doctest: +SKIP
>>> for epoch in range(30):                               # doctest: +SKIP
...     opt.zero_grad(); loss_fn().backward(); opt.step(); sched.step()

Every optimizer updates ``param.data`` in place, keeps its buffers in the parameter's dtype, and
allocates nothing after a parameter's first step (LBFGS, which works on flat vectors, is the
exception).
"""

from types import ModuleType as _ModuleType

from chainrule.optim import lr_scheduler
from chainrule.optim.adadelta import Adadelta
from chainrule.optim.adagrad import Adagrad
from chainrule.optim.adam import Adam, AdamW
from chainrule.optim.adamax import Adamax
from chainrule.optim.asgd import ASGD
from chainrule.optim.lbfgs import LBFGS
from chainrule.optim.nadam import NAdam
from chainrule.optim.optimizer import Optimizer
from chainrule.optim.radam import RAdam
from chainrule.optim.rmsprop import RMSprop
from chainrule.optim.rprop import Rprop
from chainrule.optim.sgd import SGD

# Every public name imported above (not the submodules that imports bind, except the public
# ones), so that a new family needs only its import line.
__all__ = sorted(
    name
    for name, value in dict(globals()).items()
    if not name.startswith("_")
    and (not isinstance(value, _ModuleType) or name in ("lr_scheduler",))
)
