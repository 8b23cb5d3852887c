"""The competitions' metrics and naive benchmarks against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from seqrnn import forecast_metrics as fm


def test_smape_per_series_then_over_series():
    actual = [np.array([100.0, 200.0]), np.array([50.0])]
    forecast = [np.array([110.0, 180.0]), np.array([50.0])]
    first = (200 * 10 / 210 + 200 * 20 / 380) / 2  # 10.025
    np.testing.assert_allclose(fm.smape_per_series(actual, forecast), [first, 0.0])
    assert fm.smape(actual, forecast) == pytest.approx(first / 2)
    assert fm.smape([np.zeros(2)], [np.zeros(2)]) == 0.0  # 0 / 0: a perfect forecast


def test_mape():
    assert fm.mape(np.array([[100.0, 200.0]]), np.array([[110.0, 180.0]])) == pytest.approx(10.0)


def test_mase_with_a_season():
    insample = [np.array([1.0, 2, 3, 5, 4, 6])]  # |3-1|, |5-2|, |4-3|, |6-5|: scale 7/4
    np.testing.assert_allclose(fm.mase_scale(insample, 2), [1.75])
    value = fm.mase(insample, [np.array([7.0, 8.0])], [np.array([6.0, 10.0])], season=2)
    assert value == pytest.approx(1.5 / 1.75)
    assert np.isnan(fm.mase_scale([np.array([1.0, 2.0])], 2)[0])  # no seasonal difference


def test_owa_and_the_summary_weighted_by_steps():
    scores = fm.PointScores(np.array([10.0]), np.array([9.0]), np.array([1.0]), np.array([6]))
    naive2 = fm.PointScores(np.array([20.0]), np.array([9.0]), np.array([0.5]), np.array([6]))
    assert fm.owa(scores, naive2) == pytest.approx((10 / 20 + 1 / 0.5) / 2)
    both = fm.PointScores.concat([scores, fm.PointScores(
        np.array([4.0]), np.array([4.0]), np.array([1.0]), np.array([18]))])
    # Over frequencies, the mean over all forecast points: (6 x 10 + 18 x 4) / 24.
    assert both.summary()["smape"] == pytest.approx((60 + 72) / 24)


def test_seasonal_naive_repeats_the_last_season():
    forecast = fm.seasonal_naive([np.arange(1.0, 7.0), np.arange(1.0, 5.0)], 4, 3)
    np.testing.assert_array_equal(forecast, [[4, 5, 6, 4], [2, 3, 4, 2]])


@pytest.mark.parametrize("pattern, cycles, expected", [
    ([0.5, 1.0, 1.5], 4, [5, 10, 15, 5]),  # odd season: a moving average over 3
    ([0.6, 1.2, 1.4, 0.8], 4, [6, 12, 14, 8, 6]),  # even: the 2 x 4 moving average
])
def test_naive2_on_a_purely_seasonal_series(pattern, cycles, expected):
    series = 10 * np.tile(pattern, cycles)
    season = len(pattern)
    assert fm.seasonality_test([series], season).tolist() == [True]
    np.testing.assert_allclose(fm.seasonal_indices([series], season), [pattern])
    np.testing.assert_allclose(fm.naive2([series], len(expected), season), [expected])


def test_naive2_is_naive_where_the_test_finds_no_season():
    too_short = np.tile([1.0, 3.0], 2)  # fewer than 3 seasons
    rng = np.random.default_rng(0)
    noise = 100 + rng.normal(size=40)
    assert fm.seasonality_test([too_short, noise], 2).tolist() == [False, False]
    np.testing.assert_allclose(fm.naive2([too_short, noise], 3, 2),
                               [[3.0] * 3, [noise[-1]] * 3])
    np.testing.assert_allclose(fm.naive2([noise], 2, 1), [[noise[-1]] * 2])


def reference_naive2(x: np.ndarray, horizon: int, m: int) -> np.ndarray:
    """The M4 benchmarks' R code (SeasonalityTest, decompose, naive), one series by loops."""
    n = len(x)
    mean = x.mean()
    acf = [np.sum((x[k:] - mean) * (x[:n - k] - mean)) / np.sum((x - mean) ** 2)
           for k in range(1, m + 1)]
    limit = 1.645 / np.sqrt(n) * np.sqrt(1 + 2 * sum(a * a for a in acf[:-1]))
    if n < 3 * m or abs(acf[-1]) <= limit:
        return np.full(horizon, x[-1])
    weights = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    half = len(weights) // 2
    ratios = [[] for _ in range(m)]
    for t in range(half, n - half):
        ratios[t % m].append(x[t] / np.dot(weights, x[t - half:t + half + 1]))
    figure = np.array([np.mean(r) for r in ratios])
    figure /= figure.mean()
    return x[-1] / figure[(n - 1) % m] * figure[(n + np.arange(horizon)) % m]


