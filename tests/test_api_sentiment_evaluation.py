"""seqrnn.api.sentiment_evaluation: a run, or an ensemble, scored on a split or other data."""

import json

import numpy as np
import pytest
import torch

from seqrnn.api.sentiment import SentimentClassifier, load_classifier
from seqrnn.api.sentiment_evaluation import evaluate
from seqrnn.configs import SentimentData, TrainConfig
from seqrnn.errors import UserError
from seqrnn.recipes import base, sentiment
from tests.test_api_sentiment import SMALL, reviews, write_csv


@pytest.fixture(scope="module")
def fitted():
    texts, labels = reviews()
    torch.manual_seed(0)
    return SentimentClassifier(**SMALL).fit(texts, labels)


def test_evaluating_an_empty_split_is_refused_and_one_class_gives_a_null_roc_auc(tmp_path,
                                                                                capsys):
    from seqrnn.cli import main

    texts, labels = reviews(40)
    write_csv(tmp_path / "r.csv", texts, labels)
    base.start(sentiment.RECIPE,
               SentimentData(data=str(tmp_path / "r.csv"), batch_size=20, test_fraction=0.0),
               {"hidden_size": 4, "embedding_dim": 4}, TrainConfig(max_steps=1, progress=False),
               tmp_path / "run")
    with pytest.raises(UserError, match="the test split of .*r.csv has nothing to evaluate; "
                                        "evaluate another split"):
        evaluate(tmp_path / "run")
    assert main(["sentiment", "evaluate", "--model", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    write_csv(tmp_path / "pos.csv", texts[1::2], labels[1::2])  # one class: no ROC curve
    assert main(["sentiment", "evaluate", "--model", str(tmp_path / "run"),
                 "--data", str(tmp_path / "pos.csv"), "--labels", "neg=neg,pos=pos"]) == 0
    report = json.loads(capsys.readouterr().out, parse_constant=pytest.fail)
    assert report["roc_auc"] is None and report["rows"] == 20


def test_an_ensemble_answers_with_its_members_mean_and_keeps_to_one_split(tmp_path):
    texts, labels = reviews(300)
    write_csv(tmp_path / "r.csv", texts, [1 if y == "pos" else 0 for y in labels])
    data = SentimentData(data=str(tmp_path / "r.csv"), batch_size=20)
    for name, hidden in (("a", 12), ("b", 16)):
        base.start(sentiment.RECIPE, data,
                   {"hidden_size": hidden, "embedding_dim": 16, "dropout": 0.1},
                   TrainConfig(epochs=4, lr=1e-2, progress=False, seed=2), tmp_path / name)
    runs = [tmp_path / "a", tmp_path / "b"]
    both = load_classifier(runs)
    probe = ["a great movie", "boring plot", "the actors"]
    members = [SentimentClassifier.load(run).predict_proba(probe) for run in runs]
    mean = (members[0] + members[1]) / 2
    np.testing.assert_allclose(both.predict_proba(probe), mean)
    assert list(both.predict(probe)) == ["1" if p >= 0.5 else "0" for p in mean[:, 1]]
    curves = [SentimentClassifier.load(run).prefix_curve("a great movie, boring plot")
              for run in runs]
    curve = both.prefix_curve("a great movie, boring plot")  # what the server shows
    assert curve.tokens == curves[0].tokens
    np.testing.assert_allclose(curve.probabilities,
                               (curves[0].probabilities + curves[1].probabilities) / 2)
    assert curve.scored.tolist() == np.intersect1d(curves[0].scored, curves[1].scored).tolist()
    report = evaluate(runs)
    assert report["examples"] == 60 and report["accuracy"] > 0.9
    assert both.evaluate() == report  # the loaded ensemble, not read again
    config = json.loads((tmp_path / "b" / "config.json").read_text())
    config["train"]["loop"]["seed"] = 3  # another split of the same reviews
    (tmp_path / "b" / "config.json").write_text(json.dumps(config))
    with pytest.raises(UserError, match=r"cannot join .*: their data or split differ \(seed\)"):
        evaluate(runs)


def test_a_model_fitted_in_memory_does_not_score_imdb_by_default(fitted, tmp_path):
    fitted.save(tmp_path / "clf")
    with pytest.raises(UserError, match="fitted on texts in memory") as error:
        evaluate(tmp_path / "clf")
    assert error.value.field == "data"
    texts, labels = reviews(40, seed=3)
    write_csv(tmp_path / "r.csv", texts, labels)
    assert evaluate(tmp_path / "clf", str(tmp_path / "r.csv"))["examples"] == 40
    SentimentClassifier.load(tmp_path / "clf").save(tmp_path / "again")  # the record travels
    with pytest.raises(UserError, match="fitted on texts in memory"):
        evaluate(tmp_path / "again")


def test_a_loaded_classifier_evaluates_itself_as_its_run_does(tmp_path):
    texts, labels = reviews(100)
    write_csv(tmp_path / "r.csv", texts, labels)
    base.start(sentiment.RECIPE, SentimentData(data=str(tmp_path / "r.csv"), batch_size=20),
               {"hidden_size": 8, "embedding_dim": 8},
               TrainConfig(epochs=2, lr=1e-2, progress=False), tmp_path / "run")
    loaded = SentimentClassifier.load(tmp_path / "run")
    assert loaded.evaluate(split="val") == evaluate(tmp_path / "run", split="val")
    assert loaded.config.kind == "sentiment"
    with pytest.raises(UserError, match="no run folder to evaluate on its splits"):
        SentimentClassifier(hidden_size=4, embedding_dim=4, epochs=1).fit(
            texts, labels).evaluate()
