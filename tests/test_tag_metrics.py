import random

import pytest

from seqrnn.errors import UserError
from seqrnn.tag_metrics import span_scores

PREFIXES = {"iob1": "BI", "iob2": "BI", "bioes": "BIES"}


def tag_set(scheme):
    return ["O", *(f"{p}-{t}" for p in PREFIXES[scheme] for t in ("X", "Y", "Z"))]


def random_corpus(scheme, seed, sentences=300):
    """Gold sentences of random tags and predictions that keep about 70% of them."""
    rng = random.Random(seed)
    names = tag_set(scheme)
    gold = [rng.choices(names, k=rng.randint(1, 15)) for _ in range(sentences)]
    predicted = [[t if rng.random() < 0.7 else rng.choice(names) for t in g] for g in gold]
    return gold, predicted


def conlleval_counts(gold, predicted):
    """(correct, found gold, found predicted, correct tags, tokens) counted as conlleval's perl
    script counts a file of `word gold guess` lines, a blank line after each sentence:
    token by token, with its startOfChunk/endOfChunk tables (tags B, I, O only)."""

    def split(tag):
        prefix, _, kind = tag.partition("-")
        return prefix, kind

    def ends(prev, tag, prev_type, kind):
        return ((prev, tag) in {("B", "B"), ("B", "O"), ("I", "B"), ("I", "O")}
                or (prev != "O" and prev_type != kind))

    def starts(prev, tag, prev_type, kind):
        return ((prev, tag) in {("B", "B"), ("I", "B"), ("O", "B"), ("O", "I")}
                or (tag != "O" and prev_type != kind))

    lines = [tags for g, p in zip(gold, predicted, strict=True)
             for tags in [*zip(g, p, strict=True), None]]
    correct_chunks = found_gold = found_guessed = correct_tags = tokens = 0
    in_correct = False
    last_c, last_ct, last_g, last_gt = "O", "", "O", ""
    for line in lines:
        (c, ct), (g, gt) = (split(line[0]), split(line[1])) if line else (("O", ""), ("O", ""))
        if in_correct:
            end_c, end_g = ends(last_c, c, last_ct, ct), ends(last_g, g, last_gt, gt)
            if end_c and end_g and last_gt == last_ct:
                in_correct = False
                correct_chunks += 1
            elif end_c != end_g or gt != ct:
                in_correct = False
        start_c, start_g = starts(last_c, c, last_ct, ct), starts(last_g, g, last_gt, gt)
        if start_c and start_g and gt == ct:
            in_correct = True
        found_gold += start_c
        found_guessed += start_g
        if line:
            correct_tags += c == g and ct == gt
            tokens += 1
        last_c, last_ct, last_g, last_gt = c, ct, g, gt
    return correct_chunks + in_correct, found_gold, found_guessed, correct_tags, tokens


def test_scores_by_hand():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    predicted = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "I-ORG"]]
    scores = span_scores(gold, predicted, "iob2")
    # Gold PER 0-2, LOC 3-4, ORG 0-1; predicted PER 0-2, ORG 3-4, ORG 0-2: only PER is right.
    assert scores["correct"] == 1 and scores["predicted"] == 3 and scores["support"] == 3
    assert scores["precision"] == scores["recall"] == scores["f1"] == pytest.approx(1 / 3)
    assert scores["accuracy"] == pytest.approx(4 / 6) and scores["tokens"] == 6
    assert scores["per_type"] == {
        "LOC": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "correct": 0, "predicted": 0,
                "support": 1},
        "ORG": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "correct": 0, "predicted": 2,
                "support": 1},
        "PER": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "correct": 1, "predicted": 1,
                "support": 1},
    }


def test_precision_and_recall_differ_by_hand():
    gold = [["B-NP", "I-NP", "B-VP", "B-NP"]]
    predicted = [["B-NP", "I-NP", "B-VP", "I-VP"]]
    scores = span_scores(gold, predicted, "iob2")
    # Gold NP, VP, NP; predicted NP and a VP of two tokens: one of two right, one of three found.
    assert scores["precision"] == pytest.approx(1 / 2)
    assert scores["recall"] == pytest.approx(1 / 3)
    assert scores["f1"] == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))
    assert scores["per_type"]["VP"]["precision"] == 0.0
    assert scores["per_type"]["NP"]["recall"] == pytest.approx(1 / 2)


