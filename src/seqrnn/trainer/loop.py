"""One training loop for every task.

The loop owns what all tasks share: the device, the optimizer, gradient
clipping, the learning-rate schedule, the step/epoch/time budget, periodic
evaluation, best and latest checkpoints (what they hold and how a resumed run takes
them back: seqrnn.trainer.checkpointing), exact resume, Ctrl-C and divergence
checks. A `Objective` supplies the rest: its batches, its loss, its evaluation, and
any state it carries between batches (the language model's hidden state).
What is reported (progress, the metrics log, the loss curve) is up to the
callbacks (seqrnn.trainer.callbacks).

Under torchrun (see seqrnn.trainer.distributed) every rank runs this loop on its
slice of each batch through DistributedDataParallel; the clock, a stop request
and the logged loss are agreed on every step, so the ranks always step, stop
and evaluate together, and only rank 0 writes files and shows progress.
"""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from seqrnn.configs import TrainConfig
from seqrnn.run import RunFolder
from seqrnn.trainer.averaging import WeightAverage
from seqrnn.trainer.callbacks import Callback, LogWindow, default_callbacks
from seqrnn.trainer.checkpointing import restore, save_latest
from seqrnn.trainer.distributed import Group
from seqrnn.trainer.objective import Objective, Progress, TrainingDiverged, TrainResult
from seqrnn.trainer.optim import (
    build_optimizers,
    clip_gradients,
    dense_gradients_for_nccl,
    scheduled_lr,
    unfreeze_top,
)
from seqrnn.trainer.process import resolve_amp, resolve_device

EXPLODE_FACTOR = 4.0  # char-rnn stops at 3x the initial loss; smoothing buys some slack
BASELINE_STEPS = 10  # steps whose largest loss is the baseline where the loss varies by batch


