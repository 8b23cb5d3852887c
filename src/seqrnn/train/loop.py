"""One training loop for every task.

The loop owns what all tasks share: the device, the optimizer, gradient
clipping, the learning-rate schedule, the step/epoch/time budget, periodic
evaluation, best and latest checkpoints, exact resume, Ctrl-C, divergence
checks, progress and metrics. A `Task` supplies the rest: its batches, its
loss, its evaluation, and any state it carries between batches (the language
model's hidden state).

Under torchrun (see seqrnn.train.distributed) every rank runs this loop on its
slice of each batch through DistributedDataParallel; the clock, a stop request
and the logged loss are agreed on every step, so the ranks always step, stop
and evaluate together, and only rank 0 writes files and shows progress.
"""

from __future__ import annotations

import json
import math
import signal
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from seqrnn import checkpoint
from seqrnn.atomic import atomic_open
from seqrnn.configs import TrainConfig
from seqrnn.errors import UserError
from seqrnn.train.averaging import WeightAverage
from seqrnn.train.distributed import Group

METRICS_FILE = "metrics.jsonl"
CURVE_FILE = "loss.png"


def flush_denormals() -> None:
    """Treat denormal floats as zero, on this thread and on threads created after it.

    Gradients flowing back through hundreds of steps decay into denormal floats,
    which x86 CPUs process up to 100x slower: an IMDb training step took 4.3 s
    instead of 0.3 s. Flushing them changes nothing a float32 model can feel. The
    flag is per thread and new threads inherit it, so it is set when this module
    is imported, before the first parallel operation creates torch's thread pool.
    """
    torch.set_flush_denormal(True)


flush_denormals()

EXPLODE_FACTOR = 4.0  # char-rnn stops at 3x the initial loss; smoothing buys some slack


def _constant(progress: float) -> float:
    return 1.0


def _cosine(progress: float) -> float:
    return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


# Factor in [0, 1] by training progress in [0, 1], before the floor min_lr_fraction.
SCHEDULE_FACTORS = {"constant": _constant, "cosine": _cosine}


@dataclass(frozen=True)
class Selection:
    """The validation metric that picks the best checkpoint and drives early stopping.

    Ties go to the lower validation loss: a small validation set's accuracy
    often stays equal for several evaluations.
    """

    metric: str = "loss"
    higher_is_better: bool = False

    def improves(self, metrics: dict[str, float], best: dict[str, float]) -> bool:
        if not best:
            return True
        sign = 1 if self.higher_is_better else -1
        new, old = sign * metrics[self.metric], sign * best[self.metric]
        return new > old or (new == old and metrics["loss"] < best["loss"])


class Task(Protocol):
    """What the loop needs to know about a task."""

    items: str  # what throughput counts, e.g. "chars" or "reviews"
    selection: Selection  # e.g. validation loss for a language model, accuracy for a classifier

    def num_batches(self, epoch: int) -> int: ...

    def batch(self, epoch: int, index: int) -> Any:
        """Batch `index` of `epoch`; the same for the same arguments, so resume can skip ahead."""

    def train_loss(self, model: nn.Module, batch: Any, index: int) -> tuple[torch.Tensor, int]:
        """Mean loss over the batch and the number of items it averages."""

    def evaluate(self, model: nn.Module) -> dict[str, float]:
        """Validation metrics; must contain "loss" and the selection metric."""

    def carried_state(self) -> dict[str, torch.Tensor]:
        """The state to save; under DDP every rank calls it, and it holds all ranks' rows."""

    def load_carried_state(self, state: dict[str, torch.Tensor]) -> None: ...


class TrainingDiverged(UserError):
    """The loss became NaN, infinite, or exploded."""


@dataclass
class Progress:
    """Counters saved in train_state.pt; together with the weights they define where a run is."""

    step: int = 0
    epoch: int = 0
    index: int = 0  # next batch within the epoch
    elapsed: float = 0.0  # training seconds over all sessions
    best_eval: dict[str, float] = field(default_factory=dict)  # validation metrics of the best
    evals_since_best: int = 0
    last_eval_step: int = -1
    first_loss: float = math.nan
    smoothed_loss: float = math.nan


