from dataclasses import asdict

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seqrnn.analysis.inspect_cells import (
    FEATURES,
    cell_activations,
    choose_cells,
    correlations,
    inspect,
    text_features,
)
from seqrnn.api.charlm import LanguageModel
from seqrnn.configs import CharLMConfig
from seqrnn.data.text import CharVocab
from seqrnn.errors import UserError, flag
from seqrnn.kinds import VOCAB_FILE
from seqrnn.models.charlm import CharLM
from seqrnn.recipes.charlm import RECIPE
from seqrnn.run import BEST_WEIGHTS, RunFolder

TEXT = '  Ham. To be (or not) to be.\n  Hor. My lord (a cat) sat "so".\n' * 4
PLANTED_UNIT = 5


def planted_model(hidden_size: int = 12) -> LanguageModel:
    """A random one-layer LSTM whose cell PLANTED_UNIT counts open brackets.

    Its input and forget gates are saturated open (c(t) = c(t-1) + g) and its candidate g is
    +1 on "(", -1 on ")" and 0 otherwise, so c is the bracket depth.
    """
    vocab = CharVocab.from_text(TEXT)
    model = CharLM(CharLMConfig(vocab_size=len(vocab), hidden_size=hidden_size, dropout=0.0))
    rnn, H, u = model.rnn, hidden_size, PLANTED_UNIT
    rows = [u, H + u, 2 * H + u, 3 * H + u]  # gates i, f, g, o of the unit
    with torch.no_grad():
        for weight in (rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0):
            weight[rows] = 0
        rnn.bias_ih_l0[[u, H + u, 3 * H + u]] = 10.0  # σ(10) ≈ 1
        rnn.weight_ih_l0[2 * H + u, vocab.chars.index("(")] = 5.0  # tanh(5) ≈ 1
        rnn.weight_ih_l0[2 * H + u, vocab.chars.index(")")] = -5.0
    return LanguageModel(model, vocab)


def save_run(lm: LanguageModel, run_dir) -> None:
    run = RunFolder(run_dir)
    run.create()
    run.write_json(VOCAB_FILE, lm.vocab.to_dict())
    run.write_config(RECIPE.kind, asdict(lm.model.config))
    run.save_weights(BEST_WEIGHTS, lm.model.state_dict(), step=0)


# -- features and selection -------------------------------------------------------------------


def test_features_mark_what_they_say():
    text = '  Ham. (a "b") ROME\nAll:\n'
    features = text_features(text)
    f = {name: "".join(str(int(v)) for v in values) for name, values in features.items()}
    # text:                     '  Ham. (a "b") ROME\nAll:\n'
    assert f["inside_brackets"] == "0000000111111000000000000"
    assert f["inside_quotes"] == "0000000000110000000000000"
    assert f["speaker_name"] == "0011110000000000000011110"
    assert f["all_caps_word"] == "0000000000000001111000000"
    assert f["inside_word"] == "0011100010010001111011100"
    assert features["position_in_line"].tolist()[:3] == [1, 2, 3]
    assert features["position_in_line"].tolist()[18:22] == [19, 0, 1, 2]
    assert set(FEATURES) == set(f)


def test_correlations_are_pearson_and_nan_for_a_constant():
    rng = np.random.default_rng(0)
    activations = rng.normal(size=(50, 3))
    activations[:, 2] = 1.0
    feature = activations[:, 0] + rng.normal(size=50)
    r = correlations(activations, feature)
    assert r[0] == pytest.approx(np.corrcoef(activations[:, 0], feature)[0, 1])
    assert r[1] == pytest.approx(np.corrcoef(activations[:, 1], feature)[0, 1])
    assert np.isnan(r[2])
    assert np.isnan(correlations(activations, np.zeros(50))).all()


