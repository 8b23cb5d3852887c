"""seqrnn.cli: what every command shares (its parser, how an error is printed)."""

from seqrnn.cli import build_parser, chosen_parser, field_spelling, main


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
