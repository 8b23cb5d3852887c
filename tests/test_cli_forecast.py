"""`seqrnn forecast train|evaluate|predict|plot`, `seqrnn export` and `seqrnn serve` of a
forecaster: what a user types, and one line with status 2 for what is wrong."""

import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from seqrnn.api.forecast import Forecaster
from seqrnn.cli import main
from seqrnn.configs import ServeLimits
from seqrnn.serve.app import create_app
from tests.forecast_data import seasonal_series, write_series

TRAIN = ["--horizon", "6", "--frequency", "monthly", "--input-length", "12", "--batch-size",
         "16", "--batches-per-epoch", "3", "--epochs", "2", "--hidden-size", "16",
         "--num-layers", "1", "--device", "cpu"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("cli-forecast")
    path = write_series(work / "s.json", seasonal_series(8, 40))
    assert main(["forecast", "train", "--data", str(path), "--out", str(work / "run"),
                 *TRAIN]) == 0
    assert main(["forecast", "train", "--data", str(path), "--out", str(work / "log"),
                 *TRAIN, "--transform", "log"]) == 0
    return work


def test_predict_writes_csv_and_json(run, capsys):
    series = write_series(run / "new.json", seasonal_series(2, 30, seed=9))
    capsys.readouterr()
    assert main(["forecast", "predict", "--model", str(run / "run"), "--series", str(series),
                 "--horizon", "3", "--quantiles", "0.1", "0.5", "0.9"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "id,step,q0.1,q0.5,q0.9" and len(lines) == 1 + 2 * 3
    assert main(["forecast", "predict", "--model", str(run / "run"), "--series", str(series),
                 "--format", "json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in body["series"]] == ["s0", "s1"]
    assert len(body["series"][0]["forecast"]["q0.5"]) == 6
    # a log model's quantiles are positive: MAPE's point lies below the median
    assert main(["forecast", "predict", "--model", str(run / "log"), "--series", str(series),
                 "--horizon", "2", "--quantiles", "0.5", "--point", "mape"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "id,step,q0.5,point"
    median, point = (float(x) for x in lines[1].split(",")[2:])
    assert 0 < point < median


def test_evaluate_backtests_and_plot_draws(run, capsys):
    capsys.readouterr()
    assert main(["forecast", "evaluate", "--model", str(run / "run"), "--backtest", "2"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["origins"] == 2 and found["series"] == 16 and "owa" in found
    out = run / "fan.png"
    assert main(["forecast", "plot", "--model", str(run / "run"), "s0", "s3",
                 "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert main(["forecast", "plot", "--model", str(run / "run"), "s0", "--out", str(out)]) == 2


def test_evaluate_scores_runs_of_different_data_together(run, tmp_path, capsys):
    other = write_series(tmp_path / "other.json", seasonal_series(4, 40, seed=5))
    assert main(["forecast", "train", "--data", str(other), "--out", str(tmp_path / "other"),
                 *TRAIN]) == 0
    capsys.readouterr()
    assert main(["forecast", "evaluate", "--model", str(run / "run"), "--model",
                 str(tmp_path / "other"), "--backtest", "1", "--point", "0.4"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["series"] == 12 and found["models"] == 2
    assert sorted(found["by_frequency"]) == sorted([str(run / "s.json"), str(other)])
    assert set(found["point"].values()) == {0.4}


@pytest.mark.parametrize("name", ["run", "log"])
def test_export_matches_torch_in_onnxruntime(run, name):
    ort = pytest.importorskip("onnxruntime")
    import torch

    from seqrnn.api.forecast import Forecaster
    from seqrnn.data.windows import SeriesBank
    from seqrnn.recipes.forecast import to_tensors

    out = run / f"{name}.onnx"
    assert main(["export", "--model", str(run / name), "--out", str(out)]) == 0
    model = Forecaster.load(run / name).models[0]
    assert model.config.transform == ("log" if name == "log" else "none")
    bank = SeriesBank.of(seasonal_series(3, 30, seed=4), [6] * 3, [0] * 3)
    # A window longer than the model's input: the graph reads any length.
    windows = bank.cut(np.arange(len(bank)), bank.lengths, 16, 6)
    names = ["values", "observed", "frequency", "season_in", "season_out"]
    arrays = dict(zip(names, (windows.values, windows.observed, windows.frequency,
                              windows.season_in, windows.season_out), strict=True))
    got = ort.InferenceSession(str(out)).run(None, arrays)[0]
    with torch.no_grad():
        want = model(*to_tensors(windows, torch.device("cpu"))).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    meta = json.loads((run / f"{name}.onnx.json").read_text())
    assert meta["kind"] == "forecast" and meta["config"]["horizon"] == 6


def test_served_forecast_answers_quantiles_and_refuses_bad_requests(run):
    client = TestClient(create_app(runs=[run / "run"]))
    health = client.get("/api/health").json()
    assert health["models"]["forecast"] and health["horizon"] == 6
    series = seasonal_series(1, 30)[0].tolist()
    body = client.post("/api/forecast", json={"series": series, "horizon": 4,
                                              "quantiles": [0.1, 0.9]}).json()
    assert body["quantiles"] == [0.1, 0.9] and len(body["median"]) == 4
    assert body["point"] is None
    asked = client.post("/api/forecast", json={"series": series, "horizon": 4,
                                               "point": "mape"}).json()
    direct = Forecaster.load(run / "run").predict(series, 4, point="mape").point[0]
    np.testing.assert_allclose(asked["point"], direct, rtol=1e-6)
    assert client.post("/api/forecast", json={"series": series, "point": 0.25}).json()["point"]
    assert all(lo <= hi for lo, hi in zip(body["forecast"]["q0.1"], body["forecast"]["q0.9"],
                                         strict=True))
    for payload, field in (({"series": series, "horizon": 60}, "horizon"),
                           ({"series": series, "frequency": "daily"}, "frequency"),
                           ({"series": [1.0, 2.0]}, "series"),
                           ({"series": series, "point": 0.999}, "point"),
                           ({"series": series, "point": "smape"}, "point")):
        answer = client.post("/api/forecast", json=payload)
        assert answer.status_code == 422 and answer.json()["field"] == field
    assert client.post("/api/forecast", json={"series": [1, "2"]}).status_code == 422


def test_a_served_series_over_the_limit_is_refused_naming_the_flag(run):
    client = TestClient(create_app(runs=[run / "run"], limits=ServeLimits(max_series_points=20)))
    answer = client.post("/api/forecast", json={"series": seasonal_series(1, 21)[0].tolist()})
    assert answer.status_code == 422
    assert answer.json()["error"] == ("the series is 21 values long; this server accepts at "
                                       "most 20 (seqrnn serve --max-series-points)")
    short = client.post("/api/forecast", json={"series": seasonal_series(1, 20)[0].tolist()})
    assert short.status_code == 200


@pytest.mark.parametrize("flags, fragment", [
    (["--horizon", "0"], "horizon"),
    (["--horizon", "6", "--data", "m9"], "no such file or competition: m9"),
    (["--horizon", "6", "--layout", "tall"], "invalid choice"),
    (["--horizon", "6", "--quantiles", "0.2", "0.9"], "quantiles"),
])
def test_bad_training_flags_are_one_line(tmp_path, capsys, flags, fragment):
    path = write_series(tmp_path / "s.json", seasonal_series(3, 30))
    args = ["forecast", "train", "--data", str(path), "--out", str(tmp_path / "r"), *flags]
    try:
        status = main(args)
    except SystemExit as exc:  # argparse's own refusals
        status = exc.code
    err = capsys.readouterr().err.strip()
    assert status == 2 and fragment in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "r").exists()


def test_a_file_with_text_values_is_refused_naming_its_line(tmp_path, capsys):
    path = tmp_path / "s.csv"
    path.write_text("id,time,value\na,2020-01,1\na,2020-02,x\n")
    assert main(["forecast", "train", "--data", str(path), "--horizon", "1",
                 "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert "line 3" in err and len(err.splitlines()) == 1, err
