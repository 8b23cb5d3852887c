"""Training the forecaster (recipes/forecast.py): it learns, it never reads the future, it
resumes, and its metrics are the competitions'."""

import numpy as np
import pytest
import torch

import seqrnn
from seqrnn.configs import TrainConfig
from seqrnn.configs.forecast import ForecastData
from seqrnn.data.series import series_set
from seqrnn.errors import UserError
from seqrnn.recipes import base
from seqrnn.recipes.forecast import RECIPE, best_point_level, read_sets, scores
from seqrnn.run import RunFolder
from tests.forecast_data import noise_floor_smape, seasonal_series, write_series

SMALL = {"hidden_size": 32, "num_layers": 1, "dropout": 0.0}
LOOP = {"lr": 5e-3, "lr_schedule": "constant", "amp": "off", "progress": False, "device": "cpu",
        "seed": 3}  # a schedule by steps, not by the clock: exact resume


def test_a_noisy_seasonal_series_is_learned_to_near_its_noise_floor(tmp_path):
    noise = 0.02
    path = write_series(tmp_path / "s.json", seasonal_series(40, 72, noise=noise))
    trained = seqrnn.train("forecast", tmp_path / "run", data=str(path), horizon=12,
                           frequency="monthly", input_length=24, batch_size=128,
                           batches_per_epoch=50, epochs=4, eval_every=50, **SMALL, **LOOP)
    floor = noise_floor_smape(noise)  # ~1.6: the noiseless signal's sMAPE on noisy targets
    best = trained.result.best_eval
    assert best["smape"] < 1.5 * floor, (best, floor)
    # Seasonal naive on the same targets pays the noise twice: the model beats it.
    assert best["owa"] < 1.0


def test_the_log_transform_learns_a_noisy_seasonal_series_and_refuses_negative_values(
        tmp_path):
    noise = 0.02
    path = write_series(tmp_path / "s.json", seasonal_series(40, 72, noise=noise))
    settings = {"horizon": 12, "frequency": "monthly", "input_length": 24, "batch_size": 128,
                "batches_per_epoch": 50, "epochs": 4, "eval_every": 50, "transform": "log",
                **SMALL, **LOOP}
    trained = seqrnn.train("forecast", tmp_path / "run", data=str(path), **settings)
    assert trained.result.best_eval["smape"] < 1.5 * noise_floor_smape(noise)
    series = seasonal_series(4, 40)
    series[2] = series[2] - series[2].mean()  # values below 0
    negative = write_series(tmp_path / "n.json", series)
    with pytest.raises(UserError) as caught:
        seqrnn.train("forecast", tmp_path / "neg", data=str(negative), **settings)
    assert caught.value.fields == ("transform",) and "\n" not in str(caught.value)
    assert not (tmp_path / "neg" / "model.safetensors").exists()


def poisoned(future_value: float) -> list:
    values = seasonal_series(12, 40, noise=0.05, seed=1)
    return [series_set(values, horizon=6, frequency="monthly", name="toy",
                       future=[np.full(6, future_value)] * len(values))]


def test_training_scaling_and_validation_never_read_the_held_out_future():
    data = ForecastData(data="toy", input_length=12, batch_size=32, batches_per_epoch=5)
    loop = TrainConfig(epochs=2, eval_every=5, **LOOP)
    runs = []
    for future in (np.nan, 1e12):
        torch.manual_seed(0)
        runs.append(base.start(RECIPE, data, SMALL, loop, None, raw=poisoned(future)))
    a, b = runs
    assert a.result.best_eval == b.result.best_eval
    assert all(np.isfinite(v) for v in a.result.best_eval.values())
    for (name, x), (_, y) in zip(a.trainer.model.state_dict().items(),
                                 b.trainer.model.state_dict().items(), strict=True):
        assert torch.equal(x, y), name


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path):
    path = write_series(tmp_path / "s.json", seasonal_series(10, 40))
    settings = dict(data=str(path), horizon=6, frequency="monthly", input_length=12,
                    batch_size=16, batches_per_epoch=4, epochs=3, eval_every=4, **SMALL, **LOOP)
    straight = seqrnn.train("forecast", tmp_path / "a", **settings)
    seqrnn.train("forecast", tmp_path / "b", **{**settings, "max_steps": 5})
    resumed = seqrnn.train("forecast", tmp_path / "b", resume="auto",
                           **{**settings, "max_steps": 12})
    assert resumed.result.step == straight.result.step == 12
    one, _ = RunFolder(tmp_path / "a").load_weights()
    two, _ = RunFolder(tmp_path / "b").load_weights()
    assert all(torch.equal(one[k], two[k]) for k in one)


