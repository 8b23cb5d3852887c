import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from seqrnn.cli import main
from tests.test_api_sentiment import reviews, write_csv

SMALL = ["--hidden-size", "16", "--embedding-dim", "16", "--batch-size", "20", "--lr", "0.01",
         "--dropout", "0.1", "--quiet"]


def make_archive(path: Path, n_per_class: int = 60) -> Path:
    """A miniature aclImdb_v1.tar.gz with the official layout (and an unsup folder)."""
    texts, labels = reviews(4 * n_per_class)
    with tarfile.open(path, "w:gz") as tar:
        for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
            split = "train" if i < 2 * n_per_class else "test"
            for folder, body in ((f"{split}/{label}", text), ("train/unsup", "unlabeled")):
                data = body.encode()
                info = tarfile.TarInfo(f"aclImdb/{folder}/{i}_{7 if label == 'pos' else 2}.txt")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture(scope="module")
def trained_once(tmp_path_factory):
    root = tmp_path_factory.mktemp("sentiment")
    archive = make_archive(root / "aclImdb_v1.tar.gz")
    assert main(["sentiment", "train", "--data", str(archive), "--out", str(root / "run"),
                 "--epochs", "8", *SMALL]) == 0
    return root / "run", archive


@pytest.fixture
def trained(trained_once, tmp_path):
    run, archive = trained_once
    return Path(shutil.copytree(run, tmp_path / "run")), archive


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    return err.splitlines()[-1]


