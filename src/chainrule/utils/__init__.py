"""``chainrule.utils``: PyTorch's module paths for what chainrule keeps elsewhere.

``chainrule.utils.data`` *is* :mod:`chainrule.data` (the same module object), so that
``from torch.utils.data import DataLoader, Dataset`` runs unchanged after
``import chainrule as torch``, spelled ``from chainrule.utils.data import DataLoader``.
"""

import sys

from chainrule import data

# Registered under the PyTorch path so that `import chainrule.utils.data` finds it as a module
# (the import system looks in sys.modules before searching for a file).
sys.modules[__name__ + ".data"] = data

__all__ = ["data"]
