"""The run folder's file names and the path they live under, for run.py and the modules it is
built from (run_weights, run_commit): one place names every file."""

from __future__ import annotations

from pathlib import Path

from seqrnn.errors import UserError
from seqrnn.paths import given_path

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
BEST_WEIGHTS = "model.safetensors"
LATEST_WEIGHTS = "latest.safetensors"
TRAIN_STATE = "train_state.pt"
PREVIOUS_STATE = "train_state.prev.pt"
METRICS_FILE = "metrics.jsonl"
CURVE_FILE = "loss.png"
WEIGHTS = {"best": BEST_WEIGHTS, "latest": LATEST_WEIGHTS}
SAVED_STEP = -1  # the step in the metadata of weights saved outside training
SHARED_FILES = (CONFIG_FILE, BEST_WEIGHTS, LATEST_WEIGHTS, TRAIN_STATE, PREVIOUS_STATE,
                METRICS_FILE, CURVE_FILE)


class RunPath:
    """A run folder's path and its files by name."""

    def __init__(self, path: str | Path):
        self.path = Path(given_path(path, what="the run folder's path"))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def file(self, name: str) -> Path:
        return self.path / name

    def _existing(self, name: str) -> Path:
        if not self.path.is_dir():
            raise UserError(
                f"model folder {self.path} not found: give the --out folder of a training run"
            )
        path = self.file(name)
        if not path.is_file():
            raise UserError(f"{path} is missing: {self.path} is not a complete seqrnn model "
                            "folder")
        return path