def test_evaluate_prints_all_metrics(trained, capsys):
    run, _ = trained
    assert main(["sentiment", "evaluate", "--model", str(run)]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["examples"] == 120  # the archive's test split
    assert set(metrics) >= {"accuracy", "precision", "recall", "f1", "roc_auc",
                            "confusion_matrix"}
    assert metrics["accuracy"] > 0.9
    assert main(["sentiment", "evaluate", "--model", str(run), "--model", str(run)]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == metrics["accuracy"]  # its mean


def test_other_data_is_scored_whole_with_its_labels_mapped(trained, tmp_path, capsys):
    from seqrnn.api.sentiment import SentimentClassifier

    run, archive = trained
    texts, labels = reviews(50, seed=9)
    write_csv(tmp_path / "other.csv", texts, [1 if y == "pos" else 0 for y in labels],
              columns=("body", "stars"))
    base = ["sentiment", "evaluate", "--model", str(run), "--data", str(tmp_path / "other.csv"),
            "--text-column", "body", "--label-column", "stars"]
    assert main(base) == 2
    assert error_line(capsys).endswith("are not the model's (neg, pos): say which is which "
                                       "with --labels, for example --labels 0=neg,1=pos")
    assert main([*base, "--labels", "0=neg,1=pos"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["split"] == "all" and metrics["rows"] == metrics["examples"] == 50
    clf = SentimentClassifier.load(run)
    numeric = [1 if y == "pos" else 0 for y in labels]
    assert metrics["accuracy"] == pytest.approx(clf.score(texts, numeric, label_map="0=neg,1=pos"))
    assert metrics["accuracy"] == pytest.approx(clf.score(texts, labels))
    assert clf.score(texts, iter(labels)) == pytest.approx(metrics["accuracy"])  # any iterable
    assert main([*base, "--labels", "1=neg,0=pos"]) == 0  # the other way round: the opposite
    assert json.loads(capsys.readouterr().out)["accuracy"] == pytest.approx(
        1 - metrics["accuracy"])
    assert main([*base, "--labels", "0=neg,1=pos", "--split", "test"]) == 2  # the run's seed
    assert "other.csv is not the data the run in" in error_line(capsys)
    assert main([*base, "--labels", "0=neg,1=pos", "--split", "test",
                 "--allow-changed-data"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 10  # a fifth, drawn as in training
    assert main(["sentiment", "evaluate", "--model", str(run), "--data", str(archive)]) == 0
    assert json.loads(capsys.readouterr().out)["split"] == "test"  # its own data: the test split
    assert main(["sentiment", "evaluate", "--model", str(run), "--split", "all"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 240


@pytest.mark.parametrize(("labels", "message"), [
    ("0=neg", "--labels takes two FILE_VALUE=CLASS pairs such as 0=neg,1=pos, got '0=neg'"),
    ("0=neg,1=neg", "--labels 0=neg, 1=neg must give each of the model's classes (neg, pos)"),
    ("0=bad,1=good", "must give each of the model's classes (neg, pos) one value of the file"),
    ("3=neg,4=pos", "has label values '0', '1' besides '3' (negative) and '4' (positive)"),
])
def test_bad_label_mappings_are_one_line(trained, tmp_path, capsys, labels, message):
    run, _ = trained
    texts, y = reviews(20)
    write_csv(tmp_path / "o.csv", texts, [1 if v == "pos" else 0 for v in y])
    assert main(["sentiment", "evaluate", "--model", str(run), "--data",
                 str(tmp_path / "o.csv"), "--labels", labels]) == 2
    assert message in error_line(capsys)


def test_predict_arguments_file_stdin_and_json(trained, tmp_path, capsys, monkeypatch):
    run, _ = trained
    assert main(["sentiment", "predict", "--model", str(run), "superb movie", "awful plot",
                 ""]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["pos", "neg", lines[2].split("\t")[0]]
    (tmp_path / "in.txt").write_text("loved it\nhated it\nzzz unknown words\n")
    assert main(["sentiment", "predict", "--model", str(run), "--file",
                 str(tmp_path / "in.txt"), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["label"] for r in rows[:2]] == ["pos", "neg"] and len(rows) == 3
    assert all(0.5 <= r["probability"] <= 1 for r in rows)
    assert main(["sentiment", "predict", "--model", str(run), "--file",
                 str(tmp_path / "in.txt"), "--json", "--labels", "0=neg,1=pos"]) == 0
    spelled = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["label"] for r in spelled[:2]] == ["1", "0"]
    monkeypatch.setattr("sys.stdin", io.StringIO("wonderful\nterrible\n"))
    assert main(["sentiment", "predict", "--model", str(run), "--json"]) == 0
    assert [json.loads(x)["label"] for x in capsys.readouterr().out.splitlines()] == ["pos", "neg"]


def test_resume_extends_and_refuses_changes(trained, capsys):
    run, archive = trained
    assert main(["sentiment", "train", "--resume", str(run), "--data", str(archive),
                 "--epochs", "9", "--quiet"]) == 0
    assert main(["sentiment", "train", "--resume", str(run), "--cell", "gru"]) == 2
    assert "drop --cell" in error_line(capsys)


def test_a_bad_option_or_out_fails_before_the_data_is_read(tmp_path, capsys):
    missing = tmp_path / "missing.csv"  # never opened: the option is checked first
    assert main(["sentiment", "train", "--data", str(missing), "--word-dropout", "1.5",
                 "--out", str(tmp_path / "run")]) == 2
    assert "--word-dropout must be in [0, 1)" in error_line(capsys)
    assert main(["sentiment", "train", "--data", str(missing), "--ema-decay", "1",
                 "--out", str(tmp_path / "run")]) == 2
    assert "--ema-decay must be between 0 and 1" in error_line(capsys)
    assert not (tmp_path / "run").exists()
    file = tmp_path / "file"
    file.write_text("not a folder")
    assert main(["sentiment", "train", "--data", str(missing), "--out", str(file)]) == 2
    assert "is a file: give a folder" in error_line(capsys)


def test_a_language_model_is_refused(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text("abc def ghi\n" * 200)
    assert main(["charlm", "train", "--text", str(text), "--out", str(tmp_path / "lm"),
                 "--max-steps", "1", "--batch-size", "4", "--num-steps", "8", "--quiet",
                 "--sample-length", "0"]) == 0
    assert main(["sentiment", "predict", "--model", str(tmp_path / "lm"), "hello"]) == 2
    assert "holds a charlm model, not a sentiment model" in error_line(capsys)


def _table(tmp_path, name, rows, header="review,sentiment"):
    path = tmp_path / name
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def _latin1(path):
    path.write_bytes("review,sentiment\ncafé,1\nbad,0\n".encode("latin-1"))
    return path


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (lambda t: t / "missing.csv", [], "no such file"),
        (lambda t: (t / "empty_dir").mkdir() or t / "empty_dir", [], "aclImdb"),
        (lambda t: _table(t, "cols.csv", ["good,1"] * 50, header="x,y"), [], "column"),
        (lambda t: _table(t, "three.csv", ["a b,1", "c d,0", "e f,2"] * 20), [],
         "exactly two"),
        (lambda t: _table(t, "one.csv", ["a b,1"] * 40), [], "exactly two"),
        (lambda t: _table(t, "empty.csv", ['"",1', "a b,0", "c,1"] * 30),
         ["--on-empty", "error"], "empty"),
        (lambda t: _latin1(t / "latin.csv"), [], "--encoding"),
        (lambda t: _table(t, "ok.csv", ["a b,1", "c d,0"] * 30), ["--seq-len", "0"],
         "--seq-len must be positive"),
        (lambda t: _table(t, "ok.csv", ["a b,1", "c d,0"] * 30), ["--hidden-size", "-3"],
         "--hidden-size must be positive"),
    ],
)
def test_bad_data(tmp_path, capsys, make, extra, message):
    path = make(tmp_path)
    out = tmp_path / "run"
    assert main(["sentiment", "train", "--data", str(path), "--out", str(out), "--quiet",
                 *extra]) == 2
    assert message in error_line(capsys)
    assert not out.exists() or not any(out.iterdir())


def test_empty_rows_are_skipped_and_counted(tmp_path, capsys):
    texts, labels = reviews(100)
    write_csv(tmp_path / "r.csv", texts + ["", ""], labels + ["pos", "neg"])
    assert main(["sentiment", "train", "--data", str(tmp_path / "r.csv"), "--out",
                 str(tmp_path / "run"), "--max-steps", "2", *SMALL[:-1]]) == 0
    assert "skipped 2 rows with empty text" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda run: (run / "model.safetensors").write_bytes(b"\x00" * 10), "corrupt"),
        (lambda run: (run / "vocab.json").unlink(), "vocab.json is missing"),
        (lambda run: (run / "labels.json").write_text("[]"), "label map"),
    ],
)
def test_corrupt_model_folder(trained, capsys, damage, message):
    run, _ = trained
    damage(run)
    assert main(["sentiment", "predict", "--model", str(run), "good"]) == 2
    assert message in error_line(capsys)


def test_explicit_cells_and_their_initialisation_are_flags(tmp_path):
    out = tmp_path / "run"
    archive = make_archive(tmp_path / "aclImdb_v1.tar.gz", n_per_class=10)
    assert main(["sentiment", "train", "--data", str(archive), "--out", str(out),
                 "--impl", "explicit", "--init", "cells", "--hidden-size", "4",
                 "--embedding-dim", "4", "--max-steps", "1", "--quiet"]) == 0
    model = json.loads((out / "config.json").read_text())["model"]
    assert (model["impl"], model["init"]) == ("explicit", "cells")


def test_a_usage_mistake_is_one_line(capsys):
    assert main(["sentiment", "train", "--format", "imdb"]) == 2
    err = capsys.readouterr().err
    assert err == ("seqrnn sentiment train: error: argument --format: invalid choice: 'imdb' "
                   "(choose from 'csv', 'tsv', 'jsonl', 'json') (see seqrnn sentiment train "
                   "--help)\n")


def test_a_run_that_stays_at_chance_says_so(tmp_path, capsys):
    base = ["sentiment", "train", *SMALL]
    # Every review the same words, half of them positive: nothing to learn, one answer for all.
    write_csv(tmp_path / "same.csv", ["the movie was a film"] * 120, ["pos", "neg"] * 60)
    assert main([*base, "--data", str(tmp_path / "same.csv"), "--out", str(tmp_path / "stuck"),
                 "--epochs", "2"]) == 0
    err = capsys.readouterr().err
    assert "seqrnn: warning: validation accuracy never left chance (best 0.500" in err
    assert "always answering the most common class scores 0.500" in err
    texts, labels = reviews(120)
    write_csv(tmp_path / "r.csv", texts, labels)
    assert main([*base, "--data", str(tmp_path / "r.csv"), "--out", str(tmp_path / "learns"),
                 "--epochs", "8"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_evaluate_draws_splits_only_from_the_data_the_run_read(tmp_path, capsys, monkeypatch):
    texts, labels = reviews(150)
    write_csv(tmp_path / "r.csv", texts, labels)
    monkeypatch.chdir(tmp_path)
    assert main(["sentiment", "train", "--data", "r.csv", "--out", "run", "--max-steps", "2",
                 *SMALL]) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_csv(elsewhere / "r.csv", texts[:40], labels[:40])  # another r.csv, another folder
    monkeypatch.chdir(elsewhere)
    assert main(["sentiment", "evaluate", "--model", str(tmp_path / "run")]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["data"] == str(tmp_path / "r.csv") and scored["examples"] == 30
    with (tmp_path / "r.csv").open("a") as f:
        f.write("a great movie,pos\n")  # one row more: rows would move into the test split
    assert main(["sentiment", "evaluate", "--model", str(tmp_path / "run")]) == 2
    line = error_line(capsys)
    assert f"{tmp_path / 'r.csv'} changed since the run in" in line
    assert "--allow-changed-data" in line and "--data" in line
    assert main(["sentiment", "evaluate", "--model", str(tmp_path / "run"),
                 "--allow-changed-data"]) == 0
    assert json.loads(capsys.readouterr().out)["examples"] == 30


def test_what_cannot_fit_is_refused_before_it_is_allocated(trained_once, tmp_path):
    """`predict --file /dev/zero` was killed by the kernel at 23 GB; a --seq-len of 10^8 made
    a (rows, 10^8) matrix: 173 GB."""
    from tests.limited import assert_refused, run_limited

    run, archive = trained_once
    results = run_limited(
        ["sentiment", "predict", "--model", str(run), "--file", "/dev/zero"],
        ["sentiment", "train", "--data", str(archive), "--out", str(tmp_path / "run"),
         "--batching", "fixed", "--seq-len", "100000000", "--quiet", "--device", "cpu"],
    )
    assert_refused(results, "/dev/zero is a device, not a file",
                   "choose a smaller --batch-size, --seq-len, --hidden-size or --num-layers")
    assert not (tmp_path / "run").exists()


def test_predict_reads_standard_input_up_to_the_input_limit(trained, monkeypatch, capsys):
    run, _ = trained
    monkeypatch.setenv("SEQRNN_MEMORY_LIMIT", "10K")  # inputs of 1 KiB at most
    monkeypatch.setattr("sys.stdin", io.StringIO("a fine film\n" * 1000))
    assert main(["sentiment", "predict", "--model", str(run)]) == 2
    err = capsys.readouterr().err
    assert "standard input holds more than 1.0 KiB, the most an input may have" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("a fine film\r\nawful\n"))
    assert main(["sentiment", "predict", "--model", str(run)]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2
