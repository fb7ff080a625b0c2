"""Ready-made models for the sequence lessons: the names MLP, a character LSTM and a small GPT.

Each is an ordinary :class:`chainrule.nn.Module` built from the layers in :mod:`chainrule.nn`;
the command line (``chainrule train --model gpt``) and the examples use them.
"""

from chainrule.models.char_lstm import CharLSTM
from chainrule.models.gpt import GPT
from chainrule.models.names_mlp import NamesMLP

__all__ = ["GPT", "CharLSTM", "NamesMLP"]
