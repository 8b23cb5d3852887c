"""A trained forecaster, ready to forecast series it never saw, with any quantile.

    from seqrnn.api.forecast import Forecaster
    model = Forecaster.load("runs/m3")
    fc = model.predict([[112, 118, 132, 129, 121, 135]], horizon=6, frequency="monthly",
                       quantiles=[0.1, 0.5, 0.9])
    fc.median            # (1, 6) point forecasts
    model.evaluate()     # sMAPE, MASE, OWA, ... on the run's own held-out future
    model.predict(series, point="mape").point   # the forecast of least expected MAPE
    both = Forecaster.load(["runs/m3", "runs/m3-seed2"])   # an ensemble: the mean quantiles
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from seqrnn.api.loading import load_trained
from seqrnn.api.protocol import load_members, run_dirs
from seqrnn.configs.forecast import MAX_HORIZON, ForecastConfig, ForecastData
from seqrnn.data.series import SeriesSet, validation_split
from seqrnn.data.series_files import read_series_file, series_from_json
from seqrnn.data.windows import SeriesBank, bank_of
from seqrnn.errors import UserError, field_error
from seqrnn.forecast_metrics import MAPE_POINT, at_levels, central_intervals, point_of
from seqrnn.models.forecast import ForecastRNN
from seqrnn.recipes.forecast import (
    POINT_METRICS,
    RECIPE,
    best_point_level,
    read_sets,
    scores,
    to_tensors,
)
from seqrnn.run import RunConfig, RunFolder

BATCH = 4096  # windows forecast at once


@dataclass(frozen=True)
class Forecast:
    """Quantile forecasts of several series: values[i, k, j] is series ids[i]'s quantile
    quantiles[j] at step k + 1 after its end; `point` the point forecasts asked for, if any."""

    ids: list[str]
    quantiles: tuple[float, ...]
    values: np.ndarray  # (series, horizon, quantiles)
    point: np.ndarray | None = None  # (series, horizon)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def median(self) -> np.ndarray:
        """(series, horizon): the medians (the 0.5 quantile, or the middle one asked)."""
        levels = np.asarray(self.quantiles)
        return self.values[..., int(np.argmin(np.abs(levels - 0.5)))]

    def to_dict(self) -> dict:
        return {"quantiles": list(self.quantiles),
                "series": [{"id": series_id,
                            "forecast": {_level(q): self.values[i, :, j].tolist()
                                         for j, q in enumerate(self.quantiles)},
                            **({} if self.point is None else {"point": self.point[i].tolist()})}
                           for i, series_id in enumerate(self.ids)]}

    def to_csv(self) -> str:
        """A header, then one row per series and step: id, step, a column per quantile (and
        the point forecast, when there is one)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        point = [] if self.point is None else ["point"]
        writer.writerow(["id", "step", *(_level(q) for q in self.quantiles), *point])
        for i, series_id in enumerate(self.ids):
            for k in range(self.values.shape[1]):
                extra = [] if self.point is None else [repr(float(self.point[i, k]))]
                writer.writerow([series_id, k + 1, *(repr(float(v)) for v in self.values[i, k]),
                                 *extra])
        return out.getvalue()


def _level(q: float) -> str:
    return f"q{q:g}"


