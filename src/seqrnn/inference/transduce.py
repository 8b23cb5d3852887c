"""Decoding an encoder-decoder (seqrnn.models.seq2seq), a batch of sources at a time.

`greedy` takes the likeliest token at every step. `beam_search` keeps the `beam` likeliest
prefixes of every source, all stepped as one batch: each step, the `beam` best extensions of
a source's live prefixes replace them; an extension that ends (the end token) is set aside
with its mean log-probability per token (length normalisation: a short output does not win
merely for being short), and a source is done when its best extension ends. With beam 1 that
is greedy decoding, which a test holds. Both return token ids without the end token.
"""

from __future__ import annotations

import torch
from torch import Tensor

from seqrnn.data.symbols import BOS_ID, EOS_ID
from seqrnn.models.seq2seq import Seq2Seq, State


def _rows(state: State, rows: Tensor) -> State:
    if isinstance(state, tuple):
        return tuple(part[:, rows] for part in state)
    return state[:, rows]


def _until_end(ids: list[int]) -> list[int]:
    return ids[: ids.index(EOS_ID)] if EOS_ID in ids else ids


@torch.no_grad()
def greedy(model: Seq2Seq, source: Tensor, max_length: int) -> list[list[int]]:
    """The likeliest token at each step, for each source (B, S) right-padded."""
    memory, mask, state = model.encode(source)
    previous = torch.full((source.shape[0], 1), BOS_ID, dtype=torch.long, device=source.device)
    written, ended = [], torch.zeros(source.shape[0], dtype=torch.bool, device=source.device)
    for _ in range(max_length):
        logits, state, _ = model.decode(previous, state, memory, mask)
        previous = logits[:, -1].argmax(dim=-1, keepdim=True)  # (B, 1)
        written.append(previous)
        ended |= previous[:, 0] == EOS_ID
        if bool(ended.all()):
            break
    ids = torch.cat(written, dim=1).tolist()
    return [_until_end(row) for row in ids]


@torch.no_grad()
def beam_search(model: Seq2Seq, source: Tensor, beam: int, max_length: int) -> list[list[int]]:
    """The best output by mean log-probability per token of a beam search, for each source."""
    batch, k = source.shape[0], beam
    memory, mask, state = model.encode(source)
    memory, mask = memory.repeat_interleave(k, dim=0), mask.repeat_interleave(k, dim=0)
    state = _rows(state, torch.arange(batch, device=source.device).repeat_interleave(k))
    scores = torch.full((batch, k), float("-inf"), dtype=torch.float64)
    scores[:, 0] = 0.0  # one live prefix per source to start: the empty one
    prefixes = torch.zeros(batch * k, 0, dtype=torch.long)
    previous = torch.full((batch * k, 1), BOS_ID, dtype=torch.long, device=source.device)
    ended: list[list[tuple[float, list[int]]]] = [[] for _ in range(batch)]
    done = torch.zeros(batch, dtype=torch.bool)
    for step in range(1, max_length + 1):
        logits, state, _ = model.decode(previous, state, memory, mask)
        log_probs = torch.log_softmax(logits[:, -1].double(), dim=-1).cpu()  # (B*K, V)
        vocab = log_probs.shape[1]
        totals = (scores.view(-1, 1) + log_probs).view(batch, k * vocab)
        top, index = totals.topk(k, dim=1)  # (B, K), best first
        parent, token = index // vocab, index % vocab
        rows = (torch.arange(batch).unsqueeze(1) * k + parent).view(-1)
        prefixes = torch.cat([prefixes[rows], token.view(-1, 1)], dim=1)
        state = _rows(state, rows.to(source.device))
        scores = top.masked_fill(done.unsqueeze(1), float("-inf"))
        finishing = (token == EOS_ID) & torch.isfinite(scores)
        for b, j in finishing.nonzero().tolist():
            ended[b].append((float(scores[b, j]) / step, prefixes[b * k + j, :-1].tolist()))
        live = torch.isfinite(scores) & ~finishing
        done |= finishing[:, 0] | ~live.any(dim=1)  # its best extension ended, or none is left
        scores = scores.masked_fill(~live, float("-inf"))
        if bool(done.all()):
            break
        previous = token.view(-1, 1).to(source.device)
    for b in (~done).nonzero().view(-1).tolist():  # out of steps: the live prefixes compete
        for j in range(k):
            if torch.isfinite(scores[b, j]):
                ended[b].append((float(scores[b, j]) / max_length, prefixes[b * k + j].tolist()))
    return [max(candidates, key=lambda c: c[0])[1] if candidates else []
            for candidates in ended]
