"""``chainrule playground``: a page in the browser that trains a real chainrule network live
and shows, for any neuron or weight, the backprop computation behind its gradient.

:class:`~chainrule.playground.server.PlaygroundServer` serves it (standard library only);
:class:`~chainrule.playground.session.Session` holds the model, data and training;
:mod:`~chainrule.playground.gradients` builds the gradient panel in the notation of
``chainrule explain``; :mod:`~chainrule.playground.export` writes the model and a script that
reproduces the run. See ``docs/playground.md``.
"""

from chainrule.playground.server import PlaygroundServer
from chainrule.playground.session import Config, Session

__all__ = ["Config", "PlaygroundServer", "Session"]
