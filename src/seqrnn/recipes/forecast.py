"""Training the forecaster: its series, its model and the objective the training loop
optimises.

    import seqrnn
    seqrnn.train("forecast", out="runs/m3", data="m3", minutes=20)

Each training series' last `horizon` points are its validation target (series too short to
spare them train without one); the held-out futures of a competition are never read here.
Windows are drawn afresh for every batch (from the run's seed, the epoch and the batch's
index, so a resumed run draws the same ones); selection is on the validation sMAPE of the
median forecast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from seqrnn.configs import TrainConfig
from seqrnn.configs.forecast import ForecastConfig, ForecastData
from seqrnn.data.series import COMPETITION_NAMES, SeriesSet, load_competition, validation_split
from seqrnn.data.series_files import read_series_file
from seqrnn.data.windows import SeriesBank, Windows, bank_of
from seqrnn.errors import UserError, field_error
from seqrnn.forecast_metrics import (
    PointScores,
    at_levels,
    central_intervals,
    interval_coverage,
    naive2,
    point_of,
    score_forecasts,
    weighted_quantile_loss,
)
from seqrnn.models.forecast import ForecastRNN, pinball_loss
from seqrnn.recipes import base
from seqrnn.run import RunFolder
from seqrnn.trainer import IndependentBatches, Selection
from seqrnn.trainer.distributed import Group


@dataclass(frozen=True)
class Split:
    """The training series (validation tails removed) and the validation windows."""

    train: SeriesBank
    val: Windows
    val_sets: list[SeriesSet]  # per frequency: the validated series (train = what preceded)


def read_sets(data: ForecastData) -> list[SeriesSet]:
    """A competition's sets (one per frequency), or a file's one set."""
    if data.data in COMPETITION_NAMES:
        return load_competition(data.data)
    if not Path(data.data).expanduser().exists():
        raise field_error("data", f"no such file or competition: {data.data}; give a file of "
                          f"series or one of {', '.join(COMPETITION_NAMES)}")
    if data.horizon is None:
        raise field_error("horizon", f"{data.data} is a file of series: give its {{}} (the "
                          "steps to forecast)")
    return [read_series_file(data.data, horizon=data.horizon, layout=data.layout,
                             id_column=data.id_column, time_column=data.time_column,
                             value_column=data.value_column, frequency=data.frequency,
                             season=data.season_length)]


def split(sets: list[SeriesSet], data: ForecastData) -> Split:
    """Each series' last horizon points become its validation target (series too short to
    spare them train without one: series_set's validation_split)."""
    carved = [validation_split(one) for one in sets]
    train = bank_of(sets, [c.fit.train for c in carved], deseasonalise=data.deseasonalise)
    val_sets = [c.validation for c in carved]
    val_bank = bank_of(sets, [v.train for v in val_sets],
                       futures=[v.future for v in val_sets], deseasonalise=data.deseasonalise)
    lengths = np.concatenate([[len(p) for p in v.train] for v in val_sets]).astype(np.int64)
    val = val_bank.cut(np.arange(len(val_bank)), lengths, data.input_length,
                       int(val_bank.horizons.max()))
    return Split(train, val, val_sets)


def scores(sets: list[SeriesSet], forecast: np.ndarray, frequency: np.ndarray,
           quantiles: tuple[float, ...],
           point: float | str | Sequence[float | str] = 0.5) -> dict:
    """Competition metrics of forecasts (N, H, Q), the rows of each set in frequency order,
    against each set's future: overall (every forecast point weighs the same, as the
    competitions' figures over frequencies), and per set. The point forecast is the quantile
    at level `point` (the median by default) or MAPE's Bayes point (MAPE_POINT: point_of),
    or one of those per set."""
    points = [point] * len(sets) if isinstance(point, int | float | str) else list(point)
    parts, naive, flat, per = [], [], [], {}
    for k, (one, read_as) in enumerate(zip(sets, points, strict=True)):
        predicted = forecast[frequency == k, : one.horizon]
        point_forecast = point_of(predicted, quantiles, read_as)
        scored = score_forecasts(one.train, one.future, point_forecast, one.season)
        benchmark = score_forecasts(one.train, one.future,
                                    naive2(one.train, one.horizon, one.season), one.season)
        parts.append(scored)
        naive.append(benchmark)
        flat.append(predicted.reshape(-1, len(quantiles)))
        per[one.name] = {**scored.summary(benchmark), **_intervals(one.future, predicted,
                                                                   quantiles)}
    overall = PointScores.concat(parts).summary(PointScores.concat(naive))
    futures = [f for one in sets for f in one.future]
    return {**overall, **_intervals(futures, np.concatenate(flat), quantiles),
            "by_frequency": per}


