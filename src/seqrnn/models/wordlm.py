"""A word-level AWD-LSTM language model (Merity et al., 2018), the encoder of ULMFiT.

Five dropouts regularise it, each where it does the most good for a recurrent network:

    embedding  whole words out of the embedding matrix: a dropped word is missing wherever it
               occurs in the batch, so the model cannot lean on any one word
    input      locked (one mask per sequence, the same at every step) on the embeddings
    hidden     locked, between the layers
    output     locked, before the decoder
    weight     DropConnect on each layer's hidden-to-hidden weights: the same dropped matrix for
               the whole batch and every step, so the recurrence itself is regularised while
               torch's fused LSTM kernel still runs

The decoder scores with the embedding matrix (weight tying), so the top layer is as wide as the
embeddings. With cutoffs the softmax is adaptive (Grave et al., 2017): a shortlist of frequent
words and one class per tail cluster make the head, and a tail's words are scored only for the
tokens whose target lies in it. Ids must be ordered by frequency for that to pay. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from seqrnn.configs import WordLMConfig
from seqrnn.models.charlm import feed_back
from seqrnn.nn import make_recurrent
from seqrnn.nn.conditioning import Conditioning, run_in_segments
from seqrnn.nn.layers import check_layers

INIT_RANGE = 0.1  # AWD-LSTM's uniform initialisation of the cluster and untied output vectors
# The word vectors start wider than AWD-LSTM's uniform(-0.1, 0.1): trained with Adam, such small
# inputs leave the LSTM blind to them for thousands of steps (a tied model on IMDb stayed at the
# unigram loss, 6.6 nats, for 700 steps); N(0, 0.25) learned a toy bigram task 2.3 nats lower in
# 300 steps.
EMBEDDING_STD = 0.25
LayerState = tuple[Tensor, Tensor]  # (h, c), each (1, B, H) for one layer
__all__ = ["AWDEncoder", "Decoder", "WeightDropLSTM", "WordLM", "locked_dropout", "softmax_nll"]


def locked_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """x (B, T, H) with one dropout mask per sequence, the same at every step (variational)."""
    if not training or p == 0:
        return x
    mask = x.new_empty(x.shape[0], 1, x.shape[2]).bernoulli_(1 - p) / (1 - p)  # (B, 1, H)
    return x * mask


class _SoftmaxNLL(torch.autograd.Function):
    """-log softmax(logits)[target] per row, in float32 whatever the logits' precision.

    F.cross_entropy's backward writes a zero (N, V) gradient, scatters the targets into it and
    runs log_softmax's backward over it: three passes over the widest tensor of the step. The
    gradient is softmax - one_hot, made here in one pass from the saved log-normaliser.
    """

    @staticmethod
    def forward(ctx, logits: Tensor, targets: Tensor) -> Tensor:
        x = logits.float()  # (N, V)
        log_norm = torch.logsumexp(x, dim=1)  # (N,)
        ctx.save_for_backward(logits, log_norm, targets)
        return log_norm - x.gather(1, targets.unsqueeze(1)).squeeze(1)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:
        logits, log_norm, targets = ctx.saved_tensors
        # out of place: the saved logits are not ours to change (bfloat16 - float32 is float32)
        probs = (logits - log_norm.unsqueeze(1)).exp_()  # (N, V)
        probs[torch.arange(len(targets), device=probs.device), targets] -= 1
        return probs.mul_(grad.unsqueeze(1)).to(logits.dtype), None


def softmax_nll(logits: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy (N,) of targets (N,) under logits (N, V), each row on its own."""
    return _SoftmaxNLL.apply(logits, targets)


