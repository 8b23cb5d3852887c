"""A linear-chain conditional random field over padded batches of sentences. No I/O.

A path y_1..y_n of tags through a sentence of emission scores e (n, K) scores

    s(y) = start[y_1] + sum_t e_t[y_t] + sum_{t>1} transitions[y_{t-1}, y_t] + end[y_n]

and has probability exp s(y) / Z, Z summing exp s over all K^n paths (the forward algorithm, in
log space). Viterbi finds the best path. Batches are right-padded: mask (B, T) is True on each
sentence's real tokens, a prefix of at least one.

A `TagConstraint` forbids some starts, transitions and ends (a tag scheme's: I-X only after B-X
or I-X). Training adds FORBIDDEN to their scores, a finite penalty, so the gradients stay finite
even if a gold path breaks the constraint, while the forbidden paths' weight exp(FORBIDDEN) is
0 in float32; decoding adds -inf, so the best path never breaks it, however strongly the
emissions favour a forbidden tag (if no path keeps it, e.g. no tag may both start and end a
sentence of one word, the path is arbitrary).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

FORBIDDEN = -1e4  # what training adds to a forbidden score: exp(-1e4) is 0 in float32 and 64
PAD_TAG = -1  # what decoding writes at padded positions


class Constraint(NamedTuple):
    """Which paths are possible, as booleans (tensors or nested lists): tags a sentence may
    start with (K,), allowed[i, j] whether tag j may follow tag i (K, K), tags it may end with
    (K,)."""

    start: object
    allowed: object
    end: object


class TagConstraint(nn.Module):
    """A Constraint held as buffers of 1 (allowed) and 0 (saved with the weights, which are
    floating point), all allowed until `set`."""

    def __init__(self, num_tags: int):
        super().__init__()
        self.register_buffer("start_allowed", torch.ones(num_tags))
        self.register_buffer("allowed", torch.ones(num_tags, num_tags))
        self.register_buffer("end_allowed", torch.ones(num_tags))

    def set(self, constraint: Constraint) -> None:
        for name, value in zip(("start_allowed", "allowed", "end_allowed"), constraint,
                               strict=True):
            buffer = getattr(self, name)
            value = torch.as_tensor(value, dtype=torch.bool, device=buffer.device)
            if value.shape != buffer.shape:
                raise ValueError(f"{name} must have shape {tuple(buffer.shape)}, got "
                                 f"{tuple(value.shape)}")
            buffer.copy_(value.to(buffer.dtype))

    def apply(self, start: Tensor, transitions: Tensor, end: Tensor,
              penalty: float) -> tuple[Tensor, Tensor, Tensor]:
        """The scores with `penalty` in place of each forbidden one."""
        return (start.masked_fill(self.start_allowed < 0.5, penalty),
                transitions.masked_fill(self.allowed < 0.5, penalty),
                end.masked_fill(self.end_allowed < 0.5, penalty))


def _check_mask(mask: Tensor) -> None:
    if not bool(mask[:, 0].all()):
        raise ValueError("every sentence needs at least one real token, first in its row")


def log_partition(emissions: Tensor, mask: Tensor, start: Tensor, transitions: Tensor,
                  end: Tensor) -> Tensor:
    """log Z (B,) of emissions (B, T, K): the forward algorithm, each step a logsumexp over the
    previous tag; a padded step leaves the running scores as they are."""
    _check_mask(mask)
    alpha = start + emissions[:, 0]  # (B, K): log of the summed exp s of paths ending in each tag
    for t in range(1, emissions.shape[1]):
        step = torch.logsumexp(alpha.unsqueeze(2) + transitions, dim=1) + emissions[:, t]
        alpha = torch.where(mask[:, t].unsqueeze(1), step, alpha)
    return torch.logsumexp(alpha + end, dim=1)


def path_score(emissions: Tensor, tags: Tensor, mask: Tensor, start: Tensor,
               transitions: Tensor, end: Tensor) -> Tensor:
    """s(y) (B,) of the paths `tags` (B, T); their values at padded positions are ignored."""
    _check_mask(mask)
    tags = tags.masked_fill(~mask, 0)
    real = mask.to(emissions.dtype)
    score = start[tags[:, 0]]
    score = score + (emissions.gather(2, tags.unsqueeze(2)).squeeze(2) * real).sum(dim=1)
    score = score + (transitions[tags[:, :-1], tags[:, 1:]] * real[:, 1:]).sum(dim=1)
    last = mask.sum(dim=1, keepdim=True) - 1  # (B, 1)
    return score + end[tags.gather(1, last).squeeze(1)]


def viterbi(emissions: Tensor, mask: Tensor, start: Tensor, transitions: Tensor,
            end: Tensor) -> Tensor:
    """The best path (B, T) long of emissions (B, T, K), PAD_TAG at padded positions.

    A padded step keeps the scores and points each tag back at itself, so backtracking from
    the last column reaches each sentence's last real token with its best final tag.
    """
    _check_mask(mask)
    batch, steps, num_tags = emissions.shape
    score = start + emissions[:, 0]  # (B, K): the best path's score ending in each tag
    itself = torch.arange(num_tags, device=emissions.device).expand(batch, num_tags)
    pointers = []
    for t in range(1, steps):
        best, previous = (score.unsqueeze(2) + transitions).max(dim=1)  # (B, K) each
        real = mask[:, t].unsqueeze(1)
        score = torch.where(real, best + emissions[:, t], score)
        pointers.append(torch.where(real, previous, itself))
    tag = (score + end).argmax(dim=1)  # (B,)
    path = [tag]
    for back in reversed(pointers):
        tag = back.gather(1, tag.unsqueeze(1)).squeeze(1)
        path.append(tag)
    return torch.stack(path[::-1], dim=1).masked_fill(~mask, PAD_TAG)


class CRF(nn.Module):
    """A linear-chain CRF's scores over `num_tags` tags (zeros to start), and its constraint."""

    def __init__(self, num_tags: int):
        super().__init__()
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))  # [from, to]
        self.end = nn.Parameter(torch.zeros(num_tags))
        self.constraint = TagConstraint(num_tags)

    def log_likelihood(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """log p(tags | emissions) (B,) of emissions (B, T, K), tags (B, T), mask (B, T)."""
        scores = self.constraint.apply(self.start, self.transitions, self.end, FORBIDDEN)
        return (path_score(emissions, tags, mask, *scores)
                - log_partition(emissions, mask, *scores))

    def log_partition(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """log Z (B,), forbidden paths (nearly) weightless, as in training."""
        return log_partition(emissions, mask, *self.constraint.apply(
            self.start, self.transitions, self.end, FORBIDDEN))

    def viterbi(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """The best allowed path (B, T) long, PAD_TAG at padded positions."""
        scores = self.constraint.apply(self.start, self.transitions, self.end, -torch.inf)
        return viterbi(emissions, mask, *scores)
