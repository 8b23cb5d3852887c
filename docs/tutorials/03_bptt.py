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
# # 3. Backpropagation through time, by hand
#
# Unrolled, a recurrent network is a deep feedforward network whose layers share their weights,
# one layer per time step. Backpropagation through it is **backpropagation through time**
# (BPTT). The loss is the sum over the steps,
#
# $$L = \sum_{t=1}^{T} L^{(t)}, \qquad L^{(t)} = -\log y^{(t)}_{\text{target}(t)},$$
#
# and the gradient of one loss term with respect to the recurrent weights collects every path
# back through the states:
#
# $$\frac{\partial L^{(t)}}{\partial W_{hh}} =
# \frac{\partial L^{(t)}}{\partial y^{(t)}} \frac{\partial y^{(t)}}{\partial h^{(t)}}
# \left(\sum_{k=1}^{t} \frac{\partial h^{(t)}}{\partial h^{(k)}}
# \frac{\partial h^{(k)}}{\partial W_{hh}}\right),
# \qquad
# \frac{\partial h^{(t)}}{\partial h^{(k)}} = \prod_{i=k+1}^{t}
# \frac{\partial h^{(i)}}{\partial h^{(i-1)}}.$$
#
# Summing the terms in this order costs $O(T^2)$. Walking backwards instead costs $O(T)$: let
# $\delta^{(k)} = \partial L / \partial h^{(k)}$, the gradient reaching $h^{(k)}$ from every
# loss at $k$ and after. Then
#
# $$\delta^{(k)} = \frac{\partial L^{(k)}}{\partial h^{(k)}} + \delta^{(k+1)}
# \frac{\partial h^{(k+1)}}{\partial h^{(k)}},
# \qquad \frac{\partial h^{(i)}}{\partial h^{(i-1)}} = \mathrm{diag}\left(1 - {h^{(i)}}^2\right)
# W_{hh},$$
#
# one step at a time from $t = T$ down to 1, carrying the second term back (`dh_next`).

# %%
import numpy as np
import torch
import torch.nn.functional as F

from seqrnn.reference import elman_backward, elman_forward, init_elman, one_hot

rng = np.random.default_rng(0)
V, H, T = 5, 8, 12  # vocabulary (input and output), hidden size, steps
params = init_elman(V, H, V, rng, scale=0.5)
inputs = rng.integers(0, V, T)
targets = rng.integers(0, V, T)
xs = one_hot(inputs, V)  # (T, V)

# %% [markdown]
# ## The forward pass stores what the backward pass needs
#
# `elman_forward` runs the recurrence in numpy and keeps $x^{(t)}$, $h^{(t)}$ and the softmax
# outputs $y^{(t)}$ of every step (the tape).

# %%
tape = elman_forward(params, xs, targets)
print("loss", round(tape.loss, 4), " states", tape.hs.shape, " outputs", tape.ps.shape)

# %% [markdown]
# ## The backward pass, written out
#
# Softmax and cross-entropy differentiate together: $\partial L^{(t)} / \partial z^{(t)} =
# y^{(t)} - \mathrm{onehot}(\text{target}(t))$ for the logits $z^{(t)} = W_{hy} h^{(t)} + b_y$.
# The loop below is the whole of BPTT for the Elman network (it is
# `seqrnn.reference.elman_backward` without the truncation).

# %%
def bptt(params, tape):
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    dh_next = np.zeros(H)
    for t in reversed(range(T)):
        h, h_prev = tape.hs[t], tape.h_prev(t)
        dz = tape.ps[t].copy()
        dz[tape.targets[t]] -= 1.0  # ∂L(t)/∂z(t)
        grads["W_hy"] += np.outer(dz, h)
        grads["b_y"] += dz
        dh = params["W_hy"].T @ dz + dh_next  # δ(t): this step's loss and the future's
        da = (1.0 - h * h) * dh  # back through tanh
        grads["W_xh"] += np.outer(da, tape.xs[t])
        grads["W_hh"] += np.outer(da, h_prev)
        grads["b_h"] += da
        dh_next = params["W_hh"].T @ da  # carried to step t-1
    return grads