def test_choose_cells_finds_planted_cells_without_letting_one_feature_crowd_out_others():
    rng = np.random.default_rng(1)
    features = text_features(TEXT * 3)
    T = len(TEXT * 3)
    activations = rng.normal(scale=0.3, size=(T, 24))  # (T, N): noise
    activations[:, 7] = features["inside_brackets"] + rng.normal(scale=0.1, size=T)
    activations[:, 12] = -features["position_in_line"] / 30 + rng.normal(scale=0.1, size=T)
    for cell in (0, 1, 2, 3):  # many cells follow one feature, all better than cell 12
        activations[:, cell] = features["inside_word"] + rng.normal(scale=0.01, size=T)
    chosen = choose_cells(activations, features, k=3, hidden_size=8)
    picked = {c.index: c.feature for c in chosen}
    assert picked[7] == "inside_brackets" and picked[12] == "position_in_line"
    assert sum(feature == "inside_word" for feature in picked.values()) == 1
    by_index = {c.index: c for c in chosen}
    assert by_index[12].correlation < -0.8 and by_index[7].correlation > 0.9
    assert (by_index[12].layer, by_index[12].unit) == (1, 4)  # 12 = layer 1 * 8 + unit 4
    # More cells than the strong features: the rest are filled by the strongest remaining pairs.
    assert len(choose_cells(activations, features, k=10, hidden_size=8)) == 10
    assert len(choose_cells(activations, features, k=100, hidden_size=8)) == 24


def test_constant_cells_are_never_chosen():
    features = text_features(TEXT)
    activations = np.zeros((len(TEXT), 6))  # (T, N): four cells that never move
    activations[:, 2] = features["inside_word"]
    activations[:, 5] = features["position_in_line"]
    chosen = choose_cells(activations, features, k=6, hidden_size=6)
    assert sorted(c.index for c in chosen) == [2, 5]  # up to k: only the cells that vary
    assert all(np.isfinite(c.correlation) for c in chosen)


def test_choose_cells_refuses_a_text_where_nothing_varies():
    with pytest.raises(UserError, match="no feature varies"):
        choose_cells(np.ones((3, 4)), {"inside_word": np.ones(3)}, k=2, hidden_size=4)
    with pytest.raises(UserError, match="at least 1"):
        choose_cells(np.ones((3, 4)), {"inside_word": np.ones(3)}, k=0, hidden_size=4)


# -- activations of a real model --------------------------------------------------------------


@pytest.mark.parametrize("impl", ["fused", "explicit"])
def test_step_by_step_states_match_one_pass_over_the_text(impl):
    vocab = CharVocab.from_text(TEXT)
    model = CharLM(CharLMConfig(vocab_size=len(vocab), hidden_size=6, num_layers=2,
                                dropout=0.0, impl=impl)).eval()
    ids = torch.as_tensor(vocab.encode(TEXT[:40]))
    h = cell_activations(model, ids, "h")  # (T, 2*6)
    c = cell_activations(model, ids, "c")
    with torch.no_grad():
        outputs, (h_last, c_last) = model.rnn(F.one_hot(ids, len(vocab)).float()[None])
    assert h.shape == c.shape == (40, 12)
    np.testing.assert_allclose(h[:, 6:], outputs[0].numpy(), atol=1e-5)  # the top layer's h(t)
    np.testing.assert_allclose(c[-1], torch.tanh(c_last).reshape(-1).numpy(), atol=1e-5)


def test_gru_has_no_cell_state():
    vocab = CharVocab.from_text(TEXT)
    model = CharLM(CharLMConfig(vocab_size=len(vocab), hidden_size=4, cell="gru"))
    ids = torch.as_tensor(vocab.encode("To be"))
    assert cell_activations(model, ids, "h").shape == (5, 4)
    with pytest.raises(UserError, match="use state h") as caught:
        cell_activations(model, ids, "c")
    assert caught.value.field == "state" and caught.value.render(flag).endswith("--state h")
    with pytest.raises(UserError, match="unknown state"):
        cell_activations(model, ids, "x")


def test_inspect_picks_the_planted_bracket_counter():
    inspection = inspect(planted_model(), TEXT, cells=3)
    best = inspection.chosen[0]
    assert (best.layer, best.unit, best.feature) == (0, PLANTED_UNIT, "inside_brackets")
    assert best.correlation > 0.99
    assert inspection.activations.shape == (len(TEXT), 3)
    inside = text_features(TEXT)["inside_brackets"] == 1
    assert inspection.activations[inside, 0].min() > 0.7  # tanh(1)
    assert np.abs(inspection.activations[~inside, 0]).max() < 0.01


def test_inspect_leaves_out_unknown_characters_and_needs_two_known_ones():
    inspection = inspect(planted_model(), "To be @ or (not)\n", cells=2)
    assert inspection.text == "To be  or (not)\n" and inspection.dropped_chars == ["@"]
    assert len(inspection.to_dict()["cells"][0]["activations"]) == len(inspection.text)
    with pytest.raises(UserError, match="at least 2 characters"):
        inspect(planted_model(), "T@@", cells=2)