class Forecaster:
    """One trained forecaster, or an ensemble of runs averaging their quantiles."""

    def __init__(self, models: Sequence[ForecastRNN], data: ForecastData, config: RunConfig, *,
                 run: Path | None = None):
        self.models = [m.eval() for m in models]
        self.data, self.config, self.run = data, config, run  # the (first) run's

    @classmethod
    def load(cls, run_dir: str | Path | Sequence[str | Path], *, weights: str = "best",
             device: str = "cpu") -> Forecaster:
        """One run folder, or several forecasting as an ensemble (the mean of each quantile):
        runs of the same data, horizons, frequencies and quantiles; their input lengths,
        sizes and seeds may differ."""
        paths = run_dirs(run_dir)
        # The split is each series' last horizon: no seed draws it, so seeds may differ.
        members = load_members(paths, RECIPE.kind,
                               lambda path: cls._load_one(path, weights, device), seeded=False)
        first = members[0]
        for path, member in zip(paths[1:], members[1:], strict=True):
            mine, theirs = first.model_config, member.model_config
            for what, a, b in [("horizon", mine.horizon, theirs.horizon),
                               ("frequencies", mine.frequencies, theirs.frequencies),
                               ("quantiles", mine.quantiles, theirs.quantiles)]:
                if a != b:
                    raise UserError(f"{path} cannot join an ensemble with {paths[0]}: its {what} "
                                    "differ; ensemble runs trained on the same series")
        return cls([m for member in members for m in member.models], first.data, first.config,
                   run=first.run)

    @classmethod
    def load_parts(cls, run_dir: str | Path | Sequence[str | Path], *, weights: str = "best",
                   device: str = "cpu") -> list[Forecaster]:
        """Run folders grouped by their data, in the order first given: the runs of one data
        form an ensemble, each group one part for evaluate_parts (runs trained on each
        frequency of a competition alone, say)."""
        groups: dict[str, list[Path]] = {}
        for path in run_dirs(run_dir):  # grouped by the data its config names: no weights read
            run = RunFolder(path)
            groups.setdefault(_run_data(run, run.read_config(RECIPE.kind)).data,
                              []).append(path)
        return [cls.load(paths, weights=weights, device=device) for paths in groups.values()]

    @classmethod
    def _load_one(cls, run_dir: str | Path, weights: str, device: str) -> Forecaster:
        run = RunFolder(run_dir)
        loaded = load_trained(run_dir, RECIPE, weights=weights, device=device)
        return cls([loaded.model], _run_data(run, loaded.config), loaded.config, run=run.path)

    @property
    def model_config(self) -> ForecastConfig:
        """The (first) model's architecture: its horizon, frequencies and quantiles."""
        return self.models[0].config

    @property
    def device(self) -> torch.device:
        return next(self.models[0].parameters()).device

    def predict(self, series, horizon: int | None = None, *,
                quantiles: Sequence[float] | None = None,
                frequency: str | None = None, point: float | str | None = None) -> Forecast:
        """Forecast each series `horizon` steps (default: the model's longest) past its end.

        `series` is one sequence of numbers, a list of them, or a mapping of id to values;
        `frequency` is one of the model's (default: its only one); `quantiles` any levels
        between the model's lowest and highest (interpolated between those it learned);
        `point` adds point forecasts, read as evaluate reads them (a level, "median", or a
        metric: "mape" for MAPE's Bayes point)."""
        if isinstance(series, SeriesSet):  # read from a file: its frequency is `frequency`
            ids, values = series.ids, series.train
        else:
            ids, values = _as_series(series)
        horizon = self._horizon(horizon)
        index = self._frequency(frequency)
        season = self.model_config.season_lengths[index]
        if self.model_config.deseasonalise and season > 1:
            short = [(i, len(v)) for i, v in zip(ids, values, strict=True) if len(v) <= season]
            if short:
                name = self.model_config.frequencies[index]
                raise field_error("series", f"series {short[0][0]} of {{}} has {short[0][1]} "
                                  f"values: this model reads {name} series of at least "
                                  f"{season + 1} (its season and one more)")
        if self.model_config.transform == "log":
            negative = [i for i, v in zip(ids, values, strict=True) if (np.asarray(v) < 0).any()]
            if negative:
                raise field_error("series", f"series {negative[0]} of {{}} has negative values: "
                                  "this model forecasts logarithms, for values 0 or above")
        one = SeriesSet("series", list(ids), list(values), horizon, season,
                        self.model_config.frequencies[index])
        bank = bank_of([one], deseasonalise=self.model_config.deseasonalise,
                       frequencies=[index])
        forecast = self.quantiles_at(bank, np.arange(len(bank)), bank.lengths)[:, :horizon]
        learned = self.model_config.quantiles
        levels = learned if quantiles is None else self._levels(quantiles)
        return Forecast(ids, tuple(levels), at_levels(forecast, learned, levels),
                        None if point is None else point_of(forecast, learned,
                                                            self._point(point)))

    @torch.no_grad()
    def quantiles_at(self, bank: SeriesBank, rows: np.ndarray,
                     origins: np.ndarray) -> np.ndarray:
        """(len(rows), horizon, Q) float64: the ensemble's mean quantiles for series `rows`
        forecast from `origins` (positions within each series), batched."""
        out = np.zeros((len(rows), self.model_config.horizon, len(self.model_config.quantiles)))
        for model in self.models:
            for start in range(0, len(rows), BATCH):
                part = slice(start, start + BATCH)
                windows = bank.cut(rows[part], origins[part], model.config.input_length,
                                   model.config.horizon)
                out[part] += model(*to_tensors(windows, self.device)).double().cpu().numpy()
        return out / len(self.models)

    def evaluate(self, backtest: int = 0, point: float | str = "median") -> dict:
        """Competition metrics (recipes.forecast.scores) of the forecasts of the run's series:
        from the end of each training part against its held-out future (a competition's test
        set), or with `backtest` N from N rolling origins one horizon apart at the end of each
        series (the model is not refitted; each origin's seasonal indices read only what
        precedes it). Every forecast of every origin is one batch.

        `point` is how the point forecast is read from the quantiles: "median", a level
        between the lowest and highest learned, "mape" for MAPE's Bayes point (the forecast of
        least expected percentage error: forecast_metrics.mape_point, no fitting), or
        "smape" or "mase" for the level point_level chooses for that metric on the validation
        split."""
        point = self._point(point)
        sets = self._evaluation_sets(backtest)
        forecast, frequency = self._forecast_futures(sets)
        return {"data": self.data.data, "origins": max(backtest, 1), "models": len(self.models),
                "point": point,
                **scores(sets, forecast, frequency, self.model_config.quantiles, point)}

    def _evaluation_sets(self, backtest: int) -> list[SeriesSet]:
        """The run's series with their held-out futures, or `backtest` origins of each."""
        if isinstance(backtest, bool) or not isinstance(backtest, int) or backtest < 0:
            raise field_error("backtest", f"{{}} must be a count of origins, 0 or more, got "
                              f"{backtest!r}")
        sets = read_sets(self.data)
        if backtest:
            sets = [_origins(one, backtest) for one in sets]
        elif any(one.future is None for one in sets):
            raise field_error("backtest", f"{self.data.data} holds no held-out future: give "
                              "{} N to forecast from the last N horizons of each series")
        self._frequencies_match(sets)
        return sets

    def point_level(self, metric: str) -> float:
        """The level whose quantile, read as the point forecast, scores best in `metric`
        ("smape", "mape" or "mase") on the run's validation split (the last horizon of each
        training series, as in training): MAPE, which punishes forecasting too high more
        than too low, is often best served below the median. Use it with
        predict(quantiles=[level]) or evaluate(point=level); evaluate(point="smape") and
        "mase" choose it themselves ("mape" reads MAPE's Bayes point instead)."""
        if metric not in POINT_METRICS:
            raise self._point_error(metric)
        sets = [validation_split(one).validation for one in read_sets(self.data)]
        self._frequencies_match(sets)
        forecast, frequency = self._forecast_futures(sets)
        return best_point_level(sets, forecast, frequency, self.model_config.quantiles, metric)

    def _point(self, point: float | str) -> float | str:
        """`point` as scores reads it: a level, or MAPE_POINT."""
        if point == MAPE_POINT:
            if not central_intervals(self.model_config.quantiles):
                raise field_error("point", f"{{}} {MAPE_POINT} reads the spread of a central "
                                  "interval (levels q and 1 - q); this model learned "
                                  f"{list(self.model_config.quantiles)}: give a level")
            return MAPE_POINT
        if isinstance(point, str):
            return 0.5 if point == "median" else self.point_level(point)
        low, high = self.model_config.quantiles[0], self.model_config.quantiles[-1]
        if isinstance(point, bool) or not isinstance(point, int | float) or not (
                low <= point <= high):
            raise self._point_error(point)
        return float(point)

    def _point_error(self, point: object) -> UserError:
        low, high = self.model_config.quantiles[0], self.model_config.quantiles[-1]
        return field_error("point", f"{{}} must be median, a metric ({', '.join(POINT_METRICS)}) "
                           f"or a level between {low} and {high} (the model's outer quantiles), "
                           f"got {point!r}")

    def _forecast_futures(self, sets: list[SeriesSet]) -> tuple[np.ndarray, np.ndarray]:
        """The ensemble's quantiles (N, H, Q) from the end of each set's training parts, and
        each row's frequency index."""
        bank = bank_of(sets, futures=[one.future for one in sets],
                       deseasonalise=self.model_config.deseasonalise)
        lengths = np.concatenate([[len(p) for p in one.train] for one in sets]).astype(np.int64)
        return self.quantiles_at(bank, np.arange(len(bank)), lengths), bank.frequency

    def _frequencies_match(self, sets: list[SeriesSet]) -> None:
        found = [one.frequency for one in sets]
        if found != list(self.model_config.frequencies):
            raise UserError(f"{self.data.data} now gives the frequencies {found}, the run "
                            f"trained on {list(self.model_config.frequencies)}: evaluate on the "
                            "series it was trained on")

    def _horizon(self, horizon: int | None) -> int:
        if horizon is None:
            return self.model_config.horizon
        longest = self.model_config.horizon
        if isinstance(horizon, bool) or not isinstance(horizon, int) or not (
                1 <= horizon <= longest):
            raise field_error("horizon", f"{{}} must be between 1 and {longest} (the longest "
                              f"this model forecasts), got {horizon!r}")
        return horizon

    def _frequency(self, frequency: str | None) -> int:
        known = self.model_config.frequencies
        if frequency is None:
            if len(known) > 1:
                raise field_error("frequency", "this model forecasts several frequencies: "
                                  f"give {{}} as one of {', '.join(known)}")
            return 0
        if frequency not in known:
            raise field_error("frequency", f"this model never saw {{}} {frequency!r}: use one "
                              f"of {', '.join(known)}")
        return known.index(frequency)

    def _levels(self, quantiles: Sequence[float]) -> tuple[float, ...]:
        learned = self.model_config.quantiles
        levels = []
        for q in quantiles:
            if isinstance(q, bool) or not isinstance(q, (int, float)) or not (
                    learned[0] <= q <= learned[-1]):
                raise field_error("quantiles", f"each of {{}} must be between {learned[0]} and "
                                  f"{learned[-1]} (the levels this model learned), got {q!r}")
            levels.append(float(q))
        if not levels:
            raise field_error("quantiles", "{} must not be empty")
        return tuple(levels)


