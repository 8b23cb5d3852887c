"""Learning curves from a run's metrics.jsonl, drawn without a display."""

from __future__ import annotations

import json
import math
from pathlib import Path

from seqrnn.atomic import atomic_path

# What a record of each kind needs to be drawn; any other line (no "kind", a field missing,
# a record of another kind) is left out: a damaged line costs its point, not the curve.
_DRAWN = {"train": ("step", "loss"), "eval": ("step", "val_loss")}


def read_metrics(path: Path) -> list[dict]:
    """The records of a metrics.jsonl that a curve can draw, in file order; ValueError if the
    file has lines but none of them is such a record (it is not a seqrnn metrics file)."""
    with open(path, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    drawn = [r for r in records if isinstance(r, dict) and r.get("kind") in _DRAWN
             and all(isinstance(r.get(key), int | float) for key in _DRAWN[r["kind"]])]
    if records and not drawn:
        raise ValueError("no training or evaluation record")
    return drawn


def plot_metrics(metrics_path: Path, png_path: Path, title: str = "") -> None:
    """Plot training loss and validation loss against the step; one panel per extra metric."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = read_metrics(metrics_path)
    train = [r for r in records if r["kind"] == "train"]
    evals = [r for r in records if r["kind"] == "eval"]
    extra = sorted({k for r in evals for k in r if k.startswith("val_") and k != "val_loss"})
    fig, axes = plt.subplots(1, 1 + len(extra), figsize=(6 + 4 * len(extra), 4), squeeze=False)
    ax = axes[0, 0]
    ax.plot([r["step"] for r in train], [r["loss"] for r in train], label="train", alpha=0.7)
    ax.plot([r["step"] for r in evals], [r["val_loss"] for r in evals], "o-", label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    ax.grid(alpha=0.3)
    for ax, key in zip(axes[0, 1:], extra, strict=True):
        ax.plot([r["step"] for r in evals], [r.get(key, math.nan) for r in evals], "o-")
        ax.set_xlabel("step")
        ax.set_ylabel(key.removeprefix("val_").replace("_", " "))
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
