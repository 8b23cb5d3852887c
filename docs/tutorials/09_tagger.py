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
# # 9. The tagger: a label for every word
#
# The synchronized many-to-many with real labels: **chunking** marks the phrases of a sentence
# (noun phrases, verb phrases, ...), one tag per word, on CoNLL-2000. Tags say where a phrase
# begins and ends: in BIOES, `B-NP` begins a noun phrase, `I-NP` continues it, `E-NP` ends it,
# `S-NP` is a phrase of one word, `O` is outside any.
#
# Each word is read as its embedding, its characters' final states from a small BiLSTM, and an
# embedding of its part of speech; a bidirectional LSTM reads the sentence, so each word's
# state knows both its left and its right context:
#
# $$h_t = \left[\overrightarrow{h}_t ; \overleftarrow{h}_t\right], \qquad
# s_t = W h_t + b \in \mathbb{R}^{\text{tags}}.$$
#
# A linear-chain **CRF** then scores whole tag sequences, the emissions $s_t$ plus a learned
# transition score $A_{y_{t-1}, y_t}$ between neighbours,
#
# $$\mathrm{score}(y) = \sum_t \left(A_{y_{t-1}, y_t} + s_{t, y_t}\right), \qquad
# P(y \mid x) = \frac{\exp \mathrm{score}(y)}{\sum_{y'} \exp \mathrm{score}(y')},$$
#
# trained on each sentence's log-likelihood and decoded by Viterbi, never emitting an `I-` or
# `E-` tag that no `B-` opened.

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

import seqrnn

runs = Path(tempfile.mkdtemp(prefix="seqrnn-tutorial-"))

# %% [markdown]
# ## Training, on a small budget
#
# The default recipe (`seqrnn tag train`, 12 minutes) scores test span F1 94.45; a hundred steps
# of a smaller model get a rough tagger already, since the part of speech carries much of the
# answer.

# %%
run = seqrnn.train("tag", runs / "chunk", data="conll2000", word_dim=50, hidden_size=64,
                   max_steps=100, amp="off", progress=False)
tagger = run.model  # seqrnn.api.tagger.Tagger
print("validation span F1:", round(run.result.best_eval["f1"], 3))

# %% [markdown]
# The model reads parts of speech beside the words, so a sentence comes with them:

# %%
tokens = ["He", "reckons", "the", "current", "account", "deficit", "will", "narrow", "."]
pos = ["PRP", "VBZ", "DT", "JJ", "NN", "NN", "MD", "VB", "."]
tagged = tagger.predict([tokens], features=[[pos]])[0]
for token, tag in zip(tagged["tokens"], tagged["tags"], strict=True):
    print(f"{token:10s} {tag}")
print([(span["type"], span["text"]) for span in tagged["spans"]])

# %% [markdown]
# ## What the CRF learned
#
# The transition scores $A$: a large score for `B-NP → I-NP`, a very negative one where a
# transition breaks the scheme (those are also forbidden outright at decoding).

# %%
shown = ["O", "B-NP", "I-NP", "E-NP", "S-NP", "B-VP", "I-VP", "E-VP", "S-VP"]
ids = [tagger.tags.tags.index(tag) for tag in shown]
transitions = tagger.models[0].decoder.transitions.detach()[ids][:, ids].numpy()  # [from, to]
fig, ax = plt.subplots(figsize=(5, 4.5))
picture = ax.imshow(transitions, cmap="RdBu", vmin=-abs(transitions).max(),
                    vmax=abs(transitions).max())
ax.set_xticks(range(len(shown)), shown, rotation=90)
ax.set_yticks(range(len(shown)), shown)
ax.set_xlabel("to")
ax.set_ylabel("from")
fig.colorbar(picture)
fig.tight_layout()

# %% [markdown]
# ## Scored as the shared task counts
#
# A span is right when its type and both ends are (conlleval's span F1):

# %%
scores = tagger.evaluate("test")
print({key: round(scores[key], 3) for key in ("precision", "recall", "f1", "accuracy")})
types = sorted(scores["per_type"], key=lambda t: -scores["per_type"][t]["support"])[:5]
fig, ax = plt.subplots(figsize=(6, 3))
ax.bar(types, [scores["per_type"][t]["f1"] for t in types])
ax.set_ylabel("test span F1")
ax.set_title("The five commonest phrase types")
fig.tight_layout()

# %% [markdown]
# ## The full recipes (measured; commands in the [benchmarks](../../benchmarks/))
#
# | model | budget | test span F1 |
# |---|---|---|
# | the `conll2000` preset: words, characters, parts of speech, CRF | 12 min | 94.45 |
# | three seeds' ensemble | 36 min | 94.77 |
# | a softmax in place of the CRF | 12 min | 94.38 |
# | without the character encoder | 12 min | 94.34 |
