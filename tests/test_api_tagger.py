"""The loaded tagger (api/tagger.py): predict on raw text or tokens, features, ensembles,
evaluation, and one-line errors naming their field."""

import pytest
import torch

import seqrnn
from seqrnn.api.tagger import Tagger
from seqrnn.errors import UserError
from tests.tag_data import toy_sentences, write_conll, write_jsonl

SMALL = {"hidden_size": 16, "word_dim": 16, "char_hidden": 8, "char_dim": 8, "feature_dim": 4,
         "batch_size": 8, "lr": 1e-2, "lr_schedule": "constant", "progress": False,
         "device": "cpu", "amp": "off", "epochs": 6}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("tagger")
    files = {name: write_conll(root / f"{name}.txt", toy_sentences(count, seed))
             for name, count, seed in (("train", 120, 1), ("val", 30, 2), ("test", 30, 3))}
    common = {"data": str(files["train"]), "validation": str(files["val"]),
              "test": str(files["test"]), **SMALL}
    for seed in (1, 2):
        seqrnn.train("tag", root / f"pos{seed}", feature_columns=[1], seed=seed, **common)
    seqrnn.train("tag", root / "words", decoder="softmax", scheme="iob2", **common)
    return root


def test_raw_text_is_split_into_words_and_tagged_with_spans(runs):
    tagger = Tagger.load(runs / "words")
    found = tagger.predict(["John saw New York.", "Mary and the dog ."])
    assert found[0]["tokens"] == ["John", "saw", "New", "York", "."]
    assert found[0]["tags"] == ["B-PER", "O", "B-LOC", "I-LOC", "O"]
    assert found[0]["spans"] == [{"type": "PER", "start": 0, "end": 1, "text": "John"},
                                 {"type": "LOC", "start": 2, "end": 4, "text": "New York"}]
    assert [s["type"] for s in found[1]["spans"]] == ["PER"]


def test_a_model_reading_parts_of_speech_needs_them_with_the_tokens(runs):
    tagger = Tagger.load(runs / "pos1")
    found = tagger.predict([["Ada", "Lovelace", "saw", "Rome", "."]],
                           features=[[["NNP", "NNP", "NN", "NNP", "."]]])
    assert [(s["type"], s["start"], s["end"]) for s in found[0]["spans"]] == [
        ("PER", 0, 2), ("LOC", 3, 4)]
    with pytest.raises(UserError) as caught:
        tagger.predict(["Ada saw Rome ."])
    assert caught.value.fields == ("features",) and "--tokens" in str(caught.value)


def test_an_ensemble_adds_its_members_scores_and_agrees_on_easy_sentences(runs):
    one = Tagger.load(runs / "pos1")
    both = Tagger.load([runs / "pos1", runs / "pos2"])
    assert len(both.models) == 2
    assert both.evaluate("test")["f1"] == 1.0 == one.evaluate("test")["f1"]
    with pytest.raises(UserError, match="cannot join an ensemble"):
        Tagger.load([runs / "pos1", runs / "words"])


def test_evaluate_scores_a_split_as_conlleval_does(runs):
    found = Tagger.load(runs / "words").evaluate("validation")
    assert found["split"] == "validation" and found["sentences"] == 30
    assert found["correct"] == found["support"] == found["predicted"]
    assert found["f1"] == 1.0 and found["accuracy"] == 1.0


@pytest.mark.parametrize("call, field", [
    (lambda t: t.predict("John saw Rome"), "sentences"),
    (lambda t: t.predict([""]), "sentences"),
    (lambda t: t.predict([["x"] * 1001]), "sentences"),
    (lambda t: t.evaluate("train"), "split"),
])
def test_bad_requests_are_one_line_naming_their_field(runs, call, field):
    with pytest.raises(UserError) as caught:
        call(Tagger.load(runs / "words"))
    assert caught.value.fields == (field,) and "\n" not in str(caught.value)


def test_json_lines_with_a_feature_key_train_like_columns(runs, tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", toy_sentences(120, 1))
    val = write_jsonl(tmp_path / "val.jsonl", toy_sentences(30, 2))
    trained = seqrnn.train("tag", tmp_path / "run", data=str(train), validation=str(val),
                           feature_keys=["pos"], **SMALL)
    assert trained.result.best_eval["f1"] == 1.0
    assert trained.model.vocab.features.sizes == (2 + 4,)  # pad, unknown, DT NN NNP .
