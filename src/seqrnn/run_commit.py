"""A run folder's checkpoint: the latest weights and the training state of one step, committed
as one pair so that a crash, a kill or a full disk at any point leaves a pair that agrees, and
read back without executing anything. Mixed into run.RunFolder."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from seqrnn.atomic import NO_ROOM, atomic_path
from seqrnn.errors import UserError
from seqrnn.run_layout import BEST_WEIGHTS, LATEST_WEIGHTS, PREVIOUS_STATE, TRAIN_STATE
from seqrnn.run_schema import check_train_state
from seqrnn.run_weights import WeightFiles, write_weights


class CheckpointCommit(WeightFiles):
    """Committing and loading a run folder's checkpoint pair (and its best weights)."""

    def has_checkpoint(self) -> bool:
        """Whether the folder holds a checkpoint a run can resume from."""
        return self.file(LATEST_WEIGHTS).exists()

    def save_best(self, state_dict: dict[str, torch.Tensor], step: int) -> None:
        """Save a training run's best weights; a failed write says what was kept."""
        try:
            self.save_weights(BEST_WEIGHTS, state_dict, step)
        except OSError as exc:
            raise self._save_error(exc) from exc

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
                    write_weights(weights_tmp, weights, step)
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

    def load_checkpoint(self) -> tuple[dict[str, torch.Tensor], dict]:
        """The latest weights and the training state of the same step."""
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


def commit_reached(point: str) -> None:
    """The named points of save_checkpoint's commit, in order: "written" (the new pair at
    temporary names, the previous state kept), "state renamed" (the new state in place, the
    latest weights not yet), "weights renamed" (both in place, the previous state not yet
    removed). Does nothing: fault tests replace it to fail or die at one of them."""


def _write_state(path: Path, state: dict) -> None:
    """torch.save through a Python file: a failed write then carries its errno (atomic.py)."""
    with open(path, "wb") as f:
        torch.save(state, f)
