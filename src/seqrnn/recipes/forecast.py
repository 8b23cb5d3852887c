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

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from seqrnn.configs import TrainConfig
from seqrnn.configs.forecast import ForecastConfig, ForecastData
from seqrnn.data.windows import SeriesBank, Windows
from seqrnn.errors import UserError
from seqrnn.models.forecast import ForecastRNN, pinball_loss
from seqrnn.recipes import base
from seqrnn.run import RunFolder
from seqrnn.trainer import Selection, TrainResult
from seqrnn.trainer.distributed import Group

MIN_TRAINING_POINTS = 2  # a window needs a point before its origin and one after it


@dataclass(frozen=True)
class Split:
    """The training series (validation tails removed) and the validation windows."""

    train: SeriesBank
    val: Windows
    val_scale: np.ndarray  # (V,) each validation series' in-sample seasonal naive error (MASE)


def split(bank: SeriesBank, input_length: int, horizon: int,
          season_lengths: np.ndarray) -> Split:
    """Carve each series' last horizon points off as its validation target, where the series
    keeps at least MIN_TRAINING_POINTS before them."""
    has_val = bank.lengths >= bank.horizons + MIN_TRAINING_POINTS
    if not has_val.any():
        raise UserError("no series is long enough to carve a validation target from its end: "
                        "give series longer than their horizon", fields=("data",))
    drop = np.where(has_val, bank.horizons, 0)
    rows = np.flatnonzero(has_val)
    val = bank.cut(rows, bank.lengths[rows] - bank.horizons[rows], input_length, horizon)
    train = bank.head(drop)
    scales = np.array([naive_error(train.series(i), int(season_lengths[train.frequency[i]]))
                       for i in rows])
    return Split(train, val, scales)


def naive_error(series: np.ndarray, season: int) -> float:
    """The in-sample mean absolute error of the seasonal naive forecast (MASE's scale); of
    the naive one where the series is no longer than a season."""
    lag = season if len(series) > season else 1
    if len(series) <= lag:
        return float("nan")
    return float(np.mean(np.abs(series[lag:] - series[:-lag])))


def forecast_metrics(median: np.ndarray, windows: Windows, scales: np.ndarray) -> dict:
    """sMAPE and MASE of median forecasts (B, H) on the windows' masked targets: each series'
    mean over its horizon, then the mean over series, as the M competitions average."""
    mask, target = windows.mask, windows.targets
    steps = mask.sum(axis=1)
    denominator = np.abs(target) + np.abs(median)
    ape = np.where(denominator > 0, 200.0 * np.abs(target - median) / np.where(
        denominator > 0, denominator, 1.0), 0.0)
    smape = (ape * mask).sum(axis=1) / steps
    mase = (np.abs(target - median) * mask).sum(axis=1) / steps / scales
    return {"smape": float(smape.mean()), "mase": float(np.nanmean(mase[np.isfinite(mase)]))
            if np.isfinite(mase).any() else float("nan")}


def to_tensors(windows: Windows, device: torch.device) -> tuple[torch.Tensor, ...]:
    return (torch.from_numpy(windows.values).to(device),
            torch.from_numpy(windows.observed).to(device),
            torch.from_numpy(windows.frequency).to(device))


