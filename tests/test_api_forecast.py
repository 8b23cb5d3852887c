"""The loaded forecaster (api/forecast.py): predict on unseen series, any quantile, ensembles,
evaluation and backtests."""

import json

import numpy as np
import pytest

import seqrnn
from seqrnn import forecast_metrics as fm
from seqrnn.api.forecast import Forecast, Forecaster, evaluate_parts, read_input_series
from seqrnn.errors import UserError
from tests.forecast_data import seasonal_series, write_series

SETTINGS = {"horizon": 6, "frequency": "monthly", "input_length": 12, "batch_size": 32,
            "batches_per_epoch": 4, "epochs": 2, "hidden_size": 16, "num_layers": 1,
            "progress": False, "device": "cpu"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    work = tmp_path_factory.mktemp("forecast")
    path = write_series(work / "s.json", seasonal_series(12, 48))
    for seed, length in ((1, 12), (2, 18)):
        seqrnn.train("forecast", work / f"r{seed}", data=str(path), seed=seed,
                     **{**SETTINGS, "input_length": length})
    return work


def test_predict_gives_every_quantile_of_every_step_in_order(runs):
    model = Forecaster.load(runs / "r1")
    found = model.predict({"a": np.arange(1.0, 40.0), "b": np.ones(30)}, 4,
                          quantiles=[0.1, 0.25, 0.5, 0.9])
    assert found.ids == ["a", "b"] and found.values.shape == (2, 4, 4)
    assert (np.diff(found.values, axis=-1) >= 0).all()
    assert found.median.shape == (2, 4)


def test_asked_levels_the_model_learned_are_its_own(runs):
    model = Forecaster.load(runs / "r1")
    series = seasonal_series(1, 30)[0]
    learned = model.predict(series)
    asked = model.predict(series, quantiles=list(model.model_config.quantiles))
    np.testing.assert_allclose(asked.values, learned.values)
    between = model.predict(series, quantiles=[0.3]).values[..., 0]
    low, high = learned.values[..., 1], learned.values[..., 2]  # 0.1 and 0.5
    assert ((between >= low) & (between <= high)).all()


def test_a_series_1000_times_larger_gets_a_forecast_1000_times_larger(runs):
    model = Forecaster.load(runs / "r1")
    series = seasonal_series(1, 30)[0]
    np.testing.assert_allclose(model.predict(1000 * series).values,
                               1000 * model.predict(series).values, rtol=1e-4)


def test_an_ensemble_averages_its_members_quantiles(runs):
    one, two = Forecaster.load(runs / "r1"), Forecaster.load(runs / "r2")
    both = Forecaster.load([runs / "r1", runs / "r2"])
    series = seasonal_series(2, 40, seed=5)
    np.testing.assert_allclose(both.predict(series).values,
                               (one.predict(series).values + two.predict(series).values) / 2,
                               rtol=1e-6)


def test_evaluate_on_a_file_asks_for_a_backtest_and_backtests_in_one_batch(runs):
    model = Forecaster.load(runs / "r1")
    with pytest.raises(UserError, match="backtest"):
        model.evaluate()
    found = model.evaluate(backtest=2)
    assert found["origins"] == 2 and found["series"] == 24
    assert 0 < found["smape"] < 200 and 0 <= found["coverage_80"] <= 1


@pytest.mark.parametrize("call, field", [
    (lambda m: m.predict([1.0] * 20, 0), "horizon"),
    (lambda m: m.predict([1.0] * 20, 7), "horizon"),
    (lambda m: m.predict([1.0] * 20, frequency="weekly"), "frequency"),
    (lambda m: m.predict([1.0] * 20, quantiles=[0.999]), "quantiles"),
    (lambda m: m.predict([1.0, 2.0, 3.0]), "series"),  # shorter than a season and one more
    (lambda m: m.predict([[1.0, "x"]]), "series"),
    (lambda m: m.predict([1.0, float("nan")] * 10), "series"),
    (lambda m: m.predict("1 2 3"), "series"),
    (lambda m: m.evaluate(backtest=-1), "backtest"),
])
def test_bad_requests_are_one_line_naming_their_field(runs, call, field):
    with pytest.raises(UserError) as caught:
        call(Forecaster.load(runs / "r1"))
    assert field in caught.value.fields
    assert "\n" not in str(caught.value)


def test_an_ensemble_of_other_series_is_refused(runs, tmp_path):
    path = write_series(tmp_path / "other.json", seasonal_series(12, 48))
    seqrnn.train("forecast", tmp_path / "other", data=str(path), **{**SETTINGS, "horizon": 5})
    with pytest.raises(UserError, match="cannot join an ensemble"):
        Forecaster.load([runs / "r1", tmp_path / "other"])


def test_forecasts_write_as_csv_and_json():
    found = Forecast(["a"], (0.1, 0.5), np.array([[[1.0, 2.0], [3.0, 4.0]]]))
    assert found.to_csv().splitlines() == ["id,step,q0.1,q0.5", "a,1,1.0,2.0", "a,2,3.0,4.0"]
    assert found.to_dict() == {"quantiles": [0.1, 0.5], "series": [
        {"id": "a", "forecast": {"q0.1": [1.0, 3.0], "q0.5": [2.0, 4.0]}}]}
    pointed = Forecast(["a"], (0.5,), np.array([[[2.0], [4.0]]]), np.array([[1.5, 3.5]]))
    assert pointed.to_csv().splitlines() == ["id,step,q0.5,point", "a,1,2.0,1.5", "a,2,4.0,3.5"]
    assert pointed.to_dict()["series"][0]["point"] == [1.5, 3.5]


def test_input_series_come_from_standard_input_or_a_file(tmp_path, monkeypatch):
    from seqrnn.configs.forecast import ForecastData

    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(json.dumps({"x": [1, 2, 3]})))
    assert read_input_series(None, ForecastData()).ids == ["x"]
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("not json"))
    with pytest.raises(UserError, match="standard input is not JSON"):
        read_input_series(None, ForecastData())
    path = write_series(tmp_path / "s.json", seasonal_series(2, 20))
    assert read_input_series(path, ForecastData()).ids == ["s0", "s1"]