class WeightDropLSTM(nn.Module):
    """One layer of torch's fused LSTM with DropConnect on its hidden-to-hidden weight.

    `lstm.weight_hh_l0` is the raw weight, the parameter the optimiser steps and evaluation
    uses. Each training forward drops one copy of it and runs the fused module with the copy
    in its place (torch.func.functional_call), so the gradient reaches the raw weight through
    the dropout and the state_dict is a plain nn.LSTM's.
    """

    def __init__(self, input_size: int, hidden_size: int, weight_dropout: float):
        super().__init__()
        self.lstm = make_recurrent("lstm", input_size, hidden_size, init="torch")
        self.weight_dropout = weight_dropout

    def forward(self, x: Tensor, state: LayerState | None = None) -> tuple[Tensor, LayerState]:
        """x (B, T, I) -> outputs (B, T, H) and the state after the last step."""
        if state is not None:  # a state from a bfloat16 autocast region works outside one too
            state = tuple(s.to(self.lstm.weight_hh_l0.dtype) for s in state)
        if not self.training or self.weight_dropout == 0:
            return self.lstm(x, state)
        dropped = F.dropout(self.lstm.weight_hh_l0, self.weight_dropout)  # (4H, H)
        return functional_call(self.lstm, {"weight_hh_l0": dropped}, (x, state))


