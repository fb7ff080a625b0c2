"""The ``chainrule`` command: ``chainrule train --data digits`` trains an MLP and saves it.

Each subcommand lives in its own module and registers its parser through one function listed
in :data:`SUBCOMMANDS`; its parser sets ``run``, the function :func:`main` calls.

Exit status (:mod:`chainrule.cli.errors`): 0 on success; 1 when training or explaining started
and failed (its message, no traceback); 2 when the command cannot start as given — a usage
error, a missing prerequisite, a damaged run folder — in one ``chainrule: error:`` line;
130 after Ctrl-C, in one line saying what was kept.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from chainrule.cli.errors import EXIT_INTERRUPTED, EXIT_USAGE, Interrupted, UsageError
from chainrule.cli.explain import add_explain_parser
from chainrule.cli.playground import add_playground_parser
from chainrule.cli.sample import add_sample_parser
from chainrule.cli.train_parser import add_train_parser

__all__ = ["SUBCOMMANDS", "UsageError", "build_parser", "entry", "main"]

#: The subcommands, in the order ``chainrule --help`` lists them: each function takes the
#: ``add_subparsers()`` object, adds its parser and sets ``run`` on it. A new subcommand is one
#: module with such a function, and one entry here.
SUBCOMMANDS: tuple[Callable[[Any], argparse.ArgumentParser], ...] = (
    add_train_parser,
    add_explain_parser,
    add_sample_parser,
    add_playground_parser,
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # one line, not usage
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The full ``chainrule`` argument parser (``chainrule --help``)."""
    parser = _Parser(
        prog="chainrule",
        description="Train and inspect neural networks built on chainrule's autodiff engine.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add_parser in SUBCOMMANDS:
        add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    try:
        return _dispatch(argv)
    except KeyboardInterrupt:  # Ctrl-C outside training, or while an error was being reported
        return _report("interrupted", EXIT_INTERRUPTED)


def _dispatch(argv: Sequence[str] | None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        return args.run(args)
    except UsageError as err:
        return _report(f"error: {err}", EXIT_USAGE)
    except Interrupted as err:
        return _report(str(err), EXIT_INTERRUPTED)


def _report(message: str, status: int) -> int:
    print(f"chainrule: {message}", file=sys.stderr, flush=True)
    return status


def entry() -> None:
    """The console script ``chainrule``."""
    sys.exit(main())
