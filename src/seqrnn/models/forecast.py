"""A global recurrent forecaster: every quantile of every future step at once. No I/O.

The lecture's many-to-one, with a vector out: the recurrent stack reads a window of past values
and its last state is mapped to the whole horizon (direct multi-horizon forecasting, as MQ-RNN,
Wen et al. 2017), so a forecast is one forward pass, not a loop over steps:

    d_t = x_t / S_t                                          deseasonalised (S_t = 1: none)
    s = mean |d_t| over the window's observed points        each window's own scale
        (or |d_T|, its last point: config.scale "last")
    h_T = RNN([f(d_t / s), observed_t, frequency])           read left to right
    q_{k,j} = S_{T+k} * s * f^-1(head(h_T)_{k,j})            step k of the horizon, quantile j

f is the identity, or with config.transform "log" the logarithm (of the value, at least
LOG_FLOOR): the network then reads and forecasts ratios, every error counting relative to the
value as MAPE counts it. Quantiles pass unchanged through a rising f (the median of log y is
the log of y's median), so the loss is the same pinball loss, on f of the target.

Dividing by s makes a series of any magnitude look alike (1000·y is forecast as 1000 times the
forecast of y); multiplying back gives the forecast in the series' units. The seasonal
factors S (a classical multiplicative decomposition of each series, as Naive2 and Theta use,
or ES-RNN learns) are the data's: the network forecasts the seasonally adjusted series. The
quantiles come from one median and positive gaps (softplus) above and below it, so they never
cross.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqrnn.configs.forecast import ForecastConfig
from seqrnn.nn import make_recurrent

TINY_SCALE = 1e-8  # a window of zeros keeps scale 1: its forecast is its head's output
# The smallest ratio to its window's scale the log transform reads: a 0 is read as this, so
# a series that touches 0 (a closed season) stays finite.
LOG_FLOOR = 1e-3
LOG_CEILING = 20.0  # the largest log decoded: e^20 times the scale, not an overflow to inf


def window_scale(values: Tensor, observed: Tensor, how: str = "mean") -> Tensor:
    """(B, 1): each window's mean absolute observed value ("mean"), or the absolute value of
    its last observed point ("last": the network then forecasts relative to the naive
    forecast, which follows a level shift at the window's end); 1 where that is zero."""
    if how == "last":
        steps = torch.arange(1, values.shape[1] + 1, device=values.device, dtype=values.dtype)
        last = (observed * steps).argmax(dim=1, keepdim=True)
        scale = values.gather(1, last).abs()
    else:
        count = observed.sum(dim=1, keepdim=True).clamp(min=1.0)
        scale = (values.abs() * observed).sum(dim=1, keepdim=True) / count
    return torch.where(scale > TINY_SCALE, scale, torch.ones_like(scale))


class ForecastRNN(nn.Module):
    def __init__(self, config: ForecastConfig):
        super().__init__()
        self.config = config
        c = config
        self.frequencies = len(c.frequencies)
        self.rnn = make_recurrent(c.cell, 2 + self.frequencies, c.hidden_size, c.num_layers,
                                  dropout=c.dropout if c.num_layers > 1 else 0.0, init="torch")
        self.drop = nn.Dropout(c.dropout)
        quantiles = len(c.quantiles)
        self.head = nn.Sequential(nn.Linear(c.hidden_size, c.hidden_size), nn.ReLU(),
                                  nn.Linear(c.hidden_size, c.horizon * quantiles))

    def forward_scaled(self, values: Tensor, observed: Tensor, frequency: Tensor,
                       season_in: Tensor) -> tuple[Tensor, Tensor]:
        """Deseasonalised quantiles (B, horizon, Q) in units of each window's scale, encoded
        (f, see the module's docstring), and the scale (B, 1).

        values, observed, season_in: (B, T) float, the window (padding: observed 0, value 0)
        and its seasonal factors; frequency: (B,) int64, the index of each series' frequency
        in config.frequencies.
        """
        values = values / season_in
        scale = window_scale(values, observed, self.config.scale)
        onehot = F.one_hot(frequency, self.frequencies).to(values.dtype)
        steps = values.shape[1]
        inputs = torch.cat([(self.encode(values / scale) * observed).unsqueeze(-1),
                            observed.unsqueeze(-1),
                            onehot.unsqueeze(1).expand(-1, steps, -1)], dim=-1)
        outputs, _ = self.rnn(inputs)
        raw = self.head(self.drop(outputs[:, -1]))
        return self._ordered(raw.unflatten(-1, (self.config.horizon, -1))), scale

    def encode(self, scaled: Tensor) -> Tensor:
        """f: what the network reads and forecasts of a value in its window's units."""
        if self.config.transform == "log":
            return torch.log(scaled.clamp(min=LOG_FLOOR))
        return scaled

    def decode(self, encoded: Tensor) -> Tensor:
        """f^-1: back to the window's units."""
        if self.config.transform == "log":
            return torch.exp(encoded.clamp(max=LOG_CEILING))
        return encoded

    def _ordered(self, raw: Tensor) -> Tensor:
        """Non-crossing quantiles: the median, then softplus gaps outwards from it."""
        m = self.config.median_index
        median = raw[..., m : m + 1]
        above = median + torch.cumsum(F.softplus(raw[..., m + 1 :]), dim=-1)
        below = median - torch.cumsum(F.softplus(raw[..., :m].flip(-1)), dim=-1).flip(-1)
        return torch.cat([below, median, above], dim=-1)

    def forward(self, values: Tensor, observed: Tensor, frequency: Tensor, season_in: Tensor,
                season_out: Tensor) -> Tensor:
        """Quantiles (B, horizon, Q) in the series' own units; season_out (B, horizon) holds
        the seasonal factors of the forecast steps."""
        quantiles, scale = self.forward_scaled(values, observed, frequency, season_in)
        return self.decode(quantiles) * (scale * season_out).unsqueeze(-1)


def pinball_loss(predicted: Tensor, target: Tensor, mask: Tensor,
                 quantiles: Tensor) -> Tensor:
    """Mean quantile (pinball) loss over the masked steps: predicted (B, H, Q), target and mask
    (B, H), quantiles (Q,). Its minimiser is each quantile of the target's distribution."""
    error = target.unsqueeze(-1) - predicted
    loss = torch.maximum(quantiles * error, (quantiles - 1) * error)
    weights = mask.unsqueeze(-1).to(loss.dtype)
    return (loss * weights).sum() / (weights.sum() * len(quantiles)).clamp(min=1.0)
