import csv
import json
import random
import re

import numpy as np
import pytest
import torch

from seqrnn.api.sentiment import SentimentClassifier
from seqrnn.api.sentiment_evaluation import evaluate
from seqrnn.configs import SentimentConfig, SentimentData, TrainConfig
from seqrnn.errors import UserError
from seqrnn.recipes import base, sentiment
from seqrnn.run import LATEST_WEIGHTS, RunFolder

POSITIVE = ["great", "wonderful", "loved", "superb"]
NEGATIVE = ["awful", "boring", "hated", "terrible"]
FILLER = ["the", "movie", "was", "plot", "actors", "a", "and", "it", "<br />"]


def reviews(n=240, seed=0):
    """Reviews whose sentiment is one cue word somewhere among filler words."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        words = rng.choices(FILLER, k=rng.randint(2, 12))
        words.insert(rng.randint(0, len(words)), rng.choice(POSITIVE if label else NEGATIVE))
        texts.append(" ".join(words))
        labels.append("pos" if label else "neg")
    return texts, labels


SMALL = {"epochs": 6, "hidden_size": 16, "embedding_dim": 16, "batch_size": 20, "lr": 1e-2,
         "dropout": 0.1}


@pytest.fixture(scope="module")
def fitted():
    texts, labels = reviews()
    torch.manual_seed(0)
    return SentimentClassifier(**SMALL).fit(texts, labels)


def test_fit_learns_the_cue_words(fitted):
    texts, labels = reviews(100, seed=1)  # unseen reviews
    assert fitted.score(texts, labels) >= 0.95
    assert list(fitted.classes_) == ["neg", "pos"]
    assert list(fitted.predict(["it was superb", "boring and awful"])) == ["pos", "neg"]
    proba = fitted.predict_proba(["it was superb", "boring"])
    assert proba.shape == (2, 2) and np.allclose(proba.sum(axis=1), 1)


def test_empty_and_unknown_texts_get_an_answer(fitted):
    proba = fitted.predict_proba(["", "zzz qqq xxx", "<br />"])
    assert proba.shape == (3, 2) and np.all((proba >= 0) & (proba <= 1))


def test_estimator_protocol():
    clf = SentimentClassifier(hidden_size=7)
    params = clf.get_params()
    assert params["hidden_size"] == 7 and params["epochs"] is None  # the default: 5 ...
    assert clf._configs()[2].epochs == 5  # ... or the fine-tuning recipe's with `pretrained`
    assert clf.set_params(epochs=2) is clf and clf.epochs == 2
    assert not any(name.endswith("_") for name in vars(clf))  # nothing learned before fit
    with pytest.raises(ValueError, match="unknown parameters"):
        clf.set_params(nope=1)
    with pytest.raises(UserError, match="not fitted"):
        clf.predict(["x"])


def test_labels_keep_their_type():
    texts, labels = reviews(120)
    numeric = [1 if y == "pos" else 0 for y in labels]
    clf = SentimentClassifier(**SMALL).fit(texts, numeric)
    assert list(clf.classes_) == [0, 1]
    assert clf.score(texts, numeric) > 0.8
    with pytest.raises(UserError, match="exactly two"):
        SentimentClassifier(**SMALL).fit(texts, ["a", "b", "c"] * 40)


def test_save_and_load_round_trip(fitted, tmp_path):
    fitted.save(tmp_path / "clf")
    loaded = SentimentClassifier.load(tmp_path / "clf")
    texts, _ = reviews(30, seed=2)
    assert np.allclose(loaded.predict_proba(texts), fitted.predict_proba(texts))
    assert loaded.get_params()["hidden_size"] == 16


def test_prefix_probabilities_follow_the_reading(fitted):
    tokens, probs = fitted.prefix_probabilities("the movie was superb")
    assert tokens == ["the", "movie", "was", "superb"]
    assert probs.shape == (4,)
    assert probs[-1] == pytest.approx(fitted.predict_proba(["the movie was superb"])[0, 1])
    assert probs[-1] > 0.8 > probs[2]  # the cue word moved it


@pytest.mark.parametrize("options", [{}, {"bidirectional": True}, {"head": "mean"}])
def test_the_curve_of_a_long_review_stays_linear_and_says_how(options):
    texts, labels = reviews()
    clf = SentimentClassifier(**{**SMALL, "epochs": 1, "seq_len": 10, **options}).fit(texts,
                                                                                     labels)
    review = " ".join(["the plot was superb and the acting awful"] * 12)  # 96 words
    curve = clf.prefix_curve(review, budget=8)
    words = curve.tokens
    assert len(words) == 96 and curve.probabilities.shape == (96,)
    one_pass = 0 if options.get("bidirectional") else 10
    assert list(curve.scored[:one_pass]) == list(range(one_pass))
    assert len(curve.scored) == one_pass + 8 and curve.scored[-1] == 95
    exact = clf.predict_proba([" ".join(words[: i + 1]) for i in curve.scored])[:, 1]
    np.testing.assert_allclose(curve.probabilities[curve.scored], exact, atol=1e-6)
    held = curve.scored[-2] + 1  # between two scored prefixes the earlier value is held
    assert curve.probabilities[held] == curve.probabilities[curve.scored[-2]]
    assert "8 evenly spaced prefixes" in curve.method
    assert ("up to word 10" in curve.method) != bool(options.get("bidirectional"))
    short = clf.prefix_curve("the plot was superb")
    assert list(short.scored) == [0, 1, 2, 3]
    assert short.method == ("every prefix, each as a review of its own"
                            if options.get("bidirectional") else "every prefix, in one pass")


@pytest.mark.parametrize("options", [{"bidirectional": True}, {"head": "max"},
                                     {"head": "mean"}, {"batching": "fixed", "seq_len": 12},
                                     {"cell": "gru", "sparse_embedding": False},
                                     {"word_dropout": 0.3}])
def test_variants_learn(options):
    texts, labels = reviews()
    clf = SentimentClassifier(**{**SMALL, **options}).fit(texts, labels)
    assert clf.score(*reviews(100, seed=1)) >= 0.9
    tokens, probs = clf.prefix_probabilities("a plot superb")
    assert probs[-1] == pytest.approx(clf.predict_proba(["a plot superb"])[0, 1], abs=1e-6)


def write_csv(path, texts, labels, columns=("review", "sentiment")):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(zip(texts, labels, strict=True))


def test_numpy_parameters_any_iterable_and_fit_inputs_checked_like_predicts(fitted):
    texts, labels = reviews(40)
    clf = SentimentClassifier(hidden_size=np.int64(4), embedding_dim=np.int64(4),
                              epochs=np.int64(1), lr=np.float32(1e-2), seed=np.int64(1))
    clf.fit((t for t in texts), iter(labels))  # generators, as a pipeline may give them
    assert clf.model_.config.hidden_size == 4
    assert list(fitted.predict(t for t in ["it was superb", "boring and awful"])) == ["pos", "neg"]
    assert fitted.predict_proba(np.array(["superb", None], dtype=object)).shape == (2, 2)
    for bad in (None, 5, "one text"):
        with pytest.raises(UserError, match="^fit takes a list \\(or any iterable\\) of texts, "
                                            f"not {type(bad).__name__}"):
            SentimentClassifier(epochs=1).fit(bad, labels)
        with pytest.raises(UserError, match="^predict_proba takes a list"):
            fitted.predict(bad)
    with pytest.raises(UserError, match="^the list of texts given to score has nothing to "):
        fitted.score([], [])  # an accuracy of no texts is no number
    with pytest.raises(UserError, match="^2 texts but 1 labels"):
        fitted.score(["superb", "awful"], ["pos"])
    numbers = SentimentClassifier(hidden_size=4, embedding_dim=4, epochs=1)
    assert len(numbers.fit(list(range(40)), labels).predict([1, None])) == 2  # as predict reads


def test_train_resume_and_evaluate_a_csv(tmp_path):
    texts, labels = reviews(300)
    write_csv(tmp_path / "r.csv", texts, [1 if y == "pos" else 0 for y in labels])
    data = SentimentData(data=str(tmp_path / "r.csv"), batch_size=20)
    model = {"hidden_size": 16, "embedding_dim": 16, "dropout": 0.1}
    loop = TrainConfig(epochs=4, lr=1e-2, progress=False, seed=2)
    base.start(sentiment.RECIPE, data, model, loop, tmp_path / "full")
    stopped = base.start(sentiment.RECIPE, data, model,
                         TrainConfig(**{**vars(loop), "max_steps": 13}), tmp_path / "cut").result
    assert stopped.stopped == "max_steps"
    base.resume(sentiment.RECIPE, tmp_path / "cut", max_steps=None)
    full = RunFolder(tmp_path / "full").load_weights(LATEST_WEIGHTS)[0]
    cut = RunFolder(tmp_path / "cut").load_weights(LATEST_WEIGHTS)[0]
    assert all(torch.equal(full[k], cut[k]) for k in full)
    metrics = evaluate(tmp_path / "full")
    assert metrics["split"] == "test" and metrics["examples"] == 60  # 20% of 300
    assert metrics["accuracy"] > 0.9 and metrics["roc_auc"] > 0.95
    assert sum(map(sum, metrics["confusion_matrix"])) == 60
    lines = (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["val_accuracy"] for r in records if r["kind"] == "eval"][-1] > 0.9


def test_early_stopping(tmp_path):
    texts, _ = reviews(200)
    labels = random.Random(1).choices(["pos", "neg"], k=200)  # nothing to learn: it overfits
    write_csv(tmp_path / "r.csv", texts, labels)
    data = SentimentData(data=str(tmp_path / "r.csv"), batch_size=20)
    result = base.start(sentiment.RECIPE, data, {"hidden_size": 8, "embedding_dim": 8},
                        TrainConfig(epochs=50, lr=3e-2, patience=2, progress=False),
                        tmp_path / "run").result
    assert result.stopped == "early_stopping" and result.epoch < 50


def test_imdb_archive_integration(real_data_dir, monkeypatch, tmp_path):
    """The real archive: official split sizes, a few training steps, evaluation on the test set."""
    monkeypatch.setenv("SEQRNN_DATA", str(real_data_dir))
    data = SentimentData(data="imdb", seq_len=50, batch_size=50, max_vocab=5000)
    result = base.start(sentiment.RECIPE, data, {"hidden_size": 16, "embedding_dim": 16},
                        TrainConfig(max_steps=5, progress=False), tmp_path / "run").result
    assert result.step == 5
    clf = SentimentClassifier.load(tmp_path / "run")
    assert len(clf.vocab_) == 5002 and list(clf.classes_) == ["neg", "pos"]
    assert clf.vocab_.words[:3] == ("the", ".", ",")  # by frequency in the training split


def test_every_config_field_is_an_estimator_parameter_with_its_default():
    from dataclasses import fields

    from seqrnn.kinds import FINETUNE_RECIPE

    clf = SentimentClassifier()
    params = clf.get_params()
    model, data, loop = clf._configs()
    resolved = {**model, **vars(data), **vars(loop)}
    reading = {"data", "text_column", "label_column", "format", "encoding", "test_fraction",
               "on_empty"}  # fit() is given texts, not a file to read
    for cls, left_out in ((SentimentConfig, {"vocab_size"}), (SentimentData, reading),
                          (TrainConfig, set())):
        for field in fields(cls):
            if field.name in left_out:
                assert field.name not in params
            elif field.name in FINETUNE_RECIPE:  # None: the default, which `pretrained` sets
                assert params[field.name] is None, field.name
                if field.name != "epochs":
                    assert resolved[field.name] == field.default, field.name
            elif field.name != "progress":  # the estimator's own default
                assert params[field.name] == field.default, field.name
    assert (resolved["epochs"], params["progress"]) == (5, False)
    assert {"max_steps", "warmup_steps", "min_lr_fraction", "amp", "log_every"} <= set(params)
    clone = type(SentimentClassifier(max_steps=3))(**SentimentClassifier(max_steps=3).get_params())
    assert clone.get_params() == SentimentClassifier(max_steps=3).get_params()
    with pytest.raises(TypeError, match="unknown parameters"):
        SentimentClassifier(hidden=3)


def test_fit_keeps_the_best_weights_in_memory_as_the_run_folder_does(tmp_path):
    texts, labels = reviews(120)
    options = {**SMALL, "epochs": 3}
    in_memory = SentimentClassifier(**options).fit(texts, labels)
    on_disk = SentimentClassifier(**options).fit(texts, labels, out=tmp_path / "run")
    loaded = SentimentClassifier.load(tmp_path / "run")
    probe = ["it was superb", "boring and awful", "the movie"]
    assert np.array_equal(in_memory.predict_proba(probe), loaded.predict_proba(probe))
    assert np.array_equal(on_disk.predict_proba(probe), loaded.predict_proba(probe))


def test_a_loaded_model_scores_labels_given_as_numbers(tmp_path):
    texts, labels = reviews()
    numbers = [1 if y == "pos" else 0 for y in labels]
    clf = SentimentClassifier(**{**SMALL, "epochs": 2}).fit(texts, numbers)
    clf.save(tmp_path / "run")
    loaded = SentimentClassifier.load(tmp_path / "run")
    assert loaded.score(texts, numbers) == pytest.approx(clf.score(texts, numbers))
    assert loaded.score(texts, numbers) > 0.8


def folder_bytes(path):
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def test_save_replaces_a_saved_model_only_when_asked(fitted, tmp_path):
    fitted.save(tmp_path / "clf")
    before = folder_bytes(tmp_path / "clf")
    with pytest.raises(UserError) as caught:
        fitted.save(tmp_path / "clf")
    assert str(caught.value) == (f"{tmp_path / 'clf'} holds a saved sentiment model: choose "
                                 "another path, or pass overwrite to replace it")
    assert folder_bytes(tmp_path / "clf") == before
    fitted.save(tmp_path / "clf", overwrite=True)
    assert sorted(folder_bytes(tmp_path / "clf")) == sorted(before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clf"]  # no staging folder left


def test_save_never_takes_a_run_or_your_files_without_overwrite(fitted, tmp_path):
    texts, labels = reviews(60)
    run = tmp_path / "run"
    SentimentClassifier(**{**SMALL, "epochs": 1, "eval_every": 1, "max_steps": 1}).fit(
        texts, labels, out=run)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    for folder, held in [(run, "holds a training run of a sentiment model"),
                         (mine, "is not empty (it holds notes.txt)")]:
        before = folder_bytes(folder)
        with pytest.raises(UserError, match=re.escape(f"{folder} {held}: choose another path")):
            fitted.save(folder)
        assert folder_bytes(folder) == before
    with pytest.raises(UserError, match="is a file: give a folder"):
        fitted.save(mine / "notes.txt", overwrite=True)
    fitted.save(run, overwrite=True)  # the run's checkpoint and curves go with it
    assert sorted(p.name for p in run.iterdir()) == ["config.json", "labels.json",
                                                     "model.safetensors", "vocab.json"]
    fitted.save(mine, overwrite=True)  # only the model's files are written; yours stay
    assert (mine / "notes.txt").read_text() == "my notes"
    for folder in (run, mine):
        assert np.allclose(SentimentClassifier.load(folder).predict_proba(texts[:5]),
                           fitted.predict_proba(texts[:5]))


def test_training_never_clears_a_saved_model(fitted, tmp_path):
    fitted.save(tmp_path / "clf")
    before = folder_bytes(tmp_path / "clf")
    texts, labels = reviews(60)
    with pytest.raises(UserError, match="holds a saved model: choose another out"):
        SentimentClassifier(**{**SMALL, "max_steps": 1}).fit(texts, labels, out=tmp_path / "clf")
    assert folder_bytes(tmp_path / "clf") == before


def test_a_failed_save_leaves_the_folder_as_it_was(fitted, tmp_path, monkeypatch):
    import errno

    from safetensors import SafetensorError

    import seqrnn.run_weights

    fitted.save(tmp_path / "clf")
    before = folder_bytes(tmp_path / "clf")

    def full(*args, **kwargs):  # what safetensors raises on a full disk
        raise SafetensorError("Error while serializing: I/O error: No space left on device "
                              "(os error 28)")

    monkeypatch.setattr(seqrnn.run_weights, "save_file", full)
    for target in (tmp_path / "clf", tmp_path / "new"):
        with pytest.raises(OSError) as caught:
            fitted.save(target, overwrite=True)
        assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(target)
    assert folder_bytes(tmp_path / "clf") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clf"]
