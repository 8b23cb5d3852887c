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
# # 4. Vanishing and exploding gradients
#
# BPTT carries the error at step $t$ back to step $k$ through the product of one Jacobian per
# step (notebook 3):
#
# $$\frac{\partial h^{(t)}}{\partial h^{(k)}} = \prod_{i=k+1}^{t}
# \frac{\partial h^{(i)}}{\partial h^{(i-1)}}, \qquad
# \frac{\partial h^{(i)}}{\partial h^{(i-1)}} = \mathrm{diag}\left(1 - {h^{(i)}}^2\right) W_{hh}.$$
#
# For a scalar network this is $w_{hh}^{t-k}$ (times the tanh factors): when $t-k$ is large it
# **vanishes** for $|w_{hh}| < 1$ and **explodes** for $|w_{hh}| > 1$; only $|w_{hh}| = 1$ keeps
# it whole. The matrix form: make $W_{hh} = r\,Q$ with $Q$ a random orthogonal matrix, so every
# singular value is $r$, and measure the spectral norm of the product at each distance.
#
# The LSTM's answer is its cell state: the direct path
# $\partial C^{(i)} / \partial C^{(i-1)} = \mathrm{diag}(f_i)$ has no weight matrix and no
# tanh', so with the forget gate near 1 the gradient survives many steps.
#
# `seqrnn.analysis.gradients` measures both; `seqrnn gradients` is the same study from the
# command line.

# %%
import matplotlib.pyplot as plt
import numpy as np

from seqrnn.analysis.gradients import norms_table, run_study, scaled_orthogonal
from seqrnn.configs import GradientStudyConfig

# %% [markdown]
# ## The matrix: every singular value is r

# %%
W_hh = scaled_orthogonal(np.random.default_rng(0), 32, 1.5)
print("singular values of 1.5·Q: from", np.linalg.svd(W_hh, compute_uv=False).min().round(6),
      "to", np.linalg.svd(W_hh, compute_uv=False).max().round(6))

# %% [markdown]
# ## The study
#
# Elman networks at radius 0.5, 1 and 1.5 (at rest, where tanh' = 1), and LSTMs whose forget
# gate bias is 0, 1 or 4 ($f = \sigma(b_f)$ is 0.5, 0.73 or 0.98 at rest), each over 100 steps.

# %%
curves = run_study(GradientStudyConfig())
print(norms_table(curves))

# %%
fig, ax = plt.subplots(figsize=(7, 4))
for curve in curves:
    style = "-" if curve.model == "elman" else "--"
    distances = np.arange(1, len(curve.norms) + 1)
    ax.semilogy(distances, curve.norms, style, label=f"{curve.model}, {curve.setting}")
ax.set_xlabel("distance t − k (steps)")
ax.set_ylabel("‖∂h(t)/∂h(k)‖, LSTM: ‖∂C(t)/∂C(k)‖")
ax.set_title("Gradients through time")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# Fifty steps back, the Elman gradient has shrunk by $10^{-15}$ at radius 0.5 and grown by
# $4 \cdot 10^{8}$ at radius 1.5; the LSTM whose forget gate sits near 1 still passes it on.
#
# ## Saturation: a second way to vanish
#
# With real input the tanh state leaves zero, and $1 - {h^{(i)}}^2$ drops below 1. At radius
# 1.5 the state saturates, where tanh' is near 0, and even the "exploding" network loses its
# gradient:

# %%
driven = run_study(GradientStudyConfig(radii=(0.5, 1.5), forget_biases=(), elman_input_scale=1.0))
print(norms_table(driven))

# %% [markdown]
# ## The two remedies the lecture names
#
# * **Gradient clipping** bounds an exploding gradient's norm before the step (every seqrnn
#   trainer clips the global norm, `--clip 5`), and **truncated BPTT** bounds how far back it
#   goes (notebook 3).
# * The **LSTM** keeps a path along which the gradient neither vanishes nor explodes: notebook 5.
