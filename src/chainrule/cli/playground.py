"""``chainrule playground``: start the local playground server and open it in the browser.

Also runnable as ``python -m chainrule.cli.playground [--port N] [--no-browser]``.
"""

from __future__ import annotations

import argparse
import sys
import webbrowser
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def add_playground_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``chainrule playground`` on an ``add_subparsers()`` object; returns its parser."""
    p = subparsers.add_parser(
        "playground",
        help="train a network live in the browser and see the backprop behind every gradient",
        description=(
            "Start a local web page (127.0.0.1 only, with a secret token in its URL) that trains "
            "a chainrule MLP on 2-D data live; click any neuron or weight to see the δ-rule "
            "computation of its gradient, checked against autograd and finite differences."
        ),
    )
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    p.add_argument(
        "--no-browser", action="store_true", help="print the URL but do not open a browser"
    )
    p.add_argument(
        "--export-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder for exported models and scripts (default: a new temporary folder)",
    )
    p.set_defaults(run=run_playground)
    return p


def run_playground(args: argparse.Namespace) -> int:
    """Serve until Ctrl+C; returns the exit status."""
    from chainrule.playground.server import PlaygroundServer

    if not 0 <= args.port <= 65535:
        print(
            f"chainrule playground: error: --port must be in [0, 65535]; got {args.port}",
            file=sys.stderr,
        )
        return 2
    try:
        server = PlaygroundServer(port=args.port, export_dir=args.export_dir)
    except OSError as err:
        print(
            f"chainrule playground: error: cannot listen on port {args.port}: {err}",
            file=sys.stderr,
        )
        return 1
    print(f"chainrule playground: {server.url}", flush=True)
    print(f"exports go to {server.export_dir}; press Ctrl+C to stop", flush=True)
    server.start()
    if not args.no_browser:
        webbrowser.open(server.url)
    try:
        server.runner.stopping.wait()
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m chainrule.cli.playground``: this subcommand on its own."""
    parser = argparse.ArgumentParser(prog="chainrule")
    add_playground_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["playground", *(argv if argv is not None else sys.argv[1:])])
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
