"""What a ``chainrule train`` run needs besides chainrule itself, checked before anything is
loaded or trained, so a missing extra costs a second, not a finished training run whose last
step (the pictures) fails.

The MNIST files are checked by their loader (:data:`chainrule.cli.registry.DATASETS_INFO`),
which runs before training too and raises the same :class:`PrerequisiteError`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from chainrule.cli import registry
from chainrule.cli.errors import PrerequisiteError, UsageError


def check_prerequisites(opts: dict[str, Any], out: Path) -> None:
    """Raise :class:`PrerequisiteError` for the first package the run needs and lacks, and
    :class:`UsageError` when an output folder is a file."""
    needs: list[tuple[str, registry.Requirement]] = [
        (f"--data {opts['data']}", r) for r in registry.DATASETS_INFO[opts["data"]].requires
    ]
    if opts.get("plots"):
        needs += [("--plots", r) for r in registry.PLOTS_REQUIRE]
    for feature, requirement in needs:
        if not is_installed(requirement.module):
            raise PrerequisiteError(
                f"{feature} needs {requirement.package}, which is not installed; install it "
                f"with: {requirement.install_hint()}"
            )
    for flag, folder in (("--out", out), ("--plots", opts.get("plots"))):
        if folder is not None and Path(folder).exists() and not Path(folder).is_dir():
            raise UsageError(f"{flag} {folder} is a file; it must be a folder (or not exist)")


def is_installed(module: str) -> bool:
    """Whether ``module`` imports. Imported rather than looked up, because a package can be
    present and still fail to import (a broken install, or a test blocking it in
    ``sys.modules``)."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True
