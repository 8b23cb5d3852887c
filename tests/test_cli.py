"""seqrnn.cli: what every command shares (its parser, its help, how an error is printed)."""

import argparse
from collections.abc import Iterator

import pytest

from seqrnn.cli import build_parser, chosen_parser, field_spelling, main


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
         ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser under `parser`, itself first, with the words that reach it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from walk(sub, (*path, name))


COMMAND_LINES = [path for path, _ in walk(build_parser())]


def test_the_parser_has_every_command():
    assert ("seq2seq", "train") in COMMAND_LINES and ("charlm", "inspect") in COMMAND_LINES
    assert len(COMMAND_LINES) > 15


@pytest.mark.parametrize("words", COMMAND_LINES, ids=" ".join)
def test_every_help_renders(words, capsys):
    assert main([*words, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: seqrnn") and "show this help message" in out


def test_an_error_names_the_flag_the_command_has(capsys):
    # tie_weights is set by --untied: the message used to say "drop --tie-weights"
    assert main(["wordlm", "train", "--resume", "some_run", "--untied"]) == 2
    assert capsys.readouterr().err == ("seqrnn: error: --resume keeps the run's configuration; "
                                       "drop --untied\n")


def test_fields_are_spelled_as_the_chosen_command_takes_them():
    parser = build_parser()
    args = parser.parse_args(["seq2seq", "inspect", "cat", "--model", "run", "--out", "pics"])
    spell = field_spelling(chosen_parser(parser, args))
    assert spell("sources") == "SOURCE"  # a positional: it used to be "--sources"
    assert spell("bidirectional") == "--bidirectional"  # no such flag here: spelled as one
    train = chosen_parser(parser, parser.parse_args(["seq2seq", "train"]))
    assert field_spelling(train)("bidirectional") == "--unidirectional"


def test_a_progress_bar_an_error_interrupts_is_erased_before_the_error(tmp_path, capsys):
    from tests.test_imdb import make_imdb_folder

    make_imdb_folder(tmp_path)  # UTF-8 reviews, read as UTF-16: the first one fails
    assert main(["sentiment", "train", "--data", str(tmp_path / "aclImdb"), "--encoding",
                 "utf-16", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "reading" in err  # a bar was drawn
    # what a terminal shows: each line from its last carriage return, blank lines dropped
    shown = [line.rsplit("\r", 1)[-1] for line in err.split("\n")]
    shown = [line for line in shown if line.strip()]
    # the bar is erased before the message, not after it with the message on the bar's line
    assert shown[-1].startswith("seqrnn: error: ") and "utf-16" in shown[-1]
