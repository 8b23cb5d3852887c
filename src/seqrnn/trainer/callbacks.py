"""What the training loop reports, as replaceable hooks.

The Trainer calls each hook of each callback in order; a caller passes its
own list to replace them, or an empty one to train silently. The defaults,
on the process that writes files: a progress bar with evaluation lines, the
metrics log (metrics.jsonl) and the loss curve (loss.png) in the run folder.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from tqdm import tqdm

from seqrnn.run import RunFolder

if TYPE_CHECKING:
    from seqrnn.trainer.loop import Trainer, TrainResult


class Callback:
    """Hooks of the training loop; each does nothing unless overridden."""

    def on_fit_start(self, trainer: Trainer, total_steps: int, resumed: bool) -> None: ...

    def on_step(self, trainer: Trainer) -> None:
        """After every optimizer step."""

    def on_train_log(self, trainer: Trainer, record: dict) -> None:
        """Every log_every steps: loss, lr, gradient norm and throughput since the last one."""

    def on_evaluate(self, trainer: Trainer, record: dict, improved: bool) -> None:
        """After each evaluation; `record` holds the validation metrics as val_<name>."""

    def on_interrupt(self, trainer: Trainer) -> None:
        """The first Ctrl-C: the loop finishes the step, saves and stops."""

    def on_fit_end(self, trainer: Trainer, result: TrainResult) -> None: ...


class ProgressBar(Callback):
    """A tqdm bar with loss and throughput, and one line per evaluation."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None

    def on_fit_start(self, trainer: Trainer, total_steps: int, resumed: bool) -> None:
        self.bar = tqdm(total=total_steps, initial=min(trainer.progress.step, total_steps),
                        unit="step", dynamic_ncols=True, leave=False)

    def on_step(self, trainer: Trainer) -> None:
        self.bar.update(1)

    def on_train_log(self, trainer: Trainer, record: dict) -> None:
        items = trainer.objective.items
        self.bar.set_postfix({"loss": f"{record['loss']:.4f}",
                              f"{items}/s": f"{record[f'{items}_per_s']:,.0f}"})

    def on_evaluate(self, trainer: Trainer, record: dict, improved: bool) -> None:
        shown = ", ".join(f"{k[4:]} {v:.4f}" for k, v in record.items()
                          if k.startswith("val_") and isinstance(v, float))
        tqdm.write(f"step {record['step']} epoch {record['epoch']}: validation {shown}"
                   + (" (best)" if improved else ""))

    def on_interrupt(self, trainer: Trainer) -> None:
        tqdm.write("interrupted: saving a checkpoint (Ctrl-C again to abort)")

    def on_fit_end(self, trainer: Trainer, result: TrainResult) -> None:
        if self.bar is not None:
            self.bar.close()


class MetricsLog(Callback):
    """Every record as one JSON line of the run's metrics.jsonl; a resumed run drops later ones."""

    def __init__(self, run: RunFolder):
        self.run = run

    def on_fit_start(self, trainer: Trainer, total_steps: int, resumed: bool) -> None:
        if resumed:
            self.run.truncate_metrics(trainer.progress.step)
        else:
            self.run.clear_metrics()

    def on_train_log(self, trainer: Trainer, record: dict) -> None:
        self.run.append_metrics(record)

    def on_evaluate(self, trainer: Trainer, record: dict, improved: bool) -> None:
        self.run.append_metrics(record)


class LossCurve(Callback):
    """The run's curves drawn from metrics.jsonl into loss.png when training stops."""

    def __init__(self, run: RunFolder):
        self.run = run

    def on_fit_end(self, trainer: Trainer, result: TrainResult) -> None:
        from seqrnn.plot import plot_metrics  # matplotlib is slow to import

        if self.run.metrics_path.exists():
            plot_metrics(self.run.metrics_path, self.run.curve_path, title=self.run.path.name)


def default_callbacks(run: RunFolder | None, progress: bool) -> list[Callback]:
    """The progress bar (when `progress`), and with a run folder its metrics log and curve."""
    callbacks: list[Callback] = [ProgressBar()] if progress else []
    if run is not None:
        callbacks += [MetricsLog(run), LossCurve(run)]
    return callbacks


class LogWindow:
    """Loss, throughput and gradient norm averaged over the steps since the last log line."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.loss_sum = self.items = self.grad_sum = self.steps = 0
        self.started = time.monotonic()

    def add(self, loss: float, items: int, grad_norm: float) -> None:
        self.loss_sum += loss * items
        self.items += items
        self.grad_sum += grad_norm
        self.steps += 1

    def flush(self) -> tuple[float, float, float]:
        seconds = max(time.monotonic() - self.started, 1e-9)
        result = (self.loss_sum / max(self.items, 1), self.items / seconds,
                  self.grad_sum / max(self.steps, 1))
        self._reset()
        return result