by_hand = bptt(params, tape)
reference = elman_backward(params, tape)
print("by hand = seqrnn.reference:", all(np.allclose(by_hand[n], reference[n]) for n in params))

# %% [markdown]
# ## Checked against autograd
#
# The same network in torch, float64, with the same weights; autograd differentiates it.

# %%
weights = {name: torch.tensor(value, requires_grad=True) for name, value in params.items()}
h = torch.zeros(H, dtype=torch.float64)
loss = torch.zeros((), dtype=torch.float64)
for t in range(T):
    x = torch.tensor(xs[t])
    h = torch.tanh(weights["W_xh"] @ x + weights["W_hh"] @ h + weights["b_h"])
    z = weights["W_hy"] @ h + weights["b_y"]
    loss = loss + F.cross_entropy(z[None], torch.tensor([int(targets[t])]), reduction="sum")
loss.backward()
for name in params:
    print(f"{name:5s} largest difference {np.abs(weights[name].grad.numpy() - by_hand[name]).max():.1e}")

# %% [markdown]
# ## And against finite differences
#
# No autograd at all: nudge one weight by $\pm\varepsilon$ and watch the loss.

# %%
eps, (i, j) = 1e-6, (2, 3)
plus = {**params, "W_hh": params["W_hh"].copy()}
minus = {**params, "W_hh": params["W_hh"].copy()}
plus["W_hh"][i, j] += eps
minus["W_hh"][i, j] -= eps
numeric = (elman_forward(plus, xs, targets).loss - elman_forward(minus, xs, targets).loss) / (2 * eps)
print(f"dL/dW_hh[{i},{j}]: BPTT {by_hand['W_hh'][i, j]:.8f}, finite differences {numeric:.8f}")

# %% [markdown]
# ## Truncated BPTT
#
# On a long text the backward walk cannot go back to the start. **Truncated** BPTT cuts the
# sequence into windows of $k$ steps: the forward pass still carries the state through every
# step, but the backward pass treats the state entering each window as a constant, so the
# gradient stops at the window's first step:
#
# ```
# step t     0  1  2 | 3  4  5 | 6  7          T = 8, k = 3
# forward    ──────────────────────────►      h carried across every step
# backward   ◄─────── ✂ ◄────── ✂ ◄─────      dh_next reset to 0 at t = 3, 6
# ```
#
# In torch the cut is `h.detach()` at each window's start. The reference takes `truncate=k`:

# %%
k = 4
truncated = elman_backward(params, tape, truncate=k)

weights = {name: torch.tensor(value, requires_grad=True) for name, value in params.items()}
h = torch.zeros(H, dtype=torch.float64)
loss = torch.zeros((), dtype=torch.float64)
for t in range(T):
    if t % k == 0:
        h = h.detach()  # the state entering a window is a constant to it
    h = torch.tanh(weights["W_xh"] @ torch.tensor(xs[t]) + weights["W_hh"] @ h + weights["b_h"])
    z = weights["W_hy"] @ h + weights["b_y"]
    loss = loss + F.cross_entropy(z[None], torch.tensor([int(targets[t])]), reduction="sum")
loss.backward()
print("truncated: reference = autograd with detach:",
      all(np.allclose(weights[n].grad.numpy(), truncated[n]) for n in params))
print("truncation changed dL/dW_hh by",
      f"{np.abs(truncated['W_hh'] - by_hand['W_hh']).max():.3f} (largest entry)")

# %% [markdown]
# ## Truncated BPTT in training
#
# The language models train exactly this way. `seqrnn.data.stream` cuts the text into
# `batch_size` rows and reads windows of `num_steps` columns in order; the state after one
# window starts the next one, detached. The picture is in the module's docstring:

# %%
import seqrnn.data.stream

print(seqrnn.data.stream.__doc__)
