"""The run folder: the one place that knows its layout and format (its file names in
run_layout, its weights files in run_weights, its checkpoint commit in run_commit).

A run folder holds::

    config.json          format version, kind, model config, training config
    (the kind's files)   what its Kind declares (seqrnn.kinds): vocab.json, labels.json,
                         source_vocab.json and target_vocab.json for seqrnn's own
    model.safetensors    the best weights so far (by the task's validation metric)
    latest.safetensors   the latest weights, for resuming
    train_state.pt       optimizer, counters, RNG and carried state; tensors and
                         plain containers only, loaded with ``weights_only=True``
    train_state.prev.pt  the previous checkpoint's state, only while a new pair is
                         being committed (run_commit)
    metrics.jsonl        one JSON record per training log line and evaluation
    loss.png             the training curves

config.json is ``{"format_version", "kind", "model": {...}, "train": {"data":
{...}, "loop": {...}, "sources": {...}, "preset": ...}}``; "train" is null for a model
saved outside training. "sources" holds, for the data field, the absolute path and
fingerprint of the data read (seqrnn.data.identity); "preset" the --preset the run
started from (null: none). Runs written before them have neither.
Nothing here executes code on load. Every file is written to a temporary name
and renamed, so a crash leaves the previous version intact; the latest weights
and training state are committed as one pair. A folder that holds no checkpoint
yet (its run stopped before the first) may be started again; one process at a
time trains in a folder (an advisory lock on it, released when the process ends).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from seqrnn import jsontext, registry
from seqrnn.atomic import atomic_open, staged_folder, write_json
from seqrnn.errors import UserError, field_error
from seqrnn.run_commit import CheckpointCommit
from seqrnn.run_layout import (  # noqa: F401  (re-exported: the names users of a run read)
    BEST_WEIGHTS,
    CONFIG_FILE,
    CURVE_FILE,
    FORMAT_VERSION,
    LATEST_WEIGHTS,
    METRICS_FILE,
    PREVIOUS_STATE,
    SAVED_STEP,
    SHARED_FILES,
    TRAIN_STATE,
    WEIGHTS,
)
from seqrnn.run_schema import field_type_error

UNRECORDED = "<unrecorded>"  # write_config: keep a run's preset unknown (written before)


def run_files() -> tuple[str, ...]:
    """What a training run writes, of any kind (registry.Kind.files): a run that never reached
    its first checkpoint leaves only these."""
    return SHARED_FILES + registry.run_files()


@dataclass(frozen=True)
class RunConfig:
    """config.json, read: the model's config and, for a trained run, its data and loop configs."""

    kind: str
    model: dict
    data: dict | None = None
    loop: dict | None = None
    sources: dict | None = None  # data field -> its fingerprint (seqrnn.data.identity)
    preset: str | None = None
    preset_recorded: bool = False  # runs written before presets were recorded: unknown


