"""``python -m chainrule`` runs the ``chainrule`` command."""

import sys

from chainrule.cli import main

if __name__ == "__main__":  # importing this module (a docs or layout tool) must not run it
    sys.exit(main())
