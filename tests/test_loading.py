"""Loading a trained model from its run folder (api/loading.py)."""

from dataclasses import asdict

import pytest
import torch

from seqrnn.api.loading import load_trained
from seqrnn.configs import CharLMConfig
from seqrnn.data.text import CharVocab
from seqrnn.errors import UserError
from seqrnn.kinds import VOCAB_FILE
from seqrnn.models.charlm import CharLM
from seqrnn.recipes.charlm import RECIPE
from seqrnn.run import BEST_WEIGHTS, LATEST_WEIGHTS, RunFolder

VOCAB = CharVocab.from_text("abc ")


def saved_run(path, *, vocab: CharVocab = VOCAB) -> tuple[RunFolder, dict, dict]:
    """A charlm run folder whose best and latest weights differ; those weights."""
    run = RunFolder(path)
    config = CharLMConfig(vocab_size=len(VOCAB.chars), hidden_size=6)
    run.write_config("charlm", asdict(config))
    run.write_json(VOCAB_FILE, vocab.to_dict())
    best, latest = (CharLM(config).state_dict() for _ in range(2))
    run.save_weights(BEST_WEIGHTS, best, step=4)
    run.save_weights(LATEST_WEIGHTS, latest, step=6)
    return run, best, latest


def test_the_best_or_latest_weights_load_in_evaluation_mode_with_the_vocabulary(tmp_path):
    _, best, latest = saved_run(tmp_path)
    for weights, expected in (("best", best), ("latest", latest)):
        loaded = load_trained(tmp_path, RECIPE, weights=weights)
        model, config = loaded.model, loaded.config
        assert isinstance(model, CharLM) and not model.training
        assert loaded.vocabularies == {VOCAB_FILE: VOCAB}
        assert config.kind == "charlm" and config.model["hidden_size"] == 6
        state = model.state_dict()
        assert all(torch.equal(state[k], expected[k]) for k in expected), weights
    assert not torch.equal(best["head.weight"], latest["head.weight"])


def test_unknown_weights_name_the_field(tmp_path):
    saved_run(tmp_path)
    with pytest.raises(UserError, match="unknown weights 'middle': use one of best, latest") \
            as caught:
        load_trained(tmp_path, RECIPE, weights="middle")
    assert caught.value.field == "weights"


def test_a_vocabulary_of_another_size_is_a_mixed_up_folder(tmp_path):
    saved_run(tmp_path, vocab=CharVocab.from_text("abcd "))
    with pytest.raises(UserError) as caught:
        load_trained(tmp_path, RECIPE)
    assert str(caught.value) == (f"{tmp_path}: config.json says 4 vocabulary entries but "
                                 "vocab.json has 5; the folder is mixed up")


def test_a_folder_of_another_kind_is_refused(tmp_path):
    run, _, _ = saved_run(tmp_path)
    run.write_config("wordlm", {"vocab_size": 4})
    with pytest.raises(UserError, match="holds a wordlm model, not a charlm model"):
        load_trained(tmp_path, RECIPE)
