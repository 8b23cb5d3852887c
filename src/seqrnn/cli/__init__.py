"""The `seqrnn` command: parse, call the library, print.

Each subcommand lives in its own module that exposes `register(subparsers)`;
the parser it adds sets `run`, a function `(args) -> int`.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import NoReturn

from seqrnn import __version__
from seqrnn.atomic import NO_ROOM
from seqrnn.errors import UserError, flag

# The commands that are no kind of task, after each kind's own (seqrnn.registry). Modules
# are imported when the parser is built, not with this one, so `seqrnn --help` stays fast.
TOOL_MODULES = ("gradients", "serve", "plot", "export")


class OneLineParser(argparse.ArgumentParser):
    """argparse, with a usage mistake said in one line (not the whole usage) and status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = OneLineParser(
        prog="seqrnn",
        description="Recurrent neural networks for sequential data, on PyTorch.",
    )
    parser.add_argument("--version", action="version", version=f"seqrnn {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    from seqrnn import registry
    from seqrnn.cli import generic

    for kind in registry.kinds():
        if kind.cli is None:
            generic.register(subparsers, kind)
        else:
            importlib.import_module(kind.cli).register(subparsers)
    for name in TOOL_MODULES:
        importlib.import_module(f"seqrnn.cli.{name}").register(subparsers)
    return parser


SIGPIPE_STATUS = 141  # what a shell reports for a process that a closed pipe ended


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with `argv` (default: sys.argv[1:]) and return the exit status."""
    spell = flag
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, --version, or a usage error (status 2)
            return int(exc.code or 0)
        if not hasattr(args, "run"):
            parser.print_help()
            return 2
        spell = field_spelling(chosen_parser(parser, args))
        return int(args.run(args) or 0)
    except UserError as exc:  # its fields spelled as the flags that set them
        _let_go(exc)
        print(f"seqrnn: error: {exc.render(spell)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("seqrnn: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader left (`| head`): stop quietly, the Unix way
        _discard_stdout()
        return SIGPIPE_STATUS
    except OSError as exc:  # writing an output failed: a full disk, no permission, no folder
        _let_go(exc)
        print(f"seqrnn: error: {describe_os_error(exc)}", file=sys.stderr)
        return 2


def _let_go(exc: BaseException) -> None:
    """Drop what the error interrupted before it is said: a generator that was drawing a
    progress bar erases the bar when it is released, which would otherwise come after (and
    on the line of) the message."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        traceback.clear_frames(exc.__traceback__)
        exc = exc.__cause__ or exc.__context__


def chosen_parser(parser: argparse.ArgumentParser,
                  args: argparse.Namespace) -> argparse.ArgumentParser:
    """The parser of the subcommand that `args` chose (`seqrnn charlm train`'s, say)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            name = getattr(args, action.dest, None)
            if name in action.choices:
                return chosen_parser(action.choices[name], args)
    return parser


def field_spelling(parser: argparse.ArgumentParser) -> Callable[[str], str]:
    """A field as this command takes it: the flag that sets it (`--untied` for tie_weights,
    not a `--tie-weights` it does not have), or the name of the argument (SOURCE); a field
    the command has no flag for is spelled as the flag it would have."""
    spelled = {action.dest: action.option_strings[-1] if action.option_strings
               else action.metavar or action.dest
               for action in parser._actions if action.dest != argparse.SUPPRESS}
    return lambda name: spelled.get(name, flag(name))


def describe_os_error(exc: OSError) -> str:
    """One line for a failed file operation, naming the file when the error does."""
    where = exc.filename if exc.filename is not None else "the output"
    if exc.errno in NO_ROOM:
        return f"{NO_ROOM[exc.errno]} for {where}: free some space and try again"
    reason = exc.strerror or type(exc).__name__
    return f"{where}: {reason}; check the path and its permissions"


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (captured in tests): nothing to flush
        pass


def console_main() -> None:
    try:
        status = main()
    except KeyboardInterrupt:  # during the imports main() starts with
        print("seqrnn: interrupted", file=sys.stderr)
        status = 130
    sys.exit(status)
