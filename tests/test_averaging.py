"""The exponential moving average of a model's weights (train/averaging.py)."""

import pytest
import torch
from torch import nn

from seqrnn.trainer.averaging import WeightAverage


def warm_decay(decay: float, updates: int) -> float:
    return min(decay, (1 + updates) / (10 + updates))


def test_the_average_of_known_weights_is_the_closed_form():
    """After weights w_1..w_n, avg_n = d_n avg_{n-1} + (1 - d_n) w_n, from avg_0 = w_0:
    the sum of the w_i, each weighted (1 - d_i) times the product of the later d_j."""
    model = nn.Linear(3, 2)
    weights = [torch.randn(2, 3) for _ in range(100)]  # the warm-up ends at the 80th
    with torch.no_grad():
        start = model.weight.clone()
        average = WeightAverage(model, decay=0.9)
        for w in weights:
            model.weight.copy_(w)
            average.update(model)
    decays = [warm_decay(0.9, n) for n in range(1, len(weights) + 1)]
    expected = start * torch.tensor(decays).prod()
    for i, w in enumerate(weights):
        expected += (1 - decays[i]) * torch.tensor(decays[i + 1:]).prod() * w
    assert average.names == ["weight", "bias"] and average.updates == 100
    assert torch.allclose(average.average[0], expected, atol=1e-6)
    assert decays[0] == pytest.approx(2 / 11) and decays[79] == decays[-1] == 0.9


def test_a_saved_average_loads_to_the_same_average_and_count():
    model = nn.Linear(2, 2)
    average = WeightAverage(model, decay=0.5)
    for _ in range(3):
        with torch.no_grad():
            model.weight.add_(1.0)
        average.update(model)
    state = average.state_dict()
    restored = WeightAverage(nn.Linear(2, 2), decay=0.5)
    restored.load_state_dict(state)
    assert restored.updates == 3
    assert all(torch.equal(a, b) for a, b in zip(restored.average, average.average, strict=True))
    assert set(state["weights"]) == {"weight", "bias"}


def test_only_floating_point_values_are_averaged():
    model = nn.BatchNorm1d(2)  # its num_batches_tracked is an integer count
    average = WeightAverage(model, decay=0.5)
    assert "num_batches_tracked" not in average.names and "running_mean" in average.names


def test_weight_average_starts_fast_then_keeps_its_decay():
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)
    average = WeightAverage(model, decay=0.5)
    with torch.no_grad():
        model.weight.fill_(1.0)
    average.update(model)  # warm-up decay min(0.5, 2/11)
    assert average.average[0].item() == pytest.approx(9 / 11)
    for _ in range(20):
        average.update(model)
    with torch.no_grad():
        model.weight.fill_(3.0)
    before = average.average[0].item()
    average.update(model)  # past the warm-up: decay 0.5
    assert average.average[0].item() == pytest.approx(0.5 * before + 0.5 * 3.0)


def test_swapped_in_restores_the_trained_weights_even_after_an_error():
    model = nn.Linear(2, 1)
    average = WeightAverage(model, decay=0.9)
    trained = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        average.average[0].fill_(7.0)
    with pytest.raises(RuntimeError), average.swapped_in(model):
        assert torch.all(model.weight == 7.0)
        raise RuntimeError
    for name, value in model.state_dict().items():
        assert torch.equal(value, trained[name])
