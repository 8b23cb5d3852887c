"""Beam search over a recurrent language model, with length normalisation.

Keeps the `beam` most likely continuations, all stepped as one batch. A hypothesis that
`is_finished` (it ends with a stop string, say) leaves the beam, which narrows by one; the
answer is the finished or full-length hypothesis with the highest mean log-probability per
token, so that a short hypothesis does not win merely for being short. With beam 1 this is
greedy decoding.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from seqrnn.inference.deadline import passed


def _select(state, parents: Tensor):
    """The recurrent state of the chosen parent hypotheses: (L, B, H), (h, c), or a list of
    either per layer."""
    if isinstance(state, (tuple, list)):
        return type(state)(_select(part, parents) for part in state)
    return state[:, parents]


@torch.no_grad()
def beam_search(model: nn.Module, prime: Tensor, length: int, beam: int,
                is_finished: Callable[[list[int]], bool] = lambda ids: False,
                deadline: float | None = None) -> list[int]:
    """The best continuation (ids) of `prime` (T0,), at most `length` tokens long.

    After `deadline` (seqrnn.inference.deadline), the hypotheses of that step are the candidates.
    """
    logits, state = model(prime.view(1, -1))
    log_probs = torch.log_softmax(logits[:, -1].float(), dim=-1)  # (alive, V)
    alive: list[list[int]] = [[]]
    scores = torch.zeros(1, dtype=torch.float64)
    done: list[tuple[float, list[int]]] = []
    for produced in range(1, length + 1):
        totals = (scores[:, None] + log_probs.double().cpu()).view(-1)  # (alive * V,), CPU
        vocab = log_probs.shape[1]
        ranked = torch.topk(totals, min(totals.numel(), len(alive) if produced > 1 else beam))
        kept, kept_scores, parents = [], [], []
        for index in ranked.indices.tolist():
            parent, token = divmod(index, vocab)
            ids = alive[parent] + [token]
            out_of_time = passed(deadline)
            if is_finished(ids) or produced == length or out_of_time:
                done.append((float(totals[index]) / len(ids), ids))
            else:
                kept.append(ids)
                kept_scores.append(float(totals[index]))
                parents.append(parent)
        if not kept:
            break
        alive, scores = kept, torch.tensor(kept_scores, dtype=torch.float64)
        parent_index = torch.tensor(parents, device=prime.device)
        tokens = torch.tensor([[ids[-1]] for ids in kept], device=prime.device)
        logits, state = model(tokens, _select(state, parent_index))
        log_probs = torch.log_softmax(logits[:, -1].float(), dim=-1)
    return max(done, key=lambda scored: scored[0])[1] if done else []
