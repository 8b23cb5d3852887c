import json
import shutil

import pytest

from seqrnn import registry
from seqrnn.api.loading import load
from seqrnn.api.protocol import LoadedModel, split_settings
from seqrnn.api.sentiment import SentimentEnsemble, load_classifier
from seqrnn.api.seq2seq import Transducer
from seqrnn.errors import UserError
from seqrnn.run import RunConfig
from tests.test_serve import tiny_runs

RAW = {"charlm": ("the ",), "wordlm": ("the",), "sentiment": (["a great movie"],),
       "seq2seq": (["abc"],), "forecast": ([[float(t % 12 + 10) for t in range(30)]],)}
SAME_SPLIT = r"cannot join an ensemble with .*: their data or split differ \({}\)"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return tiny_runs(tmp_path_factory)


def edited(run, to, change) -> str:
    """A copy of a run folder whose config.json `change` edits."""
    copy = shutil.copytree(run, to)
    config = json.loads((copy / "config.json").read_text())
    change(config["train"])
    (copy / "config.json").write_text(json.dumps(config))
    return copy


def test_every_built_in_kind_loads_as_one_protocol(runs):
    assert sorted(RAW) == sorted(kind.name for kind in registry.kinds() if kind.name in RAW)
    for name, raw in RAW.items():
        model = load(runs[name])
        assert isinstance(model, LoadedModel), name
        assert model.config.kind == name and str(model.device) == "cpu"
        answer = model.predict(*raw)
        assert len(answer) == len(raw[0]) if isinstance(raw[0], list) else \
            answer.startswith(raw[0]), name


def test_the_split_is_drawn_by_data_fractions_seed_and_content_not_batches():
    config = RunConfig("seq2seq", {}, {"data": "p.tsv", "batch_size": 8, "val_fraction": 0.1},
                       {"seed": 3}, {"data": {"path": "/p.tsv", "blake2b": "ab"}})
    assert split_settings(config) == {"data": "p.tsv", "val_fraction": 0.1, "seed": 3,
                                      "content": "ab"}
    assert split_settings(RunConfig("charlm", {}))["seed"] == 1  # the default seed


@pytest.mark.parametrize("change, named", [
    (lambda train: train["loop"].update(seed=99), "seed"),
    (lambda train: train["data"].update(val_fraction=0.3), "val_fraction")])
def test_sentiment_and_seq2seq_refuse_runs_of_another_split_alike(runs, tmp_path, change,
                                                                   named):
    for name, load_ensemble in (("sentiment", load_classifier), ("seq2seq", Transducer.load)):
        other = edited(runs[name], tmp_path / name, change)
        with pytest.raises(UserError, match=SAME_SPLIT.format(named)) as error:
            load_ensemble([runs[name], other])
        assert "\n" not in str(error.value)
    with pytest.raises(UserError, match=SAME_SPLIT.format(named)):
        SentimentEnsemble.load([runs["sentiment"], tmp_path / "sentiment"])


def test_runs_batched_otherwise_still_form_an_ensemble(runs, tmp_path):
    other = edited(runs["seq2seq"], tmp_path / "s", lambda t: t["data"].update(batch_size=4))
    both = Transducer.load([runs["seq2seq"], other])
    assert both.predict(["abc", "dd"]) == Transducer.load(runs["seq2seq"]).predict(["abc", "dd"])
    assert both.config.kind == "seq2seq"
