"""The `seqrnn` command as a whole: every subcommand's help renders."""

import argparse

import pytest

from seqrnn.cli import build_parser, main


def _command_lines(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """Every command line that names a parser, found from the parser itself."""
    yield prefix
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _command_lines(sub, (*prefix, name))


COMMAND_LINES = list(_command_lines(build_parser()))


def test_the_parser_has_every_command():
    assert ("seq2seq", "train") in COMMAND_LINES and ("charlm", "inspect") in COMMAND_LINES
    assert len(COMMAND_LINES) > 15


@pytest.mark.parametrize("words", COMMAND_LINES, ids=" ".join)
def test_every_help_renders(words, capsys):
    assert main([*words, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: seqrnn") and "show this help message" in out
