"""A training run's checkpoint, from the loop's side: what train_state.pt holds (counters,
optimizers, every random stream, the objective's carried state, the weight average, the best
before a stop's evaluation) and how a resumed Trainer takes it back. The run folder commits
and reads the files (seqrnn.run_commit). The Trainer's private attributes used here are the
parts of its state that a checkpoint carries."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

import torch

from seqrnn.errors import UserError
from seqrnn.run import BEST_WEIGHTS
from seqrnn.trainer.objective import Progress
from seqrnn.trainer.optim import check_optimizer_state

if TYPE_CHECKING:
    from seqrnn.trainer.loop import Trainer


def save_latest(trainer: Trainer) -> None:
    """Save weights and train_state.pt; every rank calls it, rank 0 writes."""
    if trainer.run is None:
        return
    p, group = trainer.progress, trainer.group
    # Both are collectives under DDP: every rank takes part before rank 0 writes.
    carried = {k: v.detach().cpu() for k, v in trainer.objective.carried_state().items()}
    rank_rngs = group.gather_objects(_rank_rng(trainer.device)) if group.distributed else None
    if not group.is_main:
        return
    state = {
        "progress": asdict(p),
        "optimizers": [optimizer.state_dict() for optimizer in trainer.optimizers],
        "rng_cpu": torch.get_rng_state(),
        "carried": carried,
    }
    if trainer.average is not None:
        state["weight_average"] = trainer.average.state_dict()
    if torch.cuda.is_available():
        state["rng_cuda"] = torch.cuda.get_rng_state_all()
    if rank_rngs is not None:
        state["rng_ranks"] = rank_rngs
    if trainer._best_before_stop is not None:
        state["best_before_stop"] = trainer._best_before_stop
    trainer.run.save_checkpoint(trainer.model.state_dict(), state, p.step)


def _rank_rng(device: torch.device) -> dict[str, torch.Tensor]:
    """This rank's random state (its dropout masks), to continue it exactly on resume."""
    rng = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state(device)
    return rng


def restore(trainer: Trainer) -> None:
    """Continue `trainer` from its run folder's checkpoint: weights, counters, optimizers,
    random streams, the objective's carried state and the weight average."""
    run = trainer.run
    if run is None:
        raise ValueError("resuming needs the run folder the training wrote")
    weights, state = run.load_checkpoint()
    try:
        trainer.progress = Progress(**state["progress"])
    except TypeError:
        raise UserError(f"{run.path}: the training state was written by another version "
                        "of seqrnn and cannot be resumed; start a new run") from None
    if trainer.progress.best_eval:
        trainer.best_weights, trainer._best_step = run.load_weights(BEST_WEIGHTS)
    trainer._stop_evaluation = state.get("best_before_stop")  # undone once training goes on
    run.check_strict_load(trainer.model, weights)
    trainer.model.to(trainer.device)
    if len(state["optimizers"]) != len(trainer.optimizers):
        raise UserError(
            f"{run.path} was trained with {len(state['optimizers'])} optimizer(s) and this "
            f"launch builds {len(trainer.optimizers)}: sparse embedding gradients are made dense "
            "under NCCL, so resume it the way it was started (CUDA torchrun, or not)"
        )
    for optimizer, saved in zip(trainer.optimizers, state["optimizers"], strict=True):
        try:
            check_optimizer_state(optimizer, saved)
            optimizer.load_state_dict(saved)  # moves the moments onto the parameters' device
        except (ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise UserError(f"{run.path}: its optimizer state does not fit the model "
                            f"({(str(exc).splitlines() or [repr(exc)])[0]}): restore "
                            "train_state.pt from a copy, or start anew") from None
    torch.set_rng_state(state["rng_cpu"])
    if "rng_cuda" in state and torch.cuda.is_available():
        for index, rng in enumerate(state["rng_cuda"][: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(rng, index)
    if trainer.group.distributed:
        _restore_rank_rng(trainer, state.get("rng_ranks"))
    carried = {k: v.to(trainer.device) for k, v in state["carried"].items()}
    trainer.objective.load_carried_state(carried)
    trainer._saved_average = state.get("weight_average")


def _restore_rank_rng(trainer: Trainer, saved: list[dict[str, torch.Tensor]] | None) -> None:
    """Continue this rank's own random stream; with another number of ranks, start a fresh one.

    Rank 0 then keeps the stream of the run's rank 0 (or single process); the
    others start as a new run's ranks would (seed + rank).
    """
    rank = trainer.group.rank
    if saved is not None and len(saved) == trainer.group.world_size:
        torch.set_rng_state(saved[rank]["cpu"])
        if "cuda" in saved[rank] and trainer.device.type == "cuda":
            torch.cuda.set_rng_state(saved[rank]["cuda"], trainer.device)
    elif rank > 0:
        torch.manual_seed(trainer.config.seed + rank)
