"""How the ``chainrule`` command ends: its exit statuses and the exceptions that map to them.

Every way a run can stop early is one of these exceptions, so :func:`chainrule.cli.command.main`
is the only place that turns them into a line on stderr and an exit status, and no user ever
sees a traceback for a mistake, a missing extra, a damaged run folder or Ctrl-C.
"""

from __future__ import annotations

#: The run did what was asked.
EXIT_OK = 0
#: Training (or explaining) started and failed: a diverging loss, a corrupt data file.
EXIT_FAILED = 1
#: The command cannot start as given: a usage mistake, a missing prerequisite (an optional
#: package, the MNIST files), or a damaged run folder. Nothing was trained.
EXIT_USAGE = 2
#: Stopped by Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """The command cannot start as given: reported as one ``chainrule: error:`` line, exit 2."""


class PrerequisiteError(UsageError):
    """Something the run needs is missing (a package or a data file); the message says how to
    get it. A usage error, because it is found before anything is trained."""


class Interrupted(Exception):
    """Ctrl-C stopped the command; the message says what was kept. Exit 130."""
