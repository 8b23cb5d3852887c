"""The word language model as a task, and fine-tuning it into the sentiment classifier."""

import csv
import json
import random
import shutil

import numpy as np
import pytest
import torch

from seqrnn.api.sentiment import SentimentClassifier
from seqrnn.api.wordlm import WordLanguageModel
from seqrnn.cli import main
from seqrnn.configs import SentimentData, TrainConfig, WordLMData
from seqrnn.errors import UserError
from seqrnn.kinds import FINETUNE_RECIPE
from seqrnn.recipes import base, sentiment, wordlm
from seqrnn.run import LATEST_WEIGHTS, RunFolder

POSITIVE = ["great", "wonderful", "loved", "superb"]
NEGATIVE = ["awful", "boring", "hated", "terrible"]
FILLER = ["the", "movie", "was", "plot", "actors", "a", "and", "it", "film", "story"]
# Words the classifier's small training set never shows, but the corpus uses as it uses
# the cue words of their mood: only a pretrained encoder can know what they mean.
KIN = {1: ["splendid", "adored"], 0: ["dreadful", "loathed"]}
LM = {"embedding_dim": 32, "hidden_size": 64, "num_layers": 2}


def corpus_docs(n=600, seed=0):
    """Documents of one mood each: filler words, each followed by a word of the mood."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        moods = (POSITIVE if i % 2 else NEGATIVE) + KIN[i % 2]
        docs.append(" ".join(f"{rng.choice(FILLER)} {rng.choice(moods)}"
                             for _ in range(rng.randint(4, 10))))
    return docs


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    for i, doc in enumerate(corpus_docs()):
        (folder / f"{i:04d}.txt").write_text(doc, encoding="utf-8")
    return folder


def lm_loop(**kw):
    return TrainConfig(**{"epochs": 3, "lr": 1e-2, "progress": False, "device": "cpu",
                          "seed": 1, "log_every": 5, **kw})


def lm_data(corpus, **kw):
    return WordLMData(data=str(corpus), min_freq=1, max_vocab=None, batch_size=8,
                      num_steps=12, eval_rows=4, **kw)


@pytest.fixture(scope="module")
def pretrained(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("lm") / "run"
    torch.manual_seed(0)
    result = base.start(wordlm.RECIPE, lm_data(corpus), LM, lm_loop(epochs=10), out).result
    return out, result


def test_the_language_model_learns_and_its_folder_is_complete(pretrained):
    out, result = pretrained
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    evals = [m["val_loss"] for m in metrics if m["kind"] == "eval"]
    vocab_size = json.loads((out / "config.json").read_text())["model"]["vocab_size"]
    assert evals[-1] < evals[0] and result.best_eval["loss"] < np.log(vocab_size) - 0.4
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["config.json", "vocab.json", "model.safetensors", "latest.safetensors",
         "train_state.pt", "metrics.jsonl", "loss.png"])
    assert json.loads((out / "config.json").read_text())["kind"] == "wordlm"


def test_tied_weights_stay_tied_through_save_and_load(pretrained):
    lm = WordLanguageModel.load(pretrained[0])
    assert lm.model.decoder_weight is lm.model.encoder.embedding.weight
    weights, _ = RunFolder(pretrained[0]).load_weights()
    assert not any("output_weight" in k for k in weights)  # saved once, as the embedding


def test_sampling_and_evaluation(pretrained, corpus):
    lm = WordLanguageModel.load(pretrained[0])
    sample = lm.sample("the movie", 20, seed=3)
    assert sample.startswith("the movie") and sample == lm.sample("the movie", 20, seed=3)
    assert set(sample.split()) <= set(lm.vocab.words)
    # The corpus always puts a cue word's kin right after it; the other order is news.
    seen = lm.evaluate("the movie great splendid and the plot loved adored")
    swapped = lm.evaluate("the movie splendid great and the plot adored loved")
    assert seen["loss"] < swapped["loss"] and seen["words"] == 10  # 9 words and the end
    assert lm.evaluate("zebra quagga")["unknown_words"] == 2
    with pytest.raises(UserError, match="temperature must be positive"):
        lm.sample("the", 5, temperature=0)


def test_sampling_takes_the_character_models_options(pretrained):
    lm = WordLanguageModel.load(pretrained[0])
    prime = "the movie"
    greedy = lm.sample(prime, 15, greedy=True)
    # a nucleus this small holds only the most likely word
    assert lm.sample(prime, 15, seed=1, top_k=0, top_p=1e-6) == greedy
    generated = lm.sample(prime, 30, seed=3).split()[2:]
    stop = generated[3]
    stopped = lm.sample(prime, 30, seed=3, stop=(stop,)).split()[2:]
    assert stopped == generated[: len(stopped)]  # the same draw, cut short
    assert stop in " ".join(stopped) and stop not in " ".join(stopped[:-1])
    assert len(lm.sample(prime, 30, seed=3, time_limit=1e-9).split()) == 3  # one word, then out
    beamed = lm.sample(prime, 15, beam=4)
    assert beamed == lm.sample(prime, 15, beam=4, seed=9)  # deterministic: no draw
    assert set(beamed.split()) <= set(lm.vocab.words)
    with pytest.raises(UserError, match="top_p must be in"):
        lm.sample(prime, 5, top_p=2)


def test_a_beam_search_that_used_the_time_limit_is_not_cut_after_its_first_word(
        pretrained, monkeypatch):
    import seqrnn.api.wordlm as api
    from seqrnn.inference import deadline

    lm = WordLanguageModel.load(pretrained[0])
    found = ["plot", "was", "great"]
    clock = [0.0]
    monkeypatch.setattr(deadline, "clock", lambda: clock[0])

    def search_until_the_deadline(model, prime, length, beam, finished, deadline):
        clock[0] = deadline + 1.0  # the search kept to the limit and used all of it
        return [lm.vocab.id_of(word) for word in found]

    monkeypatch.setattr(api, "beam_search", search_until_the_deadline)
    assert lm.sample("the movie", 10, beam=3, time_limit=1.0) == "the movie plot was great"


def test_word_beam_search_of_width_one_is_greedy(pretrained):
    from seqrnn.api.wordlm import _NextWordScores
    from seqrnn.inference.beam import beam_search

    lm = WordLanguageModel.load(pretrained[0])
    prime = torch.tensor([lm.vocab.id_of("the"), lm.vocab.id_of("movie")])
    greedy = list(lm.model.generate(prime, 12, greedy=True))
    assert beam_search(_NextWordScores(lm.model), prime, 12, 1) == greedy


def test_sample_command_prints_the_words_and_refuses_bad_options(pretrained, capsys):
    base = ["wordlm", "sample", "--model", str(pretrained[0]), "--prime", "the movie"]
    assert main([*base, "--length", "12", "--top-p", "0.9", "--seed", "4"]) == 0
    printed = capsys.readouterr().out
    lm = WordLanguageModel.load(pretrained[0])
    assert printed == lm.sample("the movie", 12, seed=4, top_p=0.9) + "\n"
    for flags, message in [(["--top-p", "2"], "--top-p must be in (0, 1]"),
                           (["--beam", "0"], "--beam must be between 1 and 64"),
                           (["--length", "-1"], "--length must be zero or positive")]:
        assert main([*base, *flags]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_resume_continues_exactly(corpus, tmp_path):
    base.start(wordlm.RECIPE, lm_data(corpus), LM, lm_loop(epochs=2), tmp_path / "full")
    base.start(wordlm.RECIPE, lm_data(corpus), LM, lm_loop(epochs=2, max_steps=20),
               tmp_path / "cut")
    base.resume(wordlm.RECIPE, tmp_path / "cut", max_steps=None)
    full, _ = RunFolder(tmp_path / "full").load_weights(LATEST_WEIGHTS)
    cut, _ = RunFolder(tmp_path / "cut").load_weights(LATEST_WEIGHTS)
    assert all(torch.equal(full[k], cut[k]) for k in full)


def reviews_csv(path, n=80, seed=1):
    """A small labelled set that never shows the kin words."""
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for i in range(n):
            label = i % 2
            words = rng.choices(FILLER, k=rng.randint(3, 10))
            words.insert(rng.randrange(len(words) + 1), rng.choice(POSITIVE if label else NEGATIVE))
            writer.writerow([" ".join(words), label])
    return path


def kin_probes(n=40, seed=9):
    """Reviews whose only mood word is one the classifier's training set never shows."""
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        words = rng.choices(FILLER, k=rng.randint(2, 8))
        words.insert(rng.randrange(len(words) + 1), rng.choice(KIN[i % 2]))
        texts.append(" ".join(words))
    return texts, np.arange(n) % 2


