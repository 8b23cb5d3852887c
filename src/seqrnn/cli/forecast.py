"""`seqrnn forecast train|evaluate|predict|plot`: the global recurrent forecaster."""

from __future__ import annotations

import argparse
import sys
from functools import partial

from seqrnn import jsontext
from seqrnn.cli import options

add = partial(options.add, kind="forecast")  # flags whose defaults are the forecaster's own


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "forecast", help="forecast numeric series with quantiles: train, evaluate, predict, plot",
        description="A global recurrent forecaster: one model over every series of a data set, "
        "each window scaled by its own level, answering every quantile of every step of the "
        "horizon at once. Default data: the M3 competition (pip install 'seqrnn[forecast]').")
    commands = parser.add_subparsers(dest="forecast_command", metavar="COMMAND", required=True)
    _register_train(commands)
    _register_evaluate(commands)
    _register_predict(commands)
    _register_plot(commands)


def _series_flags(group, cls) -> None:
    add(group, cls, "horizon", "a file's forecast horizon, in steps")
    add(group, cls, "frequency", "a file's frequency (yearly, quarterly, monthly, weekly, "
        "daily, hourly, other)")
    add(group, cls, "season_length", "a file's season length (default: its frequency's)")
    add(group, cls, "id_column", "a long CSV file's series id column")
    add(group, cls, "time_column", "a long CSV file's time column")
    add(group, cls, "value_column", "a long CSV file's value column")


def _register_train(commands) -> None:
    from seqrnn.configs.forecast import ForecastConfig, ForecastData

    p = commands.add_parser("train", help="train a model into a run folder",
                            description="Train a forecaster; the best checkpoint is the one of "
                            "lowest validation sMAPE (each series' last horizon, carved from its "
                            "training part). " + options.defaults_sentence("forecast"))
    options.add_run_flags(p, "forecast")
    d = p.add_argument_group("data")
    add(d, ForecastData, "data", "m3, m1 or tourism (or one frequency, e.g. m3-monthly), or a "
        "CSV or JSON file of series")
    _series_flags(d, ForecastData)
    add(d, ForecastData, "input_length", "points of history each window holds")
    add(d, ForecastData, "history", "training windows end within the last this many horizons "
        "of each series")
    add(d, ForecastData, "batch_size", "windows per batch")
    add(d, ForecastData, "batches_per_epoch", "batches per epoch (windows are drawn afresh)")
    m = p.add_argument_group("model")
    add(m, ForecastConfig, "cell", "recurrent cell", choices=["lstm", "gru", "rnn"])
    add(m, ForecastConfig, "hidden_size", "units per layer")
    add(m, ForecastConfig, "num_layers", "recurrent layers")
    add(m, ForecastConfig, "dropout", "dropout between layers and before the head")
    add(m, ForecastConfig, "quantiles", "the quantile levels it learns (rising, with 0.5)",
        nargs="+", type=float)
    options.add_train_loop_flags(p, "forecast")
    p.set_defaults(run=_train)


def _model_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=options.path_arg, required=True, action="append",
                   metavar="RUN_DIR",
                   help="a trained run folder; repeat it to forecast with several as an "
                   "ensemble (the mean of each quantile; runs of the same series)")
    p.add_argument("--weights", choices=["best", "latest"], default="best",
                   help="which checkpoint of the run (default: best)")


def _register_evaluate(commands) -> None:
    p = commands.add_parser("evaluate", help="sMAPE, MAPE, MASE, OWA and interval coverage",
                            description="Print one JSON object: the point metrics as the M "
                            "competitions define them (sMAPE, MAPE, MASE, OWA against Naive2), "
                            "the weighted quantile loss and the coverage of the intervals, "
                            "overall and per frequency, on the held-out future of the run's "
                            "data (a competition's test set), or with --backtest on the last "
                            "horizons of each series.")
    _model_flags(p)
    p.add_argument("--backtest", type=int, default=0, metavar="N",
                   help="forecast from N rolling origins, one horizon apart, at the end of "
                   "each series (the model is not refitted), all in one batch")
    p.set_defaults(run=_evaluate)


def _register_predict(commands) -> None:
    p = commands.add_parser("predict", help="forecast series it never saw",
                            description="Forecast each series of a file (CSV or JSON, as "
                            "training reads them) or of standard input (JSON: a list of "
                            "{\"id\", \"values\"} or an object of id to values); print CSV (a "
                            "row per series and step, a column per quantile) or JSON.")
    _model_flags(p)
    p.add_argument("--series", type=options.path_arg, metavar="FILE",
                   help="the series (default: JSON on standard input)")
    p.add_argument("--horizon", type=int, help="steps to forecast (default: the model's)")
    p.add_argument("--quantiles", type=float, nargs="+",
                   help="quantile levels (default: those the model learned)")
    p.add_argument("--frequency", help="the series' frequency, one the model knows (default: "
                   "its only one)")
    p.add_argument("--format", choices=["csv", "json"], default="csv",
                   help="output format (default: csv)")
    p.set_defaults(run=_predict)


def _register_plot(commands) -> None:
    p = commands.add_parser("plot", help="history, forecast and intervals as PNG",
                            description="Draw chosen series of the run's data: their history, "
                            "the median forecast, the intervals, and the held-out future where "
                            "there is one.")
    _model_flags(p)
    p.add_argument("ids", nargs="+", metavar="ID", help="series ids, e.g. N1402")
    p.add_argument("--out", type=options.path_arg, required=True, metavar="PNG",
                   help="the picture to write")
    options.add_overwrite_flag(p, "the picture")
    p.set_defaults(run=_plot)


def _train(args: argparse.Namespace) -> int:
    result, run_dir = options.train_or_resume(args, "forecast")
    if not result.is_main:
        return 130 if result.stopped == "interrupted" else 0
    best = result.best_eval
    print(f"stopped ({result.stopped}) at step {result.step}, epoch {result.epoch}; best "
          f"validation sMAPE {best['smape']:.3f}, MASE {best['mase']:.3f} (loss "
          f"{best['loss']:.4f}); run folder {run_dir}", file=sys.stderr)
    return options.training_status(result, run_dir, "forecast")


def _load(args: argparse.Namespace):
    from seqrnn.api.forecast import Forecaster

    return Forecaster.load(args.model, weights=args.weights)


def _evaluate(args: argparse.Namespace) -> int:
    print(jsontext.dumps(_load(args).evaluate(backtest=args.backtest)))
    return 0


def _predict(args: argparse.Namespace) -> int:
    from seqrnn.api.forecast import read_input_series

    model = _load(args)
    series = read_input_series(args.series, model.data)
    forecast = model.predict(series, args.horizon, quantiles=args.quantiles,
                             frequency=args.frequency)
    if args.format == "json":
        print(jsontext.dumps(forecast.to_dict()))
    else:
        sys.stdout.write(forecast.to_csv())
    return 0


def _plot(args: argparse.Namespace) -> int:
    from seqrnn.analysis.forecast_plot import forecast_plot

    written = forecast_plot(_load(args), args.ids, args.out, overwrite=args.overwrite)
    print(f"wrote {written}", file=sys.stderr)
    return 0
