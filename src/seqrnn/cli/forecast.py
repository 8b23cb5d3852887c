"""`seqrnn forecast train|evaluate|predict|plot`: the global recurrent forecaster."""

from __future__ import annotations

import argparse
import sys
from functools import partial

from seqrnn import jsontext
from seqrnn.cli import kind_commands, options

add = partial(options.add, kind="forecast")  # flags whose defaults are the forecaster's own


def register(subparsers) -> None:
    kind_commands.kind_group(
        subparsers, "forecast",
        help="forecast numeric series with quantiles: train, evaluate, predict, plot",
        description="A global recurrent forecaster: one model over every series of a data set, "
        "each window scaled by its own level, answering every quantile of every step of the "
        "horizon at once. Default data: the M3 competition (pip install 'seqrnn[forecast]').",
        commands=[_register_train, _register_evaluate, _register_predict, _register_plot])


def _series_flags(group, cls) -> None:
    add(group, cls, "horizon", "a file's forecast horizon, in steps", type=int)
    add(group, cls, "frequency", "a file's frequency (yearly, quarterly, monthly, weekly, "
        "daily, hourly, other)")
    add(group, cls, "season_length", "a file's season length (default: its frequency's)",
        type=int)
    add(group, cls, "id_column", "a long CSV file's series id column")
    add(group, cls, "time_column", "a long CSV file's time column")
    add(group, cls, "value_column", "a long CSV file's value column")


def _register_train(commands) -> None:
    kind_commands.train_command(
        commands, "forecast", "Train a forecaster; the best checkpoint is the one of lowest "
        "validation sMAPE (each series' last horizon, carved from its training part).",
        _train_flags, lambda best: f"sMAPE {best['smape']:.3f}, MASE {best['mase']:.3f} "
        f"(loss {best['loss']:.4f})")


def _train_flags(p: argparse.ArgumentParser) -> None:
    from seqrnn.configs.forecast import SCALES, TRANSFORMS, ForecastConfig, ForecastData

    d = p.add_argument_group("data")
    add(d, ForecastData, "data", "m3, m1 or tourism (or one frequency, e.g. m3-monthly), or a "
        "CSV, Parquet or JSON file of series")
    _series_flags(d, ForecastData)
    add(d, ForecastData, "layout", "a CSV file's layout: a row per value (long) or per series "
        "(wide)", choices=["long", "wide"])
    add(d, ForecastData, "input_length", "points of history each window holds")
    add(d, ForecastData, "history", "training windows end within the last this many horizons "
        "of each series")
    d.add_argument("--no-deseasonalise", dest="deseasonalise", action="store_false",
                   default=None, help="feed the series as they are (default: divided by their "
                   "seasonal indices where a seasonality test finds a season)")
    add(d, ForecastData, "batch_size", "windows per batch")
    add(d, ForecastData, "batches_per_epoch", "batches per epoch (windows are drawn afresh)")
    m = p.add_argument_group("model")
    options.add_recurrent_flags(m, ForecastConfig, "units per recurrent layer")
    add(m, ForecastConfig, "dropout", "dropout between layers and before the head")
    add(m, ForecastConfig, "quantiles", "the quantile levels it learns (rising, with 0.5)",
        nargs="+", type=float)
    add(m, ForecastConfig, "scale", "the unit each window is read and forecast in: its mean "
        "absolute value, or its last value (the network forecasts relative to the naive "
        "forecast)", choices=SCALES)
    add(m, ForecastConfig, "transform", "what the network reads and forecasts of each scaled "
        "value: itself, or its logarithm (errors count relative to the value, as MAPE counts "
        "them; for series of values 0 or above)", choices=TRANSFORMS)


ENSEMBLE = ("to forecast with several as an ensemble (the mean of each quantile; runs of the "
            "same series)")


def _register_evaluate(commands) -> None:
    p = kind_commands.model_command(
        commands, "evaluate", _evaluate,
        "to evaluate several: runs of the same data form an ensemble (the mean of each "
        "quantile); runs of different data (each frequency of a competition trained alone) "
        "are scored together, every forecast point alike")
    kind_commands.add_checkpoint_flags(p)
    p.add_argument("--backtest", type=int, default=0, metavar="N",
                   help="forecast from N rolling origins, one horizon apart, at the end of "
                   "each series (the model is not refitted), all in one batch")
    _add_point_flag(p, "median")