def test_resuming_on_other_series_is_refused(tmp_path):
    path = write_series(tmp_path / "s.json", seasonal_series(10, 40))
    seqrnn.train("forecast", tmp_path / "run", data=str(path), horizon=6, frequency="monthly",
                 input_length=12, batch_size=16, batches_per_epoch=2, epochs=2, **SMALL, **LOOP)
    with pytest.raises(UserError, match="other horizons or frequencies"):
        RECIPE.prepare(read_sets(ForecastData(data=str(path), horizon=7, frequency="monthly",
                                              input_length=12)),
                       ForecastData(data=str(path), horizon=7, input_length=12), False,
                       RunFolder(tmp_path / "run"))


def test_a_file_needs_its_horizon(tmp_path):
    path = write_series(tmp_path / "s.json", seasonal_series(3, 30))
    with pytest.raises(UserError, match="horizon") as caught:
        read_sets(ForecastData(data=str(path)))
    assert caught.value.fields == ("horizon",)


def test_scores_weigh_every_forecast_point_alike_and_report_the_intervals():
    a = series_set([np.arange(1.0, 11.0)], horizon=2, frequency="yearly", name="a",
                   future=[np.array([11.0, 12.0])])
    b = series_set([np.arange(1.0, 11.0)], horizon=4, frequency="yearly", name="b",
                   future=[np.array([11.0, 12.0, 13.0, 14.0])])
    perfect_a = np.stack([np.array([[10, 11, 12], [11, 12, 13]])])  # median exact
    wrong_b = np.stack([np.array([[20, 22, 24]] * 4)])  # median 22: far off
    forecast = np.zeros((2, 4, 3))
    forecast[0, :2] = perfect_a[0]
    forecast[1] = wrong_b[0]
    found = scores([a, b], forecast, np.array([0, 1]), (0.1, 0.5, 0.9))
    smape_b = np.mean([200 * abs(y - 22) / (y + 22) for y in (11, 12, 13, 14)])
    assert found["by_frequency"]["a"]["smape"] == 0
    assert found["by_frequency"]["b"]["smape"] == pytest.approx(smape_b)
    assert found["smape"] == pytest.approx(smape_b * 4 / 6)  # 2 points of a, 4 of b
    assert found["coverage_80"] == pytest.approx(2 / 6)  # a's points are inside, b's are not


def test_scores_read_the_point_forecast_at_the_level_asked():
    a = series_set([np.arange(1.0, 11.0)], horizon=2, frequency="yearly", name="a",
                   future=[np.array([11.0, 11.0])])
    forecast = np.array([[[10.0, 12.0, 16.0], [10.0, 12.0, 16.0]]])  # levels 0.1, 0.5, 0.9
    found = scores([a], forecast, np.array([0]), (0.1, 0.5, 0.9), point=0.3)
    assert found["mape"] == pytest.approx(0.0)  # 0.3: halfway from 10 to 12, exactly 11
    median = scores([a], forecast, np.array([0]), (0.1, 0.5, 0.9))
    assert median["mape"] == pytest.approx(100 / 11)


def test_the_best_point_level_is_chosen_for_the_metric_and_ignores_unscorable_series():
    # Each series' future sits at its 0.3 quantile: MAPE and sMAPE are 0 there.
    sets = [series_set([np.arange(1.0, 11.0)] * 2, horizon=1, frequency="yearly", name="a",
                       future=[np.array([10.0]), np.array([0.0])])]
    forecast = np.array([[[6.0, 10.0, 12.0, 14.0]], [[-4.0, 0.0, 2.0, 4.0]]])
    levels = (0.1, 0.3, 0.5, 0.9)
    assert best_point_level(sets, forecast, np.array([0, 0]), levels, "mape") == 0.3
    # the second series' actual 0 makes its MAPE infinite at every level but 0.3: left out
    sets[0].future[1][0] = 0.0
    flat = np.array([[[10.0, 10.0, 10.0, 10.0]], [[-4.0, 0.0, 2.0, 4.0]]])
    assert best_point_level(sets, flat, np.array([0, 0]), levels, "mape") == 0.5  # a tie
