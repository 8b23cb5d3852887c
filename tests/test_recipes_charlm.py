import json
import math

import numpy as np
import pytest
import torch

from seqrnn.api.charlm import LanguageModel
from seqrnn.configs import CharLMConfig, CharLMData, TrainConfig
from seqrnn.errors import UserError, flag
from seqrnn.models.charlm import CharLM
from seqrnn.recipes import base, charlm
from seqrnn.run import LATEST_WEIGHTS, RunFolder

# A few kilobytes of text with a learnable pattern.
TEXT = "".join(f"{w} the cat sat on the mat.\n" for w in ["one", "two", "three", "four"] * 40)


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def small_data(path, **kw):
    return CharLMData(text=str(path), batch_size=4, num_steps=16, eval_rows=4, **kw)


def small_loop(**kw):
    base = {"epochs": 3, "lr": 1e-2, "progress": False, "log_every": 2, "seed": 3}
    return TrainConfig(**{**base, **kw})


MODEL = {"hidden_size": 32, "dropout": 0.1}


def weights(run_dir, name=LATEST_WEIGHTS):
    return RunFolder(run_dir).load_weights(name)[0]


def test_training_learns_and_writes_a_complete_run_folder(text_file, tmp_path):
    out = tmp_path / "run"
    result = base.start(charlm.RECIPE, small_data(text_file), MODEL, small_loop(epochs=8),
                        out).result
    assert result.stopped == "finished"
    assert result.best_eval["loss"] < 1.5  # uniform guessing over the vocabulary is ln(20) = 3.0
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "vocab.json", "model.safetensors", "latest.safetensors",
            "train_state.pt", "metrics.jsonl", "loss.png"} <= names
    assert not any(name.endswith(".tmp") for name in names)
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in records if r["kind"] == "eval"]
    assert len(evals) == 8  # once per epoch
    assert evals[-1]["val_bits_per_char"] == pytest.approx(evals[-1]["val_loss"] / math.log(2))
    assert any(r["kind"] == "train" and r["chars_per_s"] > 0 for r in records)
    assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_seed_same_weights(text_file, tmp_path):
    for name in ("a", "b"):
        base.start(charlm.RECIPE, small_data(text_file), MODEL, small_loop(epochs=1),
                   tmp_path / name)
    a, b = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_interrupted_and_resumed_equals_uninterrupted(text_file, tmp_path):
    base.start(charlm.RECIPE, small_data(text_file), MODEL, small_loop(), tmp_path / "full")
    # Stop mid-epoch (8 windows per epoch here), then resume to the end.
    stopped = base.start(charlm.RECIPE, small_data(text_file), MODEL, small_loop(max_steps=11),
                         tmp_path / "cut").result
    assert stopped.stopped == "max_steps" and stopped.step == 11
    resumed = base.resume(charlm.RECIPE, tmp_path / "cut", max_steps=None)
    assert resumed.stopped == "finished"
    full, cut = weights(tmp_path / "full"), weights(tmp_path / "cut")
    assert all(torch.equal(full[k], cut[k]) for k in full)
    steps = [json.loads(line)["step"] for line in (tmp_path / "cut" / "metrics.jsonl").open()]
    assert steps == sorted(steps)  # records after the checkpoint were not duplicated


def test_resume_refuses_a_different_vocabulary(text_file, tmp_path):
    base.start(charlm.RECIPE, small_data(text_file), MODEL, small_loop(max_steps=2),
               tmp_path / "run")
    other = tmp_path / "other.txt"
    other.write_text(TEXT.upper())
    with pytest.raises(UserError, match="is not the data the run in"):  # its fingerprint
        base.resume(charlm.RECIPE, tmp_path / "run", str(other), max_steps=3)
    with pytest.raises(UserError, match="different character vocabulary"):
        base.resume(charlm.RECIPE, tmp_path / "run", str(other), max_steps=3,
                    allow_changed_data=True)


def test_refuses_to_overwrite_a_run(text_file, tmp_path):
    base.start(charlm.RECIPE, small_data(text_file), MODEL, small_loop(max_steps=1),
               tmp_path / "run")
    with pytest.raises(UserError, match="already holds a run"):
        base.start(charlm.RECIPE, small_data(text_file), MODEL, small_loop(max_steps=1),
                   tmp_path / "run")


def test_divergence_stops_with_a_clear_message(text_file, tmp_path):
    with pytest.raises(UserError, match="diverged"):
        base.start(charlm.RECIPE, small_data(text_file), MODEL, small_loop(lr=1e6, clip=1e9),
                   tmp_path / "r")