POINT_METRICS = ("smape", "mape", "mase")
LEVEL_STEP = 0.05  # the grid of levels a point forecast is chosen from


def best_point_level(sets: list[SeriesSet], forecast: np.ndarray, frequency: np.ndarray,
                     quantiles: tuple[float, ...], metric: str) -> float:
    """The level, on a grid of LEVEL_STEP around 0.5 within the learned quantiles' range,
    whose quantile forecast scores best in `metric` against the sets' futures (the median on
    a tie). Where a metric is infinite for a series (MAPE of an actual 0) that series is left
    out of the comparison, so one zero cannot make every level equal."""
    low, high = quantiles[0], quantiles[-1]
    steps = np.arange(-round(0.5 / LEVEL_STEP), round(0.5 / LEVEL_STEP) + 1)
    grid = [level for level in np.round(0.5 + steps * LEVEL_STEP, 6).tolist()
            if low <= level <= high]
    per_level = []
    for level in grid:
        point = at_levels(forecast, quantiles, [level])[..., 0]
        scored = PointScores.concat([
            score_forecasts(one.train, one.future, point[frequency == k, : one.horizon],
                            one.season) for k, one in enumerate(sets)])
        per_level.append(getattr(scored, metric))
    table = np.stack(per_level)  # (levels, series)
    finite = np.isfinite(table).all(axis=0)
    steps = scored.steps[finite]  # the competitions' weights: every forecast point alike
    means = (table[:, finite] @ steps / steps.sum() if finite.any()
             else np.zeros(len(grid)))
    best = min(range(len(grid)), key=lambda i: (round(float(means[i]), 9), abs(grid[i] - 0.5)))
    return float(grid[best])


def _intervals(actual, predicted: np.ndarray, quantiles: tuple[float, ...]) -> dict:
    """The weighted quantile loss, and the coverage of each central interval the levels
    make (0.1 and 0.9: "coverage_80")."""
    flat = predicted.reshape(-1, len(quantiles))
    out = {"quantile_loss": weighted_quantile_loss(actual, flat, quantiles)}
    for low, high, upper_level in central_intervals(quantiles):
        out[f"coverage_{round(100 * (2 * upper_level - 1)):g}"] = interval_coverage(
            actual, flat[:, low], flat[:, high])
    return out


def to_tensors(windows: Windows, device: torch.device) -> tuple[torch.Tensor, ...]:
    """The model's inputs: values, observed, frequency, season_in, season_out."""
    return tuple(torch.from_numpy(x).to(device) for x in (
        windows.values, windows.observed, windows.frequency, windows.season_in,
        windows.season_out))