class AWDEncoder(nn.Module):
    """Word ids to the top layer's states: the embedding and the LSTM stack, with their dropouts.

    A classifier owns one too and loads it from a language model's state_dict (its `encoder.`
    keys). `embedding` and each of `layers` (one single-layer module per layer, their widths
    differing) are addressable for per-layer learning rates and gradual unfreezing.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        hidden_size: int,
        num_layers: int,
        output_size: int,
        *,
        embedding_dropout: float = 0.0,
        input_dropout: float = 0.0,
        hidden_dropout: float = 0.0,
        weight_dropout: float = 0.0,
        condition_dim: int = 0,
    ):
        """`condition_dim`: the width of a condition vector read beside each word vector."""
        super().__init__()
        check_layers(num_layers)  # one module per layer, not a RecurrentStack: refuse here
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        nn.init.normal_(self.embedding.weight, 0.0, EMBEDDING_STD)
        sizes = [embedding_dim + condition_dim] + [hidden_size] * (num_layers - 1) + [output_size]
        self.layers = nn.ModuleList(
            WeightDropLSTM(sizes[k], sizes[k + 1], weight_dropout) for k in range(num_layers)
        )
        self.embedding_dropout = embedding_dropout
        self.input_dropout = input_dropout
        self.hidden_dropout = hidden_dropout

    def forward(
        self, ids: Tensor, state: list[LayerState] | None = None, extra: Tensor | None = None
    ) -> tuple[Tensor, list[LayerState]]:
        """ids (B, T) int64 -> the top layer's states (B, T, O), before any output dropout,
        and each layer's state after the last step; `extra` (B, T, D), a condition's vectors,
        is read beside the word vectors."""
        x = locked_dropout(self.embed(ids), self.input_dropout, self.training)  # (B, T, E)
        if extra is not None:
            x = torch.cat([x, extra.to(x.dtype)], dim=-1)  # (B, T, E + D)
        new_state = []
        for k, layer in enumerate(self.layers):
            if k > 0:
                x = locked_dropout(x, self.hidden_dropout, self.training)
            x, layer_state = layer(x, None if state is None else state[k])  # (B, T, H_k)
            new_state.append(layer_state)
        return x, new_state

    def embed(self, ids: Tensor) -> Tensor:
        """Word vectors (B, T, E); while training whole words are dropped, survivors scaled.

        One draw per vocabulary word, looked up by id: the same as dropping rows of the
        embedding matrix, without multiplying the whole matrix each step.
        """
        x = self.embedding(ids)  # (B, T, E)
        p = self.embedding_dropout
        if not self.training or p == 0:
            return x
        keep = x.new_empty(self.embedding.num_embeddings).bernoulli_(1 - p) / (1 - p)  # (V,)
        return x * keep[ids].unsqueeze(-1)


class Decoder(nn.Module):
    """Log-likelihoods of words from hidden vectors, by a full or an adaptive softmax.

    The output word vectors (V, D) are passed in, not owned: with tying they are the
    embedding's own parameter, which must appear once in the state_dict (safetensors refuses
    tensors that share memory). The adaptive softmax's tails score at full width D rather than
    Grave et al.'s narrower projections, so that every word's output vector is its embedding.
    """

    def __init__(self, vocab_size: int, input_size: int, cutoffs: tuple[int, ...] = ()):
        super().__init__()
        self.bounds = (0, *cutoffs, vocab_size)  # cluster c: ids bounds[c] <= id < bounds[c + 1]
        self.bias = nn.Parameter(torch.zeros(vocab_size))
        # The head scores each tail cluster as one class beside the shortlist's words.
        self.clusters = nn.Linear(input_size, len(cutoffs)) if cutoffs else None
        if self.clusters is not None:
            nn.init.uniform_(self.clusters.weight, -INIT_RANGE, INIT_RANGE)
            nn.init.zeros_(self.clusters.bias)
            self.register_buffer("cutoffs", torch.tensor(cutoffs), persistent=False)

    def loss(self, weight: Tensor, hidden: Tensor, targets: Tensor) -> Tensor:
        """Mean cross-entropy of targets (...,) given hidden (..., D)."""
        hidden, targets = hidden.reshape(-1, hidden.shape[-1]), targets.reshape(-1)  # (N, D), (N,)
        if self.clusters is None:
            return softmax_nll(F.linear(hidden, weight, self.bias), targets).mean()
        # One split, not a slice per cluster: a slice's backward fills a zero (V, D) gradient
        # each, the split's joins the pieces once.
        sizes = [hi - lo for lo, hi in zip(self.bounds[:-1], self.bounds[1:], strict=True)]
        weights, biases = weight.split(sizes), self.bias.split(sizes)
        shortlist = self.bounds[1]
        cluster = torch.bucketize(targets, self.cutoffs, right=True)  # (N,) 0: the shortlist
        head_class = torch.where(cluster == 0, targets, shortlist + cluster - 1)
        head = torch.cat([F.linear(hidden, weights[0], biases[0]), self.clusters(hidden)], dim=-1)
        nll = softmax_nll(head, head_class)  # (N,)
        for c in range(1, len(self.bounds) - 1):
            rows = (cluster == c).nonzero().squeeze(1)  # (n,)
            if rows.numel() == 0:
                continue
            tail = F.linear(hidden[rows], weights[c], biases[c])  # (n, V_c)
            nll = nll.index_add(0, rows, softmax_nll(tail, targets[rows] - self.bounds[c]))
        return nll.mean()

    def log_probs(self, weight: Tensor, hidden: Tensor) -> Tensor:
        """hidden (B, D) -> log-probabilities of every word (B, V)."""
        head = self._head(weight, hidden)  # (B, shortlist + clusters)
        shortlist = self.bounds[1]
        parts = [head[:, :shortlist]]
        for c in range(1, len(self.bounds) - 1):
            cluster = head[:, shortlist + c - 1 : shortlist + c]  # (B, 1)
            parts.append(cluster + self._tail(weight, hidden, c))  # (B, V_c)
        return torch.cat(parts, dim=-1)

    def _head(self, weight: Tensor, hidden: Tensor) -> Tensor:
        """Log-probabilities (N, shortlist + clusters) of the shortlist's words and the tails."""
        shortlist = self.bounds[1]
        logits = F.linear(hidden, weight[:shortlist], self.bias[:shortlist])  # (N, shortlist)
        if self.clusters is not None:
            logits = torch.cat([logits, self.clusters(hidden)], dim=-1)
        return F.log_softmax(logits.float(), dim=-1)  # CPU autocast would leave it in bfloat16

    def _tail(self, weight: Tensor, hidden: Tensor, c: int) -> Tensor:
        """Log-probabilities (N, V_c) of cluster c's words, given that cluster."""
        lo, hi = self.bounds[c], self.bounds[c + 1]
        logits = F.linear(hidden, weight[lo:hi], self.bias[lo:hi])  # (N, V_c)
        return F.log_softmax(logits.float(), dim=-1)


