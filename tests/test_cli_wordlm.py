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
