"""Training the tagger (recipes/tagger.py): it learns a toy language, never reads the test
sentences, converts schemes, resumes exactly, and refuses bad data in one line."""

import shutil
from dataclasses import replace

import numpy as np
import pytest
import torch

import seqrnn
from seqrnn.configs.tagger import TaggerData
from seqrnn.data.conll import TaggedSentence
from seqrnn.errors import UserError
from seqrnn.recipes.tagger import read_splits
from seqrnn.run import RunFolder
from tests.tag_data import toy_sentences, train_char_lms, write_conll

SMALL = {"hidden_size": 16, "word_dim": 16, "char_hidden": 8, "char_dim": 8, "feature_dim": 4,
         "batch_size": 8, "lr": 1e-2, "lr_schedule": "constant", "progress": False,
         "device": "cpu", "amp": "off", "seed": 3}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("tag")
    return {name: write_conll(root / f"{name}.txt", toy_sentences(count, seed))
            for name, count, seed in (("train", 120, 1), ("val", 30, 2), ("test", 30, 3))}


def test_a_toy_tagging_language_is_learned_to_f1_one(files, tmp_path):
    torch.set_num_threads(1)
    trained = seqrnn.train("tag", tmp_path / "run", data=str(files["train"]),
                           validation=str(files["val"]), test=str(files["test"]),
                           feature_columns=[1], epochs=6, **SMALL)
    assert trained.result.best_eval["f1"] == 1.0
    scored = trained.model.evaluate("test")
    assert scored["f1"] == 1.0 and scored["support"] > 30
    assert set(scored["per_type"]) == {"LOC", "PER"}


def test_training_never_reads_the_test_sentences(files, tmp_path):
    poisoned = tmp_path / "test.txt"
    poisoned.write_text("this is\nnot conll at all\n")  # too few columns: reading it fails
    data = TaggerData(data=str(files["train"]), validation=str(files["val"]),
                      test=str(poisoned), feature_columns=(1,))
    assert set(read_splits(data, seed=1)) == {"train", "validation"}
    with pytest.raises(UserError, match="line 1"):
        read_splits(data, seed=1, test=True)


def test_tags_are_read_in_one_scheme_and_trained_in_another(files):
    data = TaggerData(data=str(files["train"]), validation=str(files["val"]), scheme="bioes")
    first = read_splits(data, seed=1)["train"][0]
    iob2 = next(s for s in toy_sentences(120, 1))
    assert list(first.tokens) == iob2[0]
    for tag, original in zip(first.tags, iob2[1], strict=True):
        assert tag[0] in "BIESO" and tag[2:] == original[2:]
    assert any(tag.startswith(("S-", "E-")) for s in read_splits(data, 1)["train"]
               for tag in s.tags)


def test_a_file_without_validation_holds_out_a_seeded_fraction(files):
    data = TaggerData(data=str(files["train"]), val_fraction=0.25)
    a, b = read_splits(data, seed=1), read_splits(data, seed=1)
    assert len(a["validation"]) == 30 and len(a["train"]) == 90
    assert a == b and read_splits(data, seed=2)["validation"] != a["validation"]


def test_an_interrupted_run_resumes_to_the_same_weights(files, tmp_path):
    torch.set_num_threads(1)
    settings = {"data": str(files["train"]), "validation": str(files["val"]), "epochs": 2,
                "eval_every": 5, **SMALL}
    whole = seqrnn.train("tag", tmp_path / "whole", **settings)
    seqrnn.train("tag", tmp_path / "half", **{**settings, "max_steps": 15})
    resumed = seqrnn.train("tag", tmp_path / "half", resume="auto",
                           **{**settings, "max_steps": 30})
    assert resumed.result.step == whole.result.step == 30
    one, _ = RunFolder(tmp_path / "whole").load_weights("latest.safetensors")
    two, _ = RunFolder(tmp_path / "half").load_weights("latest.safetensors")
    assert one.keys() == two.keys() and all(torch.equal(one[k], two[k]) for k in one)


@pytest.mark.parametrize("text, fragment", [
    ("John B-PER\nsaw O\n\nRome E-LOC\n", "'E-LOC' is not one of the iob2 tags"),
    ("John NNP B-PER\nsaw\n", "line 2"),
])
def test_bad_files_are_refused_in_one_line(tmp_path, text, fragment):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(UserError) as caught:
        read_splits(TaggerData(data=str(path), validation=str(path)), seed=1)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_a_validation_tag_training_never_saw_is_refused(files, tmp_path):
    other = tmp_path / "val.txt"
    other.write_text("Rome NNP B-CITY\n. . O\n")
    with pytest.raises(UserError, match="validation sentence 1 has the tag 'S-CITY'"):
        seqrnn.train("tag", tmp_path / "run", data=str(files["train"]),
                     validation=str(other), epochs=1, **SMALL)