@pytest.mark.parametrize("season", [4, 12, 7])
def test_naive2_matches_the_m4_code_on_series_of_different_lengths(season):
    rng = np.random.default_rng(season)
    series = []
    for length in (3 * season, 3 * season + 5, 5 * season + 1, 2 * season):
        t = np.arange(length)
        series.append((50 + t) * (1 + 0.3 * np.sin(2 * np.pi * t / season))
                      + rng.normal(scale=2, size=length))
    expected = [reference_naive2(x, 6, season) for x in series]
    np.testing.assert_allclose(fm.naive2(series, 6, season), expected, rtol=1e-10)


def test_weighted_quantile_loss():
    actual = np.array([[10.0, 20.0]])
    forecasts = np.array([[[12.0, 5.0], [20.0, 25.0]]])  # (series, steps, quantiles)
    # q=0.5: pinball 1 + 0; q=0.9: 0.9 * 5 + 0.1 * 5. Each times 2 / sum |y| (30).
    expected = ((2 * 1 / 30) + (2 * 5 / 30)) / 2
    assert fm.weighted_quantile_loss(actual, forecasts, [0.5, 0.9]) == pytest.approx(expected)
    listed = fm.weighted_quantile_loss([actual[0]], [forecasts[0]], [0.5, 0.9])
    assert listed == pytest.approx(expected)
    with pytest.raises(ValueError):
        fm.weighted_quantile_loss(actual, forecasts, [0.5, 1.0])


def test_interval_coverage():
    coverage = fm.interval_coverage([np.array([1.0, 2, 3, 4])], [np.array([0.0, 2.5, 2, 5])],
                                    [np.array([2.0, 3, 4, 6])])
    assert coverage == 0.5


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="same length"):
        fm.smape([np.ones(3)], [np.ones(2)])


def test_levels_between_the_learned_ones_are_interpolated_and_learned_ones_exact():
    forecast = np.array([[[1.0, 3.0, 7.0]]])  # levels 0.1, 0.5, 0.9
    found = fm.at_levels(forecast, (0.1, 0.5, 0.9), [0.1, 0.3, 0.5, 0.8])
    np.testing.assert_allclose(found[0, 0], [1.0, 2.0, 3.0, 6.0])


def _lognormal_quantiles(mu, sigma, levels):
    from statistics import NormalDist
    return np.exp(mu + sigma * np.array([NormalDist().inv_cdf(q) for q in levels]))


def test_mapes_bayes_point_of_a_lognormal_is_below_its_median_by_its_spread_squared():
    levels = (0.025, 0.1, 0.5, 0.9, 0.975)
    forecast = np.stack([_lognormal_quantiles(np.log(100.0), s, levels) for s in (0.1, 0.5)])
    np.testing.assert_allclose(fm.mape_point(forecast, levels),
                               [100 * np.exp(-0.01), 100 * np.exp(-0.25)], rtol=1e-9)
    # It is the point of least expected percentage error: a fine sample of the log-normal
    # (its quantiles at 20,000 even levels) scores worse 2% above or below it.
    sample = _lognormal_quantiles(np.log(100.0), 0.5, (np.arange(20_000) + 0.5) / 20_000)
    best = fm.mape_point(forecast[1:], levels)[0]
    ape = [np.mean(np.abs(sample - p) / sample) for p in (0.98 * best, best, 1.02 * best)]
    assert ape[1] < ape[0] and ape[1] < ape[2]
    assert ape[1] < np.mean(np.abs(sample - 100.0) / sample)  # and better than the median


def test_mapes_point_leaves_out_intervals_reaching_zero_and_keeps_the_median_without_one():
    levels = (0.1, 0.25, 0.5, 0.75, 0.9)
    # the 80% interval reaches below 0: only the 50% one (log-spread 0.5) is read
    forecast = np.array([[-1.0, *_lognormal_quantiles(0.0, 0.5, levels)[1:]]])
    np.testing.assert_allclose(fm.mape_point(forecast, levels), [np.exp(-0.25)])
    assert fm.mape_point(np.array([[-2.0, -1.0, 3.0, 4.0, 5.0]]), levels)[0] == 3.0
    assert fm.central_intervals(levels) == [(0, 4, 0.9), (1, 3, 0.75)]
    assert fm.central_intervals((0.5, 0.9)) == []


def test_point_of_reads_a_level_or_mapes_point():
    forecast = np.array([[[1.0, 3.0, 7.0]]])
    assert fm.point_of(forecast, (0.1, 0.5, 0.9), 0.3)[0, 0] == pytest.approx(2.0)
    sigma = np.log(7.0 / 1.0) / (2 * 1.2815515655446004)
    np.testing.assert_allclose(fm.point_of(forecast, (0.1, 0.5, 0.9), fm.MAPE_POINT),
                               [[3.0 * np.exp(-sigma**2)]])
