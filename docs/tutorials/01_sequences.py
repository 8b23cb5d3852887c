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
# # 1. Sequences and the four categories
#
# The elements of a sequence come in a certain order and are not independent of each other:
#
# $$\left(x^{(1)}, x^{(2)}, \dots, x^{(T)}\right)$$
#
# A feedforward network reads one fixed-size input and forgets it. A recurrent network keeps a
# state $h^{(t)}$ that summarises what it has read so far, so it can remember the past and
# process each new element accordingly.
#
# When the input, the output or both are sequences, a model falls into one of the lecture's
# categories. This notebook builds one small, untrained model of each from seqrnn and looks at
# the shapes going in and out; the later notebooks train them.
#
# | category | input | output | example | in seqrnn |
# |---|---|---|---|---|
# | many-to-one | a sequence | one vector | sentiment of a review | `SentimentRNN`, `ForecastRNN` |
# | one-to-many | one input | a sequence | text from a prime | `CharLM.generate` |
# | synchronized many-to-many | a sequence | one output per element | next character, a tag per word | `CharLM`, `BiLSTMTagger` |
# | delayed many-to-many | a sequence | another sequence, after reading all | translation, spelling to sound | `Seq2Seq` |

# %%
import torch

from seqrnn.configs import CharLMConfig, SentimentConfig, Seq2SeqConfig
from seqrnn.models.charlm import CharLM
from seqrnn.models.sentiment import SentimentRNN
from seqrnn.models.seq2seq import Seq2Seq

torch.manual_seed(0)
batch, steps = 2, 7

# %% [markdown]
# ## Many-to-one: a whole review in, one logit out
#
# The classifier reads word ids (0 is padding) and answers one number per review: the logit of
# "positive". Only the state after the last real word reaches the output.

# %%
classifier = SentimentRNN(SentimentConfig(vocab_size=50, embedding_dim=8, hidden_size=16)).eval()
reviews = torch.randint(2, 50, (batch, steps))  # (B, T) word ids
print("in ", tuple(reviews.shape), "-> out", tuple(classifier(reviews).shape))

# %% [markdown]
# ## Synchronized many-to-many: an output at every step
#
# The character language model predicts, after every character, a distribution over the next
# one: $y^{(t)} = \mathrm{softmax}(W_{hy} h^{(t)} + b_y)$. T characters in, T distributions out.

# %%
lm = CharLM(CharLMConfig(vocab_size=30, hidden_size=16)).eval()
chars = torch.randint(0, 30, (batch, steps))  # (B, T) character ids
logits, state = lm(chars)
print("in ", tuple(chars.shape), "-> out", tuple(logits.shape), "(B, T, V)")

# %% [markdown]
# ## One-to-many: one prime in, a sequence out
#
# The same model generates: it reads a prime once, then feeds each character it picks back in
# as the next input, carrying its state. (Untrained, it picks at random.)

# %%
prime = torch.tensor([3])
generated = list(lm.generate(prime, 10, generator=torch.Generator().manual_seed(1)))
print("prime", prime.tolist(), "-> generated", generated)

# %% [markdown]
# ## Delayed many-to-many: read everything, then write
#
# The encoder-decoder reads the whole source first; the decoder then writes a target of
# another length, looking back at the source at every step (attention). While training, the
# decoder is fed the previous target token (teacher forcing).

# %%
seq2seq = Seq2Seq(Seq2SeqConfig(source_vocab_size=20, target_vocab_size=15,
                                embedding_dim=8, hidden_size=16)).eval()
source = torch.randint(3, 20, (batch, 5))  # (B, S): five letters
previous = torch.randint(3, 15, (batch, 3))  # (B, T): three phonemes so far
print("source", tuple(source.shape), "+ previous", tuple(previous.shape),
      "-> out", tuple(seq2seq(source, previous).shape), "(B, T, V)")

# %% [markdown]
# Each category is a task seqrnn trains from the command line: `seqrnn sentiment` (many-to-one),
# `seqrnn charlm` (synchronized many-to-many, and one-to-many when sampling), `seqrnn tag`
# (synchronized, one label per word), `seqrnn seq2seq` (delayed) and `seqrnn forecast`
# (many-to-one with a vector out: every step of the horizon at once).
