"""Synthetic series for the forecaster's tests: seasonal, noisy, of known noise floor."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SEASON = 12


def seasonal_series(count: int = 40, length: int = 72, *, noise: float = 0.02,
                    seed: int = 0) -> list[np.ndarray]:
    """Series level_i * (1 + 0.3 sin(2 pi t / 12 + phase_i)) * (1 + noise * e_t): a
    multiplicative season, levels from 10 to 1000, relative noise `noise`."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    out = []
    for _ in range(count):
        level = 10 ** rng.uniform(1, 3)
        phase = rng.uniform(0, 2 * np.pi)
        season = 1 + 0.3 * np.sin(2 * np.pi * t / SEASON + phase)
        out.append(level * season * (1 + noise * rng.standard_normal(length)))
    return out


def write_series(path: Path, series: list[np.ndarray]) -> Path:
    path.write_text(json.dumps([{"id": f"s{i}", "values": s.tolist()}
                                for i, s in enumerate(series)]))
    return path


def noise_floor_smape(noise: float) -> float:
    """The sMAPE of the noiseless signal against noisy targets: 200 E|e| / (2 + e) ~ 100 E|e|
    for relative noise e ~ N(0, noise^2), E|e| = noise sqrt(2 / pi)."""
    return 100 * noise * np.sqrt(2 / np.pi)
