"""Learning curves from a run's metrics.jsonl, drawn without a display."""

from __future__ import annotations

import json
from pathlib import Path

from seqrnn.atomic import atomic_path

# Metrics drawn as a dashed reference on another metric's panel: chance under accuracy.
REFERENCES = {"val_majority": ("val_accuracy", "chance (most common class)")}


def read_metrics(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def plot_metrics(metrics_path: Path, png_path: Path, title: str = "") -> None:
    """Plot training loss and validation loss against the step; one panel per extra metric."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = read_metrics(metrics_path)
    train = [r for r in records if r["kind"] == "train"]
    evals = [r for r in records if r["kind"] == "eval"]
    extra = sorted({k for r in evals for k in r
                    if k.startswith("val_") and k != "val_loss" and k not in REFERENCES})
    fig, axes = plt.subplots(1, 1 + len(extra), figsize=(6 + 4 * len(extra), 4), squeeze=False)
    ax = axes[0, 0]
    ax.plot([r["step"] for r in train], [r["loss"] for r in train], label="train", alpha=0.7)
    ax.plot([r["step"] for r in evals], [r["val_loss"] for r in evals], "o-", label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    ax.grid(alpha=0.3)
    for ax, key in zip(axes[0, 1:], extra, strict=True):
        ax.plot([r["step"] for r in evals], [r[key] for r in evals], "o-")
        ax.set_xlabel("step")
        ax.set_ylabel(key.removeprefix("val_").replace("_", " "))
        ax.grid(alpha=0.3)
        for reference, (target, label) in REFERENCES.items():
            points = [r for r in evals if reference in r]
            if target == key and points:
                ax.plot([r["step"] for r in points], [r[reference] for r in points], "--",
                        color="gray", label=label)
                ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