def scaled_loss(model: ForecastRNN, windows: Windows
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The pinball loss of the windows' deseasonalised, scaled (and encoded) targets (every
    window weighs alike), the predicted quantiles (B, H, Q) in units, decoded, and the units
    (B, H): each window's scale times its steps' seasonal factors."""
    device = next(model.parameters()).device
    values, observed, frequency, season_in, season_out = to_tensors(windows, device)
    predicted, scale = model.forward_scaled(values, observed, frequency, season_in)
    units = scale * season_out
    targets = model.encode(torch.from_numpy(windows.targets).to(device, torch.float32) / units)
    quantiles = torch.tensor(model.config.quantiles, device=device)
    mask = torch.from_numpy(windows.mask).to(device)
    predicted = predicted.float()
    return (pinball_loss(predicted, targets, mask, quantiles), model.decode(predicted),
            units)


class ForecastObjective(IndependentBatches):
    """The loop's objective: fresh windows every batch, pinball loss over every quantile of
    every step. Under torchrun every rank takes its slice of each global batch."""

    items = "windows"
    selection = Selection("smape", higher_is_better=False)

    def __init__(self, sets: Split, data: ForecastData, horizon: int, seed: int,
                 group: Group | None = None):
        super().__init__(data.batch_size, group)
        self.sets, self.data, self.horizon, self.seed = sets, data, horizon, seed

    def num_batches(self, epoch: int) -> int:
        return self.data.batches_per_epoch

    def batch(self, epoch: int, index: int) -> Windows:
        rng = np.random.default_rng([self.seed, epoch, index])
        windows = self.sets.train.sample(rng, self.data.batch_size, self.data.input_length,
                                         self.horizon, self.data.history)
        mine = self.group.share(self.data.batch_size)
        return windows.rows(mine)

    def train_loss(self, model: ForecastRNN, batch: Windows) -> tuple[torch.Tensor, int]:
        return scaled_loss(model, batch)[0], len(batch)

    @torch.no_grad()
    def evaluate(self, model: ForecastRNN) -> dict[str, float]:
        """Pinball loss (deseasonalised, in each window's scale) and the competition metrics
        of the validation targets (each rank alike: the set is small)."""
        was_training = model.training
        model.eval()
        val = self.sets.val
        loss, predicted, units = scaled_loss(model, val)
        forecast = (predicted * units.unsqueeze(-1)).double().cpu().numpy()
        model.train(was_training)
        found = scores(self.sets.val_sets, forecast, val.frequency, model.config.quantiles)
        return {"loss": float(loss), **{k: v for k, v in found.items() if isinstance(v, float)}}


class ForecastRecipe(base.Recipe[ForecastData, list[SeriesSet], Split, ForecastConfig]):
    kind = "forecast"
    data_config = ForecastData
    model_config = ForecastConfig
    model_class = ForecastRNN

    def absolute_paths(self, data: ForecastData) -> ForecastData:
        if data.data in COMPETITION_NAMES:
            return data  # a name, not a path
        return super().absolute_paths(data)

    def read(self, data: ForecastData, seed: int, progress: bool) -> list[SeriesSet]:
        return read_sets(data)

    def prepare(self, raw: list[SeriesSet], data: ForecastData, progress: bool,
                saved: RunFolder | None) -> base.Prepared:
        fields = {"horizon": max(one.horizon for one in raw),
                  "frequencies": [one.frequency for one in raw],
                  "season_lengths": [one.season for one in raw],
                  "input_length": data.input_length, "deseasonalise": data.deseasonalise}
        if saved is not None:
            theirs = saved.read_config(self.kind).model
            if any(theirs.get(k) != v for k, v in fields.items()):
                raise UserError(f"{data.data} gives other horizons or frequencies than the run "
                                f"in {saved.path}: resume with the series it was trained on",
                                fields=("data",))
        return base.Prepared(files={}, model_fields=fields, sets=split(raw, data))

    def build_model(self, prepared: base.Prepared, model_options: dict) -> ForecastRNN:
        sets = prepared.sets
        if model_options.get("transform") == "log" and (
                (sets.train.values < 0).any() or (sets.val.targets < 0).any()):
            raise field_error("transform", "{} log reads series of values 0 or above, and these "
                              "hold negative values: train with --transform none")
        return super().build_model(prepared, model_options)

    def check_model_options(self, model_options: dict) -> ForecastConfig:
        return self.model_config(**{"horizon": 1, "frequencies": ("other",),
                                    "season_lengths": (1,), "input_length": 1,
                                    "deseasonalise": False, **model_options})

    def batch_shape(self, data: ForecastData) -> tuple[int, int, str]:
        return data.batch_size, data.input_length, "input_length"

    def make_objective(self, prepared: base.Prepared, data: ForecastData,
                       train_config: TrainConfig, group: Group) -> ForecastObjective:
        return ForecastObjective(prepared.sets, data, prepared.model_fields["horizon"],
                                 train_config.seed, group)


RECIPE = ForecastRecipe()

