import json
import shutil

import pytest
import torch

from seqrnn.api.seq2seq import Transducer
from seqrnn.configs import Seq2SeqConfig, Seq2SeqData, TrainConfig
from seqrnn.data.symbols import SymbolVocab
from seqrnn.errors import UserError
from seqrnn.models.seq2seq import Seq2Seq
from seqrnn.recipes import base, seq2seq
from tests.test_recipes_seq2seq import SMALL, WORDS


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("api-seq2seq")
    (root / "pairs.tsv").write_text("source\ttarget\n" + "".join(
        f"{w}\t{' '.join(reversed(w))}\n" for w in WORDS))
    base.start(seq2seq.RECIPE, Seq2SeqData(data=str(root / "pairs.tsv"), batch_size=16), SMALL,
               TrainConfig(epochs=2, lr=1e-2, progress=False, threads=1), root / "run")
    return root


def test_other_data_with_symbols_never_seen_is_scored_without_them(trained, tmp_path):
    model = Transducer.load(trained / "run")
    other = tmp_path / "other.tsv"
    other.write_text("source\ttarget\n" + "".join(f"{w}\t{' '.join(reversed(w))}\n"
                                                  for w in [*WORDS[:40], "xyz", "abx"]))
    with pytest.raises(UserError, match="other.tsv is not the data the run in .* read"):
        model.evaluate("test", data=str(other))  # split by the run's seed: knowingly only
    report = model.evaluate("test", data=str(other), allow_changed_data=True)
    assert report["skipped_unknown_symbols"] + report["words"] == 4  # a tenth of 42
    whole = model.evaluate("train", data=str(other), allow_changed_data=True)
    assert whole["words"] + whole["skipped_unknown_symbols"] == 36


def test_a_split_with_no_scorable_words_is_refused(trained, tmp_path):
    model = Transducer.load(trained / "run")
    other = tmp_path / "other.tsv"
    other.write_text("source\ttarget\n" + "".join(f"x{i}\ty\n" for i in range(30)))
    with pytest.raises(UserError, match=r"the test split of .*other.tsv \(3 pairs with symbols "
                                        r"the model never saw\) has nothing to evaluate"):
        model.evaluate("test", data=str(other), allow_changed_data=True)


def test_attention_rows_match_the_tokens_written_whether_or_not_an_end_was_written():
    torch.manual_seed(0)
    vocab = SymbolVocab.build(["abcd"])
    for max_length in (4, 5, 30):
        model = Seq2Seq(Seq2SeqConfig(source_vocab_size=len(vocab),
                                      target_vocab_size=len(vocab), hidden_size=8,
                                      embedding_dim=4))
        t = Transducer(model, vocab, vocab, Seq2SeqData(data="x", max_length=max_length,
                                                        target_tokens="chars"))
        source, output, weights = t.attention("abca")
        assert source == list("abca") and weights.shape == (len(output), 4)
        written = len(t.predict_ids(["abca"])[0])
        assert (output[-1] == "</s>") == (written <= max_length)
    with pytest.raises(UserError) as caught:
        t.predict("abca")
    assert "a list of sources" in str(caught.value)


def test_an_ensemble_of_runs_with_one_split_decodes_and_others_are_refused(trained, tmp_path):
    alone = Transducer.load(trained / "run")
    twice = Transducer.load([trained / "run", trained / "run"])  # the mean of equal members
    words = ["abc", "dd", "cab"]
    assert twice.predict(words, beam=3) == alone.predict(words, beam=3)
    assert twice.evaluate("val")["wer"] == alone.evaluate("val")["wer"]
    with pytest.raises(UserError, match="no one attention to show"):
        twice.attention("abc")
    other = shutil.copytree(trained / "run", tmp_path / "other")
    config = json.loads((other / "config.json").read_text())
    config["train"]["loop"]["seed"] = 2  # another split of the same words
    (other / "config.json").write_text(json.dumps(config))
    with pytest.raises(UserError, match=r"cannot join .*: their data or split differ \(seed\)"):
        Transducer.load([trained / "run", other])


def test_a_folder_of_another_task_is_named_as_such(trained, tmp_path):
    other = shutil.copytree(trained / "run", tmp_path / "charlm-run")
    config = json.loads((other / "config.json").read_text())
    config["kind"] = "charlm"
    (other / "config.json").write_text(json.dumps(config))
    (other / "source_vocab.json").unlink()  # a character model's folder has none
    with pytest.raises(UserError, match="holds a charlm model, not a seq2seq model"):
        Transducer.load([trained / "run", other])
