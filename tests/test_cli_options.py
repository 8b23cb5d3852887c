"""The command line's shared options: predict inputs (arguments, --file or standard input),
and path flags."""

import io

import pytest

from seqrnn.cli import main
from seqrnn.cli.options import input_lines, training_status
from seqrnn.configs import CharLMData, SentimentData, Seq2SeqData, WordLMData
from seqrnn.data.locate import locate
from seqrnn.errors import UserError
from seqrnn.outputs import check_file
from seqrnn.run import RunFolder


def test_arguments_win_and_cannot_be_mixed_with_a_file(tmp_path):
    assert input_lines(["a", "b"], None, "texts", skip_blank=False) == ["a", "b"]
    with pytest.raises(UserError, match="give texts as arguments or with --file, not both"):
        input_lines(["a"], str(tmp_path / "f.txt"), "texts", skip_blank=False)


def test_a_file_keeps_blank_lines_for_a_classifier_and_drops_them_for_a_transducer(tmp_path):
    path = tmp_path / "inputs.txt"
    path.write_text(" first \n\nsecond\n", encoding="utf-8")
    assert input_lines([], str(path), "texts", skip_blank=False) == [" first ", "", "second"]
    assert input_lines([], str(path), "sources", skip_blank=True) == ["first", "second"]


def test_an_unreadable_file_is_one_line(tmp_path):
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9\n")
    for name in ("missing.txt", "latin1.txt"):
        with pytest.raises(UserError, match=f"cannot read --file .*{name}"):
            input_lines([], str(tmp_path / name), "sources", skip_blank=True)


def test_standard_input_is_read_unless_it_is_a_terminal(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("x\n\ny\n"))
    assert input_lines([], None, "sources", skip_blank=True) == ["x", "y"]

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdin", Terminal(""))
    with pytest.raises(UserError, match="no sources: give them as arguments"):
        input_lines([], None, "sources", skip_blank=True)


@pytest.mark.parametrize("args", [
    ["charlm", "train", "--resume", ""],
    ["charlm", "train", "--out", " "],
    ["charlm", "train", "--text", ""],
    ["charlm", "sample", "--model", ""],
    ["charlm", "evaluate", "--model", "run", "--text", ""],
    ["charlm", "inspect", "--model", "run", "--text", "hamlet", "--out", ""],
    ["wordlm", "train", "--data", ""],
    ["wordlm", "evaluate", "--model", "run", "--text", ""],
    ["sentiment", "train", "--pretrained", ""],
    ["sentiment", "evaluate", "--model", "run", "--data", ""],
    ["sentiment", "predict", "--model", "run", "--file", ""],
    ["seq2seq", "train", "--data", ""],
    ["seq2seq", "evaluate", "--model", "run", "--data", ""],
    ["seq2seq", "inspect", "--model", "run", "abc", "--out", ""],
    ["export", "--model", "run", "--out", ""],
    ["plot", ""],
    ["serve", "--charlm", ""],
    ["gradients", "--out", ""],
])
def test_an_empty_path_is_one_line_and_starts_nothing(args, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "the path is empty: name a file or folder (is a shell variable unset?)" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not any(tmp_path.iterdir())  # no run started in runs/


@pytest.mark.parametrize("task", ["charlm", "sentiment", "wordlm", "seq2seq"])
def test_allow_changed_data_without_resume_is_refused_before_anything_starts(
        task, tmp_path, capsys, monkeypatch):
    """A fresh `train --allow-changed-data` was accepted and the flag silently ignored."""
    monkeypatch.chdir(tmp_path)
    assert main([task, "train", "--allow-changed-data", "--out", "run", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == ("seqrnn: error: --allow-changed-data accepts changed data on --resume: drop "
                   "it, or resume a run with --resume RUN_DIR\n")
    assert not any(tmp_path.iterdir())


ONE_WORDING = "name a file or folder (is a shell variable unset?)"


def test_an_empty_path_is_refused_by_the_library_too():
    with pytest.raises(UserError, match="text is empty: name a file or folder") as error:
        CharLMData(text="")
    assert error.value.field == "text"
    with pytest.raises(UserError, match="pretrained is empty"):
        SentimentData(pretrained=" ")
    for make, subject in ((lambda: WordLMData(data=""), "data"),
                          (lambda: Seq2SeqData(data=""), "data"),
                          (lambda: check_file("", field="out"), "out"),
                          (lambda: locate(""), "the data's path"),
                          (lambda: RunFolder(""), "the run folder's path")):
        with pytest.raises(UserError) as error:
            make()
        assert str(error.value) == f"{subject} is empty: {ONE_WORDING}"


@pytest.mark.parametrize(("stopped", "tail"), [("max_steps", " --max-steps N (N above 7)"),
                                               ("time", "")])
def test_the_continue_hint_is_a_command_line_that_pastes_whole(capsys, stopped, tail):
    from types import SimpleNamespace

    training_status(SimpleNamespace(stopped=stopped, step=7, best_eval={}), "runs/my run", "charlm")
    assert capsys.readouterr().err == (
        f"continue with: seqrnn charlm train --resume 'runs/my run'{tail}\n")
