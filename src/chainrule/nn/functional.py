"""``chainrule.nn.functional``: the same namespace as :mod:`chainrule.functional`.

So that code written for PyTorch's layout, ``import chainrule.nn.functional as F``, works; every
name here is the very function defined in the op library.
"""

from chainrule.functional import *  # noqa: F403
from chainrule.functional import __all__  # noqa: F401