class Trainer:
    """Trains `model` on `objective`; checkpoints go to `run` (a RunFolder or a path), if any.

    Without a run folder nothing is written and nothing can be resumed; the
    best weights are kept in memory either way (`best_weights`).
    """

    def __init__(self, model: nn.Module, objective: Objective, config: TrainConfig,
                 run: RunFolder | str | Path | None = None, group: Group | None = None,
                 callbacks: Sequence[Callback] | None = None):
        self.model = model
        self.objective = objective
        self.run = RunFolder(run) if isinstance(run, str | Path) else run
        self.group = group or Group(device=resolve_device(config.device))
        self.device = self.group.device
        self.config = replace(config, amp=resolve_amp(config.amp, self.device))
        if callbacks is None:
            callbacks = default_callbacks(self.run, config.progress) if self.group.is_main else []
        self.callbacks = list(callbacks)
        self.train_model: nn.Module = model  # the DDP wrapper once fit() starts, under torchrun
        self.optimizers: list[torch.optim.Optimizer] = []  # built in fit(), for the device
        self.progress = Progress()
        self.average: WeightAverage | None = None  # built on the device, in fit()
        self.best_weights: dict[str, torch.Tensor] | None = None  # on the CPU
        # The best as it stood before an evaluation made only because the run stopped there:
        # saved with the checkpoint, and read back to undo that evaluation on resume.
        self._best_before_stop: dict | None = None
        self._stop_evaluation: dict | None = None
        self._best_step = -1
        self.last_metrics: dict[str, float] = {}
        self._saved_average: dict | None = None  # from train_state.pt, when resuming
        self._stop_requested = False

    # -- public -----------------------------------------------------------------

    def fit(self, resume: bool = False) -> TrainResult:
        cfg, group = self.config, self.group
        if group.backend == "nccl":
            dense_gradients_for_nccl(self.model)
        self.optimizers = build_optimizers(self.model, cfg)
        if resume:
            restore(self)
        else:
            torch.manual_seed(cfg.seed + group.rank)  # each rank its own dropout masks
            if self.run is not None and group.is_main:
                self.run.create()
        self.model.to(self.device)
        if cfg.ema_decay is not None:
            self.average = WeightAverage(self.model, cfg.ema_decay)
            if self._saved_average is not None:
                self.average.load_state_dict(self._saved_average)
        self._wrap_for_ranks()
        total = sum(self.objective.num_batches(e) for e in range(cfg.epochs))
        self._notify("on_fit_start", total, resume)
        with self._stop_on_sigint():
            stopped = self._run(total)
        if self.progress.last_eval_step != self.progress.step:
            self._evaluate(scheduled=False)
        result = TrainResult(self.progress.step, self.progress.epoch, stopped,
                             self.progress.best_eval, self.last_metrics, group.is_main)
        self._notify("on_fit_end", result)
        group.barrier()  # no rank reads the run folder before rank 0 has finished writing it
        return result

    def request_stop(self) -> None:
        """Finish the current step, save, and return from fit() (what Ctrl-C does)."""
        self._stop_requested = True

    def _notify(self, hook: str, *args) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    # -- the loop ---------------------------------------------------------------

    def _run(self, total: int) -> str:
        cfg, p = self.config, self.progress
        started = time.monotonic()
        elapsed_before = p.elapsed
        window = LogWindow()
        first = True  # a resumed run may start inside an epoch
        try:
            while p.epoch < cfg.epochs:
                n = self.objective.num_batches(p.epoch)
                while p.index < n:
                    p.elapsed = elapsed_before + time.monotonic() - started
                    self._agree_on_clock_and_stop(p)
                    reason = self._stop_reason(p)
                    if reason:
                        return reason
                    if p.index == 0 or first:
                        self._start_epoch(p)
                        first = False
                    if self._stop_evaluation is not None:  # training goes on after a stop
                        self._undo_stop_evaluation(self._stop_evaluation)
                        self._stop_evaluation = None
                    loss, items, grad_norm = self._step(p, total)
                    window.add(loss, items, grad_norm)
                    self._notify("on_step")
                    if p.step % cfg.log_every == 0:
                        self._log_train(window)
                    if cfg.eval_every and p.step % cfg.eval_every == 0 and self._evaluate():
                        return "early_stopping"
                p.epoch, p.index = p.epoch + 1, 0
                if not cfg.eval_every and self._evaluate():
                    return "early_stopping"
            return "finished"
        finally:
            p.elapsed = elapsed_before + time.monotonic() - started

    def _wrap_for_ranks(self) -> None:
        """Under torchrun, wrap the model in DDP, which all-reduces the gradients of exactly
        the parameters that required them when it was built."""
        if self.group.distributed:
            cuda = self.device.type == "cuda"
            self.train_model = DistributedDataParallel(
                self.model, device_ids=[self.device.index] if cuda else None)

    def _start_epoch(self, p: Progress) -> None:
        """Unfreeze the epoch's layer groups; at an epoch's first batch, tell the objective."""
        if self.config.unfreeze_epochs:
            trainable = [q.requires_grad for q in self.model.parameters()]
            unfreeze_top(self.model, p.epoch, self.config.unfreeze_epochs)
            if trainable != [q.requires_grad for q in self.model.parameters()]:
                self._wrap_for_ranks()  # DDP would leave the newly trainable ones unsynchronised
        if p.index == 0:
            self.objective.start_epoch(p.epoch)

    def _agree_on_clock_and_stop(self, p: Progress) -> None:
        """Under DDP: one clock (the ranks' mean) and a stop when any rank was asked to stop.

        The time budget, the schedule and Ctrl-C then decide the same on every
        rank, and none is left waiting for a step the others will not take.
        """
        if not self.group.distributed:
            return
        elapsed, stops = self.group.sum([p.elapsed, float(self._stop_requested)])
        p.elapsed = elapsed / self.group.world_size
        self._stop_requested = stops > 0

    def _stop_reason(self, p: Progress) -> str | None:
        cfg = self.config
        if self._stop_requested:
            return "interrupted"
        if cfg.max_steps is not None and p.step >= cfg.max_steps:
            return "max_steps"
        if cfg.minutes is not None and p.elapsed >= cfg.minutes * 60:
            return "time"
        return None

    def step(self) -> tuple[float, int, float]:
        """One optimizer step on the next batch, outside fit() (for benchmarks); wraps at the end.

        Returns the batch's loss, its item count and the gradient norm before clipping.
        """
        if not self.optimizers:
            self.optimizers = build_optimizers(self.model, self.config)
        p = self.progress
        if p.index >= self.objective.num_batches(p.epoch):
            p.epoch, p.index = p.epoch + 1, 0
        self._start_epoch(p)
        return self._step(p, 10**6)

    def _step(self, p: Progress, total_steps: int) -> tuple[float, int, float]:
        cfg = self.config
        lr = scheduled_lr(cfg, p.step, p.elapsed, total_steps)
        for optimizer in self.optimizers:
            for group in optimizer.param_groups:
                group["lr"] = lr * group.get("lr_scale", 1.0)
        self.model.train()
        batch = self.objective.batch(p.epoch, p.index)
        with self._autocast():
            loss, items = self.objective.train_loss(self.train_model, batch)
        for optimizer in self.optimizers:
            optimizer.zero_grad(set_to_none=True)
        loss.backward()  # under DDP this also averages the gradients over the ranks
        grad_norm = clip_gradients(self.model.parameters(), cfg.clip)
        value, items = self._global_loss(float(loss.detach()), items)
        self._check_divergence(p, value, grad_norm)
        for optimizer in self.optimizers:
            optimizer.step()
        if self.average is not None:
            self.average.update(self.model)
        p.step += 1
        p.index += 1
        return value, items, grad_norm

    def _autocast(self) -> AbstractContextManager:
        """bfloat16 autocast with --amp; bfloat16 keeps float32's range, so no loss scaling."""
        if self.config.amp == "off":
            return nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def _global_loss(self, loss: float, items: int) -> tuple[float, int]:
        """The mean loss over the whole global batch and its item count (all ranks agree)."""
        if not self.group.distributed:
            return loss, items
        total, count = self.group.sum([loss * items, items])
        return total / count, round(count)

    def _where_saved(self) -> str:
        if self.run is None or not self.run.has_checkpoint():
            return "nothing was saved"
        return f"the last good checkpoint is in {self.run.path}"

    def _check_divergence(self, p: Progress, loss: float, grad_norm: float) -> None:
        """Stop on a NaN/infinite loss, or a smoothed loss grown to EXPLODE_FACTOR x the first
        (`first_loss`); for an objective whose loss varies by batch, x the largest of the first
        BASELINE_STEPS (a first batch of one-word sentences scores far lower than a later one
        of long sentences, with nothing wrong)."""
        if math.isnan(p.first_loss):
            p.first_loss = p.smoothed_loss = loss
        varies = getattr(self.objective, "loss_varies_by_batch", False)
        if varies and p.step < BASELINE_STEPS and math.isfinite(loss):
            p.first_loss = max(p.first_loss, loss)
        p.smoothed_loss = 0.9 * p.smoothed_loss + 0.1 * loss
        finite = math.isfinite(loss) and math.isfinite(grad_norm)
        if finite and p.smoothed_loss <= EXPLODE_FACTOR * p.first_loss:
            return
        raise TrainingDiverged(
            f"training diverged at step {p.step + 1} (loss {loss:.4g}, gradient norm "
            f"{grad_norm:.4g}): lower {{lr}} or {{clip}}; {self._where_saved()}",
            fields=("lr", "clip"),
        )

    # -- evaluation and checkpoints --------------------------------------------

    def _evaluate(self, scheduled: bool = True) -> bool:
        """Evaluate, save checkpoints, report; return True when early stopping says stop."""
        p, cfg = self.progress, self.config
        self.model.eval()
        started = time.perf_counter()
        with self._evaluated_weights():
            with torch.no_grad(), self._autocast():
                metrics = self.objective.evaluate(self.model)  # under DDP: all-reduced
            seconds = time.perf_counter() - started
            val_loss = metrics["loss"]
            if not math.isfinite(val_loss):
                raise TrainingDiverged(f"validation loss is {val_loss} at step {p.step}: lower "
                                       f"{{lr}}; {self._where_saved()}", fields=("lr",))
            improved = self.objective.selection.improves(metrics, p.best_eval)
            if improved and not scheduled and self._best_before_stop is None:
                # An uninterrupted run would not evaluate here: a resumed one undoes this.
                self._best_before_stop = {"eval": dict(p.best_eval),
                                          "weights": self.best_weights, "step": self._best_step}
            if improved:
                p.best_eval = dict(metrics)
                self._keep_best()
        if scheduled:
            p.evals_since_best = 0 if improved else p.evals_since_best + 1
        p.last_eval_step = p.step
        save_latest(self)
        record = {"kind": "eval", "step": p.step, "epoch": p.epoch, "elapsed": round(p.elapsed, 3),
                  "eval_seconds": round(seconds, 3)}
        record.update({f"val_{k}": v for k, v in metrics.items()})
        self._notify("on_evaluate", record, improved)
        self.last_metrics = metrics
        return cfg.patience is not None and p.evals_since_best >= cfg.patience

    def _keep_best(self) -> None:
        """Keep the evaluated weights in memory, and on rank 0 in the run folder, if any."""
        self.best_weights = {k: v.detach().to("cpu", copy=True)
                             for k, v in self.model.state_dict().items()}
        self._best_step = self.progress.step
        if self.run is not None and self.group.is_main:
            self.run.save_best(self.best_weights, self.progress.step)

    def _evaluated_weights(self) -> AbstractContextManager:
        """What is evaluated and saved as best: the average with --ema-decay, else the weights."""
        if self.average is None:
            return nullcontext()
        return self.average.swapped_in(self.model)

    def _undo_stop_evaluation(self, before: dict) -> None:
        """Selection and early stopping as if the run had not stopped: the evaluation made at
        the stop no longer counts, and model.safetensors is the best before it again."""
        self.progress.best_eval = dict(before["eval"])
        if before["weights"] is None:  # nothing was best before: the next evaluation will be
            return
        self.best_weights, self._best_step = before["weights"], before["step"]
        if self.group.is_main:
            self.run.save_best(self.best_weights, self._best_step)

    # -- reporting --------------------------------------------------------------

    def _log_train(self, window: LogWindow) -> None:
        loss, rate, grad_norm = window.flush()
        lr = self.optimizers[0].param_groups[0]["lr"]
        p = self.progress
        self._notify("on_train_log", {"kind": "train", "step": p.step, "epoch": p.epoch,
                                      "loss": loss, "lr": lr, "grad_norm": grad_norm,
                                      f"{self.objective.items}_per_s": round(rate, 1)})

    @contextmanager
    def _stop_on_sigint(self) -> Iterator[None]:
        """First Ctrl-C or SIGTERM: finish the step, save, stop. A second one acts at once."""
        signals = (signal.SIGINT, signal.SIGTERM)
        try:
            previous = {number: signal.getsignal(number) for number in signals}
        except ValueError:  # not the main thread: leave signals alone
            yield
            return

        def handler(signum, frame):
            signal.signal(signum, previous[signum])
            self._notify("on_interrupt")
            self.request_stop()

        try:
            for number in signals:
                signal.signal(number, handler)
        except ValueError:
            yield
            return
        try:
            yield
        finally:
            for number, action in previous.items():
                signal.signal(number, action)
