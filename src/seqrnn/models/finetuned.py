"""A classifier on a pretrained language model's encoder (ULMFiT's classifier). No I/O.

The AWD-LSTM encoder of a word language model reads the review; its top
layer's states over the real words are pooled three ways, the last state, the
maximum and the mean, concatenated (ULMFiT's concat pooling), and a small head
turns them into one logit. The encoder's weights come from the language model
(seqrnn.recipes.sentiment loads them); its layer groups, embedding to head, let
the loop give each its own learning rate and unfreeze them one by one.
"""

from __future__ import annotations

import torch
from torch import nn

from seqrnn.configs import SentimentConfig
from seqrnn.models.sentiment import check_one_review, real_span, running_pool
from seqrnn.models.wordlm import AWDEncoder


def concat_pool(states: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """[last; max; mean] of states (B, T, D) over each row's real tokens -> (B, 3D)."""
    mask, first, lengths = real_span(tokens)
    last = (first + lengths - 1).view(-1, 1, 1).expand(-1, 1, states.shape[-1])
    mask = mask.unsqueeze(-1)  # (B, T, 1)
    maximum = states.masked_fill(~mask, float("-inf")).amax(dim=1).nan_to_num(0.0)
    mean = (states * mask).sum(dim=1) / lengths.unsqueeze(-1)
    return torch.cat([states.gather(1, last).squeeze(1), maximum, mean], dim=-1)


class LMClassifier(nn.Module):
    """Reads reviews (B, T), padded with 0 on either side, and returns one logit each."""

    def __init__(self, config: SentimentConfig):
        super().__init__()
        lm = config.lm
        self.config = config
        output_size = lm.embedding_dim if lm.tie_weights else lm.hidden_size
        self.encoder = AWDEncoder(
            config.vocab_size, lm.embedding_dim, lm.hidden_size, lm.num_layers, output_size,
            embedding_dropout=lm.embedding_dropout, input_dropout=lm.input_dropout,
            hidden_dropout=lm.hidden_dropout, weight_dropout=lm.weight_dropout,
        )
        self.head = nn.Sequential(
            nn.Dropout(config.dropout), nn.Linear(3 * output_size, config.head_hidden),
            nn.ReLU(), nn.Dropout(config.dropout), nn.Linear(config.head_hidden, 1),
        )

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B, T) int64 -> logits (B,); every batch starts from a zero state."""
        states, _ = self.encoder(tokens)  # (B, T, O)
        return self.head(concat_pool(states, tokens)).squeeze(-1)

    def layer_groups(self) -> list:
        """Bottom to top: the embedding, each LSTM layer, the head."""
        return [self.encoder.embedding.parameters(),
                *(layer.parameters() for layer in self.encoder.layers), self.head.parameters()]

    def prefix_logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (1, T), one unpadded review -> logits (T,) after reading each prefix, in one
        pass: the last state, running maximum and running mean are running values."""
        check_one_review(tokens)
        states = self.encoder(tokens)[0][0]  # (T, O)
        pooled = torch.cat([running_pool(states, head) for head in ("last", "max", "mean")],
                           dim=-1)
        return self.head(pooled).view(-1)

    reads_prefixes_in_one_pass = True


def build_classifier(config: SentimentConfig) -> nn.Module:
    """The classifier a config describes: on a language model's encoder, or the RNN of its own."""
    from seqrnn.models.sentiment import SentimentRNN

    return SentimentRNN(config) if config.lm is None else LMClassifier(config)