def test_a_missing_corpus_archive_says_where_it_is_expected(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQRNN_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(UserError, match="conll2002.zip not found in"):
        read_splits(TaggerData(data="conll2002-nl"), seed=1)


def test_sentences_keep_their_tokens_and_features_through_encoding(files):
    from seqrnn.recipes.tagger import Encoded, Vocabularies

    sentences = [TaggedSentence(("John", "saw", "Rome", "."), ("B-PER", "O", "B-LOC", "O"),
                                (("NNP", "NN", "NNP", "."),))]
    data = TaggerData(data="x", scheme="iob2", max_word_length=3)
    vocab = Vocabularies.build(sentences, data)
    encoded = Encoded(sentences, vocab, data, "train")
    (words, chars, features, mask), tags = encoded.tensors(np.array([0]))
    assert vocab.words.decode(words[0].tolist()) == ["john", "saw", "rome", "."]
    assert vocab.chars.decode(chars[0, 0].tolist()) == ["J", "o", "h"]  # cut at 3
    assert vocab.features.columns[0].decode(features[0, :, 0].tolist()) == ["NNP", "NN",
                                                                            "NNP", "."]
    assert vocab.tags.decode(tags[0].tolist()) == ["B-PER", "O", "B-LOC", "O"]
    assert mask.tolist() == [[True] * 4]


@pytest.mark.parametrize("fine_tune", [False, True])
def test_character_lms_are_copied_into_the_run_frozen_or_fine_tuned(files, tmp_path, fine_tune):
    torch.set_num_threads(1)
    forward, backward = train_char_lms(tmp_path / "lms", toy_sentences(40, 1))
    settings = {"data": str(files["train"]), "validation": str(files["val"]),
                "char_lm": str(forward), "char_lm_backward": str(backward),
                "char_lm_fine_tune": fine_tune, "eval_every": 5, **SMALL}
    seqrnn.train("tag", tmp_path / "run", max_steps=10, **settings)
    lm, _ = RunFolder(forward).load_weights("model.safetensors")
    tagged, _ = RunFolder(tmp_path / "run").load_weights("latest.safetensors")
    name = next(k for k in lm if k.startswith("rnn."))
    assert torch.equal(tagged[f"char_lm.forward_lm.{name}"], lm[name]) != fine_tune
    # The run needs the language models' folders no more: it resumes and tags without them.
    shutil.rmtree(tmp_path / "lms")
    resumed = seqrnn.train("tag", tmp_path / "run", resume="auto", max_steps=20, **settings)
    assert resumed.result.step == 20
    answer = resumed.model.predict(["John saw Rome ."])[0]
    assert answer["tokens"] == ["John", "saw", "Rome", "."] and len(answer["tags"]) == 4


def test_sentences_are_laid_out_for_the_character_lms_in_padded_batches():
    from seqrnn.data.text import CharVocab
    from seqrnn.recipes.tagger import Encoded, Vocabularies

    sentences = [TaggedSentence(("Hi", "."), ("O", "O"), ()),
                 TaggedSentence(("A", "dog", "barké", "."), ("O",) * 4, ())]
    data = TaggerData(data="x", scheme="iob2")
    chars = CharVocab(tuple(" .ADHabdegikor"))  # no é: read as a space
    vocab = replace(Vocabularies.build(sentences, data), lm_chars=chars)
    (*_, mask, ids, first, last), _ = Encoded(sentences, vocab, data, "train").tensors(
        np.array([1, 0]))
    assert chars.decode(ids[0].tolist()) == " A dog bark  . "
    assert chars.decode(ids[1, :6].tolist()) == " Hi . "  # then padding
    assert first.tolist() == [[1, 3, 7, 13], [1, 4, 0, 0]]
    assert last.tolist() == [[1, 5, 11, 13], [2, 4, 0, 0]]


def test_frozen_character_lms_are_read_once_and_give_what_they_give_batch_by_batch(
        files, tmp_path):
    from seqrnn.models.tagger import BiLSTMTagger
    from seqrnn.recipes.tagger import Encoded, FrozenLMVectors

    torch.set_num_threads(1)
    forward, backward = train_char_lms(tmp_path / "lms", toy_sentences(40, 1))
    settings = {"data": str(files["train"]), "validation": str(files["val"]),
                "char_lm": str(forward), "char_lm_backward": str(backward), **SMALL}
    tagger = seqrnn.train("tag", tmp_path / "run", max_steps=1, **settings).model
    model = tagger.models[0]
    sentences = read_splits(TaggerData(data=str(files["train"])), seed=1)["train"][:40]
    encoded = Encoded(sentences, tagger.vocab, tagger.data, "train")
    cached = FrozenLMVectors(model, encoded)
    rows = np.array([7, 3, 30])
    inputs, _ = encoded.tensors(rows)
    mask = inputs[3]
    with torch.no_grad():
        alone = model.char_lm(*inputs[4:], mask)
    gathered = cached.gather(torch.from_numpy(rows), mask)
    torch.testing.assert_close(gathered[mask], alone[mask], atol=1e-5, rtol=1e-4)
    assert (gathered[~mask] == 0).all()
    assert FrozenLMVectors.fits(model, encoded)
    tuned = BiLSTMTagger(replace(model.config, char_lm_fine_tune=True))
    assert not FrozenLMVectors.fits(tuned, encoded)  # fine-tuned: they change every step


def test_a_run_reading_frozen_character_lms_resumes_to_the_same_weights(files, tmp_path):
    torch.set_num_threads(1)
    forward, backward = train_char_lms(tmp_path / "lms", toy_sentences(40, 1))
    settings = {"data": str(files["train"]), "validation": str(files["val"]),
                "char_lm": str(forward), "char_lm_backward": str(backward), "epochs": 2,
                "eval_every": 5, **SMALL}
    seqrnn.train("tag", tmp_path / "whole", **{**settings, "max_steps": 16})
    seqrnn.train("tag", tmp_path / "half", **{**settings, "max_steps": 8})
    seqrnn.train("tag", tmp_path / "half", resume="auto", **{**settings, "max_steps": 16})
    one, _ = RunFolder(tmp_path / "whole").load_weights("latest.safetensors")
    two, _ = RunFolder(tmp_path / "half").load_weights("latest.safetensors")
    assert all(torch.equal(one[k], two[k]) for k in one)
