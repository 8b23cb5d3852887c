"""The recurrent quantile forecaster (models/forecast.py): scaling, order of quantiles, loss."""

import pytest
import torch

from seqrnn.configs.forecast import ForecastConfig
from seqrnn.errors import UserError
from seqrnn.models.forecast import ForecastRNN, pinball_loss, window_scale


def config(**changes) -> ForecastConfig:
    return ForecastConfig(**{"horizon": 6, "frequencies": ("monthly", "yearly"),
                             "season_lengths": (12, 1), "input_length": 10,
                             "deseasonalise": True, "hidden_size": 16, **changes})


def inputs(batch: int = 8, steps: int = 10):
    values = torch.rand(batch, steps) * 50 + 1
    observed = torch.ones(batch, steps)
    observed[0, :4] = 0  # a short series, padded on the left
    values[0, :4] = 0
    frequency = torch.arange(batch) % 2
    season_in = torch.rand(batch, steps) + 0.5
    season_out = torch.rand(batch, 6) + 0.5
    return values, observed, frequency, season_in, season_out


@pytest.mark.parametrize("scale, transform", [("mean", "none"), ("last", "none"),
                                              ("last", "log")])
def test_a_series_1000_times_larger_is_forecast_1000_times_larger(scale, transform):
    model = ForecastRNN(config(scale=scale, transform=transform)).eval()
    values, observed, frequency, season_in, season_out = inputs()
    small = model(values, observed, frequency, season_in, season_out)
    large = model(1000 * values, observed, frequency, season_in, season_out)
    torch.testing.assert_close(large, 1000 * small, rtol=1e-4, atol=1e-3)


def test_seasonal_factors_divide_the_input_and_multiply_the_forecast():
    model = ForecastRNN(config()).eval()
    values, observed, frequency, season_in, season_out = inputs()
    plain = model(values / season_in, observed, frequency, torch.ones_like(season_in),
                  torch.ones_like(season_out))
    seasonal = model(values, observed, frequency, season_in, season_out)
    torch.testing.assert_close(seasonal, plain * season_out.unsqueeze(-1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("seed, transform", [(seed, "none") for seed in range(5)]
                         + [(seed, "log") for seed in range(2)])
def test_quantiles_never_cross(seed, transform):
    torch.manual_seed(seed)
    model = ForecastRNN(config(quantiles=(0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99),
                               transform=transform)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(20)  # large weights: wild raw outputs
        out = model(*inputs(64))
    assert out.shape == (64, 6, 7)
    assert (out.diff(dim=-1) >= 0).all()


def test_the_log_transform_reads_logarithms_and_forecasts_positive_values():
    model = ForecastRNN(config(transform="log")).eval()
    scaled = torch.tensor([0.0, 1e-6, 0.5, 1.0, 4.0])
    torch.testing.assert_close(model.encode(scaled),
                               torch.log(torch.tensor([1e-3, 1e-3, 0.5, 1.0, 4.0])))
    torch.testing.assert_close(model.decode(model.encode(scaled[2:])), scaled[2:])
    with torch.no_grad():
        out = model(*inputs())
    assert (out > 0).all()
    plain = ForecastRNN(config()).eval()
    assert plain.encode(scaled) is scaled and plain.decode(scaled) is scaled


def test_padding_is_not_read():
    model = ForecastRNN(config()).eval()
    values, observed, frequency, season_in, season_out = inputs()
    changed = values.clone()
    changed[0, :4] = 1e6  # where observed is 0: must not matter... except through the input
    a = model(values, observed, frequency, season_in, season_out)
    b = model(changed * observed, observed, frequency, season_in, season_out)
    torch.testing.assert_close(a, b)
    assert window_scale(values, observed)[0, 0] == pytest.approx(float(values[0, 4:].mean()))


def test_the_last_scale_is_the_last_observed_value():
    values = torch.tensor([[0.0, 4.0, -2.0, 9.0], [1.0, 3.0, 0.0, 0.0]])
    observed = torch.tensor([[0.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0]])
    # the second window's last observed value is 0: its unit stays 1
    assert window_scale(values, observed, "last").tolist() == [[9.0], [1.0]]
    values[0, 3] = -9.0
    assert window_scale(values, observed, "last")[0, 0] == 9.0


def test_a_window_of_zeros_keeps_scale_one():
    values = torch.zeros(2, 5)
    assert window_scale(values, torch.ones(2, 5)).tolist() == [[1.0], [1.0]]


def test_pinball_loss_by_hand():
    predicted = torch.tensor([[[1.0, 2.0, 3.0]]])  # one step, quantiles 0.1, 0.5, 0.9
    target = torch.tensor([[2.5]])
    q = torch.tensor([0.1, 0.5, 0.9])
    # errors 1.5, 0.5, -0.5 -> 0.1*1.5, 0.5*0.5, (0.9-1)*(-0.5)
    expected = (0.15 + 0.25 + 0.05) / 3
    assert float(pinball_loss(predicted, target, torch.ones(1, 1, dtype=torch.bool), q)) == \
        pytest.approx(expected)
    masked = pinball_loss(predicted, target, torch.zeros(1, 1, dtype=torch.bool), q)
    assert float(masked) == 0.0


@pytest.mark.parametrize("changes, field", [
    ({"quantiles": (0.1, 0.9)}, "quantiles"), ({"quantiles": (0.5, 0.1)}, "quantiles"),
    ({"season_lengths": (12,)}, "season_lengths"), ({"horizon": 0}, "horizon"),
    ({"horizon": 10**6}, "horizon"), ({"cell": "tcn"}, "cell"),
    ({"transform": "sqrt"}, "transform")])
def test_bad_configs_name_their_field(changes, field):
    with pytest.raises(UserError) as caught:
        config(**changes)
    assert field in caught.value.fields or field in str(caught.value)