class WordLM(nn.Module):
    """The AWD-LSTM language model: `encoder` (AWDEncoder), output dropout and `decoder`."""

    def __init__(self, config: WordLMConfig):
        super().__init__()
        self.config = config
        self.output_size = config.embedding_dim if config.tie_weights else config.hidden_size
        self.encoder = AWDEncoder(
            config.vocab_size, config.embedding_dim, config.hidden_size, config.num_layers,
            self.output_size, embedding_dropout=config.embedding_dropout,
            input_dropout=config.input_dropout, hidden_dropout=config.hidden_dropout,
            weight_dropout=config.weight_dropout,
            condition_dim=config.condition_dim if config.conditions and
            config.condition_mode != "state" else 0,
        )
        self.output_weight = None if config.tie_weights else nn.Parameter(
            torch.empty(config.vocab_size, self.output_size).uniform_(-INIT_RANGE, INIT_RANGE))
        self.decoder = Decoder(config.vocab_size, self.output_size, config.cutoffs)
        # Built last, so that an unconditioned model draws its weights as it always did.
        widths = [layer.lstm.hidden_size for layer in self.encoder.layers]
        self.condition = Conditioning(
            config.conditions, config.condition_dim, config.condition_mode,
            [w for w in widths for _ in "hc"]) if config.conditions else None

    @property
    def decoder_weight(self) -> Tensor:
        """The output word vectors (V, O): the embedding matrix itself when tied."""
        return self.encoder.embedding.weight if self.output_weight is None else self.output_weight

    def forward(
        self, ids: Tensor, state: list[LayerState] | None = None,
        conditions: Tensor | None = None, starts: Tensor | None = None,
    ) -> tuple[Tensor, list[LayerState]]:
        """ids (B, T) int64 -> hidden (B, T, O) after output dropout, and the new state.

        A conditioned model reads `conditions` (seqrnn.nn.conditioning: ids (B, T) or mixture
        weights (B, C); None: no condition) and, in state mode, `starts` (B, T). In state mode
        each segment between starts draws its own dropout masks."""
        if self.condition is None:
            top, state = self.encoder(ids, state)  # (B, T, O)
        else:
            vectors = self.condition.vectors(conditions, *ids.shape)  # (B, T, D)
            extra = vectors if self.condition.at_input else None
            if self.condition.mode == "input":
                top, state = self.encoder(ids, state, extra)
            else:
                top, state = run_in_segments(
                    lambda a, b, s: self.encoder(ids[:, a:b], s,
                                                 None if extra is None else extra[:, a:b]),
                    ids.shape[1], vectors, state, starts, self._initial_state)
        return locked_dropout(top, self.config.output_dropout, self.training), state

    def _initial_state(self, vectors: Tensor) -> list[LayerState]:
        """Each layer's (h, c), (1, B, H_k), that a condition starts."""
        parts = [p.unsqueeze(0) for p in self.condition.state_parts(vectors)]
        return [(parts[2 * k], parts[2 * k + 1]) for k in range(len(parts) // 2)]

    def encode(
        self, tokens: Tensor, state: list[LayerState] | None = None
    ) -> tuple[Tensor, list[LayerState]]:
        """The top layer's states (B, T, O), without output dropout, for a classifier to pool."""
        return self.encoder(tokens, state)

    def loss(self, hidden: Tensor, targets: Tensor) -> Tensor:
        """Mean cross-entropy of targets (B, T) given forward's hidden (B, T, O)."""
        return self.decoder.loss(self.decoder_weight, hidden, targets)

    def log_probs(self, hidden: Tensor) -> Tensor:
        """hidden (B, O), one step -> log-probabilities of the next word (B, V)."""
        return self.decoder.log_probs(self.decoder_weight, hidden)

    @torch.no_grad()
    def generate(self, prime: Tensor, length: int, *, stop_id: int | None = None,
                 **sampling) -> Iterator[int]:
        """Yield up to `length` word ids following `prime` (T0,), one at a time.

        As CharLM.generate: the prime is read once, then each word, drawn by choose_next with
        the `sampling` options, is fed back with the carried state. Stops after yielding
        `stop_id` (an end-of-text id, say).
        """
        yield from feed_back(self, self.log_probs, prime, length, stop_id=stop_id, **sampling)
