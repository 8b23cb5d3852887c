"""Pictures of forecasts: each chosen series' history, its median forecast, the intervals its
quantiles make, and the held-out future where the data has one. Drawn without a display."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from seqrnn.api.forecast import Forecaster
from seqrnn.errors import field_error
from seqrnn.outputs import check_file
from seqrnn.plot import picture_format, save_figure
from seqrnn.recipes.forecast import read_sets

HISTORY_HORIZONS = 5  # the history drawn: this many horizons before the forecast
MAX_SERIES = 24  # panels in one picture


def forecast_plot(model: Forecaster, ids: list[str], out: str | os.PathLike, *,
                  overwrite: bool = False) -> Path:
    """Draw series `ids` of the model's own data into `out` (PNG, SVG or PDF); return it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = check_file(out, overwrite=overwrite)
    picture_format(out)
    if not ids or len(ids) > MAX_SERIES:
        raise field_error("ids", f"give between 1 and {MAX_SERIES} series ids, got {len(ids)}")
    sets = read_sets(model.data)
    found = {}
    for one in sets:
        for index, series_id in enumerate(one.ids):
            found.setdefault(series_id, (one, index))
    missing = [i for i in ids if i not in found]
    if missing:
        raise field_error("ids", f"{model.data.data} has no series {missing[0]!r}: give ids "
                          f"it holds, e.g. {', '.join(list(found)[:3])}")
    fig, axes = plt.subplots(len(ids), 1, figsize=(8, 2.6 * len(ids)), squeeze=False)
    levels = model.model_config.quantiles
    for ax, series_id in zip(axes[:, 0], ids, strict=True):
        one, index = found[series_id]
        history = one.train[index]
        forecast = model.predict({series_id: history}, one.horizon,
                                 frequency=one.frequency).values[0]
        shown = history[-HISTORY_HORIZONS * one.horizon:]
        start = len(history) - len(shown)
        ax.plot(np.arange(start, len(history)), shown, color="black", label="history")
        steps = np.arange(len(history), len(history) + one.horizon)
        for low in range(len(levels) // 2):
            high = len(levels) - 1 - low
            ax.fill_between(steps, forecast[:, low], forecast[:, high], color="tab:blue",
                            alpha=0.15 + 0.1 * low, linewidth=0,
                            label=f"{levels[high] - levels[low]:.0%} interval")
        ax.plot(steps, forecast[:, model.model_config.median_index], color="tab:blue",
                label="median forecast")
        if one.future is not None:
            ax.plot(steps, one.future[index], color="tab:red", linestyle="--",
                    label="held-out future")
        ax.set_title(f"{series_id} ({one.name})", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    save_figure(fig, out)
    return out
