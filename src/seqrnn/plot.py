"""Learning curves from a run's metrics.jsonl, drawn without a display."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from seqrnn.atomic import atomic_path
from seqrnn.errors import UserError, field_error

FORMATS = ("png", "svg", "pdf")  # what a picture's suffix may name

# Metrics drawn as a dashed reference on another metric's panel: chance under accuracy.
REFERENCES = {"val_majority": ("val_accuracy", "chance (most common class)")}

# What a record of each kind needs to be drawn; any other line (no "kind", a field missing,
# a record of another kind) is left out: a damaged line costs its point, not the curve.
_DRAWN = {"train": ("step", "loss"), "eval": ("step", "val_loss")}


def read_metrics(path: Path) -> list[dict]:
    """The records of a metrics.jsonl that a curve can draw, in file order; ValueError if the
    file has lines but none of them is such a record (it is not a seqrnn metrics file)."""
    from seqrnn.data.files import read_input

    text = read_input(path).decode("utf-8")
    records = [json.loads(line) for line in text.split("\n") if line.strip()]
    drawn = [r for r in records if isinstance(r, dict) and r.get("kind") in _DRAWN
             and all(isinstance(r.get(key), int | float) for key in _DRAWN[r["kind"]])]
    if records and not drawn:
        raise ValueError("no training or evaluation record")
    return drawn


def picture_format(path: str | os.PathLike, field: str = "out") -> str:
    """The format a picture's suffix names, or one line on a suffix that names none."""
    suffix = Path(path).suffix.lower().removeprefix(".")
    if suffix not in FORMATS:
        names = [f".{name}" for name in FORMATS]
        raise field_error(field, f"{{}} {path} should end in {', '.join(names[:-1])} or "
                          f"{names[-1]}: the picture is written in the format its suffix names")
    return suffix


def plot_run(run_dir: str | os.PathLike, out: str | os.PathLike | None = None, *,
             overwrite: bool = False) -> Path:
    """Draw the curves of the run in `run_dir` into `out` (default: the run's loss.png, which
    is redrawn); return the picture's path. Another existing file is replaced only with
    `overwrite`."""
    from seqrnn.outputs import check_file
    from seqrnn.run import METRICS_FILE, RunFolder

    run = RunFolder(run_dir)
    if not run.path.is_dir():
        raise UserError(f"run folder {run.path} not found: give the --out folder of a training "
                        "run")
    own = out is None or (str(out).strip() and Path(out).resolve() == run.curve_path.resolve())
    out = run.curve_path if own else check_file(out, overwrite=overwrite)
    picture_format(out)
    metrics = run.metrics_path
    try:
        if not metrics.is_file() or not read_metrics(metrics):
            raise UserError(f"{run.path} has no {METRICS_FILE} records yet: train first, or give "
                            "another run folder")
        plot_metrics(metrics, out, title=run.path.name)
    except (ValueError, KeyError, TypeError) as exc:  # JSON and Unicode errors are ValueErrors
        raise UserError(f"{metrics} is not a seqrnn metrics file ({exc!r}): give the run folder "
                        "a seqrnn trainer wrote") from None
    return out


def plot_metrics(metrics_path: Path, out_path: Path, title: str = "") -> None:
    """Plot training loss and validation loss against the step; one panel per extra metric.

    Written in the format `out_path`'s suffix names (FORMATS)."""
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
        ax.plot([r["step"] for r in evals], [r.get(key, math.nan) for r in evals], "o-")
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
    save_figure(fig, out_path)


def save_figure(fig, out_path: Path) -> None:
    """Write `fig` atomically in the format `out_path`'s suffix names, and close it."""
    import matplotlib.pyplot as plt

    try:
        with atomic_path(out_path) as tmp:
            fig.savefig(tmp, format=picture_format(out_path), dpi=100)
    finally:
        plt.close(fig)
