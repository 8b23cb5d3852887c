"""The recurrent forecaster on a forecasting competition's test set, against the published anchors.

    python bench/forecast.py --out runs/m3 [--data m3] [--members 4] [--minutes 15]
        [--set hidden_size=128 input_length=24,36 yearly:input_length=12 ...]
        [--point median|mape] [--by-frequency] [--baselines snaive,naive2,autotheta]

Trains `--members` runs of `seqrnn forecast train` on `--data` one after the other, each for
`--minutes` (seeds 1, 2, ...; a member's `--set` items may vary by member: `input_length=24,36`
gives member k the k-th value, cycling), selects each on its validation sMAPE (the last horizon
of each training series), then scores each member and the ensemble (the mean of their
quantiles) once on the held-out test set. `--point mape` reads as the point forecast MAPE's
Bayes point of each step's quantiles; `smape` or `mase` the quantile level that scores best in
it on that validation split (Forecaster.point_level).
`--by-frequency` trains each frequency of the competition alone (its members in
out/<frequency>/1, ...), each ensemble with its own point level, and scores them together
(seqrnn.api.forecast.evaluate_parts); a `--set` item `FREQUENCY:FIELD=VALUE` applies to that
frequency's runs only (`yearly:minutes=2`).
`--baselines` scores the statistical models of
bench/forecast_baselines.py in the same run, each with its fitting and forecasting time (they
need `pip install -e ".[bench]"` for statsforecast). Needs `pip install -e ".[forecast]"`.

Published anchors (N-BEATS paper, Oreshkin et al. 2020; sMAPE over all forecast points, MAPE
for Tourism): M3 Theta 13.01 (yearly 16.90, quarterly 8.96, monthly 13.85, other 4.41),
ForecastPro 13.19, N-BEATS 12.37; Tourism seasonal naive 21.25, ETS 20.88, Theta 20.88, the
Kaggle winner 19.35, N-BEATS 18.47. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from forecast_baselines import METHODS
from forecast_baselines import run as run_baselines
from imdb_train import parse_value
from machine import describe
from runs import train_timed

from seqrnn.api.forecast import Forecaster, evaluate_parts
from seqrnn.data.series import COMPETITIONS

ANCHORS = {
    "m3": {"metric": "smape", "theta": 13.01, "forecastpro": 13.19, "n-beats": 12.37,
           "theta_by_frequency": {"m3-yearly": 16.90, "m3-quarterly": 8.96,
                                  "m3-monthly": 13.85, "m3-other": 4.41}},
    "tourism": {"metric": "mape", "seasonal_naive": 21.25, "ets": 20.88, "theta": 20.88,
                "kaggle_winner": 19.35, "n-beats": 18.47},
}


def member_settings(items: list[str], k: int, frequency: str | None = None) -> dict:
    """The `--set` items for member k: a comma list gives member k its k-th value, cycling;
    an item `FREQUENCY:FIELD=VALUE` only for the runs of that frequency."""
    settings = {}
    for item in items:
        field, _, values = item.partition("=")
        only, _, field = field.rpartition(":")
        if only and only != frequency:
            continue
        choices = values.split(",")
        settings[field] = parse_value(choices[k % len(choices)])
    return settings


def brief(scores: dict, metric: str) -> dict:
    keep = ("point", metric, "smape", "mase", "owa", "coverage_80", "coverage_95",
            "quantile_loss")
    return {**{k: round(scores[k], 4) if isinstance(scores[k], float) else scores[k]
               for k in dict.fromkeys(keep) if k in scores},
            "by_frequency": {name: round(one[metric], 3)
                             for name, one in scores["by_frequency"].items()}}


def train_member(parser: argparse.ArgumentParser, run: str, settings: dict, point: str,
                 metric: str) -> dict:
    """Train (or finish) one member run and score it alone on the test set."""
    trained, report = train_timed(parser, "forecast", run, settings)
    return {"run": run, "settings": {k: v for k, v in settings.items()
                                     if k not in ("progress", "threads")},
            **report, "test": brief(trained.model.evaluate(point=point), metric)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder of the member runs (out/1, ...)")
    parser.add_argument("--data", default="m3", help="a competition, e.g. m3 or tourism")
    parser.add_argument("--members", type=int, default=4, help="runs in the ensemble (4)")
    parser.add_argument("--minutes", type=float, default=15.0, help="training per member (15)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (2)")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE[,VALUE...]",
                        help="any data, model or training field")
    parser.add_argument("--point", default="median",
                        help="the point forecast: median, mape (MAPE's Bayes point), or smape "
                        "or mase (the best level on the validation split) (median)")
    parser.add_argument("--by-frequency", action="store_true",
                        help="train each frequency of the competition alone and score them "
                        "together")
    parser.add_argument("--baselines", default="", help=f"comma-separated, of: "
                        f"{', '.join(METHODS)} (none by default)")
    args = parser.parse_args()
    baselines = [m for m in args.baselines.split(",") if m]
    if set(baselines) - set(METHODS):
        parser.error(f"unknown baselines; use some of {', '.join(METHODS)}")
    if args.by_frequency and args.data not in COMPETITIONS:
        parser.error(f"--by-frequency needs a whole competition: {', '.join(COMPETITIONS)}")
    metric = ANCHORS.get(args.data.partition("-")[0], {"metric": "smape"})["metric"]

    parts = ({f"{args.data}-{f}": f for f in COMPETITIONS[args.data][1]}
             if args.by_frequency else {args.data: None})
    members, runs = [], []
    for data, frequency in parts.items():
        for k in range(args.members):
            settings = {"data": data, "minutes": args.minutes, "threads": args.threads,
                        "progress": False, "seed": k + 1,
                        **member_settings(args.set, k, frequency)}
            run = f"{args.out}/{frequency}/{k + 1}" if frequency else f"{args.out}/{k + 1}"
            members.append(train_member(parser, run, settings, args.point, metric))
            runs.append(run)
            print(json.dumps(members[-1]), flush=True)
    started = time.perf_counter()
    loaded = Forecaster.load_parts(runs)
    ensemble = (evaluate_parts(loaded, point=args.point) if args.by_frequency
                else loaded[0].evaluate(point=args.point))
    forecast_seconds = time.perf_counter() - started
    statistical = run_baselines(args.data, baselines) if baselines else {}
    print(json.dumps({
        "command": "python bench/forecast.py " + " ".join(
            [f"--out {args.out}", f"--data {args.data}", f"--members {args.members}",
             f"--minutes {args.minutes:g}", *(["--set", *args.set] if args.set else []),
             *([f"--point {args.point}"] if args.point != "median" else []),
             *(["--by-frequency"] if args.by_frequency else []),
             *([f"--baselines {args.baselines}"] if baselines else [])]),
        "machine": describe(args.threads),
        "torch": torch.__version__,
        "members": members,
        "ensemble": {**brief(ensemble, metric),
                     "train_seconds": round(sum(m["train_seconds"] for m in members), 1),
                     "forecast_seconds": round(forecast_seconds, 2)},
        "baselines": statistical,
        "anchors": ANCHORS.get(args.data.partition("-")[0], {}),
    }, indent=1))


if __name__ == "__main__":
    main()
