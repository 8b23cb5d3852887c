"""The run folder: the one place that knows its file names, layout and format.

A run folder holds::

    config.json          format version, kind, model config, training config
    (the kind's files)   what its Kind declares (seqrnn.kinds): vocab.json, labels.json,
                         source_vocab.json and target_vocab.json for seqrnn's own
    model.safetensors    the best weights so far (by the task's validation metric)
    latest.safetensors   the latest weights, for resuming
    train_state.pt       optimizer, counters, RNG and carried state; tensors and
                         plain containers only, loaded with ``weights_only=True``
    train_state.prev.pt  the previous checkpoint's state, only while a new pair is
                         being committed (save_checkpoint)
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from seqrnn import jsontext, registry
from seqrnn.atomic import NO_ROOM, atomic_open, atomic_path, staged_folder, write_json
from seqrnn.budget import on_meta_device
from seqrnn.errors import UserError, field_error
from seqrnn.paths import given_path
from seqrnn.run_schema import check_train_state, field_type_error

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
BEST_WEIGHTS = "model.safetensors"
LATEST_WEIGHTS = "latest.safetensors"
TRAIN_STATE = "train_state.pt"
PREVIOUS_STATE = "train_state.prev.pt"
METRICS_FILE = "metrics.jsonl"
CURVE_FILE = "loss.png"
WEIGHTS = {"best": BEST_WEIGHTS, "latest": LATEST_WEIGHTS}
UNRECORDED = "<unrecorded>"  # write_config: keep a run's preset unknown (written before)
SAVED_STEP = -1  # the step in the metadata of weights saved outside training
SHARED_FILES = (CONFIG_FILE, BEST_WEIGHTS, LATEST_WEIGHTS, TRAIN_STATE, PREVIOUS_STATE,
                METRICS_FILE, CURVE_FILE)


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


class RunFolder:
    """One run folder; every read and write of its files goes through here."""

    def __init__(self, path: str | Path):
        self.path = Path(given_path(path, what="the run folder's path"))

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def file(self, name: str) -> Path:
        return self.path / name

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

    def has_checkpoint(self) -> bool:
        """Whether the folder holds a checkpoint a run can resume from."""
        return self.file(LATEST_WEIGHTS).exists()

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

    def save_weights(self, name: str, state_dict: dict[str, torch.Tensor], step: int) -> None:
        """Save weights with the training step in the metadata."""
        with atomic_path(self.file(name)) as tmp:
            _write_weights(tmp, state_dict, step)

    def save_best(self, state_dict: dict[str, torch.Tensor], step: int) -> None:
        """Save a training run's best weights; a failed write says what was kept."""
        try:
            self.save_weights(BEST_WEIGHTS, state_dict, step)
        except OSError as exc:
            raise self._save_error(exc) from exc

    def load_weights(self, name: str = BEST_WEIGHTS) -> tuple[dict[str, torch.Tensor], int]:
        """Load weights on the CPU; return them with the step they were saved at."""
        path = self._existing(name)
        step = self._weights_step(path)
        try:
            weights = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as exc:
            raise UserError(f"{path} is corrupt or truncated ({exc}): retrain, or restore it") \
                from exc
        not_float = next((k for k, v in weights.items() if not v.is_floating_point()), None)
        if not_float is not None:  # an integer or boolean tensor would load as nonsense
            raise UserError(f"{path} holds {str(weights[not_float].dtype).removeprefix('torch.')}"
                            f" weights ({not_float}), where seqrnn writes floating point: "
                            "retrain, or restore the file")
        broken = [k for k, v in weights.items() if v.is_floating_point() and not v.isfinite().all()]
        if broken:
            raise UserError(f"{path} holds NaN or infinite weights ({broken[0]}): the training "
                            "that wrote them diverged; retrain, or restore the file")
        return weights, step

    def latest_step(self) -> int:
        """The step of the latest checkpoint, read from its metadata alone."""
        return self._weights_step(self._existing(LATEST_WEIGHTS))

    @staticmethod
    def _weights_step(path: Path) -> int:
        """The training step a weights file was saved at (its metadata), -1 if it has none."""
        try:
            with safe_open(str(path), framework="pt") as f:
                return int((f.metadata() or {}).get("step", -1))
        except (SafetensorError, OSError, ValueError) as exc:
            raise UserError(f"{path} is corrupt or truncated ({exc}): retrain, or restore it") \
                from None

    def load_into(self, module: torch.nn.Module, name: str = BEST_WEIGHTS) -> int:
        """Load weights file `name` into `module`; return its step."""
        weights, step = self.load_weights(name)
        self.check_strict_load(module, weights)
        return step

    def check_fits(self, build: Callable[[], torch.nn.Module], name: str = BEST_WEIGHTS) -> None:
        """Refuse weights file `name` if `build()`'s model cannot take it, before anything is
        allocated: the model is built on the meta device (shapes only) and compared with the
        file's header, so a config.json naming a size too large to allocate is one line."""
        try:
            model = on_meta_device(build)
        except UserError as exc:  # a size seqrnn does not build (num_layers 100000)
            raise UserError(f"{self.file(CONFIG_FILE)}: {exc}; restore the file from a copy, "
                            "or retrain") from None
        except OverflowError:
            raise UserError(f"{self.file(CONFIG_FILE)} names a model far too large for any "
                            "machine (a weight tensor's size overflows): the folder is "
                            "mixed up; restore config.json from a copy") from None
        if model is None:
            return  # an initialisation the meta device cannot run: loading then checks
        expected = {k: list(v.shape) for k, v in model.state_dict().items()}
        try:
            with safe_open(str(self._existing(name)), framework="pt") as f:
                found = {k: list(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118
        except UserError:
            raise
        except Exception:  # a damaged file: loading the weights then says what is wrong
            return
        names = sorted(set(expected) ^ set(found))
        wrong = names[0] if names else next((k for k in expected if expected[k] != found[k]),
                                            None)
        if wrong is None:
            return
        if wrong not in found:
            where = "missing from the weights"
        elif wrong not in expected:
            where = "in the weights but not in the model"
        else:
            where = f"{found[wrong]} in the weights, {expected[wrong]} in the model"
        raise UserError(f"weights in {self.path} do not match its config.json ({wrong}: "
                        f"{where}): the folder is mixed up")

    def check_strict_load(self, module: torch.nn.Module, state_dict: dict) -> None:
        """Load `state_dict` into `module`, turning a mismatch into a clear error."""
        expected = module.state_dict()
        for name, tensor in state_dict.items():
            if name in expected and tensor.dtype != expected[name].dtype:
                raise UserError(f"weights in {self.path} are {tensor.dtype} ({name}) where the "
                                f"model keeps {expected[name].dtype}: the folder is mixed up")
        try:
            module.load_state_dict(state_dict)
        except RuntimeError as exc:
            first = str(exc).splitlines()[0]
            raise UserError(f"weights in {self.path} do not match its config.json ({first}): "
                            "the folder is mixed up") from exc

    def save_checkpoint(self, weights: dict[str, torch.Tensor], state: dict, step: int) -> None:
        """Commit the latest weights and the training state of `step` as one pair.

        Both are written in full to temporary names first, so a full disk or a kill
        leaves the previous pair as it was. Then the state is renamed into place and
        the weights after it; until both are in place the previous state is kept as
        train_state.prev.pt, so a kill between the renames leaves a pair that agrees.
        """
        try:
            with atomic_path(self.file(LATEST_WEIGHTS)) as weights_tmp:
                with atomic_path(self.file(TRAIN_STATE)) as state_tmp:
                    _write_weights(weights_tmp, weights, step)
                    _write_state(state_tmp, state)
                    self._keep_previous_state()
                    commit_reached("written")
                commit_reached("state renamed")
        except OSError as exc:
            raise self._save_error(exc) from exc
        commit_reached("weights renamed")
        self.file(PREVIOUS_STATE).unlink(missing_ok=True)  # the new pair agrees

    def _keep_previous_state(self) -> None:
        current = self.file(TRAIN_STATE)
        if not current.exists():
            return
        with atomic_path(self.file(PREVIOUS_STATE)) as tmp:
            tmp.unlink()
            try:
                os.link(current, tmp)
            except OSError:  # a file system without hard links
                tmp.write_bytes(current.read_bytes())

    def _save_error(self, exc: OSError) -> UserError:
        if self.has_checkpoint():
            kept, then = "the previous checkpoint is intact", "resume"
        else:
            kept, then = "no checkpoint was saved", "start the run again"
        if exc.errno in NO_ROOM:
            return UserError(f"{NO_ROOM[exc.errno]} of {self.path} while saving a checkpoint "
                             f"({kept}): free some space and {then}")
        return UserError(f"cannot save a checkpoint in {self.path} ({exc.strerror or exc}; "
                         f"{kept}): {then} once the folder can be written")

    def check_resumable(self) -> None:
        """Refuse early a folder whose run never reached its first checkpoint."""
        if self.path.is_dir() and not self.has_checkpoint() and self._is_stub():
            raise UserError(f"{self.path} holds no checkpoint yet (its run stopped before the "
                            "first): start it again, without --resume")

    def load_checkpoint(self) -> tuple[dict[str, torch.Tensor], dict]:
        """The latest weights and the training state of the same step."""
        self.check_resumable()
        weights, step = self.load_weights(LATEST_WEIGHTS)
        state = self.load_train_state()
        if state["progress"]["step"] != step and self.file(PREVIOUS_STATE).is_file():
            previous = self.load_train_state(PREVIOUS_STATE)
            if previous["progress"]["step"] == step:  # cut off between the pair's renames
                return weights, previous
        if state["progress"]["step"] != step:
            raise UserError(f"{self.path}: latest weights (step {step}) and training state "
                            f"(step {state['progress']['step']}) disagree, and no saved state "
                            "matches the weights: restore the folder from a copy, or start anew")
        return weights, state

    def load_train_state(self, name: str = TRAIN_STATE) -> dict:
        """train_state.pt, loaded without executing anything, its structure checked."""
        path = self._existing(name)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises several types; its advice is not for users
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            if "weights_only" in str(exc) or "Unsupported global" in str(exc):
                first = "it holds objects that are not tensors or plain data"
            raise UserError(f"{path} is not a seqrnn training state ({first}): it will not be "
                            "loaded; restore it from a copy, or start anew") from None
        check_train_state(path, state)
        return state

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


def commit_reached(point: str) -> None:
    """The named points of save_checkpoint's commit, in order: "written" (the new pair at
    temporary names, the previous state kept), "state renamed" (the new state in place, the
    latest weights not yet), "weights renamed" (both in place, the previous state not yet
    removed). Does nothing: fault tests replace it to fail or die at one of them."""


def _write_weights(path: Path, state_dict: dict[str, torch.Tensor], step: int) -> None:
    """safetensors on the CPU, with the training step in the metadata (to pair them with
    train_state)."""
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state_dict.items()}
    save_file(tensors, str(path), metadata={"step": str(step)})


def _write_state(path: Path, state: dict) -> None:
    """torch.save through a Python file: a failed write then carries its errno (atomic.py)."""
    with open(path, "wb") as f:
        torch.save(state, f)


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
