"""Optimizers, gradient clipping and the learning-rate schedule of the training loop."""

from __future__ import annotations

import math

import torch
from torch import nn

from seqrnn.configs import TrainConfig


def _constant(progress: float) -> float:
    return 1.0


def _cosine(progress: float) -> float:
    return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


# Factor in [0, 1] by training progress in [0, 1], before the floor min_lr_fraction.
SCHEDULE_FACTORS = {"constant": _constant, "cosine": _cosine}


def scheduled_lr(config: TrainConfig, step: int, elapsed: float, total_steps: int) -> float:
    """Warm up linearly, then follow the schedule over steps or the time budget."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    fractions = [step / total_steps if total_steps else 0.0]
    if config.max_steps:
        fractions.append(step / config.max_steps)
    if config.minutes:
        fractions.append(elapsed / (config.minutes * 60))
    factor = SCHEDULE_FACTORS[config.lr_schedule](max(fractions))
    return config.lr * (config.min_lr_fraction + (1 - config.min_lr_fraction) * factor)


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


def dense_gradients_for_nccl(model: nn.Module) -> None:
    """Give sparse embeddings dense gradients: DDP cannot all-reduce sparse ones over NCCL.

    The weights and the config stay as they are; only the gradient's layout,
    and so the optimizer (Adam instead of SparseAdam), change.
    """
    for module in model.modules():
        if isinstance(module, nn.Embedding) and module.sparse:
            module.sparse = False
