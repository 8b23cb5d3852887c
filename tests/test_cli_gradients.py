"""`seqrnn gradients` end to end: files, table, exit status, one-line errors."""

import csv

import pytest

from seqrnn.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_default_run_writes_csv_and_png(tmp_path, capsys):
    out = tmp_path / "study"
    assert main(["gradients", "--out", str(out)]) == 0
    rows = read_rows(out / "gradients.csv")
    assert list(rows[0]) == ["model", "setting", "distance", "norm"]
    assert len(rows) == 6 * 100
    settings = {(r["model"], r["setting"]) for r in rows}
    assert ("elman", "radius=1.5") in settings and ("lstm", "forget_bias=4") in settings
    norm = {(r["setting"], int(r["distance"])): float(r["norm"]) for r in rows}
    assert norm["radius=0.5", 50] == pytest.approx(0.5**50, rel=1e-9)
    assert norm["radius=1.5", 50] > 1e6 * norm["radius=1.5", 1]
    assert (out / "gradients.png").read_bytes()[:8] == PNG_MAGIC
    printed = capsys.readouterr().out
    assert "d=50" in printed and "forget_bias=4" in printed
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temp files left


def test_options_shape_the_study(tmp_path):
    out = tmp_path / "small"
    argv = ["gradients", "--out", str(out), "--radii", "0.9", "--forget-biases", "2", "3"]
    argv += ["--steps", "20", "--hidden-size", "8", "--seed", "5"]
    assert main(argv) == 0
    rows = read_rows(out / "gradients.csv")
    assert len(rows) == 3 * 20
    assert {r["setting"] for r in rows} == {"radius=0.9", "forget_bias=2", "forget_bias=3"}
    assert max(int(r["distance"]) for r in rows) == 20


def test_same_seed_writes_the_same_csv(tmp_path):
    argv = ["gradients", "--steps", "30", "--hidden-size", "6", "--seed", "11"]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    first = (tmp_path / "a" / "gradients.csv").read_bytes()
    assert first == (tmp_path / "b" / "gradients.csv").read_bytes()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--steps", "0"], "steps"),
        (["--steps", "-4"], "steps"),
        (["--hidden-size", "0"], "hidden size"),
        (["--radii", "-0.5"], "radius"),
        (["--lstm-radius", "-1"], "LSTM radius"),
        (["--lstm-input-scale", "-2"], "input scale"),
        (["--radii", "nan"], "--radii must be a finite number, got nan"),
        (["--radii", "inf"], "--radii must be a finite number"),
        (["--forget-biases", "nan"], "--forget-biases must be a finite number"),
        (["--lstm-radius", "nan"], "--lstm-radius must be a finite number"),
        (["--elman-input-scale", "inf"], "--elman-input-scale must be a finite number"),
        (["--seed", "-1"], "--seed must be between 0 and 4294967295, got -1"),
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path, capsys, argv, message):
    assert main(["gradients", "--out", str(tmp_path / "x"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seqrnn: error:") and message in err
    assert err.count("\n") == 1
    assert not (tmp_path / "x").exists()  # nothing written before the check


def test_out_that_is_a_file_is_an_error(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("not a directory")
    assert main(["gradients", "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seqrnn: error:") and "is a file" in err
    assert err.count("\n") == 1
    assert target.read_text() == "not a directory"


def test_a_second_study_replaces_the_first_only_when_asked(tmp_path, capsys):
    out = tmp_path / "study"
    argv = ["gradients", "--out", str(out), "--steps", "5", "--hidden-size", "4"]
    assert main(argv) == 0
    first = (out / "gradients.csv").read_bytes()
    capsys.readouterr()
    assert main([*argv, "--seed", "9"]) == 2
    assert capsys.readouterr().err == (f"seqrnn: error: {out / 'gradients.csv'} already exists: "
                                       "choose another --out, or pass --overwrite to replace "
                                       "it\n")
    assert (out / "gradients.csv").read_bytes() == first
    assert main([*argv, "--seed", "9", "--overwrite"]) == 0
    assert (out / "gradients.csv").read_bytes() != first


def test_an_empty_out_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["gradients", "--out", ""]) == 2
    err = capsys.readouterr().err
    assert "argument --out: the path is empty: name a file or folder" in err
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_a_study_that_cannot_fit_is_refused_before_it_is_allocated(tmp_path):
    """Both were numpy ArrayMemoryError tracebacks."""
    from tests.limited import assert_refused, run_limited

    out = str(tmp_path / "x")
    results = run_limited(["gradients", "--out", out, "--hidden-size", "1000000"],
                          ["gradients", "--out", out, "--steps", "100000000"])
    assert_refused(results, "a gradient study of 1,000,000 units over 100 steps would need",
                   "lower --hidden-size or --steps (or raise SEQRNN_MEMORY_LIMIT)")
    assert not (tmp_path / "x").exists()