def test_truncated_bptt_state_is_carried_and_detached():
    config = CharLMConfig(vocab_size=5, hidden_size=8, dropout=0.0)
    task = charlm.CharLMObjective(torch.arange(200) % 5, torch.arange(50) % 5,
                             CharLMData(batch_size=2, num_steps=4))
    model = CharLM(config)
    task.start_epoch(0)
    task.train_loss(model, task.batch(0, 0))
    h0 = task.state[0].clone()
    assert not task.state[0].requires_grad
    task.train_loss(model, task.batch(0, 1))
    assert not torch.equal(task.state[0], h0)
    task.start_epoch(1)  # a new epoch starts from zeros
    task.train_loss(model, task.batch(1, 0))
    assert torch.equal(task.state[0], h0)


def test_sampling_and_evaluation_from_a_trained_run(text_file, tmp_path):
    base.start(charlm.RECIPE, small_data(text_file), MODEL, small_loop(epochs=8), tmp_path / "run")
    lm = LanguageModel.load(tmp_path / "run")
    text = lm.sample("one the ", 40, seed=7)
    assert text.startswith("one the ") and len(text) == 48
    assert lm.sample("one the ", 40, seed=7) == text  # seeded: repeatable
    assert set(text) <= set(TEXT)
    greedy = lm.sample("two the c", 10, greedy=True)
    assert greedy == "two the cat sat on "
    metrics = lm.evaluate(TEXT[:400])
    assert metrics["characters"] > 300 and metrics["unknown_chars"] == 0
    assert metrics["bits_per_char"] == pytest.approx(metrics["loss"] / math.log(2))
    assert metrics["perplexity"] == pytest.approx(math.exp(metrics["loss"]))
    with_unknown = lm.evaluate(TEXT[:400] + "XYZ" + TEXT[:100])
    assert with_unknown["unknown_chars"] == 3 and with_unknown["unknown_set"] == ["X", "Y", "Z"]


def test_prime_with_unseen_characters(text_file, tmp_path):
    base.start(charlm.RECIPE, small_data(text_file), MODEL, small_loop(max_steps=1),
               tmp_path / "run")
    lm = LanguageModel.load(tmp_path / "run")
    with pytest.raises(UserError, match=r"never saw: \['Q', 'Z'\]"):
        lm.sample("ZQ the", 5)


def test_a_training_part_too_short_is_blamed_on_the_validation_fraction(text_file, tmp_path):
    with pytest.raises(UserError) as info:
        base.start(charlm.RECIPE, small_data(text_file, val_fraction=0.999), MODEL, small_loop(),
                   tmp_path / "run")
    message = info.value.render(flag)
    assert message.startswith(f"the training part of the text is too short: "
                              f"{round(len(TEXT) * 0.001)} characters, but --batch-size 4")
    assert "a smaller --val-fraction (0.999 of the text is held out of training)" in message
    with pytest.raises(UserError) as info:  # the test split holds out its share too
        base.start(charlm.RECIPE, small_data(text_file, val_fraction=0.5, test_fraction=0.499),
                   MODEL, small_loop(), tmp_path / "run")
    assert ("a smaller --val-fraction or --test-fraction (0.999 of the text is held out of "
            "training)") in info.value.render(flag)


@pytest.mark.parametrize("bad", [{"hidden_size": 0}, {"num_layers": -1}, {"dropout": 1.0},
                                 {"cell": "transformer"}])
def test_bad_model_options(bad):
    with pytest.raises(UserError):
        CharLMConfig(vocab_size=5, **bad)


def test_hamlet_integration(real_data_dir, monkeypatch, tmp_path):
    """The real Hamlet: a few steps of the lecture's layout train and sample."""
    monkeypatch.setenv("SEQRNN_DATA", str(real_data_dir))
    data = CharLMData(text="hamlet", batch_size=16, num_steps=50)
    result = base.start(charlm.RECIPE, data, {"hidden_size": 64},
                        small_loop(epochs=1, max_steps=30, lr=5e-3), tmp_path / "run").result
    assert result.step == 30
    assert result.best_eval["loss"] < math.log(65) - 0.5  # learned character frequencies
    lm = LanguageModel.load(tmp_path / "run")
    assert len(lm.vocab) in (64, 65)
    assert lm.sample("The ", 50, seed=0).startswith("The ")