class ForecastObjective:
    """The loop's objective: fresh windows every batch, pinball loss over every quantile of
    every step. Under torchrun every rank takes its slice of each global batch."""

    items = "windows"
    selection = Selection("smape", higher_is_better=False)

    def __init__(self, sets: Split, data: ForecastData, horizon: int, seed: int,
                 group: Group | None = None):
        self.group = group or Group()
        self.group.split(data.batch_size, "batch_size")
        self.sets, self.data, self.horizon, self.seed = sets, data, horizon, seed

    def num_batches(self, epoch: int) -> int:
        return self.data.batches_per_epoch

    def batch(self, epoch: int, index: int) -> Windows:
        rng = np.random.default_rng([self.seed, epoch, index])
        windows = self.sets.train.sample(rng, self.data.batch_size, self.data.input_length,
                                         self.horizon, self.data.history)
        mine = self.group.share(self.data.batch_size)
        return Windows(*(getattr(windows, f)[mine] for f in
                         ("values", "observed", "frequency", "targets", "mask")))

    def start_epoch(self, epoch: int) -> None:
        pass  # each batch is drawn from (seed, epoch, index)

    def train_loss(self, model: ForecastRNN, batch: Windows) -> tuple[torch.Tensor, int]:
        device = next(model.parameters()).device
        predicted, scale = model.forward_scaled(*to_tensors(batch, device))
        targets = torch.from_numpy(batch.targets).to(device, torch.float32) / scale
        quantiles = torch.tensor(model.config.quantiles, device=device)
        mask = torch.from_numpy(batch.mask).to(device)
        return pinball_loss(predicted.float(), targets, mask, quantiles), len(batch)

    @torch.no_grad()
    def evaluate(self, model: ForecastRNN) -> dict[str, float]:
        """Pinball loss (in each window's scale), sMAPE and MASE of the median, and the
        coverage of the outermost interval, on every validation series (each rank alike)."""
        was_training = model.training
        model.eval()
        val = self.sets.val
        device = next(model.parameters()).device
        predicted, scale = model.forward_scaled(*to_tensors(val, device))
        predicted = predicted.float()
        targets = torch.from_numpy(val.targets).to(device, torch.float32) / scale
        quantiles = torch.tensor(model.config.quantiles, device=device)
        mask = torch.from_numpy(val.mask).to(device)
        loss = float(pinball_loss(predicted, targets, mask, quantiles))
        forecast = (predicted * scale.unsqueeze(-1)).double().cpu().numpy()
        median = forecast[..., model.config.median_index]
        inside = (val.targets >= forecast[..., 0]) & (val.targets <= forecast[..., -1])
        model.train(was_training)
        return {"loss": loss, **forecast_metrics(median, val, self.sets.val_scale),
                "coverage": float(inside[val.mask].mean())}

    def carried_state(self) -> dict[str, torch.Tensor]:
        return {}  # windows are independent

    def load_carried_state(self, state: dict[str, torch.Tensor]) -> None:
        pass


class ForecastRecipe(base.Recipe):
    kind = "forecast"
    data_config = ForecastData
    model_config = ForecastConfig
    model_class = ForecastRNN
    data_field = "data"

    def absolute_paths(self, data: ForecastData) -> ForecastData:
        if SeriesCollection.is_competition(data.data):
            return data  # a name, not a path
        return super().absolute_paths(data)

    def read(self, data: ForecastData, seed: int, progress: bool) -> SeriesCollection:
        return read_series(data)

    def prepare(self, raw: SeriesCollection, data: ForecastData, progress: bool,
                saved: RunFolder | None) -> base.Prepared:
        bank = raw.bank()
        season_lengths = np.asarray(raw.season_lengths)
        sets = split(bank, data.input_length, int(bank.horizons.max()), season_lengths)
        fields = {"horizon": int(bank.horizons.max()), "frequencies": raw.frequencies,
                  "season_lengths": raw.season_lengths, "input_length": data.input_length}
        if saved is not None and saved.config().model is not None:
            theirs = saved.config().model
            if any(tuple(theirs.get(k, ())) != tuple(v) if isinstance(v, tuple)
                   else theirs.get(k) != v for k, v in fields.items()):
                raise UserError(f"{data.data} gives other horizons or frequencies than the run "
                                f"in {saved.path}: resume with the series it was trained on",
                                fields=("data",))
        return base.Prepared(files={}, model_fields=fields, sets=sets)

    def check_model_options(self, model_options: dict) -> ForecastConfig:
        return self.model_config(**{"horizon": 1, "frequencies": ("series",),
                                    "season_lengths": (1,), "input_length": 1,
                                    **model_options})

    def batch_shape(self, data: ForecastData) -> tuple[int, int, str]:
        return data.batch_size, data.input_length, "input_length"

    def make_objective(self, prepared: base.Prepared, data: ForecastData,
                       train_config: TrainConfig, group: Group) -> ForecastObjective:
        return ForecastObjective(prepared.sets, data, prepared.model_fields["horizon"],
                                 train_config.seed, group)


RECIPE = ForecastRecipe()


def train(data: ForecastData, model_options: dict, train_config: TrainConfig,
          out: str | Path) -> TrainResult:
    return base.start(RECIPE, data, model_options, train_config, out).result
