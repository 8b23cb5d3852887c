"""A BiLSTM sequence tagger, with a CRF (Huang et al., 2015; Lample et al., 2016) or a softmax on
top: one tag per word, for chunking and named entities. No I/O.

Each word is read as the concatenation of

    its embedding                                        (word_dim)
    its characters' final forward and backward states    (2 * char_hidden; Lample et al.)
    an embedding of each extra feature column            (feature_dim each; a POS tag, say)
    character language models' states at its ends       (Akbik et al. 2018; optional)

then, after dropout, by a bidirectional recurrent encoder, whose states become each word's tag
scores (the emissions). The "crf" decoder scores whole tag paths (seqrnn.models.crf); the
"softmax" decoder each word's tag on its own.

The language models read the sentence as one string, " " + the words joined by spaces + " ":
each word gets the forward model's state after its last character and the backward model's
(reading the string from its end) after its first.

Batches are right-padded (id 0 for words, characters and features; mask (B, T) True on the real
words), and every word's characters too. The backward directions read each span reversed in
place (`reverse_within_span`) instead of packed, so padding never reaches a real word and
`forward` traces into one ONNX graph of any batch, length and word length.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqrnn.configs.tagger import TaggerConfig
from seqrnn.data.symbols import PAD_ID
from seqrnn.models.charlm import CharLM
from seqrnn.models.crf import CRF, Constraint, TagConstraint, viterbi
from seqrnn.models.sentiment import reverse_within_span
from seqrnn.nn import make_recurrent
from seqrnn.nn.layers import check_layers


def bidirectional(forward: nn.Module, backward: nn.Module, x: Tensor, lengths: Tensor) -> Tensor:
    """Both directions' outputs (N, T, 2H) over right-padded x (N, T, I) of `lengths` (N,): the
    backward layer reads each real span from its end, its outputs put back in place."""
    first = torch.zeros_like(lengths)
    backward_out = backward(reverse_within_span(x, first, lengths))[0]
    return torch.cat([forward(x)[0], reverse_within_span(backward_out, first, lengths)], dim=-1)


class CharEncoder(nn.Module):
    """Characters (B, T, C) -> each word's final forward and backward states (B, T, 2H): the
    forward state after its last character, the backward one after its first."""

    def __init__(self, vocab_size: int, dim: int, hidden: int, cell: str):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=PAD_ID)
        self.forward_rnn = make_recurrent(cell, dim, hidden)
        self.backward_rnn = make_recurrent(cell, dim, hidden)

    def forward(self, chars: Tensor) -> Tensor:
        words = chars.flatten(0, 1)  # (N, C): every word of the batch at once
        lengths = (words != PAD_ID).sum(dim=1)
        states = bidirectional(self.forward_rnn, self.backward_rnn, self.embedding(words),
                               lengths)  # (N, C, 2H)
        hidden = states.shape[-1] // 2
        last = (lengths - 1).clamp(min=0).view(-1, 1, 1).expand(-1, 1, hidden)
        final = torch.cat([states[:, :, :hidden].gather(1, last).squeeze(1),
                           states[:, 0, hidden:]], dim=-1)  # (N, 2H)
        return final.view(chars.shape[0], chars.shape[1], -1)


class CharLMEmbedder(nn.Module):
    """Contextual string embeddings (Akbik et al. 2018): each word as the forward language
    model's state after its last character and the backward one's after its first, over the
    whole sentence's characters. Frozen (no gradient, always in eval mode) unless fine_tune."""

    def __init__(self, config: TaggerConfig):
        super().__init__()
        self.forward_lm = CharLM(config.forward_lm) if config.forward_lm else None
        self.backward_lm = CharLM(config.backward_lm) if config.backward_lm else None
        self.fine_tune = config.char_lm_fine_tune
        if not self.fine_tune:
            self.requires_grad_(False)

    @property
    def frozen(self) -> bool:
        return not self.fine_tune

    def train(self, mode: bool = True) -> CharLMEmbedder:
        return super().train(mode and self.fine_tune)  # frozen: read without dropout

    def forward(self, ids: Tensor, first: Tensor, last: Tensor, mask: Tensor) -> Tensor:
        """ids (B, L): each sentence's characters, right-padded; first, last (B, T): each
        word's first and last character's position in them -> (B, T, char_lm_dim)."""
        words = mask.sum(dim=1, keepdim=True)
        lengths = last.gather(1, (words - 1).clamp(min=0)).squeeze(1) + 2  # the closing " "
        parts = []
        with torch.set_grad_enabled(self.fine_tune and torch.is_grad_enabled()):
            if self.forward_lm is not None:
                parts.append(at(self.forward_lm.states(ids)[0], last))
            if self.backward_lm is not None:
                backwards = reverse_within_span(ids, torch.zeros_like(lengths), lengths)
                positions = (lengths.unsqueeze(1) - 1 - first).clamp(min=0)
                parts.append(at(self.backward_lm.states(backwards)[0], positions))
        return torch.cat(parts, dim=-1)


