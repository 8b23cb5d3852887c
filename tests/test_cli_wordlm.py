"""`seqrnn wordlm train | sample | evaluate` (cli/wordlm.py): a thin layer over the Python API."""

import json

import pytest

from seqrnn.api.wordlm import WordLanguageModel
from seqrnn.cli import main
from seqrnn.run import RunFolder

DOCS = ["the movie was great and the plot was fine", "the film was awful and it was long",
        "a story of actors and a plot", "it was a great film"] * 5
SMALL = ["--embedding-dim", "8", "--hidden-size", "8", "--num-layers", "1", "--batch-size",
         "2", "--num-steps", "4", "--eval-rows", "2", "--max-steps", "2", "--threads", "1",
         "--seed", "3"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wordlm")
    (folder / "docs").mkdir()
    for i, doc in enumerate(DOCS):
        (folder / "docs" / f"{i}.txt").write_text(doc, encoding="utf-8")
    run = folder / "run"
    status = main(["wordlm", "train", "--data", str(folder / "docs"), "--out", str(run),
                   "--sample-length", "0", "--quiet", *SMALL])
    assert status == 0
    return run


def test_train_writes_a_run_folder_at_its_step_limit(trained):
    assert RunFolder(trained).load_checkpoint()[1]["progress"]["step"] == 2
    assert RunFolder(trained).read_config("wordlm").model["hidden_size"] == 8


def test_sample_prints_what_the_python_api_samples(trained, capsys):
    capsys.readouterr()
    assert main(["wordlm", "sample", "--model", str(trained), "--prime", "the movie",
                 "--length", "6", "--seed", "2", "--top-k", "0"]) == 0
    expected = WordLanguageModel.load(trained).sample("the movie", 6, seed=2, top_k=0)
    assert capsys.readouterr().out == expected + "\n"


def test_evaluate_prints_the_python_apis_scores_as_json(trained, tmp_path, capsys):
    text = tmp_path / "text.txt"
    text.write_text("the plot was great and the film was long", encoding="utf-8")
    capsys.readouterr()
    assert main(["wordlm", "evaluate", "--model", str(trained), "--text", str(text)]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = WordLanguageModel.load(trained).evaluate(text.read_text(encoding="utf-8"))
    assert printed == pytest.approx(expected)


def test_a_mistake_is_one_line_with_the_flag(trained, capsys):
    capsys.readouterr()
    assert main(["wordlm", "sample", "--model", str(trained), "--temperature", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seqrnn: error: --temperature") and err.count("\n") == 1


def test_evaluate_without_a_text_scores_the_runs_validation_documents(trained, capsys):
    from seqrnn.data.documents import encode_documents, load_documents

    capsys.readouterr()
    assert main(["wordlm", "evaluate", "--model", str(trained)]) == 0
    printed = json.loads(capsys.readouterr().out)
    lm = WordLanguageModel.load(trained)
    data = RunFolder(trained).read_config("wordlm").data
    docs = load_documents(data["data"], val_fraction=data["val_fraction"])
    ids = encode_documents(docs.val, lm.vocab)
    rows = min(data["eval_rows"], (len(ids) - 1) // data["num_steps"]) or 1
    assert printed["split"] == "validation"
    assert printed["words"] == rows * ((len(ids) - 1) // rows)  # all of it, cut into rows
# -- conditioned --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def conditioned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wordlm-conditioned")
    table = folder / "reviews.csv"
    table.write_text("text,stars\n" + "".join(
        f"{'great fine film' if i % 2 else 'awful long film'},{10 if i % 2 else 1}\n"
        for i in range(40)), encoding="utf-8")
    run = folder / "run"
    assert main(["wordlm", "train", "--data", str(table), "--condition", "stars",
                 "--condition-dropout", "0.2", "--condition-mode", "both", "--condition-dim",
                 "4", "--out", str(run), "--sample-length", "3", "--quiet", "--min-freq", "1",
                 *SMALL]) == 0
    return run


def test_a_conditioned_model_samples_and_evaluates_with_its_condition(conditioned, capsys):
    capsys.readouterr()
    assert main(["wordlm", "sample", "--model", str(conditioned), "--length", "5", "--seed",
                 "2", "--condition", "1:0.5,10:0.5"]) == 0
    expected = WordLanguageModel.load(conditioned).sample("", 5, seed=2,
                                                           condition="1:0.5,10:0.5")
    assert capsys.readouterr().out == expected + "\n"
    assert main(["wordlm", "evaluate", "--model", str(conditioned), "--condition-gap"]) == 0
    gap = json.loads(capsys.readouterr().out)["condition_gap"]
    assert set(gap) == {"documents", "true", "none", "wrong", "gap", "wrong_gap"}
    assert gap["documents"] == 4 and gap["true"]["tokens"] == gap["none"]["tokens"] == 15
    assert main(["wordlm", "evaluate", "--model", str(conditioned)]) == 0  # with true conditions
    validation = json.loads(capsys.readouterr().out)
    assert validation["split"] == "validation" and validation["words"] == 14  # 4 documents


@pytest.mark.parametrize("args, message", [
    (["sample", "--condition", "5"], "never saw the stars '5' in training: give --condition "
     "one of 1, 10"),
    (["sample", "--condition", "1:0.7,10:0.7"], "add up to 1.4: make them add up to 1 in "
     "--condition"),
    (["evaluate", "--condition", "1"], "--condition reads --text with a condition: give --text "
     "too"),
    (["evaluate", "--classifier", "runs/x", "--sample-length", "-5"], "--sample-length must be "
     "zero or positive, got -5"),
])
def test_bad_conditions_are_one_line(conditioned, capsys, args, message):
    capsys.readouterr()
    assert main(["wordlm", args[0], "--model", str(conditioned), *args[1:]]) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert err.startswith("seqrnn: error: ") and message in err


def test_an_unconditioned_model_refuses_condition_and_gap(trained, capsys):
    capsys.readouterr()
    assert main(["wordlm", "sample", "--model", str(trained), "--condition", "10"]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "trained without --condition, so it reads no condition: drop --condition")
    assert main(["wordlm", "evaluate", "--model", str(trained), "--condition-gap"]) == 2
    assert "trained without --condition" in capsys.readouterr().err


def test_a_column_that_does_not_exist_is_one_line(tmp_path, capsys):
    table = tmp_path / "reviews.csv"
    table.write_text("text,stars\na film,1\n", encoding="utf-8")
    assert main(["wordlm", "train", "--data", str(table), "--condition", "rating", "--out",
                 str(tmp_path / "run"), "--quiet", *SMALL]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"seqrnn: error: {table} has no column 'rating' to condition on (columns found: text, "
        "stars); give --condition one of them")
