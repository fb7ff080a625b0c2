"""The ``chainrule`` command: :mod:`~chainrule.cli.command` parses and dispatches, one module per
subcommand (:mod:`~chainrule.cli.train`, :mod:`~chainrule.cli.explain`), and
:mod:`~chainrule.cli.registry` lists every dataset, model, activation, loss and optimizer the
command knows. Nothing in the library imports from here."""

from chainrule.cli.command import main

__all__ = ["main"]