def test_a_diverged_loss_has_an_infinite_perplexity():
    from seqrnn.recipes.charlm import loss_metrics

    # a finite loss of 1000 nats (a learning rate of 1e5 gets there) overflowed math.exp
    assert loss_metrics(2000.0, 2)["perplexity"] == float("inf")


def test_a_reversed_model_learns_the_text_backwards_and_writes_before_its_prime(text_file,
                                                                                 tmp_path):
    data = small_data(text_file, reverse=True)
    splits = charlm.RECIPE.read(data, seed=1, progress=False)
    forward = charlm.RECIPE.read(small_data(text_file), seed=1, progress=False)
    assert np.array_equal(splits.train, forward.train[::-1])
    assert np.array_equal(splits.val, forward.val[::-1])
    assert splits.path == forward.path  # the same prepared corpus, read the other way
    base.start(charlm.RECIPE, data, MODEL, small_loop(epochs=8), tmp_path / "run")
    lm = LanguageModel.load(tmp_path / "run")
    assert lm.reverse
    # What precedes "sat on the mat." in the text is "the cat ": written back to front.
    assert lm.sample("sat on the mat.", 8, greedy=True) == "the cat sat on the mat."
    texts = lm.samples("mat.", 6, 2, seed=4)
    assert all(text.endswith("mat.") and len(text) == 10 for text in texts)
    backwards = lm.evaluate(TEXT[:400])["loss"]
    assert backwards < lm.evaluate(TEXT[:400][::-1])["loss"]  # it reads the text reversed
    with pytest.raises(UserError, match="reads text backwards"):
        next(lm.stream("mat.", 5))
    from seqrnn.api.export import charlm_graphs
    assert charlm_graphs(tmp_path / "run", "best").meta["reverse"] is True
    with pytest.raises(UserError) as caught:
        lm.samples("mat.", 5, 1, stop=["\n"])
    assert caught.value.field == "stop"


def test_training_evaluates_a_fixed_sample_of_a_long_validation_text():
    ids = np.arange(200_000) % 7
    data = CharLMData(batch_size=4, num_steps=10, eval_rows=4, eval_tokens=400)
    task = charlm.CharLMObjective(ids[:150_000], ids[150_000:], data)
    model = CharLM(CharLMConfig(vocab_size=7, hidden_size=8, dropout=0.0))
    scored = task.evaluate(model)
    assert task.val_rows.shape == (4, 101)
    assert scored == task.evaluate(model)  # the same windows each time
    everything = charlm.CharLMObjective(ids[:150_000], ids[150_000:],
                                        CharLMData(batch_size=4, num_steps=10, eval_rows=4))
    assert everything.val_rows.size == 4 * (49_999 // 4 + 1)  # all 49,999 predictions


def test_a_folder_of_texts_trains_and_a_changed_file_in_it_is_noticed_on_resume(tmp_path):
    import seqrnn

    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "1.txt").write_text(TEXT[:3000])
    (folder / "2.txt").write_text(TEXT[3000:])
    settings = {"text": str(folder), "batch_size": 4, "num_steps": 16, "eval_rows": 4,
                "hidden_size": 8, "progress": False}
    seqrnn.train("charlm", tmp_path / "run", max_steps=2, **settings)
    source = RunFolder(tmp_path / "run").read_config("charlm").sources["text"]
    assert source["path"] == str(folder) and source["size"] == len(TEXT)
    (folder / "2.txt").write_text(TEXT[3000:].upper())
    with pytest.raises(UserError, match="changed"):
        seqrnn.train("charlm", tmp_path / "run", resume="auto", max_steps=4, **settings)


def test_a_run_on_a_prepared_file_trains_exactly_as_on_its_text_in_memory(text_file, tmp_path):
    from seqrnn.data.text import load_text, split_text

    data = small_data(text_file)
    from_file = base.start(charlm.RECIPE, data, MODEL, small_loop(epochs=2), tmp_path / "a")
    assert isinstance(from_file.prepared.sets[0], np.memmap) or isinstance(
        from_file.prepared.sets[0].base, np.memmap)
    raw = split_text(load_text(str(text_file)), data.val_fraction)
    in_memory = base.start(charlm.RECIPE, data, MODEL, small_loop(epochs=2), tmp_path / "b",
                           raw=raw)
    assert from_file.result.last_eval == in_memory.result.last_eval
    for name, tensor in weights(tmp_path / "a").items():
        assert torch.equal(tensor, weights(tmp_path / "b")[name]), name
