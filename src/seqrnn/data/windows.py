"""Many numeric series in one flat array, and the windows a forecaster reads from them.

A window is cut at an origin t of series i: its input is the `input_length` points before t
(left-padded where the series starts later, `observed` 0 there), its target the `horizon`
points from t (masked past the series' end or its own horizon). Every cut is one numpy
gather over all windows at once: no Python loop over series or windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from seqrnn.data.series import SeriesSet
from seqrnn.forecast_metrics import seasonal_indices


@dataclass(frozen=True)
class Windows:
    values: np.ndarray  # (B, input_length) float32, 0 where not observed
    observed: np.ndarray  # (B, input_length) float32, 1 or 0
    frequency: np.ndarray  # (B,) int64
    targets: np.ndarray  # (B, horizon) float64, 0 where masked
    mask: np.ndarray  # (B, horizon) bool
    season_in: np.ndarray  # (B, input_length) float32 seasonal factors of the input (1: none)
    season_out: np.ndarray  # (B, horizon) float32 seasonal factors of the target steps

    def rows(self, chosen) -> Windows:
        return Windows(*(getattr(self, f.name)[chosen] for f in fields(self)))

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class SeriesBank:
    """Series of different lengths: values[offsets[i]:offsets[i + 1]] is series i.

    With `indices`, series i's value at position t (counted from its first value, into the
    future too) carries the multiplicative seasonal factor indices[i, t % seasons[i]]."""

    values: np.ndarray  # float64
    offsets: np.ndarray  # (N + 1,) int64
    horizons: np.ndarray  # (N,) int64, each series' own forecast horizon
    frequency: np.ndarray  # (N,) int64, each series' frequency index
    seasons: np.ndarray | None = None  # (N,) int64 season lengths
    indices: np.ndarray | None = None  # (N, longest season) float64 seasonal indices

    @classmethod
    def of(cls, series: Sequence[np.ndarray], horizons: Sequence[int],
           frequency: Sequence[int], seasons: Sequence[int] | None = None,
           indices: Sequence[np.ndarray] | None = None) -> SeriesBank:
        """`indices`: each series' seasonal indices (as many as its season), or None."""
        lengths = np.fromiter((len(s) for s in series), dtype=np.int64, count=len(series))
        offsets = np.zeros(len(series) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        values = (np.concatenate([np.asarray(s, dtype=np.float64) for s in series])
                  if len(series) else np.zeros(0))
        table = None
        if indices is not None:
            table = np.ones((len(series), max((len(i) for i in indices), default=1)))
            for row, one in enumerate(indices):
                table[row, : len(one)] = one
        return cls(values, offsets, np.asarray(horizons, dtype=np.int64),
                   np.asarray(frequency, dtype=np.int64),
                   None if seasons is None else np.asarray(seasons, dtype=np.int64), table)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def cut(self, rows: np.ndarray, origins: np.ndarray, input_length: int,
            horizon: int) -> Windows:
        """The windows of series `rows` cut at `origins` (positions within each series)."""
        rows = np.asarray(rows, dtype=np.int64)
        origins = np.asarray(origins, dtype=np.int64)
        starts, lengths = self.offsets[rows], self.lengths[rows]
        before = origins[:, None] + np.arange(-input_length, 0)  # (B, L) positions
        observed = before >= 0
        values = self.values[starts[:, None] + np.clip(before, 0, None)] * observed
        after = origins[:, None] + np.arange(horizon)  # (B, H)
        mask = (after < lengths[:, None]) & (np.arange(horizon) < self.horizons[rows][:, None])
        targets = self.values[starts[:, None] + np.minimum(after, lengths[:, None] - 1)] * mask
        return Windows(values.astype(np.float32), observed.astype(np.float32),
                       self.frequency[rows], targets, mask,
                       np.where(observed, self._factors(rows, before), 1.0).astype(np.float32),
                       self._factors(rows, after).astype(np.float32))

    def _factors(self, rows: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """The seasonal factors of `positions` (B, K) of series `rows` (1 without indices)."""
        if self.indices is None:
            return np.ones(positions.shape)
        phase = np.clip(positions, 0, None) % self.seasons[rows][:, None]
        return self.indices[rows[:, None], phase]

    def sample(self, rng: np.random.Generator, count: int, input_length: int, horizon: int,
               history: float) -> Windows:
        """`count` training windows: series drawn uniformly, each origin uniformly among the
        last `history` horizons of its series, with at least one point before it and one
        after it."""
        rows = rng.integers(0, len(self), size=count)
        lengths = self.lengths[rows]
        lowest = np.maximum(1, lengths - np.ceil(history * self.horizons[rows]).astype(np.int64))
        origins = lowest + (rng.random(count) * (lengths - lowest)).astype(np.int64)
        return self.cut(rows, origins, input_length, horizon)


def bank_of(sets: Sequence[SeriesSet], parts: Sequence[Sequence[np.ndarray]] | None = None, *,
            futures: Sequence[Sequence[np.ndarray]] | None = None,
            deseasonalise: bool = True,
            frequencies: Sequence[int] | None = None) -> SeriesBank:
    """One bank of the series of several sets (set k's series have frequency index k, or
    frequencies[k]).

    `parts` replaces each set's training parts (a validation split's fit parts, say);
    `futures` appends each series' future after its part, as targets to cut at the part's
    end. Seasonal indices are computed on the parts alone, never on a future."""
    parts = [s.train for s in sets] if parts is None else parts
    series, horizons, frequency, seasons, indices = [], [], [], [], []
    for k, (one, part) in enumerate(zip(sets, parts, strict=True)):
        extra = futures[k] if futures is not None else [np.zeros(0)] * len(part)
        series += [np.concatenate([p, f]) for p, f in zip(part, extra, strict=True)]
        horizons += [one.horizon] * len(part)
        frequency += [k if frequencies is None else frequencies[k]] * len(part)
        seasons += [one.season] * len(part)
        if deseasonalise and one.season > 1 and len(part):
            indices += list(seasonal_indices(part, one.season))
        else:
            indices += [np.ones(one.season)] * len(part)
    return SeriesBank.of(series, horizons, frequency, seasons, indices)