def evaluate_parts(parts: Sequence[Forecaster], backtest: int = 0,
                   point: float | str = "median") -> dict:
    """Forecasters of different data scored as one (each frequency of a competition trained
    alone: tourism-yearly, tourism-quarterly, tourism-monthly): the metrics of every part's
    series together, every forecast point weighing alike as the competitions weigh their
    frequencies, and each set's own. `point` is read by each part alone (smape or mase: the
    level best on that part's validation split); the parts must share their quantiles."""
    if not parts:
        raise field_error("model", "{} needs at least one forecaster")
    names = [part.data.data for part in parts]
    quantiles = parts[0].model_config.quantiles
    sets, blocks, frequency, points = [], [], [], []
    for part in parts:
        if part.model_config.quantiles != quantiles:
            raise field_error("model", f"the runs of {part.data.data} learned other quantiles "
                              f"than those of {names[0]}: parts must share their quantiles")
        mine = part._evaluation_sets(backtest)
        seen = {one.name for one in sets} & {one.name for one in mine}
        if seen:
            raise field_error("model", f"two parts forecast {min(seen)}: load the runs of one "
                              "data together (Forecaster.load of their list, an ensemble)")
        forecast, rows = part._forecast_futures(mine)
        frequency.append(rows + len(sets))
        sets += mine
        blocks.append(forecast)
        points += [part._point(point)] * len(mine)
    longest = max(block.shape[1] for block in blocks)
    forecast = np.concatenate([np.pad(block, ((0, 0), (0, longest - block.shape[1]), (0, 0)),
                                      constant_values=np.nan) for block in blocks])
    return {"data": names, "origins": max(backtest, 1),
            "models": sum(len(part.models) for part in parts),
            "point": dict(zip([one.name for one in sets], points, strict=True)),
            **scores(sets, forecast, np.concatenate(frequency), quantiles, points)}


