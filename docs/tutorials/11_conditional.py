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
# # 11. One-to-many from a label: conditional generation
#
# The lecture's one-to-many reads a **fixed-size input**, not a sequence, and writes a sequence
# (its example: a caption from an image). A language model becomes one when every document
# carries a value, here a label $c$, embedded as a learned vector $e_c$ that enters the
# recurrence at every step beside the input:
#
# $$h^{(t)} = \mathrm{LSTM}\left([x^{(t)};\, e_c],\; h^{(t-1)}\right), \qquad
#   P(x^{(t+1)} \mid x^{(\le t)}, c) = \mathrm{softmax}(W_{hy} h^{(t)} + b_y).$$
#
# Asked for a label, it writes a sequence from nothing but that label. With
# `condition_dropout`, some training documents read a learned "none" vector instead, so the
# same model also writes without one. The full guide, with IMDb's star ratings and the
# evaluation of control, is [Conditional generation](../../guide/conditional/).

# %%
import csv
import random
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import seqrnn

runs = Path(tempfile.mkdtemp(prefix="seqrnn-tutorial-"))

# %% [markdown]
# ## A toy language that depends on its label
#
# Label `a` writes only "abab...", label `b` only "baba...": a model that ignores the label can
# do no better than guess the first letter of each row.

# %%
rng = random.Random(0)
table = runs / "toy.csv"
with open(table, "w", newline="", encoding="utf-8") as f:
    writer = csv.writer(f)
    writer.writerow(["text", "label"])
    for _ in range(200):
        label = rng.choice("ab")
        writer.writerow([("ab" if label == "a" else "ba") * rng.randint(3, 8), label])
print(table.read_text().splitlines()[:4])

# %% [markdown]
# ## Training a character model conditioned on the label
#
# Each row is a document ending with a newline; every character reads its row's label.

# %%
lm = seqrnn.train("charlm", runs / "toy", text=str(table), condition="label",
                  condition_dropout=0.2, input="embedding", embedding_dim=8, hidden_size=32,
                  dropout=0.0, batch_size=8, num_steps=20, eval_rows=4, epochs=4, lr=0.01,
                  progress=False, seed=3).model
print(lm.conditions.values)

# %% [markdown]
# ## Writing for a label, and between two
#
# `condition` takes a value, or a mixture `value:weight,...` whose vectors are averaged.

# %%
for condition in ("a", "b", "a:0.5,b:0.5"):
    print(f"{condition:>12}: {lm.sample(chr(10), 24, condition=condition, seed=1)!r}")

# %% [markdown]
# ## The condition carries information
#
# The same text scores better read with its own label than with the other one, or with none.
# Below, the probability the model gives to "a" as the first letter of a row, as the mixture
# moves from label `b` to label `a`.

# %%
for condition in ("a", "b", None):
    print(condition, round(lm.evaluate(chr(10) + "ababab" + chr(10),
                                       condition=condition)["loss"], 3))

weights = np.linspace(0, 1, 11)
first_a = []
for w in weights:
    spec = f"a:{w:.1f},b:{1 - w:.1f}" if 0 < w < 1 else ("a" if w == 1 else "b")
    samples = lm.samples(chr(10), 1, 40, seed=0, condition=spec)
    first_a.append(np.mean([s[1] == "a" for s in samples]))
plt.plot(weights, first_a, marker="o")
plt.xlabel("weight of label a in the mixture")
plt.ylabel("share of samples starting with 'a'")
plt.show()