def at(states: Tensor, positions: Tensor) -> Tensor:
    """states (B, L, H) at positions (B, T) -> (B, T, H)."""
    return states.gather(1, positions.unsqueeze(-1).expand(-1, -1, states.shape[-1]))


class SoftmaxDecoder(nn.Module):
    """Each word's tag on its own: per-token cross-entropy. Decoding is the most probable tag
    path the constraint allows, each word's tags scored by their log-probabilities: the
    per-word argmax when the constraint allows everything (as it does until set)."""

    def __init__(self, num_tags: int):
        super().__init__()
        self.constraint = TagConstraint(num_tags)

    def loss(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        return nn.functional.cross_entropy(emissions[mask], tags[mask])

    def decode(self, emissions: Tensor, mask: Tensor) -> Tensor:
        num_tags = emissions.shape[-1]
        free = emissions.new_zeros(num_tags), emissions.new_zeros(num_tags, num_tags)
        scores = self.constraint.apply(free[0], free[1], free[0], -torch.inf)
        return viterbi(emissions.log_softmax(dim=-1), mask, *scores)


class BiLSTMTagger(nn.Module):
    """Tags each word of right-padded sentences; see the module docstring.

    Inputs, as `forward`, `loss` and `decode` take them: words (B, T) long, chars (B, T, C) long
    (each word's characters from position 0; ignored without a character encoder), features
    (B, T, F) long with F = len(config.feature_vocab_sizes), possibly 0, mask (B, T) bool, and
    with character language models lm_chars (B, L), lm_first and lm_last (B, T) long: the
    sentence's characters (ids of config.lm_chars) and each word's first and last position in
    them (0 at padding), as the module docstring lays them out; or, in their place, the
    language models' vectors (B, T, config.char_lm_dim) computed beforehand (frozen models give
    every batch the same: training reads them once).

    `constraint` forbids tag starts, transitions and ends (seqrnn.models.crf.Constraint), in
    training and decoding; it is held in buffers, saved and loaded with the weights.
    """

    def __init__(self, config: TaggerConfig, constraint: Constraint | None = None):
        super().__init__()
        check_layers(config.num_layers)
        self.config = config
        c = config
        self.word_embedding = nn.Embedding(c.vocab_size, c.word_dim, padding_idx=PAD_ID)
        self.chars = (CharEncoder(c.char_vocab_size, c.char_dim, c.char_hidden, c.cell)
                      if c.char_hidden else None)
        self.features = nn.ModuleList(nn.Embedding(size, c.feature_dim, padding_idx=PAD_ID)
                                      for size in c.feature_vocab_sizes)
        self.char_lm = CharLMEmbedder(c) if c.char_lm_dim else None
        width = (c.word_dim + 2 * c.char_hidden + len(c.feature_vocab_sizes) * c.feature_dim
                 + c.char_lm_dim)
        self.layers = nn.ModuleList(
            nn.ModuleList(make_recurrent(c.cell, width if k == 0 else 2 * c.hidden_size,
                                         c.hidden_size) for _ in range(2))
            for k in range(c.num_layers))
        self.dropout = nn.Dropout(c.dropout)
        self.out = nn.Linear(2 * c.hidden_size, c.num_tags)
        self.decoder = CRF(c.num_tags) if c.decoder == "crf" else SoftmaxDecoder(c.num_tags)
        if constraint is not None:
            self.decoder.constraint.set(constraint)

    def forward(self, words: Tensor, chars: Tensor, features: Tensor, mask: Tensor,
                *lm: Tensor) -> Tensor:
        """Emissions (B, T, num_tags): each word's tag scores (meaningless at padding)."""
        if bool(lm) != (self.char_lm is not None):
            raise ValueError("lm_chars, lm_first and lm_last must be given exactly when the "
                             "tagger reads character language models")
        parts = [self.word_embedding(words)]
        if self.chars is not None:
            parts.append(self.chars(chars))
        parts.extend(embed(features[..., i]) for i, embed in enumerate(self.features))
        if self.char_lm is not None:
            parts.append(lm[0] if len(lm) == 1 else self.char_lm(*lm, mask))
        x = torch.cat(parts, dim=-1)
        lengths = mask.sum(dim=1)
        for forward, backward in self.layers:
            x = bidirectional(forward, backward, self.dropout(x), lengths)
        return self.out(self.dropout(x))

    def loss(self, *inputs: Tensor, tags: Tensor) -> Tensor:
        """The mean negative log-likelihood of the gold tags (B, T) (any value at padding): per
        sentence with the CRF, per real word with the softmax."""
        emissions, mask = self(*inputs), inputs[3]
        if self.config.decoder == "crf":
            return -self.decoder.log_likelihood(emissions, tags, mask).mean()
        return self.decoder.loss(emissions, tags, mask)

    @torch.no_grad()
    def decode(self, *inputs: Tensor) -> Tensor:
        """The best tags (B, T) long, seqrnn.models.crf.PAD_TAG (-1) at padded positions. Call
        it in eval mode (dropout off)."""
        emissions, mask = self(*inputs), inputs[3]
        if self.config.decoder == "crf":
            return self.decoder.viterbi(emissions, mask)
        return self.decoder.decode(emissions, mask)
