"""The classifier's training-loop task and its checks (tasks/sentiment.py)."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from seqrnn.configs import SentimentData, WordLMConfig
from seqrnn.data.sequences import EncodedTexts
from seqrnn.data.vocab import UNK_ID
from seqrnn.errors import UserError, flag
from seqrnn.recipes.sentiment import (
    SentimentObjective,
    check_coverage,
    predict_probabilities,
    refuse_contradictions,
)

DATA = SentimentData(batching="fixed", seq_len=3, batch_size=4)


def encoded(labels, ids_per_review=2) -> EncodedTexts:
    n = len(labels)
    return EncodedTexts(np.arange(5, 5 + ids_per_review * n, dtype=np.int64),
                        np.arange(0, ids_per_review * n + 1, ids_per_review, dtype=np.int64),
                        np.asarray(labels, dtype=np.int64))


class Constant(nn.Module):
    """Every review gets the same logit."""

    def __init__(self, logit: float):
        super().__init__()
        self.logit = nn.Parameter(torch.tensor(logit))

    def forward(self, tokens):
        return self.logit.expand(len(tokens))


def test_evaluation_is_the_log_loss_and_accuracy_of_the_validation_reviews():
    val_labels = [1, 1, 1, 0, 1, 0]  # 4 of 6 positive: chance is 2/3
    task = SentimentObjective(encoded([0, 1] * 5), encoded(val_labels), DATA, seed=1)
    p = 1 / (1 + math.exp(-0.5))  # every review gets P(positive) = sigmoid(0.5) > 0.5
    metrics = task.evaluate(Constant(0.5))
    expected_loss = -(4 * math.log(p) + 2 * math.log(1 - p)) / 6
    assert metrics["loss"] == pytest.approx(expected_loss, rel=1e-6)
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    assert metrics["majority"] == pytest.approx(4 / 6)


def test_training_batches_cover_the_reviews_once_per_epoch_with_their_labels():
    labels = [0, 1, 1, 0, 1, 0, 0, 1, 1, 1]
    task = SentimentObjective(encoded(labels), encoded([0, 1]), DATA, seed=1)
    assert task.num_batches(0) == 3  # batches of 4, 4 and 2
    seen = []
    for index in range(task.num_batches(0)):
        tokens, batch_labels = task.batch(0, index)
        rows = task.batches(0)[index]
        assert batch_labels.tolist() == [float(labels[r]) for r in rows]
        assert tokens[:, -1].tolist() == [6 + 2 * r for r in rows]  # each review's last id
        seen.extend(rows.tolist())
    assert sorted(seen) == list(range(10))
    loss, count = task.train_loss(Constant(0.0), task.batch(0, 0))
    assert count == 4 and loss.item() == pytest.approx(math.log(2))
    assert task.carried_state() == {}


def test_probabilities_come_in_the_sets_order_and_leave_the_training_mode_alone():
    from seqrnn.data.batches import ReviewBatches

    batches = ReviewBatches(encoded([0, 1, 0, 1, 1]), DATA, shuffle=False, seed=0)
    model = Constant(0.0).train()
    probs = predict_probabilities(model, batches)
    assert probs.tolist() == [0.5] * 5 and model.training
    some = predict_probabilities(model, batches, [np.array([1, 3])])
    assert some[[1, 3]].tolist() == [0.5, 0.5] and np.isnan(some[[0, 2, 4]]).all()


def test_a_pretrained_vocabulary_must_know_half_the_training_words():
    data = SentimentData(data="reviews.csv", pretrained="runs/lm")
    half = EncodedTexts(np.array([5, UNK_ID, 6, UNK_ID]), np.array([0, 2, 4]), None)
    check_coverage(half, data)
    mostly_unknown = EncodedTexts(np.array([5, UNK_ID, UNK_ID, UNK_ID]), np.array([0, 2, 4]),
                                  None)
    with pytest.raises(UserError) as caught:
        check_coverage(mostly_unknown, data)
    assert caught.value.render(flag) == (
        "the language model in runs/lm knows only 25% of the words of reviews.csv: pretrain "
        "it on text like these reviews, or train without --pretrained")


def test_options_a_pretrained_encoder_decides_must_agree_with_it():
    lm = WordLMConfig(vocab_size=20, embedding_dim=8, hidden_size=16, num_layers=2,
                      tie_weights=False)
    refuse_contradictions({"hidden_size": 16, "cell": "lstm", "sparse_embedding": False,
                           "dropout": 0.3}, lm)
    for name, value, wanted in [("hidden_size", 32, 16), ("cell", "gru", "lstm"),
                                ("bidirectional", True, False)]:
        with pytest.raises(UserError) as caught:
            refuse_contradictions({name: value}, lm)
        assert caught.value.field == name
        assert caught.value.render(flag) == (f"{flag(name)} {value} contradicts the pretrained "
                                             f"encoder ({wanted}): drop it, the encoder decides")
