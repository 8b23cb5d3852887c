"""Windows over many series (data/windows.py): padding, masks, seasonal factors, sampling."""

import numpy as np
import pytest

from seqrnn.data.series import series_set
from seqrnn.data.windows import SeriesBank, bank_of


def bank() -> SeriesBank:
    return SeriesBank.of([np.arange(1.0, 6.0), np.arange(10.0, 20.0)], [3, 2], [0, 1])


def test_a_cut_pads_on_the_left_and_masks_past_the_end_and_the_horizon():
    w = bank().cut(np.array([0, 1]), np.array([2, 9]), input_length=4, horizon=3)
    assert w.values.tolist() == [[0, 0, 1, 2], [15, 16, 17, 18]]
    assert w.observed.tolist() == [[0, 0, 1, 1], [1, 1, 1, 1]]
    assert w.targets.tolist() == [[3, 4, 5], [19, 0, 0]]
    assert w.mask.tolist() == [[True, True, True], [True, False, False]]
    assert w.frequency.tolist() == [0, 1]
    assert (w.season_in == 1).all() and (w.season_out == 1).all()


def test_a_cut_at_each_end_is_a_forecasts_input():
    b = bank()
    w = b.cut(np.arange(len(b)), b.lengths, input_length=2, horizon=2)
    assert w.values.tolist() == [[4, 5], [18, 19]]
    assert not w.mask.any()


def test_samples_are_reproducible_and_inside_the_history():
    b = SeriesBank.of([np.arange(100.0)], [5], [0])
    one = b.sample(np.random.default_rng(3), 500, 10, 5, history=2)
    two = b.sample(np.random.default_rng(3), 500, 10, 5, history=2)
    assert np.array_equal(one.values, two.values)
    origins = one.values[:, -1] + 1  # the value before the origin is origin - 1
    assert origins.min() >= 90 and origins.max() <= 99


def test_seasonal_factors_follow_each_series_phase_into_the_future():
    b = SeriesBank.of([np.ones(6)], [4], [0], seasons=[3], indices=[np.array([0.5, 1.0, 1.5])])
    w = b.cut(np.array([0]), np.array([6]), input_length=4, horizon=4)
    assert w.season_in.tolist() == [[1.0, 1.5, 0.5, 1.0, 1.5][1:]]
    assert w.season_out.tolist() == [[0.5, 1.0, 1.5, 0.5]]


def test_indices_come_from_the_parts_never_from_a_future():
    t = np.arange(48)
    values = [100 * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) + k for k in range(3)]
    one = series_set(values, horizon=6, frequency="monthly")
    clean = bank_of([one], futures=[[np.ones(6)] * 3])
    poisoned = bank_of([one], futures=[[np.full(6, np.nan)] * 3])
    assert np.isfinite(poisoned.indices).all()
    assert np.array_equal(clean.indices, poisoned.indices)
    assert clean.indices[0].std() > 0.1  # seasonal: the indices are not all 1
    flat = bank_of([one], deseasonalise=False)
    assert (flat.indices == 1).all()


@pytest.mark.parametrize("sets", [0, 2])
def test_bank_of_numbers_each_set_as_a_frequency(sets):
    many = [series_set([np.arange(1.0, 9.0)], horizon=2, frequency="yearly")
            for _ in range(sets)]
    b = bank_of(many)
    assert b.frequency.tolist() == list(range(sets))
