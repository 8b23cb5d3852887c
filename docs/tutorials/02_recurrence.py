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
# # 2. The recurrence, in both formulations
#
# An Elman network computes its state from the current input and its own previous state. The
# lecture writes it two ways. **Formulation 1**, separate weights for the input and the state:
#
# $$h^{(t)} = \phi_h\left(W_{xh} x^{(t)} + W_{hh} h^{(t-1)} + b_h\right)$$
#
# **Formulation 2**, one matrix on the input and the state stacked:
#
# $$h^{(t)} = \phi_h\left(W_h \left[x^{(t)}; h^{(t-1)}\right] + b_h\right),
# \qquad W_h = \left[W_{xh} \; W_{hh}\right]$$
#
# and the output at every step
#
# $$y^{(t)} = \phi_y\left(W_{hy} h^{(t)} + b_y\right)$$
#
# with $\phi_h$ usually tanh. `seqrnn.nn.ElmanCell` is formulation 1, `ConcatElmanCell`
# formulation 2, each one time step; unrolling repeats the step over time with the same
# weights.

# %%
import torch

from seqrnn.nn import ElmanCell, OutputLayer, RecurrentStack, to_concatenated, to_torch

torch.manual_seed(0)
B, T, I, H, O = 3, 6, 4, 5, 2  # batch, steps, input, hidden and output sizes
x = torch.randn(B, T, I, dtype=torch.float64)

# %% [markdown]
# ## One step, both ways
#
# The cell holds $W_{xh}$ (H × I), $W_{hh}$ (H × H) and $b_h$; the concatenated cell holds
# $W_h$ (H × (I + H)). `to_concatenated` builds formulation 2 from formulation 1's weights.

# %%
cell = ElmanCell(I, H).double()
concat = to_concatenated(cell)
print("W_xh", tuple(cell.W_xh.shape), "W_hh", tuple(cell.W_hh.shape),
      "-> W_h", tuple(concat.W_h.shape))

h0 = torch.zeros(B, H, dtype=torch.float64)
h1 = cell(x[:, 0], h0)
by_hand = torch.tanh(x[:, 0] @ cell.W_xh.T + h0 @ cell.W_hh.T + cell.b_h)
print("cell = equation:", torch.allclose(h1, by_hand))
print("formulation 1 = formulation 2:", torch.allclose(h1, concat(x[:, 0], h0)))

# %% [markdown]
# ## Unrolled by hand
#
# The same cell at every step: the state is the only thing that carries the past forward.

# %%
h = h0
states = []
for t in range(T):
    h = cell(x[:, t], h)  # h(t) from x(t) and h(t-1)
    states.append(h)
unrolled = torch.stack(states, dim=1)  # (B, T, H)
print("states", tuple(unrolled.shape))

# %% [markdown]
# ## Against torch
#
# `RecurrentStack` unrolls seqrnn's cells with the calling convention of
# `torch.nn.RNN(batch_first=True)`, and `to_torch` copies its weights into torch's fused
# layer exactly. Both compute the same function, which the test suite checks for every cell
# type (float64 within 1e-10).

# %%
stack = RecurrentStack("rnn", I, H).double()
stack.cells[0].load_state_dict(cell.state_dict())  # our cell, inside the stack
outputs, h_last = stack(x)
fused = to_torch(stack)  # torch.nn.RNN with the same weights
torch_outputs, torch_h = fused(x)
print("by hand = RecurrentStack:", torch.allclose(outputs, unrolled))
print("RecurrentStack = torch.nn.RNN:", torch.allclose(outputs, torch_outputs, atol=1e-10))
print("largest difference:", float((outputs - torch_outputs).abs().max().detach()))

# %% [markdown]
# ## The output layer
#
# $y^{(t)} = \phi_y(W_{hy} h^{(t)} + b_y)$ at every step. For a classifier trained with
# cross-entropy $\phi_y$ is left out (the loss applies a log-softmax); with softmax the outputs
# are probabilities that sum to one.

# %%
output = OutputLayer(H, O, activation="softmax").double()
y = output(outputs)  # (B, T, O)
ones = torch.ones(B, T, dtype=y.dtype)
print("y", tuple(y.shape), "rows sum to 1:", torch.allclose(y.sum(-1), ones))