def test_the_point_forecast_level_is_chosen_on_validation_and_reported(runs):
    model = Forecaster.load(runs / "r1")
    level = model.point_level("smape")
    assert 0.025 <= level <= 0.975 and round(level / 0.05, 6).is_integer()
    chosen = model.evaluate(backtest=1, point="smape")
    assert chosen["point"] == level
    assert chosen["smape"] == pytest.approx(model.evaluate(backtest=1, point=level)["smape"])
    assert model.evaluate(backtest=1)["point"] == 0.5
    for bad in ("mad", 0.99, True):
        with pytest.raises(UserError) as caught:
            model.evaluate(backtest=1, point=bad)
        assert caught.value.fields == ("point",) and "\n" not in str(caught.value)


def test_mapes_point_is_read_from_each_steps_quantiles_in_evaluate_and_predict(runs):
    model = Forecaster.load(runs / "r1")
    found = model.evaluate(backtest=1, point="mape")
    assert found["point"] == "mape"
    sets = model._evaluation_sets(1)
    forecast, frequency = model._forecast_futures(sets)
    by_hand = fm.mape(sets[0].future, fm.mape_point(forecast, model.model_config.quantiles))
    assert found["mape"] == pytest.approx(by_hand)
    series = seasonal_series(2, 30, seed=3)
    predicted = model.predict(series, 4, point="mape")
    np.testing.assert_allclose(predicted.point, fm.mape_point(
        model.predict(series, 4).values, model.model_config.quantiles))
    lower_positive = predicted.values[..., 0] > 0  # (tiny models' intervals reach below 0)
    assert (predicted.point[lower_positive] < predicted.median[lower_positive]).all()
    assert (predicted.point <= predicted.median).all()
    assert model.predict(series, 4, point=0.5).point.tolist() == predicted.median.tolist()
    assert model.predict(series, 4).point is None


def test_mapes_point_needs_a_central_interval(tmp_path):
    path = write_series(tmp_path / "s.json", seasonal_series(6, 40))
    seqrnn.train("forecast", tmp_path / "r", data=str(path),
                 **{**SETTINGS, "epochs": 1, "quantiles": [0.5, 0.9]})
    with pytest.raises(UserError, match="central interval") as caught:
        Forecaster.load(tmp_path / "r").predict(seasonal_series(1, 30)[0], point="mape")
    assert caught.value.fields == ("point",) and "\n" not in str(caught.value)


def test_a_log_model_refuses_to_forecast_negative_values(tmp_path):
    path = write_series(tmp_path / "s.json", seasonal_series(6, 40))
    seqrnn.train("forecast", tmp_path / "log", data=str(path),
                  **{**SETTINGS, "epochs": 1, "transform": "log"})
    model = Forecaster.load(tmp_path / "log")
    assert (model.predict({"a": [1.0, 2.0, 0.0] * 6}).values > 0).all()
    with pytest.raises(UserError, match="series b .* negative values") as caught:
        model.predict({"a": [1.0] * 18, "b": [1.0, -2.0] * 9})
    assert caught.value.fields == ("series",)


def test_runs_of_different_data_are_scored_together_every_point_alike(runs, tmp_path):
    path = write_series(tmp_path / "other.json", seasonal_series(12, 48, seed=3))
    seqrnn.train("forecast", tmp_path / "other", data=str(path), **{**SETTINGS, "horizon": 5})
    parts = Forecaster.load_parts([runs / "r1", tmp_path / "other", runs / "r2"])
    assert [len(part.models) for part in parts] == [2, 1]  # r1 and r2: one data, an ensemble
    together = evaluate_parts(parts, backtest=1, point="mape")
    alone = [part.evaluate(backtest=1, point="mape") for part in parts]
    points = [one["series"] * horizon for one, horizon in zip(alone, (6, 5), strict=True)]
    for metric in ("smape", "mase"):
        expected = sum(one[metric] * n for one, n in zip(alone, points, strict=True))
        assert together[metric] == pytest.approx(expected / sum(points))
    for one in alone:  # each set as it scores alone, at its own point level
        (name, scored), = one["by_frequency"].items()
        assert together["by_frequency"][name] == pytest.approx(scored)
        assert together["point"][name] == one["point"]
    assert together["models"] == 3 and together["series"] == 24


def test_parts_forecasting_the_same_series_are_refused(runs):
    part = Forecaster.load(runs / "r1")
    with pytest.raises(UserError, match="two parts forecast") as caught:
        evaluate_parts([part, Forecaster.load(runs / "r2")], backtest=1)
    assert caught.value.fields == ("model",) and "\n" not in str(caught.value)
