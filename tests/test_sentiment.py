import csv
import json
import random

import numpy as np
import pytest
import torch

from seqrnn import checkpoint, sentiment
from seqrnn.errors import UserError
from seqrnn.models.sentiment import SentimentConfig, SentimentRNN, reverse_within_span
from seqrnn.sentiment import SentimentClassifier, SentimentData
from seqrnn.train import TrainConfig

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
    assert params["hidden_size"] == 7 and params["epochs"] == 5
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


def test_padding_side_does_not_change_the_prediction():
    torch.manual_seed(0)
    for options in ({}, {"bidirectional": True, "num_layers": 2}, {"head": "mean"}):
        model = SentimentRNN(SentimentConfig(vocab_size=20, embedding_dim=6, hidden_size=5,
                                             dropout=0.0, **options)).eval()
        ids = torch.tensor([[5, 6, 7]])
        alone = model(ids)
        right = model(torch.tensor([[5, 6, 7, 0, 0], [3, 4, 5, 6, 7]]))[0]
        torch.testing.assert_close(alone[0], right)


def test_bidirectional_reads_the_review_backwards_from_its_last_word():
    x = torch.tensor([[1, 2, 3, 0, 0], [0, 0, 4, 5, 6]]).unsqueeze(-1)
    first, lengths = torch.tensor([0, 2]), torch.tensor([3, 3])
    flipped = reverse_within_span(x, first, lengths).squeeze(-1)
    assert flipped.tolist() == [[3, 2, 1, 0, 0], [0, 0, 6, 5, 4]]
    assert torch.equal(reverse_within_span(reverse_within_span(x, first, lengths), first,
                                           lengths), x)


def test_word_dropout_drops_whole_words_while_training_only():
    torch.manual_seed(0)
    model = SentimentRNN(SentimentConfig(vocab_size=20, embedding_dim=8, hidden_size=3,
                                         word_dropout=0.5))
    x = torch.randn(4, 50, 8)
    dropped = model.drop_words(x)  # (B, T, E)
    kept = dropped.abs().sum(-1) > 0  # per word: all its features dropped or none
    torch.testing.assert_close(dropped[kept], 2 * x[kept])  # survivors scaled by 1 / (1 - p)
    assert torch.all(dropped[~kept] == 0)
    assert 0.35 < kept.float().mean() < 0.65
    assert torch.equal(model.eval().drop_words(x), x)


def test_no_state_carries_between_batches():
    model = SentimentRNN(SentimentConfig(vocab_size=20, embedding_dim=4, hidden_size=3,
                                         dropout=0.0)).eval()
    a = model(torch.tensor([[3, 4, 5]]))
    model(torch.tensor([[9, 9, 9]]))
    assert torch.equal(model(torch.tensor([[3, 4, 5]])), a)


def write_csv(path, texts, labels, columns=("review", "sentiment")):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(zip(texts, labels, strict=True))


def test_train_resume_and_evaluate_a_csv(tmp_path):
    texts, labels = reviews(300)
    write_csv(tmp_path / "r.csv", texts, [1 if y == "pos" else 0 for y in labels])
    data = SentimentData(data=str(tmp_path / "r.csv"), batch_size=20)
    model = {"hidden_size": 16, "embedding_dim": 16, "dropout": 0.1}
    loop = TrainConfig(epochs=4, lr=1e-2, progress=False, seed=2)
    sentiment.train(data, model, loop, tmp_path / "full")
    stopped = sentiment.train(data, model, TrainConfig(**{**vars(loop), "max_steps": 13}),
                              tmp_path / "cut")
    assert stopped.stopped == "max_steps"
    sentiment.resume(tmp_path / "cut", max_steps=None)
    full = checkpoint.load_weights(tmp_path / "full", checkpoint.LATEST_WEIGHTS)[0]
    cut = checkpoint.load_weights(tmp_path / "cut", checkpoint.LATEST_WEIGHTS)[0]
    assert all(torch.equal(full[k], cut[k]) for k in full)
    metrics = sentiment.evaluate(tmp_path / "full")
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
    result = sentiment.train(data, {"hidden_size": 8, "embedding_dim": 8},
                             TrainConfig(epochs=50, lr=3e-2, patience=2, progress=False),
                             tmp_path / "run")
    assert result.stopped == "early_stopping" and result.epoch < 50


def test_imdb_archive_integration(real_data_dir, monkeypatch, tmp_path):
    """The real archive: official split sizes, a few training steps, evaluation on the test set."""
    monkeypatch.setenv("SEQRNN_DATA", str(real_data_dir))
    data = SentimentData(data="imdb", seq_len=50, batch_size=50, max_vocab=5000)
    result = sentiment.train(data, {"hidden_size": 16, "embedding_dim": 16},
                             TrainConfig(max_steps=5, progress=False), tmp_path / "run")
    assert result.step == 5
    clf = SentimentClassifier.load(tmp_path / "run")
    assert len(clf.vocab_) == 5002 and list(clf.classes_) == ["neg", "pos"]
    assert clf.vocab_.words[:3] == ("the", ".", ",")  # by frequency in the training split


@pytest.mark.parametrize("options", [{}, {"bidirectional": True, "num_layers": 2},
                                     {"head": "max"}, {"cell": "gru", "head": "mean"}])
def test_packed_sequences_give_the_padded_results(options):
    """The CUDA path (packed, right padding) checked on the CPU against the padded path."""
    torch.manual_seed(0)
    model = SentimentRNN(SentimentConfig(vocab_size=20, embedding_dim=6, hidden_size=5,
                                         dropout=0.0, sparse_embedding=False, **options))
    right = torch.tensor([[5, 6, 7, 0, 0], [3, 4, 5, 6, 7], [9, 0, 0, 0, 0]])
    results = []
    for pack in (False, True):
        model.pack = pack
        model.zero_grad()
        logits = model(right)
        logits.sum().backward()
        results.append((logits.detach(), [p.grad.clone() for p in model.parameters()]))
    torch.testing.assert_close(results[0][0], results[1][0])
    for a, b in zip(results[0][1], results[1][1], strict=True):
        torch.testing.assert_close(a, b)
    left = torch.tensor([[0, 0, 5, 6, 7], [3, 4, 5, 6, 7]])  # left padding is never packed
    model.pack = False
    unpacked = model(left)
    model.pack = True
    assert torch.equal(model(left), unpacked)
