import math

import numpy as np
import pytest

from seqrnn.metrics import (
    DECISION_THRESHOLD,
    binary_metrics,
    perplexity,
    roc_auc,
    unigram_loss,
)


def test_roc_auc_by_pair_counting():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    scores = np.round(rng.random(200), 1)  # many ties
    pos, neg = scores[labels == 1], scores[labels == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    assert roc_auc(labels, scores) == pytest.approx(wins / (len(pos) * len(neg)))


def test_roc_auc_extremes():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert np.isnan(roc_auc([1, 1], [0.1, 0.2]))


def test_binary_metrics_counts():
    m = binary_metrics([1, 1, 1, 0, 0], [0.9, 0.6, 0.2, 0.7, 0.1])
    assert m["confusion_matrix"] == [[1, 1], [1, 2]]
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    assert m["examples"] == 5


def test_a_probability_at_the_decision_threshold_is_a_positive_prediction():
    below = np.nextafter(DECISION_THRESHOLD, 0)
    m = binary_metrics([1, 0], [DECISION_THRESHOLD, below])
    assert m["confusion_matrix"] == [[1, 0], [0, 1]]


def test_edit_distance_by_hand():
    from seqrnn.metrics import edit_distance

    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3 and edit_distance("abc", "") == 3
    assert edit_distance(("K", "AE", "T"), ("K", "AE", "T")) == 0
    assert edit_distance(("K", "AE", "T"), ("K", "AA", "T", "S")) == 2


def test_word_and_phoneme_error_rates_against_several_references():
    from seqrnn.metrics import transduction_errors

    outputs = [("R", "IY", "D"), ("K", "AE", "T"), ("D", "AO")]
    references = [[("R", "EH", "D"), ("R", "IY", "D")],  # right: equals the second reference
                  [("K", "AA", "T")],                    # one substitution out of 3
                  [("D", "AO", "G"), ("D", "AA", "G", "Z")]]  # closest: one deletion of 3
    errors = transduction_errors(outputs, references)
    assert errors["wer"] == pytest.approx(2 / 3)
    assert errors["per"] == pytest.approx((0 + 1 + 1) / (3 + 3 + 3))
    assert errors["words"] == 3 and errors["reference_tokens"] == 9
    with pytest.raises(ValueError):
        transduction_errors([], [])


def test_perplexity_of_a_diverged_model_is_infinite_not_an_overflow():
    assert perplexity(math.log(5.0)) == pytest.approx(5.0)
    assert perplexity(710.0) == math.inf  # math.exp raised OverflowError: a traceback in training


def test_the_unigram_loss_is_the_cross_entropy_of_add_one_smoothed_frequencies():
    # Counts 3, 1, 0 become 4, 2, 1 of 7: targets 0 and 2 cost -log(4/7) and -log(1/7).
    assert unigram_loss(np.array([0, 0, 0, 1]), np.array([0, 2])) == pytest.approx(
        -(math.log(4 / 7) + math.log(1 / 7)) / 2)
    assert math.isnan(unigram_loss(np.array([0, 1]), np.array([], dtype=np.int64)))


def test_the_unigram_loss_of_counts_is_the_unigram_loss_of_the_ids():
    from seqrnn.metrics import unigram_loss, unigram_loss_of_counts

    rng = np.random.default_rng(0)
    train, targets = rng.integers(0, 7, 500), rng.integers(2, 9, 80)  # 8 never in training
    counts = [np.bincount(ids, minlength=12) for ids in (train, targets)]
    assert unigram_loss_of_counts(*counts) == pytest.approx(unigram_loss(train, targets),
                                                            rel=1e-12)


def test_mean_ranks_start_at_1_and_ties_share_their_mean():
    from seqrnn.metrics import mean_ranks

    assert mean_ranks([30, 10, 20, 10]).tolist() == [4.0, 1.5, 3.0, 1.5]
