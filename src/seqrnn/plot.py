"""Learning curves from a run's metrics.jsonl, drawn without a display."""

from __future__ import annotations

import json
from pathlib import Path

from seqrnn.atomic import atomic_path


def read_metrics(path: Path) -> list[dict]:
    from seqrnn.data.files import read_input

    text = read_input(path).decode("utf-8")
    return [json.loads(line) for line in text.split("\n") if line.strip()]


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
        ax.plot([r["step"] for r in evals], [r[key] for r in evals], "o-")
        ax.set_xlabel("step")
        ax.set_ylabel(key.removeprefix("val_").replace("_", " "))
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
