"""Forecast accuracy as the forecasting competitions define it (the M4 competitor's guide), and
the naive benchmarks that OWA is relative to.

Point forecasts: sMAPE and MAPE in percent, MASE scaled by the in-sample mean absolute error
of the seasonal naive forecast; each is averaged over a series' horizon, then over the series
(so every series weighs the same, as in the competitions). OWA is the mean of sMAPE and MASE,
each relative to Naive2's on the same series. Probabilistic forecasts: the weighted quantile
loss and the coverage of an interval, both over all points at once.

`insample`, `actual` and `forecast` are a 2-D array (series, steps) or a list of 1-D arrays, one
per series, of any lengths: everything is computed on padded arrays with a mask, not in a
Python loop over series. Torch-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from seqrnn.data.series import pad

Series = np.ndarray | Sequence[np.ndarray]
# The point forecast read for MAPE from quantile forecasts (point_of, mape_point).
MAPE_POINT = "mape"
SEASONALITY_CRITICAL = 1.645  # the M4 benchmarks' seasonality test: 90%, two-sided


def smape_per_series(actual: Series, forecast: Series) -> np.ndarray:
    """Each series' mean of 200 |y - f| / (|y| + |f|) (percent); a step where both are 0 is 0."""
    y, f, mask = _pair(actual, forecast)
    denominator = np.abs(y) + np.abs(f)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(denominator == 0, 0.0, 200 * np.abs(y - f) / denominator)
    return _row_means(terms, mask)


def mape_per_series(actual: Series, forecast: Series) -> np.ndarray:
    """Each series' mean of 100 |y - f| / |y| (percent; infinite where an actual is 0)."""
    y, f, mask = _pair(actual, forecast)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _row_means(100 * np.abs(y - f) / np.abs(y), mask)


def mase_scale(insample: Series, season: int) -> np.ndarray:
    """Each series' in-sample mean absolute error of the seasonal naive forecast,
    mean |x_t - x_{t-season}|: NaN for a series of `season` values or fewer."""
    x, mask = pad(insample)
    errors = np.abs(x[:, season:] - x[:, :-season])
    return _row_means(errors, mask[:, season:])


def mase_per_series(insample: Series, actual: Series, forecast: Series, season: int
                    ) -> np.ndarray:
    """Each series' mean |y - f| divided by its mase_scale (infinite where that is 0)."""
    y, f, mask = _pair(actual, forecast)
    scale = mase_scale(insample, season)
    if len(scale) != len(y):
        raise ValueError(f"{len(scale)} in-sample series for {len(y)} forecasts")
    with np.errstate(divide="ignore", invalid="ignore"):
        return _row_means(np.abs(y - f), mask) / scale


def smape(actual: Series, forecast: Series) -> float:
    """sMAPE (percent): the mean over series of smape_per_series."""
    return float(np.mean(smape_per_series(actual, forecast)))


def mape(actual: Series, forecast: Series) -> float:
    """MAPE (percent): the mean over series of mape_per_series (the Tourism competition's)."""
    return float(np.mean(mape_per_series(actual, forecast)))


def mase(insample: Series, actual: Series, forecast: Series, season: int) -> float:
    """MASE: the mean over series of mase_per_series."""
    return float(np.mean(mase_per_series(insample, actual, forecast, season)))


@dataclass(frozen=True)
class PointScores:
    """sMAPE, MAPE and MASE of each series, and its number of forecast steps.

    A summary over sets of several frequencies (PointScores.concat) weighs each series by its
    steps: the competitions' figure over all frequencies is the mean over all forecast points
    (M3's 13.01 for Theta, Tourism's MAPEs). Within one set every series has the same horizon
    and this is the plain mean over series.
    """

    smape: np.ndarray
    mape: np.ndarray
    mase: np.ndarray
    steps: np.ndarray

    @classmethod
    def concat(cls, scores: Sequence[PointScores]) -> PointScores:
        return cls(*(np.concatenate([getattr(s, name) for s in scores])
                     for name in ("smape", "mape", "mase", "steps")))

    def mean(self, metric: str) -> float:
        """`metric` (smape, mape, mase) averaged over series weighted by their steps."""
        return float(np.average(getattr(self, metric), weights=self.steps))

    def summary(self, naive2: PointScores | None = None) -> dict:
        """The means, with OWA when Naive2's scores on the same series are given."""
        result = {"series": len(self.smape), "smape": self.mean("smape"),
                  "mape": self.mean("mape"), "mase": self.mean("mase")}
        if naive2 is not None:
            result["owa"] = owa(self, naive2)
        return result


def score_forecasts(insample: Series, actual: Series, forecast: Series, season: int
                    ) -> PointScores:
    """The PointScores of `forecast` against `actual`, MASE scaled on `insample`."""
    steps = pad(actual)[1].sum(1)
    return PointScores(smape_per_series(actual, forecast), mape_per_series(actual, forecast),
                       mase_per_series(insample, actual, forecast, season), steps)


