"""Files: atomic writes (:mod:`chainrule.io.atomic`) and ``save`` / ``load`` of tensors, state
dicts and checkpoints (:mod:`chainrule.io.serialization`), with no pickle anywhere."""

from chainrule.io import atomic
from chainrule.io.serialization import ChainruleFormatError, load, load_into, save

__all__ = ["ChainruleFormatError", "atomic", "load", "load_into", "save"]