def test_fine_tuning_beats_the_same_classifier_from_scratch(pretrained, tmp_path):
    data = SentimentData(data=str(reviews_csv(tmp_path / "reviews.csv", n=240)), batch_size=16,
                         val_fraction=0.25, test_fraction=0.2)
    loop = TrainConfig(epochs=8, lr=0.03, progress=False, device="cpu", seed=2)
    encoder = RunFolder(pretrained[0]).read_config("wordlm").model
    texts, labels = kin_probes()
    scores = {}
    for name, source in (("pretrained", str(pretrained[0])), ("scratch", None)):
        torch.manual_seed(0)
        fine = SentimentData(**{**vars(data), "pretrained": source})
        result = base.start(sentiment.RECIPE, fine, {} if source else {"lm": encoder}, loop,
                            tmp_path / name).result
        assert result.best_eval["accuracy"] == 1.0  # both learn the cue words they are shown
        clf = SentimentClassifier.load(tmp_path / name)
        scores[name] = float(np.mean((clf.predict_proba(texts)[:, 1] >= 0.5) == labels))
    # Only the pretrained encoder has read the kin words used as the cue words are.
    assert scores["pretrained"] >= 0.9 and scores["scratch"] <= 0.7


def test_pretrained_errors_are_one_line(pretrained, tmp_path, capsys):
    csv_path = str(reviews_csv(tmp_path / "reviews.csv"))
    base = ["sentiment", "train", "--data", csv_path, "--max-steps", "1", "--quiet"]
    cases = [
        (["--pretrained", str(tmp_path / "nope")], "--pretrained: model folder"),
        (["--pretrained", str(pretrained[0]), "--hidden-size", "7"],
         "--hidden-size 7 contradicts the pretrained encoder (64)"),
        (["--pretrained", str(pretrained[0]), "--bidirectional"],
         "--bidirectional True contradicts"),
    ]
    for i, (extra, message) in enumerate(cases):
        assert main([*base, "--out", str(tmp_path / f"r{i}"), *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err
    charlm_run = tmp_path / "charlm"
    RunFolder(charlm_run).create()
    RunFolder(charlm_run).write_config("charlm", {"vocab_size": 3})
    assert main([*base, "--out", str(tmp_path / "c"), "--pretrained", str(charlm_run)]) == 2
    assert "holds a charlm model, not a wordlm model" in capsys.readouterr().err


def test_a_language_model_of_other_words_is_refused(tmp_path):
    folder = tmp_path / "other"
    folder.mkdir()
    for i in range(20):
        (folder / f"{i}.txt").write_text("zebra quagga okapi " * 10, encoding="utf-8")
    base.start(wordlm.RECIPE, lm_data(folder), LM, lm_loop(epochs=1), tmp_path / "lm")
    data = SentimentData(data=str(reviews_csv(tmp_path / "r.csv")), pretrained=str(tmp_path / "lm"))
    with pytest.raises(UserError, match="knows only 0% of the words") as error:
        base.start(sentiment.RECIPE, data, {}, TrainConfig(max_steps=1, progress=False),
                   tmp_path / "clf")
    assert error.value.field == "pretrained"


def test_a_pretrained_encoder_defaults_to_the_fine_tuning_recipe(pretrained, tmp_path):
    csv_path = str(reviews_csv(tmp_path / "reviews.csv"))
    base = ["sentiment", "train", "--data", csv_path, "--max-steps", "1", "--quiet",
            "--pretrained", str(pretrained[0])]
    assert main([*base, "--out", str(tmp_path / "recipe")]) == 0
    config = RunFolder(tmp_path / "recipe").read_config("sentiment")
    recipe = {**config.loop, **config.data, **config.model}
    assert {k: recipe[k] for k in FINETUNE_RECIPE} == FINETUNE_RECIPE
    # Whatever is typed wins over the recipe; without --pretrained the lecture's defaults stay.
    assert main([*base, "--out", str(tmp_path / "typed"), "--lr", "0.002"]) == 0
    typed = RunFolder(tmp_path / "typed").read_config("sentiment").loop
    assert (typed["lr"], typed["lr_schedule"]) == (0.002, "slanted")
    assert main([*base[:-2], "--out", str(tmp_path / "scratch")]) == 0
    scratch = RunFolder(tmp_path / "scratch").read_config("sentiment").loop
    assert (scratch["lr"], scratch["lr_schedule"]) == (1e-3, "constant")


def test_the_estimator_takes_the_recipe_for_what_it_leaves_at_default(pretrained):
    model, data, loop = SentimentClassifier(pretrained=str(pretrained[0]), lr=0.005)._configs()
    assert (loop.lr, loop.lr_schedule, loop.layer_lr_decay, data.seq_len) == (
        0.005, "slanted", 2.6, 400)
    assert model["dropout"] == 0.3
    _, _, scratch = SentimentClassifier()._configs()
    assert (scratch.lr, scratch.lr_schedule, scratch.epochs) == (1e-3, "constant", 5)
    # A value given is the caller's, even where it equals the lecture's default.
    _, _, given = SentimentClassifier(pretrained=str(pretrained[0]), lr=1e-3)._configs()
    assert (given.lr, given.lr_schedule) == (1e-3, "slanted")


def test_a_fine_tuned_run_resumes_without_its_language_model(pretrained, tmp_path,
                                                             monkeypatch):
    shutil.copytree(pretrained[0], tmp_path / "lm")
    reviews_csv(tmp_path / "reviews.csv")
    monkeypatch.chdir(tmp_path)
    data = SentimentData(data="reviews.csv", pretrained="lm", batch_size=16)
    base.start(sentiment.RECIPE, data, {}, TrainConfig(max_steps=2, progress=False, device="cpu"),
               "clf")
    saved = RunFolder(tmp_path / "clf").read_config("sentiment")
    assert saved.data["pretrained"] == str(tmp_path / "lm")  # absolute, for the record
    assert saved.data["data"] == str(tmp_path / "reviews.csv")
    shutil.rmtree(tmp_path / "lm")  # the run folder holds every weight it needs
    assert base.resume(sentiment.RECIPE, tmp_path / "clf", max_steps=4).step == 4
    # The command line that started it, run again (a restart): its relative --pretrained
    # names the run's absolute one.
    assert main(["sentiment", "train", "--resume", "auto", "--out", "clf", "--data",
                 "reviews.csv", "--pretrained", "lm", "--batch-size", "16", "--max-steps", "6",
                 "--device", "cpu", "--quiet"]) == 0
    assert RunFolder(tmp_path / "clf").latest_step() == 6


@pytest.mark.parametrize("cutoffs", [(-5,), (0,), (5, 3)])
def test_bad_cutoffs_are_named_before_any_data_is_read(cutoffs):
    with pytest.raises(UserError, match=r"^cutoffs must increase from above 0, got ") as error:
        wordlm.RECIPE.check_model_options({"cutoffs": cutoffs})
    assert error.value.field == "cutoffs"


def test_a_diverged_loss_has_an_infinite_perplexity():
    from seqrnn.recipes.wordlm import word_metrics

    # a finite loss of 1000 nats (a learning rate of 1e5 gets there) overflowed math.exp
    assert word_metrics(2000.0, 2)["perplexity"] == float("inf")


def test_a_run_on_a_prepared_folder_trains_exactly_as_on_its_documents_in_memory(corpus,
                                                                                  tmp_path):
    from seqrnn.data.documents import load_documents

    data = lm_data(corpus)
    from_files = base.start(wordlm.RECIPE, data, LM, lm_loop(epochs=1), tmp_path / "a")
    assert isinstance(from_files.prepared.sets[0], np.memmap)
    raw = load_documents(str(corpus), val_fraction=data.val_fraction)
    in_memory = base.start(wordlm.RECIPE, data, LM, lm_loop(epochs=1), tmp_path / "b", raw=raw)
    assert from_files.result.last_eval == in_memory.result.last_eval
    weights = [RunFolder(tmp_path / run).load_weights(LATEST_WEIGHTS)[0] for run in "ab"]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
