"""A run folder's weights files: safetensors with the training step in their metadata, read
back on the CPU with every value checked, and checked against the model they are for before
anything is allocated. Mixed into run.RunFolder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from seqrnn.atomic import atomic_path
from seqrnn.budget import on_meta_device
from seqrnn.errors import UserError
from seqrnn.run_layout import BEST_WEIGHTS, CONFIG_FILE, LATEST_WEIGHTS, RunPath


class WeightFiles(RunPath):
    """Writing and reading a run folder's weights files."""

    def save_weights(self, name: str, state_dict: dict[str, torch.Tensor], step: int) -> None:
        """Save weights with the training step in the metadata."""
        with atomic_path(self.file(name)) as tmp:
            write_weights(tmp, state_dict, step)

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


def write_weights(path: Path, state_dict: dict[str, torch.Tensor], step: int) -> None:
    """safetensors on the CPU, with the training step in the metadata (to pair them with
    train_state)."""
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state_dict.items()}
    save_file(tensors, str(path), metadata={"step": str(step)})
