import json

import numpy as np
import pytest
import torch

from seqrnn.api.charlm import LanguageModel
from seqrnn.api.wordlm import WordLanguageModel
from seqrnn.configs import CharLMData, TrainConfig, WordLMData
from seqrnn.errors import UserError
from seqrnn.recipes import base, charlm, wordlm
from tests.conditioned_data import train_toy, write_toy_table


@pytest.fixture(scope="module")
def toy_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("conditioned")
    return {mode: (train_toy(root / mode, condition_mode=mode), root / mode)
            for mode in ("input", "state")}


@pytest.mark.parametrize("mode, sampling", [("input", {"temperature": 0.5}),
                                            ("state", {"greedy": True})])
def test_each_label_writes_only_its_own_pattern(toy_runs, mode, sampling):
    lm = LanguageModel.load(toy_runs[mode][1])
    for label, pattern in (("a", "ab"), ("b", "ba")):
        for seed in range(3):
            text = lm.sample("\n", 40, condition=label, seed=seed, **sampling)[1:]
            pieces = [piece for piece in text.split("\n") if piece]
            assert pieces and all(p == (pattern * 40)[:len(p)] for p in pieces), (label, text)
        beam = lm.sample("\n", 12, condition=label, beam=3)
        assert beam[1:].startswith(pattern * 3)


def test_the_condition_vocabulary_survives_save_and_load(toy_runs):
    run = toy_runs["input"][1]
    saved = json.loads((run / "conditions.json").read_text())
    assert saved == {"name": "label", "values": ["a", "b"], "none_trained": True}
    lm = LanguageModel.load(run)
    assert lm.conditions.values == ("a", "b") and lm.model.config.conditions == 3
    before = lm.sample("\n", 30, condition="b", seed=1)
    assert LanguageModel.load(run).sample("\n", 30, condition="b", seed=1) == before


def test_a_resumed_run_keeps_its_conditions(toy_runs, tmp_path):
    run = tmp_path / "resumed"
    first = train_toy(run, condition_mode="both").result.step
    assert base.resume(charlm.RECIPE, run, epochs=5).step > first
    assert LanguageModel.load(run).conditions.values == ("a", "b")


def test_compiled_sampling_reads_the_condition_as_torch_does(toy_runs):
    lm = LanguageModel.load(toy_runs["input"][1])
    assert lm.compiled
    slow = LanguageModel(lm.model, lm.vocab, lm.config, lm.conditions)
    slow._steppers[tuple(lm.condition_weights("a:0.3,b:0.7").tolist())] = None
    assert slow.sample("\n", 40, condition="a:0.3,b:0.7", seed=2) == lm.sample(
        "\n", 40, condition="a:0.3,b:0.7", seed=2)


def test_compiled_layouts_are_kept_for_the_last_mixtures_only(toy_runs):
    from seqrnn.api.charlm import MAX_STEPPERS

    lm = LanguageModel.load(toy_runs["input"][1])
    mixtures = [f"a:{k / 100},b:{1 - k / 100}" for k in range(1, MAX_STEPPERS + 3)]
    for spec in mixtures:
        assert lm.stepper_for(spec) is not None
    assert list(lm._steppers) == [tuple(lm.condition_weights(spec).tolist())
                                  for spec in mixtures[-MAX_STEPPERS:]]
    state = LanguageModel.load(toy_runs["state"][1])  # its condition enters the state: one
    assert state.stepper_for("a") is state.stepper_for("a:0.2,b:0.8")  # layout serves all
    assert list(state._steppers) == [None]


def test_the_condition_carries_information(toy_runs):
    lm = LanguageModel.load(toy_runs["input"][1])
    right, wrong = (lm.evaluate("\nabababab\nababab", condition=c)["loss"] for c in "ab")
    assert right < wrong


# -- a run without --condition is unchanged ---------------------------------------------------

PLAIN = "".join(("ab" if i % 3 else "ba") * (3 + i % 5) + "\n" for i in range(300))
WORDS = "\n".join(" ".join(["the", "film", "was", ["good", "bad", "fine"][i % 3], "and",
                            "long"] * (1 + i % 4)) for i in range(200))
LOOP = TrainConfig(max_steps=20, eval_every=20, lr=1e-2, progress=False, seed=3, threads=1)


def fingerprint(started) -> tuple[float, int, float]:
    model = started.trainer.model
    return (started.result.best_eval["loss"], sum(p.numel() for p in model.parameters()),
            float(sum(p.double().sum() for p in model.state_dict().values())))


