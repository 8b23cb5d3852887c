"""The `seqrnn` command: parse, call the library, print.

Each subcommand lives in its own module that exposes `register(subparsers)`;
the parser it adds sets `run`, a function `(args) -> int`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from seqrnn import __version__
from seqrnn.errors import UserError, flag

# Modules named here are imported lazily, so `seqrnn --help` stays fast.
COMMAND_MODULES = ("charlm", "wordlm", "sentiment", "gradients", "serve", "plot")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="seqrnn",
        description="Recurrent neural networks for sequential data, on PyTorch.",
    )
    parser.add_argument("--version", action="version", version=f"seqrnn {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"seqrnn.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with `argv` (default: sys.argv[1:]) and return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (status 2)
        return int(exc.code or 0)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except UserError as exc:  # its fields spelled as the flags that set them
        print(f"seqrnn: error: {exc.render(flag)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("seqrnn: interrupted", file=sys.stderr)
        return 130


def console_main() -> None:
    sys.exit(main())