@dataclass(frozen=True)
class TrainResult:
    step: int
    epoch: int
    stopped: str  # "finished", "time", "max_steps", "interrupted", "early_stopping"
    best_eval: dict[str, float]  # validation metrics of the best checkpoint
    last_eval: dict[str, float]
    is_main: bool = True  # False in every torchrun process but rank 0: it should print nothing


def build_optimizers(model: nn.Module, lr: float) -> list[torch.optim.Optimizer]:
    """Adam for dense parameters; SparseAdam for embeddings built with sparse=True.

    A sparse embedding's gradient holds only the rows a batch used, and
    SparseAdam updates only those rows (lazy Adam): with a 100,000-word
    vocabulary that is most of the optimizer's work saved.
    """
    sparse = {id(m.weight): m.weight for m in model.modules()
              if isinstance(m, nn.Embedding) and m.sparse}
    dense = [p for p in model.parameters() if id(p) not in sparse]
    optimizers: list[torch.optim.Optimizer] = [torch.optim.Adam(dense, lr=lr)]
    if sparse:
        optimizers.append(torch.optim.SparseAdam(list(sparse.values()), lr=lr))
    return optimizers


def clip_gradients(parameters, max_norm: float) -> float:
    """Scale all gradients so their global norm is at most `max_norm`; return the norm before.

    torch's clip_grad_norm_ cannot take sparse gradients; this does the same for both.
    """
    params = [p for p in parameters if p.grad is not None]
    grads = [p.grad for p in params]
    if not any(g.is_sparse for g in grads):
        return float(nn.utils.clip_grad_norm_(params, max_norm))
    squares = [g.coalesce().values().pow(2).sum() if g.is_sparse else g.pow(2).sum()
               for g in grads]
    norm = torch.stack(squares).sum().sqrt()
    scale = (max_norm / (norm + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(scale)
    return float(norm)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda asked for, but torch sees no CUDA GPU: use --device cpu")
    return torch.device(name)


def dense_gradients_for_nccl(model: nn.Module) -> None:
    """Give sparse embeddings dense gradients: DDP cannot all-reduce sparse ones over NCCL.

    The weights and the config stay as they are; only the gradient's layout,
    and so the optimizer (Adam instead of SparseAdam), change.
    """
    for module in model.modules():
        if isinstance(module, nn.Embedding) and module.sparse:
            module.sparse = False


class Trainer:
    def __init__(self, model: nn.Module, task: Task, config: TrainConfig, run_dir: Path,
                 group: Group | None = None):
        self.model = model
        self.task = task
        self.config = config
        self.run_dir = Path(run_dir)
        self.group = group or Group(device=resolve_device(config.device))
        self.device = self.group.device
        if self.group.backend == "nccl":
            dense_gradients_for_nccl(model)
        self.optimizers = build_optimizers(model, config.lr)
        self.train_model: nn.Module = model  # the DDP wrapper once fit() starts, under torchrun
        self.progress = Progress()
        self.average: WeightAverage | None = None  # built on the device, in fit()
        self._saved_average: dict | None = None  # from train_state.pt, when resuming
        self.last_metrics: dict[str, float] = {}
        self._stop_requested = False

    # -- public -----------------------------------------------------------------

    def fit(self, resume: bool = False) -> TrainResult:
        cfg, group = self.config, self.group
        # Ranks sharing a machine's cores: one thread each unless told otherwise.
        threads = cfg.threads or (1 if group.distributed and self.device.type == "cpu" else None)
        if threads:
            torch.set_num_threads(threads)
        flush_denormals()  # again, in case torch was set to other flags since the import
        if resume:
            self._restore()
        else:
            torch.manual_seed(cfg.seed + group.rank)  # each rank its own dropout masks
            if group.is_main:
                self.run_dir.mkdir(parents=True, exist_ok=True)
                (self.run_dir / METRICS_FILE).unlink(missing_ok=True)
        self.model.to(self.device)
        if cfg.ema_decay is not None:
            self.average = WeightAverage(self.model, cfg.ema_decay)
            if self._saved_average is not None:
                self.average.load_state_dict(self._saved_average)
        if group.distributed:
            self.train_model = DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        with self._stop_on_sigint():
            stopped = self._run()
        if self.progress.last_eval_step != self.progress.step:
            self._evaluate(scheduled=False)
        if group.is_main:
            self._plot()
        group.barrier()  # no rank reads the run folder before rank 0 has finished writing it
        return TrainResult(self.progress.step, self.progress.epoch, stopped,
                           self.progress.best_eval, self.last_metrics, group.is_main)

    def request_stop(self) -> None:
        """Finish the current step, save, and return from fit() (what Ctrl-C does)."""
        self._stop_requested = True

    # -- the loop ---------------------------------------------------------------

    def _run(self) -> str:
        cfg, p = self.config, self.progress
        started = time.monotonic()
        elapsed_before = p.elapsed
        window = _Window()
        total = sum(self.task.num_batches(e) for e in range(cfg.epochs))
        bar = tqdm(total=total, initial=min(p.step, total), unit="step",
                   disable=not (cfg.progress and self.group.is_main), dynamic_ncols=True,
                   leave=False)
        try:
            while p.epoch < cfg.epochs:
                n = self.task.num_batches(p.epoch)
                while p.index < n:
                    p.elapsed = elapsed_before + time.monotonic() - started
                    self._agree_on_clock_and_stop(p)
                    reason = self._stop_reason(p)
                    if reason:
                        return reason
                    loss, items, grad_norm = self._step(p, total)
                    window.add(loss, items, grad_norm)
                    bar.update(1)
                    if p.step % cfg.log_every == 0:
                        self._log_train(window, bar)
                    if cfg.eval_every and p.step % cfg.eval_every == 0 and self._evaluate():
                        return "early_stopping"
                p.epoch, p.index = p.epoch + 1, 0
                if not cfg.eval_every and self._evaluate():
                    return "early_stopping"
            return "finished"
        finally:
            p.elapsed = elapsed_before + time.monotonic() - started
            bar.close()

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

    def _step(self, p: Progress, total_steps: int) -> tuple[float, int, float]:
        cfg = self.config
        lr = self._lr(p, total_steps)
        for optimizer in self.optimizers:
            for group in optimizer.param_groups:
                group["lr"] = lr
        self.model.train()
        batch = self.task.batch(p.epoch, p.index)
        with self._autocast():
            loss, items = self.task.train_loss(self.train_model, batch, p.index)
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
        if not self.config.amp:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def _global_loss(self, loss: float, items: int) -> tuple[float, int]:
        """The mean loss over the whole global batch and its item count (all ranks agree)."""
        if not self.group.distributed:
            return loss, items
        total, count = self.group.sum([loss * items, items])
        return total / count, round(count)

    def _check_divergence(self, p: Progress, loss: float, grad_norm: float) -> None:
        """Stop on a NaN/infinite loss, or a smoothed loss grown to EXPLODE_FACTOR x the first."""
        if math.isnan(p.first_loss):
            p.first_loss = p.smoothed_loss = loss
        p.smoothed_loss = 0.9 * p.smoothed_loss + 0.1 * loss
        finite = math.isfinite(loss) and math.isfinite(grad_norm)
        if finite and p.smoothed_loss <= EXPLODE_FACTOR * p.first_loss:
            return
        raise TrainingDiverged(
            f"training diverged at step {p.step + 1} (loss {loss:.4g}, gradient norm "
            f"{grad_norm:.4g}): lower --lr or --clip; the last good checkpoint is in {self.run_dir}"
        )

    def _lr(self, p: Progress, total_steps: int) -> float:
        """Warm up linearly, then follow the schedule over steps or the time budget."""
        cfg = self.config
        if p.step < cfg.warmup_steps:
            return cfg.lr * (p.step + 1) / cfg.warmup_steps
        fractions = [p.step / total_steps if total_steps else 0.0]
        if cfg.max_steps:
            fractions.append(p.step / cfg.max_steps)
        if cfg.minutes:
            fractions.append(p.elapsed / (cfg.minutes * 60))
        factor = SCHEDULE_FACTORS[cfg.lr_schedule](max(fractions))
        return cfg.lr * (cfg.min_lr_fraction + (1 - cfg.min_lr_fraction) * factor)

    # -- evaluation and checkpoints --------------------------------------------

    def _evaluate(self, scheduled: bool = True) -> bool:
        """Evaluate, save checkpoints, log; return True when early stopping says stop."""
        p, cfg = self.progress, self.config
        self.model.eval()
        with self._evaluated_weights():
            with torch.no_grad(), self._autocast():
                metrics = self.task.evaluate(self.model)  # under DDP: all-reduced by the task
            val_loss = metrics["loss"]
            if not math.isfinite(val_loss):
                raise TrainingDiverged(
                    f"validation loss is {val_loss} at step {p.step}: lower --lr; "
                    f"the last good checkpoint is in {self.run_dir}"
                )
            improved = self.task.selection.improves(metrics, p.best_eval)
            if improved:
                p.best_eval = dict(metrics)
                if self.group.is_main:
                    checkpoint.save_weights(self.run_dir / checkpoint.BEST_WEIGHTS,
                                            self.model.state_dict(), p.step)
        if scheduled:
            p.evals_since_best = 0 if improved else p.evals_since_best + 1
        p.last_eval_step = p.step
        self._save_latest()
        record = {"kind": "eval", "step": p.step, "epoch": p.epoch, "elapsed": round(p.elapsed, 3)}
        record.update({f"val_{k}": v for k, v in metrics.items()})
        self._append_metrics(record)
        if cfg.progress and self.group.is_main:
            shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float))
            tqdm.write(f"step {p.step} epoch {p.epoch}: validation {shown}"
                       + (" (best)" if improved else ""))
        self.last_metrics = metrics
        return cfg.patience is not None and p.evals_since_best >= cfg.patience

    def _evaluated_weights(self) -> AbstractContextManager:
        """What is evaluated and saved as best: the average with --ema-decay, else the weights."""
        if self.average is None:
            return nullcontext()
        return self.average.swapped_in(self.model)

    def _save_latest(self) -> None:
        """Save weights and train_state.pt; every rank calls it, rank 0 writes."""
        p, group = self.progress, self.group
        # Both are collectives under DDP: every rank takes part before rank 0 writes.
        carried = {k: v.detach().cpu() for k, v in self.task.carried_state().items()}
        rank_rngs = group.gather_objects(self._rank_rng()) if group.distributed else None
        if not group.is_main:
            return
        checkpoint.save_weights(self.run_dir / checkpoint.LATEST_WEIGHTS,
                                self.model.state_dict(), p.step)
        state = {
            "progress": asdict(p),
            "optimizers": [optimizer.state_dict() for optimizer in self.optimizers],
            "rng_cpu": torch.get_rng_state(),
            "carried": carried,
        }
        if self.average is not None:
            state["weight_average"] = self.average.state_dict()
        if torch.cuda.is_available():
            state["rng_cuda"] = torch.cuda.get_rng_state_all()
        if rank_rngs is not None:
            state["rng_ranks"] = rank_rngs
        checkpoint.save_train_state(self.run_dir, state)

    def _rank_rng(self) -> dict[str, torch.Tensor]:
        """This rank's random state (its dropout masks), to continue it exactly on resume."""
        rng = {"cpu": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return rng

    def _restore(self) -> None:
        state = checkpoint.load_train_state(self.run_dir)
        weights, step = checkpoint.load_weights(self.run_dir, checkpoint.LATEST_WEIGHTS)
        try:
            self.progress = Progress(**state["progress"])
        except TypeError:
            raise UserError(f"{self.run_dir}: the training state was written by another version "
                            "of seqrnn and cannot be resumed; start a new run") from None
        if step != self.progress.step:
            raise UserError(
                f"{self.run_dir}: latest weights (step {step}) and training state "
                f"(step {self.progress.step}) disagree; the run was cut off while saving"
            )
        checkpoint.check_strict_load(self.model, weights, self.run_dir)
        self.model.to(self.device)
        if len(state["optimizers"]) != len(self.optimizers):
            raise UserError(
                f"{self.run_dir} was trained with {len(state['optimizers'])} optimizer(s) and this "
                f"launch builds {len(self.optimizers)}: sparse embedding gradients are made dense "
                "under NCCL, so resume it the way it was started (CUDA torchrun, or not)"
            )
        for optimizer, saved in zip(self.optimizers, state["optimizers"], strict=True):
            optimizer.load_state_dict(saved)  # moves the moments onto the parameters' device
        torch.set_rng_state(state["rng_cpu"])
        if "rng_cuda" in state and torch.cuda.is_available():
            for index, rng in enumerate(state["rng_cuda"][: torch.cuda.device_count()]):
                torch.cuda.set_rng_state(rng, index)
        if self.group.distributed:
            self._restore_rank_rng(state.get("rng_ranks"))
        self.task.load_carried_state({k: v.to(self.device) for k, v in state["carried"].items()})
        self._saved_average = state.get("weight_average")
        if self.group.is_main:
            self._truncate_metrics(self.progress.step)

    def _restore_rank_rng(self, saved: list[dict[str, torch.Tensor]] | None) -> None:
        """Continue this rank's own random stream; with another number of ranks, start a fresh one.

        Rank 0 then keeps the stream of the run's rank 0 (or single process); the
        others start as a new run's ranks would (seed + rank).
        """
        rank = self.group.rank
        if saved is not None and len(saved) == self.group.world_size:
            torch.set_rng_state(saved[rank]["cpu"])
            if "cuda" in saved[rank] and self.device.type == "cuda":
                torch.cuda.set_rng_state(saved[rank]["cuda"], self.device)
        elif rank > 0:
            torch.manual_seed(self.config.seed + rank)

    # -- metrics ----------------------------------------------------------------

    def _log_train(self, window: _Window, bar: tqdm) -> None:
        loss, rate, grad_norm = window.flush()
        lr = self.optimizers[0].param_groups[0]["lr"]
        p = self.progress
        self._append_metrics({"kind": "train", "step": p.step, "epoch": p.epoch, "loss": loss,
                              "lr": lr, "grad_norm": grad_norm,
                              f"{self.task.items}_per_s": round(rate, 1)})
        bar.set_postfix({"loss": f"{loss:.4f}", f"{self.task.items}/s": f"{rate:,.0f}"})

    def _append_metrics(self, record: dict) -> None:
        if not self.group.is_main:
            return
        with open(self.run_dir / METRICS_FILE, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def _truncate_metrics(self, step: int) -> None:
        """Drop records written after the checkpoint we resume from."""
        path = self.run_dir / METRICS_FILE
        if not path.exists():
            return
        lines = path.read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if line.strip() and json.loads(line)["step"] <= step]
        with atomic_open(path, "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in kept)

    def _plot(self) -> None:
        from seqrnn.plot import plot_metrics

        metrics = self.run_dir / METRICS_FILE
        if metrics.exists():
            plot_metrics(metrics, self.run_dir / CURVE_FILE, title=self.run_dir.name)

    @contextmanager
    def _stop_on_sigint(self) -> Iterator[None]:
        """First Ctrl-C: finish the step, save, stop. A second one interrupts at once."""
        try:
            previous = signal.getsignal(signal.SIGINT)
        except ValueError:  # not the main thread: leave signals alone
            yield
            return

        def handler(signum, frame):
            signal.signal(signal.SIGINT, previous)
            if self.config.progress and self.group.is_main:
                tqdm.write("interrupted: saving a checkpoint (Ctrl-C again to abort)")
            self.request_stop()

        try:
            signal.signal(signal.SIGINT, handler)
        except ValueError:
            yield
            return
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


class _Window:
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
