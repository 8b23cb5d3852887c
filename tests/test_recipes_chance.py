import json

import pytest

from seqrnn.cli import main
from seqrnn.recipes.chance import above_unigram, learned_nothing, near_chance


def test_near_chance_is_judged_against_the_most_common_class():
    assert "never left chance (best 0.547" in near_chance({"accuracy": 0.547, "majority": 0.5})
    assert near_chance({"accuracy": 0.56, "majority": 0.5}) is None
    # 0.86 is no achievement where 85% of the reviews are of one class.
    assert near_chance({"accuracy": 0.86, "majority": 0.85}) is not None
    assert near_chance({"accuracy": 0.5}) is None  # a record from before "majority" was kept


def test_a_language_model_is_judged_against_the_unigram_loss():
    warning = above_unigram({"loss": 3.2, "unigram": 3.1})
    assert warning.startswith("validation loss never fell below the unigram loss (best 3.200; "
                              "predicting each token by its training frequency alone scores "
                              "3.100): the model learned no context; try another learning rate")
    assert above_unigram({"loss": 3.0, "unigram": 3.1}) is None
    assert above_unigram({"loss": 3.0}) is None  # a record from before "unigram" was kept
    assert learned_nothing({"loss": 0.7, "accuracy": 0.5, "majority": 0.5}).startswith(
        "validation accuracy never left chance")
    assert learned_nothing({"loss": 3.2, "unigram": 3.1}) is not None
    assert learned_nothing({"loss": 1.0, "unigram": 3.1, "accuracy": 0.9}) is None


def test_a_character_model_that_learned_nothing_says_so_at_its_end(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text("abracadabra, said the cat. " * 80)
    common = ["charlm", "train", "--text", str(text), "--batch-size", "4", "--num-steps", "10",
              "--hidden-size", "16", "--quiet", "--sample-length", "0", "--threads", "1"]
    assert main([*common, "--lr", "1e-9", "--max-steps", "2", "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "seqrnn: warning: validation loss never fell below the unigram loss" in err
    records = [json.loads(line) for line in (tmp_path / "a" / "metrics.jsonl").open()]
    unigram = [r["val_unigram"] for r in records if r["kind"] == "eval"]
    assert unigram and 2.0 < unigram[0] < 3.5  # about log of the ~12 common characters
    assert main([*common, "--lr", "0.02", "--epochs", "10", "--out", str(tmp_path / "b")]) == 0
    assert "warning" not in capsys.readouterr().err  # a repeated phrase is learned


@pytest.mark.parametrize(("accuracy", "majority", "warned"), [
    (0.54, 0.5, True), (0.55, 0.5, False), (0.9, 0.9, True), (0.91, 0.9, False),
    (0.5, None, False)])
def test_a_classifier_that_stayed_at_chance_is_warned_about(accuracy, majority, warned):
    best = {"accuracy": accuracy, **({} if majority is None else {"majority": majority})}
    message = near_chance(best)
    assert (message is not None) == warned
    if warned:
        assert message.startswith(f"validation accuracy never left chance (best {accuracy:.3f}")
