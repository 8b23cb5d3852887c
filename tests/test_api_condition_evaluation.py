import numpy as np
import pytest

from seqrnn.api.charlm import LanguageModel
from seqrnn.api.condition_evaluation import (
    condition_gap,
    control,
    held_out_documents,
    requested_class,
    spearman,
    wrong_conditions,
)
from seqrnn.data.conditions import ConditionVocab
from seqrnn.errors import UserError
from tests.conditioned_data import train_toy, write_toy_table

RATINGS = ConditionVocab.from_values("rating", ["1", "2", "9", "10"], True)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    run = tmp_path_factory.mktemp("evaluation") / "toy"
    train_toy(run)
    return LanguageModel.load(run)


def test_wrong_conditions_are_the_farthest_rating_or_the_next_value():
    assert wrong_conditions(RATINGS, np.array([1, 2, 3, 4])).tolist() == [4, 4, 1, 1]
    labels = ConditionVocab.from_values("label", ["a", "b", "c"], True)
    assert wrong_conditions(labels, np.array([1, 2, 3])).tolist() == [2, 3, 1]


def test_requested_classes_follow_imdbs_rule_and_the_classifiers_names():
    assert [requested_class(RATINGS, v, ["neg", "pos"]) for v in RATINGS.values] == [0, 0, 1, 1]
    labels = ConditionVocab.from_values("label", ["neg", "pos", "meh"], True)
    assert [requested_class(labels, v, ["neg", "pos"]) for v in labels.values] == [None, 0, 1]


def test_spearman_ranks_with_ties():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 1, 2, 2], [0.1, 0.2, 0.3, 0.4]) == pytest.approx(0.8944271909999159)
    assert spearman([1, 2], [3, 3]) is None


def test_the_true_condition_scores_best_on_held_out_documents(toy):
    documents, values = held_out_documents(toy)
    assert len(documents) == 20 and set(values) == {"a", "b"}
    gap = condition_gap(toy, documents, values, num_steps=20, rows=4)
    assert gap["documents"] == 20 and gap["true"]["tokens"] == gap["none"]["tokens"]
    assert gap["true"]["perplexity"] < gap["none"]["perplexity"] < gap["wrong"]["perplexity"]
    assert gap["gap"] == pytest.approx(1 - gap["true"]["perplexity"] / gap["none"]["perplexity"])


class PatternClassifier:
    """P(positive) of a toy text: its share of "ba" among its pairs; label b is "positive"."""

    classes_ = np.array(["a", "b"], dtype=object)

    def predict_proba(self, texts):
        p = np.array([t.count("ba") / max(1, t.count("ab") + t.count("ba")) for t in texts])
        return np.stack([1 - p, p], axis=1)


def test_control_scores_each_conditions_samples(toy):
    report = control(toy, PatternClassifier(), samples=3, length=20, prime="\n",
                     temperature=0.5)
    assert report["share_requested"] == 1.0
    assert report["conditions"]["a"]["mean_positive"] < 0.5 < report["conditions"]["b"][
        "mean_positive"]
    assert report["spearman_samples"] is None  # labels are no numbers


def test_an_unconditioned_model_has_no_gap(toy):
    plain = LanguageModel(toy.model.__class__(toy.model.config.__class__(vocab_size=3)),
                          toy.vocab.__class__(("\n", "a", "b")))
    with pytest.raises(UserError, match="trained without --condition"):
        condition_gap(plain, ["ab"], ["a"])


def test_held_out_documents_refuse_data_changed_since_training(tmp_path):
    run = tmp_path / "toy"
    train_toy(run)
    lm = LanguageModel.load(run)
    write_toy_table(tmp_path / "toy.csv", seed=1)  # the table the run read, other rows
    with pytest.raises(UserError, match="changed") as caught:
        held_out_documents(lm)
    assert "\n" not in str(caught.value)
    documents, values = held_out_documents(lm, allow_changed_data=True)
    assert len(documents) == len(values) > 0
