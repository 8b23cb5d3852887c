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


SLANT_PEAK = 0.1  # ULMFiT's cut_frac: the slanted schedule climbs for 10% of training


def _slanted(progress: float) -> float:
    """ULMFiT's slanted triangular schedule: a short linear climb, then a long linear decay."""
    progress = min(progress, 1.0)
    if progress < SLANT_PEAK:
        return progress / SLANT_PEAK
    return 1 - (progress - SLANT_PEAK) / (1 - SLANT_PEAK)


# Factor in [0, 1] by training progress in [0, 1], before the floor min_lr_fraction.
SCHEDULE_FACTORS = {"constant": _constant, "cosine": _cosine, "slanted": _slanted}


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


def layer_groups(model: nn.Module) -> list[list[nn.Parameter]]:
    """The model's parameter groups from the bottom layer to the top, or one group of all."""
    if hasattr(model, "layer_groups"):
        return [list(group) for group in model.layer_groups()]
    return [list(model.parameters())]


def build_optimizers(model: nn.Module, config: TrainConfig) -> list[torch.optim.Optimizer]:
    """Adam (AdamW with weight decay) for dense parameters; SparseAdam for sparse embeddings.

    A sparse embedding's gradient holds only the rows a batch used, and
    SparseAdam updates only those rows (lazy Adam): with a 100,000-word
    vocabulary that is most of the optimizer's work saved. Each dense layer
    group gets an `lr_scale`: 1 for the top group, divided by layer_lr_decay per
    group below it (ULMFiT's discriminative learning rates).
    """
    sparse = {id(m.weight): m.weight for m in model.modules()
              if isinstance(m, nn.Embedding) and m.sparse}
    groups = layer_groups(model) if config.layer_lr_decay != 1 else [list(model.parameters())]
    dense = [{"params": [p for p in group if id(p) not in sparse],
              "lr_scale": config.layer_lr_decay ** -(len(groups) - 1 - depth)}
             for depth, group in enumerate(groups)]
    dense = [group for group in dense if group["params"]]
    lr = config.lr
    optimizers: list[torch.optim.Optimizer] = [
        torch.optim.AdamW(dense, lr=lr, weight_decay=config.weight_decay)
        if config.weight_decay else torch.optim.Adam(dense, lr=lr)]
    if sparse:
        optimizers.append(torch.optim.SparseAdam(list(sparse.values()), lr=lr))
    return optimizers


def unfreeze_top(model: nn.Module, epoch: int, every: int) -> None:
    """Gradual unfreezing: the top group trains alone, one more joins every `every` epochs."""
    groups = layer_groups(model)
    trainable = min(len(groups), 1 + epoch // every)
    for depth, group in enumerate(groups):
        for parameter in group:
            parameter.requires_grad_(depth >= len(groups) - trainable)


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


def check_optimizer_state(optimizer: torch.optim.Optimizer, saved: dict) -> None:
    """ValueError naming the first saved moment that does not fit its parameter.

    `optimizer.load_state_dict` pairs the saved state with the parameters by position and
    takes any tensor; a moment of another shape fails only at the next step, in torch.
    """
    params = [p for group in optimizer.param_groups for p in group["params"]]
    ids = [i for group in saved["param_groups"] for i in group.get("params", ())]
    if len(ids) != len(params):
        raise ValueError(f"{len(ids)} parameters saved, {len(params)} in the model")
    for position, (saved_id, param) in enumerate(zip(ids, params, strict=True)):
        for name, value in saved.get("state", {}).get(saved_id, {}).items():
            if not isinstance(value, torch.Tensor):
                continue
            if name == "step":
                fits = value.numel() == 1
            else:
                fits = value.is_floating_point() and value.shape == param.shape
            if not fits:
                raise ValueError(f"its {name} of parameter {position} is {value.dtype} "
                                 f"{list(value.shape)}, the parameter {list(param.shape)}")
