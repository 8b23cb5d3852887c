"""Many numeric series in one flat array, and the windows a forecaster reads from them.

A window is cut at an origin t of series i: its input is the `input_length` points before t
(left-padded where the series starts later, `observed` 0 there), its target the `horizon`
points from t (masked past the series' end or its own horizon). Every cut is one numpy
gather over all windows at once: no Python loop over series or windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Windows:
    values: np.ndarray  # (B, input_length) float32, 0 where not observed
    observed: np.ndarray  # (B, input_length) float32, 1 or 0
    frequency: np.ndarray  # (B,) int64
    targets: np.ndarray  # (B, horizon) float64, 0 where masked
    mask: np.ndarray  # (B, horizon) bool

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class SeriesBank:
    """Series of different lengths: values[offsets[i]:offsets[i + 1]] is series i."""

    values: np.ndarray  # float64
    offsets: np.ndarray  # (N + 1,) int64
    horizons: np.ndarray  # (N,) int64, each series' own forecast horizon
    frequency: np.ndarray  # (N,) int64, each series' frequency index

    @classmethod
    def of(cls, series: Sequence[np.ndarray], horizons: Sequence[int],
           frequency: Sequence[int]) -> SeriesBank:
        lengths = np.fromiter((len(s) for s in series), dtype=np.int64, count=len(series))
        offsets = np.zeros(len(series) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        values = (np.concatenate([np.asarray(s, dtype=np.float64) for s in series])
                  if len(series) else np.zeros(0))
        return cls(values, offsets, np.asarray(horizons, dtype=np.int64),
                   np.asarray(frequency, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def series(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    def subset(self, keep: np.ndarray) -> SeriesBank:
        return SeriesBank.of([self.series(i) for i in keep], self.horizons[keep],
                             self.frequency[keep])

    def head(self, drop: np.ndarray) -> SeriesBank:
        """Each series without its last drop[i] points."""
        return SeriesBank.of([self.series(i)[: len(self.series(i)) - drop[i]]
                              for i in range(len(self))], self.horizons, self.frequency)

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
                       self.frequency[rows], targets, mask)

    def last(self, input_length: int, horizon: int) -> Windows:
        """Each series' window cut at its end: the input of its forecast."""
        return self.cut(np.arange(len(self)), self.lengths, input_length, horizon)

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