def test_a_stray_inside_tag_is_a_chunk_as_conlleval_counts_it():
    scores = span_scores([["O", "I-X", "I-X"]], [["O", "B-X", "I-X"]], "iob2")
    assert (scores["correct"], scores["f1"], scores["accuracy"]) == (1, 1.0, pytest.approx(2 / 3))


def test_a_chunk_never_crosses_a_sentence_end():
    # Had the sentences been one, B-X I-X would be one chunk and match nothing.
    scores = span_scores([["B-X"], ["B-X"]], [["B-X"], ["I-X"]], "iob2")
    assert (scores["correct"], scores["predicted"], scores["support"]) == (2, 2, 2)


def test_no_chunks_scores_zero_not_an_error():
    scores = span_scores([["O", "O"]], [["O", "O"]], "bioes")
    assert (scores["precision"], scores["recall"], scores["f1"]) == (0.0, 0.0, 0.0)
    assert scores["accuracy"] == 1.0 and scores["per_type"] == {}
    empty = span_scores([], [], "iob1")
    assert (empty["f1"], empty["accuracy"], empty["tokens"]) == (0.0, 0.0, 0)


def test_bioes_by_hand():
    gold = [["S-X", "B-Y", "E-Y", "O"]]
    predicted = [["S-X", "B-Y", "I-Y", "E-Y"]]
    scores = span_scores(gold, predicted, "bioes")
    assert (scores["correct"], scores["predicted"], scores["support"]) == (1, 2, 2)
    assert scores["accuracy"] == pytest.approx(2 / 4)


def test_mismatched_inputs_are_one_line_errors():
    with pytest.raises(UserError, match="^2 gold sentences but 1 predicted ones; "):
        span_scores([["O"], ["O"]], [["O"]], "iob2")
    with pytest.raises(UserError, match="^sentence 2: 2 gold tags but 1 predicted; "):
        span_scores([["O"], ["O", "O"]], [["O"], ["O"]], "iob2")
    with pytest.raises(UserError, match="^predicted sentence 1, token 2: 'E-X' is not one of"):
        span_scores([["O", "O"]], [["O", "E-X"]], "iob2")


@pytest.mark.parametrize("scheme", ["iob1", "iob2"])
def test_counts_equal_conllevals_token_by_token_counting(scheme):
    # conlleval counts a chunk right while reading, token by token; span_scores matches sets
    # of spans. The counts agree on random, mostly ill-formed, sequences.
    for seed in range(3):
        gold, predicted = random_corpus(scheme, seed)
        scores = span_scores(gold, predicted, scheme)
        correct, found_gold, found_guessed, correct_tags, tokens = conlleval_counts(
            gold, predicted)
        assert (scores["correct"], scores["support"], scores["predicted"]) == (
            correct, found_gold, found_guessed)
        assert scores["accuracy"] == correct_tags / tokens
        assert scores["precision"] == correct / found_guessed


@pytest.mark.parametrize("scheme", ["iob1", "iob2", "bioes"])
def test_scores_equal_seqevals(scheme):
    # seqeval's default mode is conlleval's counting, S and E read as bioes has them; it is
    # compared on the tags each scheme allows (the only ones span_scores takes).
    metrics = pytest.importorskip("seqeval.metrics")
    gold, predicted = random_corpus(scheme, seed=7)
    scores = span_scores(gold, predicted, scheme)
    assert scores["f1"] == pytest.approx(metrics.f1_score(gold, predicted), abs=1e-12)
    assert scores["precision"] == pytest.approx(metrics.precision_score(gold, predicted))
    assert scores["recall"] == pytest.approx(metrics.recall_score(gold, predicted))
    assert scores["accuracy"] == pytest.approx(metrics.accuracy_score(gold, predicted))
    report = metrics.classification_report(gold, predicted, output_dict=True, zero_division=0)
    assert set(scores["per_type"]) == {"X", "Y", "Z"}
    for kind, ours in scores["per_type"].items():
        assert ours["precision"] == pytest.approx(report[kind]["precision"])
        assert ours["recall"] == pytest.approx(report[kind]["recall"])
        assert ours["f1"] == pytest.approx(report[kind]["f1-score"])
        assert ours["support"] == report[kind]["support"]
