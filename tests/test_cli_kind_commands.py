"""seqrnn.cli.kind_commands: what every kind's commands share, written once."""

import argparse
from types import SimpleNamespace

import pytest

from seqrnn.cli import kind_commands, options


def _parser_with(add) -> argparse.ArgumentParser:
    commands = argparse.ArgumentParser().add_subparsers(dest="command")
    add(commands)
    return commands.choices


def test_a_model_command_takes_one_run_or_an_ensemble_and_knows_its_body():
    def body(args):
        return 0

    parsers = _parser_with(lambda c: (kind_commands.model_command(c, "one", body, help="h"),
                                      kind_commands.model_command(c, "many", body, "for more")))
    one = parsers["one"].parse_args(["--model", "a"])
    many = parsers["many"].parse_args(["--model", "a", "--model", "b"])
    assert (one.model, one.run) == ("a", body)
    assert many.model == ["a", "b"]
    with pytest.raises(SystemExit):  # --model is required
        parsers["one"].parse_args([])
    help_text = parsers["many"].format_help()
    assert "a trained run folder; repeat it for more" in help_text


def test_checkpoint_flags_default_to_the_best_weights_on_the_cpu():
    parser = argparse.ArgumentParser()
    kind_commands.add_checkpoint_flags(parser)
    assert vars(parser.parse_args([])) == {"weights": "best", "device": "cpu"}


def test_a_predict_command_reads_arguments_or_a_file(tmp_path):
    parser = argparse.ArgumentParser()
    options.add_inputs(parser, "texts", "TEXT", "texts to classify")
    (tmp_path / "in.txt").write_text("a\nb\n", encoding="utf-8")
    args = parser.parse_args(["--file", str(tmp_path / "in.txt")])
    assert options.input_lines(args.texts, args.file, "texts", skip_blank=False) == ["a", "b"]
    assert "a UTF-8 file with one text per line" in parser.format_help()


@pytest.mark.parametrize("stopped, is_main, status, followed", [
    ("epochs", True, 0, True),
    ("interrupted", True, 130, False),  # Ctrl-C: nothing more after the report
    ("epochs", False, 0, False),  # another rank of a torchrun job: rank 0 reports for all
    ("interrupted", False, 130, False),
])
def test_train_and_report_follows_only_a_run_that_ended_well(monkeypatch, capsys, tmp_path,
                                                            stopped, is_main, status, followed):
    result = SimpleNamespace(stopped=stopped, is_main=is_main, step=3, epoch=1,
                             best_eval={"loss": 9.0})
    monkeypatch.setattr(options, "train_or_resume", lambda args, kind: (result, str(tmp_path)))
    seen = []
    got = kind_commands.train_and_report(SimpleNamespace(), "charlm",
                                         lambda best: f"loss {best['loss']:.1f}",
                                         then=lambda args, run_dir: seen.append(run_dir))
    assert got == status
    assert seen == ([str(tmp_path)] if followed else [])
    err = capsys.readouterr().err
    assert (f"stopped ({stopped}) at step 3, epoch 1; best validation loss 9.0; run folder "
            f"{tmp_path}" in err) == is_main


def test_a_commands_help_and_description_are_its_handlers_docstring():
    def documented(args):
        """say hello

        Print a greeting
        to each name given.
        """

    def bare(args):
        return 0

    commands = argparse.ArgumentParser().add_subparsers(dest="command")
    options.command(commands, "hello", documented)
    options.command(commands, "bare", bare)
    options.command(commands, "told", documented, help="told otherwise")
    assert options.docstring_help(documented) == {
        "help": "say hello", "description": "Print a greeting to each name given."}
    assert options.docstring_help(bare) == {}
    listed = {action.dest: action.help for action in commands._choices_actions}
    assert listed == {"hello": "say hello", "told": "told otherwise"}  # bare: no help line
    assert commands.choices["hello"].description == "Print a greeting to each name given."


def test_every_kind_loads_its_runs_with_weights_and_device(monkeypatch):
    from seqrnn import registry
    from seqrnn.cli import build_parser

    parser = build_parser()
    for kind, command in (("charlm", "sample"), ("wordlm", "sample"), ("seq2seq", "predict"),
                          ("forecast", "predict")):
        args = parser.parse_args([kind, command, "--model", "r", "--device", "auto",
                                  "--weights", "latest"])
        assert (args.weights, args.device) == ("latest", "auto")
    # a classifier keeps only its best checkpoint: --device alone
    assert parser.parse_args(["sentiment", "predict", "--model", "r", "--device",
                              "auto"]).device == "auto"
    seen = []

    class Loaded:
        @classmethod
        def load(cls, model, *, weights, device):
            seen.append((model, weights, device))
            return cls

    monkeypatch.setattr(registry, "get", lambda name: SimpleNamespace(model_class=lambda: Loaded))
    got = kind_commands.load_model(SimpleNamespace(model=["a", "b"], weights="latest",
                                                   device="auto"), "seq2seq")
    assert got is Loaded and seen == [(["a", "b"], "latest", "auto")]