def owa(scores: PointScores, naive2: PointScores) -> float:
    """Overall weighted average (M4): (sMAPE / Naive2's sMAPE + MASE / Naive2's MASE) / 2,
    each a PointScores.mean over the same series."""
    if len(scores.smape) != len(naive2.smape):
        raise ValueError(f"{len(scores.smape)} series scored against Naive2's "
                         f"{len(naive2.smape)}")
    return (scores.mean("smape") / naive2.mean("smape")
            + scores.mean("mase") / naive2.mean("mase")) / 2


def seasonal_naive(insample: Series, horizon: int, season: int) -> np.ndarray:
    """(series, horizon) forecasts repeating each series' last `season` values."""
    x, mask = pad(insample)
    lengths = mask.sum(1)
    if (lengths < season).any():
        raise ValueError(f"a series has fewer values than the season length {season}")
    steps = lengths[:, None] - season + (np.arange(horizon) % season)[None, :]
    return np.take_along_axis(x, steps, axis=1)


def seasonality_test(insample: Series, season: int) -> np.ndarray:
    """Whether each series is seasonal, by the M4 benchmarks' test: at least 3 seasons long,
    and |r_m| > 1.645 sqrt((1 + 2 sum_{k<m} r_k^2) / n), r_k the lag-k autocorrelation."""
    x, mask = pad(insample)
    n = mask.sum(1)
    if season <= 1:
        return np.zeros(len(n), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        centred = np.where(mask, x - (x * mask).sum(1, keepdims=True) / n[:, None], 0.0)
        variance = (centred ** 2).sum(1)
        acf = np.stack([(centred[:, k:] * centred[:, :-k]).sum(1) / variance
                        for k in range(1, season + 1)], axis=1)
        limit = SEASONALITY_CRITICAL * np.sqrt(
            (1 + 2 * (acf[:, :-1] ** 2).sum(1)) / n)
        seasonal = np.abs(acf[:, -1]) > limit  # NaN (a constant series) compares False
    return seasonal & (n >= 3 * season)


def seasonal_indices(insample: Series, season: int) -> np.ndarray:
    """(series, season) multiplicative seasonal indices of a classical decomposition (R's
    decompose): index i belongs to the steps t with t % season == i, t counted from each
    series' first value; all 1 for a series seasonality_test finds not seasonal.

    The trend is the centred moving average over one season (2 x season for an even season);
    each index is the mean of value / trend over its steps, normalised to mean 1. A ratio that
    is not finite (a trend of 0) is left out of the mean.
    """
    x, mask = pad(insample)
    count, width = x.shape
    indices = np.ones((count, season))
    seasonal = seasonality_test(insample, season)
    if not seasonal.any():
        return indices
    x, mask = x[seasonal], mask[seasonal]
    n = mask.sum(1)
    half = season // 2
    sums = np.concatenate([np.zeros((len(x), 1)), np.cumsum(x, axis=1)], axis=1)
    trend = np.full(x.shape, np.nan)
    t = np.arange(half, width - half)
    window = sums[:, t + half + 1] - sums[:, t - half]  # season + 1 values if even, else season
    if season % 2 == 0:
        window -= 0.5 * (x[:, t - half] + x[:, t + half])
    trend[:, t] = window / season
    inside = (np.arange(width) >= half)[None, :] & (np.arange(width)[None, :] < (n - half)[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = x / trend
    used = inside & np.isfinite(ratio)
    cycles = -(-width // season)
    shape = (len(x), cycles, season)
    total = np.zeros((len(x), cycles * season))
    total[:, :width] = np.where(used, ratio, 0.0)
    hits = np.zeros((len(x), cycles * season))
    hits[:, :width] = used
    figure = total.reshape(shape).sum(1) / hits.reshape(shape).sum(1)
    indices[seasonal] = figure / figure.mean(1, keepdims=True)
    return indices


def naive2(insample: Series, horizon: int, season: int) -> np.ndarray:
    """(series, horizon) Naive2 forecasts (the M4 benchmark): the last value of the series
    deseasonalised by seasonal_indices, reseasonalised by the indices of the forecast steps."""
    x, mask = pad(insample)
    n = mask.sum(1)
    indices = seasonal_indices(insample, season)
    rows = np.arange(len(x))
    last = x[rows, n - 1] / indices[rows, (n - 1) % season]
    steps = (n[:, None] + np.arange(horizon)[None, :]) % season
    return last[:, None] * np.take_along_axis(indices, steps, axis=1)


def weighted_quantile_loss(actual: Series, quantile_forecasts: np.ndarray | Sequence[np.ndarray],
                           quantiles: Sequence[float]) -> float:
    """The mean over `quantiles` of 2 sum pinball_q(y, f_q) / sum |y|, over all points.

    `quantile_forecasts` is (series, steps, quantiles), or a list of (steps, quantiles) arrays.
    """
    levels = np.asarray(quantiles, dtype=np.float64)
    if levels.ndim != 1 or not ((levels > 0) & (levels < 1)).all():
        raise ValueError(f"quantiles must lie strictly between 0 and 1, got {quantiles}")
    y = _flat(actual)
    f = _flat(quantile_forecasts, trailing=len(levels))
    if len(f) != len(y):
        raise ValueError(f"{len(f)} quantile forecasts for {len(y)} actual values")
    error = y[:, None] - f
    pinball = np.maximum(levels * error, (levels - 1) * error)
    return float(np.mean(2 * pinball.sum(0) / np.abs(y).sum()))


def interval_coverage(actual: Series, lower: Series, upper: Series) -> float:
    """The share of actual values within [lower, upper], over all points."""
    y, low, high = _flat(actual), _flat(lower), _flat(upper)
    if not len(y) == len(low) == len(high):
        raise ValueError(f"{len(y)} actual values, {len(low)} lower and {len(high)} upper bounds")
    return float(np.mean((low <= y) & (y <= high)))


def _pair(actual: Series, forecast: Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, mask = pad(actual)
    f, forecast_mask = pad(forecast)
    if y.shape != f.shape or not (mask == forecast_mask).all():
        raise ValueError("actual and forecast need the same number of series, each of the "
                         "same length")
    return y, f, mask


def _row_means(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mask, values, 0.0).sum(1) / mask.sum(1)


def _flat(values: np.ndarray | Sequence[np.ndarray], trailing: int | None = None) -> np.ndarray:
    """All points of every series in one array: (points,), or (points, trailing)."""
    if isinstance(values, np.ndarray):
        return values.reshape(-1) if trailing is None else values.reshape(-1, trailing)
    parts = [np.asarray(v, np.float64) for v in values]
    if not parts:
        return np.zeros((0,) if trailing is None else (0, trailing))
    return np.concatenate(parts).reshape(-1) if trailing is None else np.concatenate(parts)


def at_levels(forecast: np.ndarray, learned: Sequence[float],
              levels: Sequence[float]) -> np.ndarray:
    """(..., len(levels)) from quantile forecasts (..., len(learned)): each asked level
    interpolated linearly between the learned ones around it (the learned quantiles rise, so
    the interpolated ones never cross; a learned level is returned exactly)."""
    learned = np.asarray(learned)
    above = np.clip(np.searchsorted(learned, levels), 1, len(learned) - 1)
    below = above - 1
    weight = (np.asarray(levels) - learned[below]) / (learned[above] - learned[below])
    return forecast[..., below] * (1 - weight) + forecast[..., above] * weight


def mape_point(forecast: np.ndarray, learned: Sequence[float]) -> np.ndarray:
    """(...) from quantile forecasts (..., len(learned)): MAPE's Bayes point, the forecast of
    least expected absolute percentage error, when each step's value is log-normal with the
    forecast median and spread.

    MAPE weighs an error by 1/y, so its best point is the median of the distribution weighted
    by 1/y: for a log-normal of median m and log-spread sigma that is m * exp(-sigma^2), below
    the median by more the wider the forecast (a fixed quantile level lowers every step
    alike). sigma is the mean over the central intervals the learned levels make (0.1 and 0.9:
    the 80%) of log(upper / lower) / (2 z); an interval whose lower end is 0 or below is not
    log-normal and is left out, and a step with none keeps its median.
    """
    median = forecast[..., list(learned).index(0.5)]
    total, count = np.zeros(median.shape), np.zeros(median.shape)
    for low, high, upper_level in central_intervals(learned):
        lower, upper = forecast[..., low], forecast[..., high]
        fits = lower > 0
        ratio = np.where(fits, upper, 1.0) / np.where(fits, lower, 1.0)
        total += np.where(fits, np.log(ratio) / (2 * NormalDist().inv_cdf(upper_level)), 0.0)
        count += fits
    sigma = total / np.maximum(count, 1)
    return median * np.exp(-sigma**2)


def central_intervals(learned: Sequence[float]) -> list[tuple[int, int, float]]:
    """The central intervals the levels make (q and 1 - q, e.g. 0.1 and 0.9: the 80%), each
    as the indices of its lower and upper level and the upper level, widest first."""
    levels = [float(q) for q in learned]
    return [(low, levels.index(round(1 - q, 10)), round(1 - q, 10))
            for low, q in enumerate(levels) if q < 0.5 and round(1 - q, 10) in levels]


def point_of(forecast: np.ndarray, learned: Sequence[float], point: float | str) -> np.ndarray:
    """(...) point forecasts from quantile forecasts (..., len(learned)): the quantile at
    level `point`, or with MAPE_POINT MAPE's Bayes point (mape_point)."""
    if point == MAPE_POINT:
        return mape_point(forecast, learned)
    return at_levels(forecast, learned, [float(point)])[..., 0]
