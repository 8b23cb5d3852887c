"""The language models' shared stream layout (tasks/stream.py): carried state and its scoring."""

import pytest
import torch
import torch.nn.functional as F

from seqrnn.configs import CharLMConfig
from seqrnn.errors import UserError
from seqrnn.models.charlm import CharLM
from seqrnn.recipes.charlm import char_loss_sum
from seqrnn.recipes.stream import _state_from_dict, _state_to_dict, detach_state, stream_loss


def test_detaching_keeps_the_values_and_the_nesting_and_cuts_the_graph():
    w = torch.ones(2, requires_grad=True)
    state = [(w * 2, w * 3), w * 4]
    detached = detach_state(state)
    assert isinstance(detached, list) and isinstance(detached[0], tuple)
    assert torch.equal(detached[0][1], torch.full((2,), 3.0))
    assert not any(t.requires_grad for t in (*detached[0], detached[1]))
    assert detach_state(None) is None


def flat(state) -> list[torch.Tensor]:
    if isinstance(state, torch.Tensor):
        return [state]
    return [t for part in state for t in flat(part)]


@pytest.mark.parametrize("state", [
    torch.ones(1, 2, 3),
    (torch.ones(1, 2, 3), torch.zeros(1, 2, 3)),
    [(torch.ones(2), torch.zeros(2)), torch.full((2,), 5.0)],
])
def test_a_carried_state_saves_as_flat_names_and_comes_back_the_same(state):
    saved = _state_to_dict(state)
    assert all(isinstance(name, str) and isinstance(t, torch.Tensor) for name, t in saved.items())
    back = _state_from_dict(saved)
    assert type(back) is type(state)
    assert all(torch.equal(a, b) for a, b in zip(flat(back), flat(state), strict=True))
    assert _state_from_dict(_state_to_dict(None)) is None


def test_scoring_in_windows_with_the_state_carried_is_scoring_the_whole_row():
    torch.manual_seed(0)
    model = CharLM(CharLMConfig(vocab_size=7, hidden_size=6, cell="gru")).eval()
    ids = torch.randint(0, 7, (41,))
    total, count = stream_loss(model, char_loss_sum, ids, num_steps=8, rows=1)
    with torch.no_grad():
        logits, _ = model(ids[:-1][None])
        expected = F.cross_entropy(logits[0], ids[1:], reduction="sum").item()
    assert count == 40
    assert total == pytest.approx(expected, rel=1e-5)


def test_rows_each_start_from_a_zero_state():
    torch.manual_seed(0)
    model = CharLM(CharLMConfig(vocab_size=7, hidden_size=6)).eval()
    ids = torch.randint(0, 7, (21,))
    total, count = stream_loss(model, char_loss_sum, ids, num_steps=5, rows=2)
    with torch.no_grad():
        expected = sum(F.cross_entropy(model(ids[a:a + 10][None])[0][0], ids[a + 1:a + 11],
                                       reduction="sum").item() for a in (0, 10))
    assert count == 20 and total == pytest.approx(expected, rel=1e-5)


def test_a_text_too_short_to_score_is_a_user_error():
    model = CharLM(CharLMConfig(vocab_size=7, hidden_size=6)).eval()
    with pytest.raises(UserError, match="at least 2 known tokens"):
        stream_loss(model, char_loss_sum, torch.tensor([3]), num_steps=5, rows=2)
