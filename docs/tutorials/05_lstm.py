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
# # 5. The LSTM's gates, and what trained cells do
#
# A long short-term memory cell keeps a **cell state** $C^{(t)}$, the network's memory, beside
# its hidden state $h^{(t)}$, and three gates decide what happens to it. A gate is a sigmoid:
# it squashes to $(0, 1)$, and multiplying by it keeps (near 1) or forgets (near 0).
#
# | gate | equation | role |
# |---|---|---|
# | forget | $f_t = \sigma(W_{xf} x^{(t)} + W_{hf} h^{(t-1)} + b_f)$ | what to keep of $C^{(t-1)}$ |
# | input | $i_t = \sigma(W_{xi} x^{(t)} + W_{hi} h^{(t-1)} + b_i)$ | which values to update |
# | candidate | $g_t = \tanh(W_{xg} x^{(t)} + W_{hg} h^{(t-1)} + b_g)$ | the values to add |
# | output | $o_t = \sigma(W_{xo} x^{(t)} + W_{ho} h^{(t-1)} + b_o)$ | what of the memory to show |
#
# $$C^{(t)} = C^{(t-1)} \odot f_t + i_t \odot g_t, \qquad h^{(t)} = o_t \odot \tanh\left(C^{(t)}\right)$$
#
# `seqrnn.nn.LSTMCell` stores the four gates' weights stacked in torch's order i, f, g, o:
# $W_x$ (4H × I), $W_h$ (4H × H) and $b$ (4H).

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

import seqrnn
from seqrnn.analysis.inspect_cells import inspect
from seqrnn.data.text import load_text
from seqrnn.nn import LSTMCell, RecurrentStack, to_torch

torch.manual_seed(0)

# %%
z = np.linspace(-6, 6, 200)
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(z, 1 / (1 + np.exp(-z)), label="σ(z): a gate, in (0, 1)")
ax.plot(z, np.tanh(z), label="tanh(z): a value, in (−1, 1)")
ax.axhline(0, color="grey", lw=0.5)
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## One step, one equation at a time

# %%
I, H = 3, 4
cell = LSTMCell(I, H).double()
x = torch.randn(1, I, dtype=torch.float64)
h_prev = torch.randn(1, H, dtype=torch.float64)
C_prev = torch.randn(1, H, dtype=torch.float64)

with torch.no_grad():
    W_xi, W_xf, W_xg, W_xo = cell.W_x.detach().chunk(4)  # (H, I) each
    W_hi, W_hf, W_hg, W_ho = cell.W_h.detach().chunk(4)  # (H, H) each
    b_i, b_f, b_g, b_o = cell.b.detach().chunk(4)
    f = torch.sigmoid(x @ W_xf.T + h_prev @ W_hf.T + b_f)  # forget gate
    i = torch.sigmoid(x @ W_xi.T + h_prev @ W_hi.T + b_i)  # input gate
    g = torch.tanh(x @ W_xg.T + h_prev @ W_hg.T + b_g)  # candidate values
    o = torch.sigmoid(x @ W_xo.T + h_prev @ W_ho.T + b_o)  # output gate
    C = C_prev * f + i * g  # new cell state
    h = o * torch.tanh(C)  # new hidden state
    h_cell, C_cell = cell(x, (h_prev, C_prev))

print("forget gate", f.numpy().round(2))
print("by hand = LSTMCell:", torch.allclose(h, h_cell) and torch.allclose(C, C_cell))
print("forget bias starts at", float(b_f[0]), "(char-rnn's 1: σ(1) = 0.73 keeps most memory)")

# %% [markdown]
# The explicit cells are the oracle for torch's fused `nn.LSTM`: the same weights give the same
# outputs.

# %%
stack = RecurrentStack("lstm", I, H).double()
xs = torch.randn(2, 5, I, dtype=torch.float64)
with torch.no_grad():
    ours, _ = stack(xs)
    theirs, _ = to_torch(stack)(xs)
print("RecurrentStack = torch.nn.LSTM:", torch.allclose(ours, theirs, atol=1e-10))

# %% [markdown]
# ## What the trained cells do: the cell inspector
#
# After Karpathy, Johnson and Fei-Fei (2015): train a character model, read a text one
# character at a time, and correlate each cell's activation $\tanh(C^{(t)})$ with simple
# features of the text (inside a word, a speaker's name, position in the line). A few hundred
# steps on Hamlet (seconds here) already give cells a reader can recognise; the full recipe
# (`seqrnn charlm train --text hamlet`, 100 epochs) gives sharper ones.

# %%
runs = Path(tempfile.mkdtemp(prefix="seqrnn-tutorial-"))
run = seqrnn.train("charlm", runs / "hamlet", text="hamlet", hidden_size=96, batch_size=32,
                   num_steps=64, max_steps=300, lr=4e-3, dropout=0.0, progress=False)
lm = run.model
print("validation bits per character:", round(run.result.best_eval["bits_per_char"], 2))

# %%
text = load_text("hamlet")[60000:62000]
inspection = inspect(lm, text, cells=4)
for chosen in inspection.chosen:
    print(f"cell {chosen.unit:3d}  {chosen.feature:14s} r = {chosen.correlation:+.2f}")

# %% [markdown]
# Each chosen cell's activation over the first characters, one colour per character (red
# positive, blue negative):

# %%
lines, width = 8, 64
grid = np.full((len(inspection.chosen), lines, width), np.nan)  # activation per character
chars = []  # (row, column, character)
row, col = 0, 0
for position, char in enumerate(inspection.text):
    if char == "\n" or col == width:
        row, col = row + 1, 0
        if row == lines:
            break
        if char == "\n":
            continue
    grid[:, row, col] = inspection.activations[position]
    chars.append((row, col, char))
    col += 1

fig, axes = plt.subplots(len(inspection.chosen), 1, figsize=(10, 1.9 * len(inspection.chosen)))
for ax, chosen, picture in zip(axes, inspection.chosen, grid, strict=True):
    ax.imshow(picture, cmap="coolwarm", vmin=-1, vmax=1, aspect="auto")
    for r, c, char in chars:
        ax.text(c, r, char, ha="center", va="center", family="monospace", fontsize=7)
    ax.set_axis_off()
    ax.set_title(f"cell {chosen.unit}: {chosen.feature}, r = {chosen.correlation:+.2f}",
                 fontsize=9, loc="left")
fig.tight_layout()

# %% [markdown]
# The same pages, drawn as HTML for any text, come from the command line:
# `seqrnn charlm inspect --model RUN_DIR --text hamlet --out pages/hamlet`
# (the [guide](../../guide/inspect/)).