def _register_predict(commands) -> None:
    p = kind_commands.model_command(commands, "predict", _predict, ENSEMBLE)
    kind_commands.add_checkpoint_flags(p)
    p.add_argument("--series", type=options.path_arg, metavar="FILE",
                   help="the series (default: JSON on standard input)")
    p.add_argument("--horizon", type=int, help="steps to forecast (default: the model's)")
    p.add_argument("--quantiles", type=float, nargs="+",
                   help="quantile levels (default: those the model learned)")
    p.add_argument("--frequency", help="the series' frequency, one the model knows (default: "
                   "its only one)")
    p.add_argument("--format", choices=["csv", "json"], default="csv",
                   help="output format (default: csv)")
    _add_point_flag(p, None)


def _register_plot(commands) -> None:
    p = kind_commands.model_command(commands, "plot", _plot, ENSEMBLE)
    kind_commands.add_checkpoint_flags(p)
    p.add_argument("ids", nargs="+", metavar="ID", help="series ids, e.g. N1402")
    p.add_argument("--out", type=options.path_arg, required=True, metavar="PNG",
                   help="the picture to write")
    options.add_overwrite_flag(p, "the picture")


def _add_point_flag(p: argparse.ArgumentParser, default: str | None) -> None:
    p.add_argument("--point", type=_point, default=default, metavar="median|METRIC|LEVEL",
                   help="the point forecast: the median" + (" (default)" if default else "")
                   + ", mape (the forecast of least expected percentage error: MAPE's Bayes "
                   "point of each step's quantiles), smape or mase (the quantile level that "
                   "scores best in it on the validation split), or a LEVEL such as 0.4"
                   + ("" if default else "; none by default"))


def _point(text: str) -> float | str:
    """--point's value: a level as a number, a word as itself (the library checks both)."""
    try:
        return float(text)
    except ValueError:
        return text


def _evaluate(args: argparse.Namespace) -> int:
    """sMAPE, MAPE, MASE, OWA and interval coverage

    Print one JSON object: the point metrics as the M competitions define them (sMAPE, MAPE,
    MASE, OWA against Naive2), the weighted quantile loss and the coverage of the intervals,
    overall and per frequency, on the held-out future of the run's data (a competition's test
    set), or with --backtest on the last horizons of each series.
    """
    from seqrnn.api.forecast import Forecaster, evaluate_parts

    parts = Forecaster.load_parts(args.model, weights=args.weights, device=args.device)
    found = (parts[0].evaluate(backtest=args.backtest, point=args.point) if len(parts) == 1
             else evaluate_parts(parts, backtest=args.backtest, point=args.point))
    print(jsontext.dumps(found))
    return 0


def _predict(args: argparse.Namespace) -> int:
    """forecast series it never saw

    Forecast each series of a file (CSV, Parquet or JSON, as training reads them) or of
    standard input (JSON: a list of {"id", "values"} or an object of id to values); print CSV (a
    row per series and step, a column per quantile, and one for the point forecast with
    --point) or JSON.
    """
    from seqrnn.api.forecast import read_input_series

    model = kind_commands.load_model(args, "forecast")
    series = read_input_series(args.series, model.data)
    forecast = model.predict(series, args.horizon, quantiles=args.quantiles,
                             frequency=args.frequency, point=args.point)
    if args.format == "json":
        print(jsontext.dumps(forecast.to_dict()))
    else:
        sys.stdout.write(forecast.to_csv())
    return 0


def _plot(args: argparse.Namespace) -> int:
    """history, forecast and intervals as PNG

    Draw chosen series of the run's data: their history, the median forecast, the intervals, and
    the held-out future where there is one.
    """
    from seqrnn.analysis.forecast_plot import forecast_plot

    written = forecast_plot(kind_commands.load_model(args, "forecast"), args.ids, args.out,
                            overwrite=args.overwrite)
    print(f"wrote {written}", file=sys.stderr)
    return 0
