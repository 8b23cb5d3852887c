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
# # 7. The character model on Hamlet
#
# The lecture's second model reads Shakespeare one character at a time and learns to predict
# the next one: a synchronized many-to-many model,
#
# $$P\left(c_{t+1} \mid c_1, \dots, c_t\right) = \mathrm{softmax}\left(W_{hy} h^{(t)} + b_y\right),
# \qquad L = -\frac{1}{T} \sum_t \log P\left(c_{t+1} \mid c_{\le t}\right),$$
#
# trained with truncated BPTT on windows of the text (notebook 3), and used one-to-many to write
# text: feed it a prime, draw a character, feed that back in.
#
# The lecture's configuration (`seqrnn charlm train --text hamlet`: one-hot input, one LSTM
# layer of 128, batch 64 × 100 steps, Adam 1e-3, dropout 0.5, 100 epochs) takes about 160 s on
# two cores and reaches 2.83 bits per character. Here a smaller model trains for a few hundred
# steps.

# %%
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file

import seqrnn
from seqrnn.cli import main as seqrnn_cli

runs = Path(tempfile.mkdtemp(prefix="seqrnn-tutorial-"))
settings = dict(text="hamlet", hidden_size=64, batch_size=32, num_steps=50, lr=4e-3,
                progress=False)

# %% [markdown]
# ## Training
#
# `seqrnn.train(kind, out, **settings)` is the command line's `seqrnn charlm train`: any field of
# the data, model and loop configurations, flat. The run folder holds the weights
# (safetensors), the configuration and the vocabulary (JSON), the training state, the metrics
# and a plot of the curves; nothing in it runs code when loaded.

# %%
run = seqrnn.train("charlm", runs / "hamlet", max_steps=600, **settings)
print(run.result.stopped, "after", run.result.step, "steps;",
      "validation bits per character:", round(run.result.best_eval["bits_per_char"], 2))
print(sorted(path.name for path in (runs / "hamlet").iterdir()))

# %% [markdown]
# ## Sampling options
#
# Each draw picks the next character from the softmax; the options change how:
#
# * `top_k=5` (the default, the lecture's `get_top_char`) draws among the 5 likeliest;
#   `top_k=0` from all;
# * `top_p=0.9` keeps the fewest likeliest characters holding 90% of the probability (nucleus);
# * `temperature` divides the logits: below 1 sharper, above 1 flatter,
#   $P_i \propto \exp(z_i / \tau)$;
# * `greedy=True` takes the likeliest every time; `beam=8` searches for the likeliest text;
# * `stop` ends the text after a stop string; `seed` makes a draw repeatable.

# %%
lm = run.model  # seqrnn.api.charlm.LanguageModel; later: seqrnn.load(runs / "hamlet")
print(repr(lm.sample("The ", 80, seed=1)))
print(repr(lm.sample("The ", 80, seed=1, top_k=0, temperature=1.3)))
print(repr(lm.sample("The ", 80, seed=1, top_k=0, temperature=0.5)))
print(repr(lm.sample("The ", 200, seed=1, top_k=0, top_p=0.9, stop=(".",))))
print(repr(lm.sample("The ", 60, beam=8)))

# %% [markdown]
# Many samples are generated as one batch; sample *i* is the one seed + *i* gives alone. A
# stream yields the text as it is written.

# %%
batch = lm.samples("Ham. ", 40, num_samples=3, seed=1)
print(batch[1] == lm.sample("Ham. ", 40, seed=2))
for piece in lm.stream("Ham. ", 40, seed=1):
    print(piece, end="")
print()
print(lm.evaluate("To be, or not to be, that is the Question:\n"))

# %% [markdown]
# The command line does the same; `main(argv)` returns the exit status:

# %%
status = seqrnn_cli(["charlm", "sample", "--model", str(runs / "hamlet"), "--prime", "Hor. ",
                     "--length", "60", "--seed", "1", "--quiet"])
print("\nexit status", status)

# %% [markdown]
# ## Resume
#
# A run can always be continued: `resume=RUN_DIR` (`--resume RUN_DIR`) restores the weights,
# the optimizer, the step, the position in the text, the carried state and the random state.
# With a fixed seed on the CPU, a run stopped and resumed ends with exactly the weights of one
# that ran straight through:

# %%
straight = seqrnn.train("charlm", runs / "straight", max_steps=100, **settings)
seqrnn.train("charlm", runs / "halves", max_steps=50, **settings)
resumed = seqrnn.train("charlm", resume=runs / "halves", max_steps=100)
a = load_file(runs / "straight" / "latest.safetensors")
b = load_file(runs / "halves" / "latest.safetensors")
print("resumed at step", resumed.result.step, "| same weights as straight through:",
      all(torch.equal(a[name], b[name]) for name in a))