def test_an_unconditioned_run_trains_as_before(tmp_path):
    """The figures main's code gave before conditioning existed (commit ada6f9a), one thread."""
    torch.set_num_threads(1)
    (tmp_path / "plain.txt").write_text(PLAIN)
    (tmp_path / "words.txt").write_text(WORDS)
    chars = base.start(charlm.RECIPE, CharLMData(text=str(tmp_path / "plain.txt"), batch_size=4,
                                                 num_steps=10, eval_rows=4),
                       {"hidden_size": 16, "input": "embedding", "embedding_dim": 8}, LOOP, None)
    words = base.start(wordlm.RECIPE, WordLMData(data=str(tmp_path / "words.txt"), batch_size=4,
                                                 num_steps=10, eval_rows=4, min_freq=1),
                       {"embedding_dim": 8, "hidden_size": 16}, LOOP, None)
    loss, count, total = fingerprint(chars)
    assert (count, loss, total) == (1739, pytest.approx(0.5826717353448635, rel=1e-6),
                                    pytest.approx(40.097334629448596, rel=1e-6))
    loss, count, total = fingerprint(words)
    assert (count, loss, total) == (2595, pytest.approx(2.0402279917399087, rel=1e-6),
                                    pytest.approx(10.951238506357186, rel=1e-6))
    assert not [k for k in words.trainer.model.state_dict() if "condition" in k]


# -- a word model and its errors --------------------------------------------------------------

def test_a_word_model_reads_a_tables_column(tmp_path):
    table = tmp_path / "reviews.csv"
    table.write_text("text,stars\n" + "".join(
        f"{'good fine great' if i % 2 else 'bad awful dull'} film,{5 if i % 2 else 1}\n"
        for i in range(60)))
    run = tmp_path / "words"
    base.start(wordlm.RECIPE, WordLMData(data=str(table), condition="stars", batch_size=4,
                                         num_steps=8, eval_rows=2, min_freq=1),
               {"embedding_dim": 8, "hidden_size": 16, "condition_mode": "both"},
               TrainConfig(epochs=3, lr=1e-2, progress=False, seed=1, threads=1), run)
    lm = WordLanguageModel.load(run)
    assert lm.conditions.values == ("1", "5") and not lm.conditions.none_trained
    assert lm.sample("", 3, condition=5, seed=1, greedy=True).split() != lm.sample(
        "", 3, condition=1, seed=1, greedy=True).split()
    with pytest.raises(UserError, match=r"needs one: give condition one of 1, 5"):
        lm.sample("", 3)


@pytest.mark.parametrize("spec, message", [
    ("c", r"never saw the label 'c' in training: give condition one of a, b"),
    ("a:0.5,b:0.4", r"add up to 0.9: make them add up to 1"),
    ("a:0.5,b:x", r"bad part 'b:x'"),
    ("a:-0.5,b:1.5", r"bad part 'a:-0.5'"),
])
def test_a_bad_condition_is_one_line(toy_runs, spec, message):
    lm = LanguageModel.load(toy_runs["input"][1])
    with pytest.raises(UserError, match=message) as caught:
        lm.sample("\n", 5, condition=spec)
    assert "\n" not in str(caught.value) and caught.value.fields == ("condition",)


def test_an_unconditioned_model_refuses_a_condition(tmp_path):
    (tmp_path / "plain.txt").write_text(PLAIN)
    base.start(charlm.RECIPE, CharLMData(text=str(tmp_path / "plain.txt"), batch_size=4,
                                         num_steps=10, eval_rows=4),
               {"hidden_size": 8}, TrainConfig(max_steps=2, progress=False), tmp_path / "run")
    lm = LanguageModel.load(tmp_path / "run")
    with pytest.raises(UserError, match=r"trained without --condition.*drop condition"):
        lm.sample("ab", 5, condition="a")
    assert not (tmp_path / "run" / "conditions.json").exists()


def test_a_missing_column_names_the_ones_found(tmp_path):
    table = write_toy_table(tmp_path / "toy.csv")
    with pytest.raises(UserError, match=r"no column 'stars' to condition on \(columns found: "
                       r"text, label\); give condition one of them"):
        charlm.RECIPE.read(CharLMData(text=str(table), condition="stars"), 0, False)


def test_plain_text_and_imdb_refuse_conditions_they_lack(tmp_path):
    (tmp_path / "plain.txt").write_text(PLAIN)
    with pytest.raises(UserError, match="carry no 'label'"):
        wordlm.RECIPE.read(WordLMData(data=str(tmp_path / "plain.txt"), condition="label"), 0,
                           False)
    with pytest.raises(UserError, match="condition_dropout needs a condition"):
        WordLMData(condition_dropout=0.1)


def test_streams_carry_each_tokens_condition(tmp_path):
    table = write_toy_table(tmp_path / "toy.csv", rows=20)
    data = CharLMData(text=str(table), condition="label", val_fraction=0.2)
    prepared = charlm.RECIPE.prepare(charlm.RECIPE.read(data, 0, False), data, False, None)
    sets = prepared.sets
    train, val, (train_c, val_c) = sets.train, sets.val, sets.conditions
    assert len(train) == len(train_c) and len(val) == len(val_c)
    vocab = prepared.files["vocab.json"]
    text = vocab.decode(train)
    # Each position reads the condition of the character it predicts: a document's own.
    for position in np.flatnonzero(np.asarray(list(text[1:])) != "\n")[:200]:
        doc = text[: position + 2].split("\n")[-1]
        assert train_c[position] == (1 if doc[0] == "a" else 2)