def _run_data(run: RunFolder, config: RunConfig) -> ForecastData:
    """The data settings a run was trained with (the defaults where it recorded none)."""
    return run.build_config(ForecastData, config.data, "data") if config.data else ForecastData()


def _origins(one: SeriesSet, count: int) -> SeriesSet:
    """`one` cut at `count` rolling origins: for k = 1..count, each series' part before its
    last k horizons, with the next horizon as its future (series too short for an origin,
    one needing more than a season of history before it, are left out of that origin)."""
    ids, train, future = [], [], []
    for k in range(1, count + 1):
        for series_id, values in zip(one.ids, one.train, strict=True):
            origin = len(values) - k * one.horizon
            if origin > one.season:
                ids.append(f"{series_id}@{k}")
                train.append(values[:origin])
                future.append(values[origin : origin + one.horizon])
    if not ids:
        raise field_error("backtest", f"no series of {one.name} is long enough for {count} "
                          "origins: give a smaller {}")
    return replace(one, ids=ids, train=train, future=future)


def read_input_series(path: str | Path | None, data: ForecastData,
                      frequency: str | None = None) -> SeriesSet:
    """The series to forecast: a file read as training reads files (its columns and layout
    are the run's), or JSON on standard input."""
    horizon = MAX_HORIZON  # the forecast's horizon is asked separately; only reading here
    if path is None:
        text = sys.stdin.read()
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"standard input is not JSON ({exc.msg}, line {exc.lineno}): give "
                            "a list of {\"id\", \"values\"} or --series FILE") from None
        return series_from_json(document, horizon=horizon, frequency=frequency,
                                name="standard input")
    return read_series_file(path, horizon=horizon, layout=data.layout,
                            id_column=data.id_column, time_column=data.time_column,
                            value_column=data.value_column, frequency=frequency)


def _as_series(series) -> tuple[list[str], list[np.ndarray]]:
    """(ids, float64 arrays) of one series, a list of them, or a mapping id -> values."""
    if isinstance(series, str | bytes):
        raise field_error("series", "{} must be numbers, not a string")
    if isinstance(series, Mapping):
        ids, raw = [str(k) for k in series], list(series.values())
    else:
        raw = list(series)
        if raw and not isinstance(raw[0], str | bytes) and np.ndim(raw[0]) == 0:
            raw = [raw]  # one series
        ids = [str(i) for i in range(len(raw))]
    if not raw:
        raise field_error("series", "{} must hold at least one series")
    values = []
    for series_id, one in zip(ids, raw, strict=True):
        try:
            array = np.asarray(one, dtype=np.float64)
        except (TypeError, ValueError):
            raise field_error("series", f"series {series_id} of {{}} holds a value that is not "
                              "a number") from None
        if array.ndim != 1 or len(array) == 0:
            raise field_error("series", f"series {series_id} of {{}} must be a non-empty list "
                              "of numbers")
        if not np.isfinite(array).all():
            raise field_error("series", f"series {series_id} of {{}} holds a missing or "
                              "infinite value: fill it first")
        values.append(array)
    return ids, values
