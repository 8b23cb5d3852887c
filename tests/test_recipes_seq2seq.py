import itertools

import pytest
import torch

from seqrnn.api.seq2seq import Transducer
from seqrnn.configs import Seq2SeqData, TrainConfig
from seqrnn.recipes import base, seq2seq
from seqrnn.run import RunFolder

WORDS = ["".join(p) for n in (2, 3, 4) for p in itertools.product("abcde", repeat=n)]
SMALL = {"hidden_size": 64, "embedding_dim": 16, "dropout": 0.0}


@pytest.fixture(scope="module")
def reversal(tmp_path_factory):
    """Reversing short strings: a transduction to an output of the source's length."""
    path = tmp_path_factory.mktemp("toy") / "reverse.tsv"
    path.write_text("source\ttarget\n" + "".join(f"{w}\t{' '.join(reversed(w))}\n"
                                                 for w in WORDS))
    return Seq2SeqData(data=str(path), batch_size=16, val_fraction=0.1, test_fraction=0.1)


@pytest.mark.parametrize(("attention", "epochs"), [("additive", 8), ("none", 15)])
def test_a_toy_transduction_is_learned_with_and_without_attention(reversal, tmp_path,
                                                                  attention, epochs):
    result = base.start(seq2seq.RECIPE, reversal, {**SMALL, "attention": attention},
                        TrainConfig(epochs=epochs, lr=1e-2, progress=False, threads=1),
                        tmp_path / "run").result
    assert result.best_eval["wer"] <= 0.03
    model = Transducer.load(tmp_path / "run")
    test = model.evaluate("test", beam=3)
    assert test["words"] == 78 and test["wer"] <= 0.05  # sources never trained on
    assert model.predict(["abcd", "eed"]) == ["d c b a", "d e e"]


def test_resume_continues_to_the_weights_of_a_run_straight_through(reversal, tmp_path):
    loop = TrainConfig(epochs=2, lr=1e-2, progress=False, threads=1, seed=4)
    base.start(seq2seq.RECIPE, reversal, SMALL, loop, tmp_path / "straight")
    stopped = base.start(seq2seq.RECIPE, reversal, SMALL,
                         TrainConfig(**{**vars(loop), "max_steps": 50}),
                         tmp_path / "resumed").result
    assert stopped.stopped == "max_steps"
    base.resume(seq2seq.RECIPE, tmp_path / "resumed", max_steps=10**6)
    a, _ = RunFolder(tmp_path / "straight").load_weights("latest.safetensors")
    b, _ = RunFolder(tmp_path / "resumed").load_weights("latest.safetensors")
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0)


def test_every_rank_gets_rows_of_every_batch_and_validation_must_be_readable(tmp_path):
    from seqrnn.data.pairs import Pairs
    from seqrnn.data.symbols import SymbolVocab
    from seqrnn.errors import UserError
    from seqrnn.recipes.seq2seq import Encoded, Seq2SeqObjective
    from seqrnn.trainer.distributed import Group

    sources = [tuple(w) for w in WORDS[:17]]  # 17 = 2 batches of 8 and one of a single row
    pairs = Pairs(sources, [[tuple(reversed(s))] for s in sources])
    vocab = SymbolVocab.build(sources)
    encoded = Encoded(pairs, vocab, vocab)
    data = Seq2SeqData(data="x", batch_size=8)
    for rank in (0, 1):
        task = Seq2SeqObjective(encoded, encoded, vocab, data, seed=1, group=Group(rank, 2))
        assert task.num_batches(0) == 2  # the one-row batch would leave a rank nothing
        for index in range(2):
            (source, _, _), tokens = task.batch(0, index)
            assert len(source) == 4 and tokens > 0
    assert Seq2SeqObjective(encoded, encoded, vocab, data, seed=1).num_batches(0) == 3
    unseen = Pairs([tuple("xyz")], [[tuple("zyx")]])  # letters training never saw
    with pytest.raises(UserError, match="every validation source of x has symbols training "
                                        "never saw"):
        seq2seq.RECIPE.prepare((pairs, unseen), data, False, saved=None)