class RunFolder(CheckpointCommit):
    """One run folder; every read and write of its files goes through here (its weights files
    in run_weights, its checkpoint commit in run_commit)."""

    # -- fresh and resumable --------------------------------------------------

    def check_new(self) -> None:
        """A fresh run needs a new or empty folder, or one whose run never reached a checkpoint.

        Nothing else is overwritten: not a run that can be resumed, not a saved model, not
        files of the user's own.
        """
        if str(self.path) in ("", "."):
            raise field_error("out", "{} must name a folder for the run, got the current one")
        if self.path.exists() and not self.path.is_dir():
            raise field_error("out", f"{{}} {self.path} is a file: give a folder")
        if self.holds_saved_model():
            raise field_error("out", f"{{}} {self.path} holds a saved model: choose another {{}}")
        if self.has_checkpoint() or (self.file(CONFIG_FILE).exists() and not self._is_stub()):
            raise UserError(f"{self.path} already holds a run: continue it with --resume "
                            f"{self.path}, or choose another {{out}}", fields=("out",))
        if self.path.is_dir() and not self._is_stub():
            foreign = sorted(p.name for p in self.path.iterdir() if not _leftover(p.name))
            if foreign:
                raise field_error("out", f"{{}} {self.path} is not empty (it holds {foreign[0]})"
                                  ": give a new or empty folder")

    def holds_saved_model(self) -> bool:
        """Whether the folder holds a model saved outside training (by `save`): its weights
        belong to no training step, and there is no checkpoint."""
        best = self.file(BEST_WEIGHTS)
        if self.has_checkpoint() or not best.is_file():
            return False
        try:
            return self._weights_step(best) == SAVED_STEP
        except UserError:  # unreadable: not a stub to clear either
            return True

    def holding(self) -> str | None:
        """What the folder holds, in words ("holds a training run of a charlm model"), or
        None for a missing or empty one."""
        if not self.path.is_dir():
            return None
        names = sorted(p.name for p in self.path.iterdir() if not _leftover(p.name))
        if not names:
            return None
        try:
            kind = json.loads(self.file(CONFIG_FILE).read_text(encoding="utf-8"))["kind"]
        except (OSError, ValueError, TypeError, KeyError):
            return f"is not empty (it holds {names[0]})"
        if self.holds_saved_model():
            return f"holds a saved {kind} model"
        if self.has_checkpoint() or self._is_stub():
            return f"holds a training run of a {kind} model"
        return f"holds a {kind} model"

    def _is_stub(self) -> bool:
        """A training run's folder left before its first checkpoint: only run files, no pair."""
        if (self.has_checkpoint() or not self.file(CONFIG_FILE).is_file()
                or self.holds_saved_model()):
            return False
        try:
            config = json.loads(self.file(CONFIG_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        names = {p.name for p in self.path.iterdir() if not _leftover(p.name)}
        return isinstance(config, dict) and bool(config.get("train")) and names <= set(run_files())

    def create(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)

    def start_fresh(self) -> None:
        """Make the folder, clearing what a run that never reached a checkpoint left in it."""
        self.create()
        if self._is_stub():
            for name in run_files():
                self.file(name).unlink(missing_ok=True)
        self.remove_leftovers()

    @contextlib.contextmanager
    def replacing(self) -> Iterator[RunFolder]:
        """A folder to write a whole model into, beside this one; on success its files replace
        this folder's, and the run files they leave stale (a checkpoint, metrics, curves) go.
        A failure while writing leaves this folder as it was."""
        with staged_folder(self.path, stale=run_files(), last=(CONFIG_FILE,)) as stage:
            yield RunFolder(stage)

    def remove_leftovers(self) -> None:
        """Delete temporary files a killed process left half-written."""
        for path in self.path.glob(".*.tmp"):
            path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the folder for this process: a second training in it is refused.

        An advisory lock on the folder itself: the kernel releases it when the process
        ends, however it ends, so a dead process never leaves a stale lock behind.
        """
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            yield
            return
        created = not self.path.exists()
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                    raise
                raise UserError(f"another process is training in {self.path}: wait for it to "
                                "finish, or choose another folder") from None
            try:
                yield
            finally:
                if created:  # still locked: a run refused before it wrote anything leaves no
                    with contextlib.suppress(OSError):  # empty folder (rmdir spares a full one)
                        self.path.rmdir()
        finally:
            os.close(fd)  # releases the lock

    # -- config.json ----------------------------------------------------------

    def write_config(self, kind: str, model: dict, data: dict | None = None,
                     loop: dict | None = None, *, sources: dict | None = None,
                     preset: str | None = None) -> None:
        train = None if data is None and loop is None else {
            "data": data, "loop": loop, "sources": sources, "preset": preset}
        if train is not None and preset == UNRECORDED:
            del train["preset"]
        write_json(self.file(CONFIG_FILE), {"format_version": FORMAT_VERSION, "kind": kind,
                                            "model": model, "train": train})

    def read_config(self, kind: str) -> RunConfig:
        """Read config.json, check its structure and that the folder holds a model of `kind`."""
        config = self.read_json(CONFIG_FILE)
        damaged = self._config_damage(config)
        if damaged:
            raise UserError(f"{self.file(CONFIG_FILE)} is damaged ({damaged}): restore it from a "
                            "copy, or retrain")
        found = config.get("kind")
        if found != kind:
            raise UserError(
                f"{self.path} holds a {found or 'unknown'} model, not a {kind} model: "
                f"give a folder written by `seqrnn {kind} train`"
            )
        if config.get("format_version", 0) > FORMAT_VERSION:
            raise UserError(f"{self.path} was written by a newer seqrnn (format "
                            f"{config['format_version']}): upgrade")
        train = config.get("train") or {}
        return RunConfig(kind, config["model"], train.get("data"), train.get("loop"),
                         train.get("sources"), train.get("preset"), "preset" in train)

    @staticmethod
    def _config_damage(config: Any) -> str | None:
        """What is structurally wrong with a parsed config.json, or None."""
        if not isinstance(config, dict):
            return f"a {type(config).__name__}, not an object"
        version = config.get("format_version", 0)
        if not isinstance(version, int) or isinstance(version, bool):
            return f"format_version is {version!r}, not a number"
        if not isinstance(config.get("kind"), str):
            return "'kind' is missing or not a string"
        if not isinstance(config.get("model"), dict):
            return "'model' is missing or not an object"
        train = config.get("train")
        if train is not None and not (isinstance(train, dict) and all(
                isinstance(train.get(part), dict | None) for part in ("data", "loop"))):
            return "'train' is not an object of data and loop objects"
        if train is not None and not (isinstance(train.get("sources"), dict | None)
                                      and isinstance(train.get("preset"), str | None)):
            return "'train' has sources that are not an object, or a preset that is not a name"
        return None

    def build_config(self, cls: type, values: dict, part: str = "model") -> Any:
        """`cls(**values)` from config.json's `part`, or one line on what does not fit `cls`."""
        where = f"{self.file(CONFIG_FILE)}, its {part}"
        wrong = field_type_error(cls, values)
        if wrong:
            raise UserError(f"{where}: {wrong}; restore the file from a copy, or retrain")
        try:
            return cls(**values)
        except TypeError as exc:
            raise UserError(f"{where} does not fit this seqrnn ({exc})") from None
        except UserError as exc:
            raise UserError(f"{where}: {exc}; restore the file from a copy, or retrain") from None

    # -- JSON beside the weights ----------------------------------------------

    def write_json(self, name: str, obj: Any) -> None:
        write_json(self.file(name), obj)

    def read_json(self, name: str) -> Any:
        path = self._existing(name)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"{path} is corrupt ({exc}): retrain, or restore the file") from None
        except RecursionError:
            raise UserError(f"{path} is corrupt (nested too deeply): retrain, or restore the "
                            "file") from None

    # -- weights and training state -------------------------------------------

    def check_resumable(self) -> None:
        """Refuse early a folder whose run never reached its first checkpoint."""
        if self.path.is_dir() and not self.has_checkpoint() and self._is_stub():
            raise UserError(f"{self.path} holds no checkpoint yet (its run stopped before the "
                            "first): start it again, without --resume")

    def load_checkpoint(self) -> tuple[dict[str, torch.Tensor], dict]:
        """The latest weights and the training state of the same step (run_commit), after
        refusing a folder whose run never reached its first checkpoint."""
        self.check_resumable()
        return super().load_checkpoint()

    # -- metrics.jsonl --------------------------------------------------------

    @property
    def metrics_path(self) -> Path:
        return self.file(METRICS_FILE)

    @property
    def curve_path(self) -> Path:
        return self.file(CURVE_FILE)

    def append_metrics(self, record: dict) -> None:
        with open(self.metrics_path, "a", encoding="utf-8") as f:
            f.write(jsontext.dumps(record) + "\n")  # NaN is null: every parser reads it

    def clear_metrics(self) -> None:
        self.metrics_path.unlink(missing_ok=True)

    def truncate_metrics(self, step: int) -> None:
        """Keep the records of steps up to `step` (the checkpoint a resumed run continues
        from); drop later ones and any a crash left damaged (a partial last line)."""
        path = self.metrics_path
        if not path.exists():
            return
        lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
        kept = [line for line in lines if _metrics_step(line) <= step]
        with atomic_open(path, "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in kept)

def _leftover(name: str) -> bool:
    """A temporary file of an atomic write (atomic.atomic_path names them so)."""
    return name.startswith(".") and name.endswith(".tmp")


def _metrics_step(line: str) -> float:
    """A metrics.jsonl line's step; infinity for a line that is not a whole record."""
    try:
        record = json.loads(line)
    except ValueError:
        return math.inf
    step = record.get("step") if isinstance(record, dict) else None
    return step if isinstance(step, int) and not isinstance(step, bool) else math.inf
