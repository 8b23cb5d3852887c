"""Bag-of-bigrams baselines on IMDb: what a linear model gets without any RNN.

    python bench/imdb_bigrams.py [--data imdb] [--threads 1] [--out bench/results/imdb_bigrams.json]

Reads IMDb exactly as `seqrnn sentiment train` does (`load_sentiment(..., val_fraction=0.1,
seed=1)`: validation is 10% of IMDb's training set, whole movies at a time; the test set is
IMDb's official one) and tokenizes with seqrnn's tokenizer (`seqrnn.data.tokenize.tokenize`),
so both methods see the words the RNN sees. Features are every unigram and bigram of the
training split (no vocabulary cut-off); validation and test n-grams unseen in training are
dropped.

Methods, each trained on the training split only, with its regularisation C chosen on the
validation split (best accuracy; the smaller C on a tie), then scored on the test set once:

- ``tfidf_lr``: TF-IDF (sublinear tf, smooth idf, l2-normalised rows) + logistic regression
  (liblinear, L2 penalty);
- ``nbsvm``: NBSVM (Wang & Manning 2012, "Baselines and Bigrams"): binarized features scaled
  by the naive-Bayes log-count ratio r (alpha = 1), an L2-regularised L2-loss linear SVM
  (liblinear), then the paper's interpolation w' = (1 - beta) * mean|w| + beta * w with
  beta = 0.25 (the bias is kept).

Prints one JSON object, the command first, and writes it to `--out` atomically. liblinear is
single-threaded; `--threads` caps the BLAS/OpenMP pools too. `--limit N` keeps N reviews of
each split, spread evenly: for a quick check only, never for a reported figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn
from machine import cpu_flags, cpu_model, load_average
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from seqrnn.atomic import atomic_open
from seqrnn.data.labels import LabeledTexts
from seqrnn.data.locate import locate
from seqrnn.data.sentiment_sets import load_sentiment
from seqrnn.data.tokenize import tokenize

VAL_FRACTION = 0.1
SEED = 1  # seqrnn's sentiment training default (`seqrnn.configs`)
TFIDF_LR_GRID = (1.0, 3.0, 10.0, 30.0, 100.0)
NBSVM_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
NBSVM_BETA = 0.25
NB_ALPHA = 1.0


def unigrams_and_bigrams(text: str) -> list[str]:
    """seqrnn's tokens of `text`, then its bigrams ("a b")."""
    tokens = tokenize(text)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


# -- the machine and its load -----------------------------------------------------------------


def _busy_and_own_seconds() -> tuple[float, float]:
    """CPU seconds all processes have used (from /proc/stat), and those this process has."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = ticks
    busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    own = os.times()
    return busy, own.user + own.system


@contextmanager
def conditions(into: dict) -> Iterator[None]:
    """Record the load average around a block and the share of the CPUs others used in it."""
    into["load_before"] = load_average()
    busy, own = _busy_and_own_seconds()
    start = time.monotonic()
    try:
        yield
    finally:
        wall = time.monotonic() - start
        busy_end, own_end = _busy_and_own_seconds()
        others = max(0.0, (busy_end - busy) - (own_end - own))
        into["load_after"] = load_average()
        into["others_cpu_share"] = round(others / (wall * (os.cpu_count() or 1)), 3)


# -- the methods -------------------------------------------------------------------------------


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(predicted == labels))


def choose(grid: list[dict]) -> dict:
    """The grid point with the best validation accuracy; the first (smallest C) on a tie."""
    best = max(point["val_accuracy"] for point in grid)
    return next(point for point in grid if point["val_accuracy"] == best)


def tfidf_lr(counts: dict[str, sp.csr_matrix], labels: dict[str, np.ndarray]) -> dict:
    started = time.perf_counter()
    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts["train"])
    x = {name: tfidf.transform(m) for name, m in counts.items()}
    grid, models = [], {}
    for c in TFIDF_LR_GRID:
        model = LogisticRegression(C=c, solver="liblinear", dual=True, max_iter=1000,
                                   random_state=0)
        fit_started = time.perf_counter()
        model.fit(x["train"], labels["train"])
        fit_seconds = time.perf_counter() - fit_started
        grid.append({"C": c, "val_accuracy": round(accuracy(model.predict(x["val"]),
                                                            labels["val"]), 4),
                     "fit_seconds": round(fit_seconds, 2)})
        models[c] = model
    chosen = choose(grid)
    test = accuracy(models[chosen["C"]].predict(x["test"]), labels["test"])  # the only look
    return {
        "description": "TF-IDF (sublinear tf, smooth idf, l2 rows) unigrams+bigrams, "
                       "logistic regression (liblinear, L2)",
        "grid": grid,
        "chosen": {"C": chosen["C"]},
        "val_accuracy": chosen["val_accuracy"],
        "test_accuracy": round(test, 4),
        "fit_seconds": chosen["fit_seconds"],
        "total_seconds": round(time.perf_counter() - started, 2),
    }


def nb_ratio(binary: sp.csr_matrix, labels: np.ndarray, alpha: float) -> np.ndarray:
    """The naive-Bayes log-count ratio r = log((p / |p|_1) / (q / |q|_1)) of each feature."""
    p = alpha + np.asarray(binary[labels == 1].sum(axis=0)).ravel()
    q = alpha + np.asarray(binary[labels == 0].sum(axis=0)).ravel()
    return np.log(p / p.sum()) - np.log(q / q.sum())


def nbsvm(counts: dict[str, sp.csr_matrix], labels: dict[str, np.ndarray]) -> dict:
    started = time.perf_counter()
    binary = {}
    for name, m in counts.items():
        b = m.copy()
        b.data = np.ones_like(b.data, dtype=np.float64)
        binary[name] = b
    r = nb_ratio(binary["train"], labels["train"], NB_ALPHA)
    scale = sp.diags(r)
    x = {name: (b @ scale).tocsr() for name, b in binary.items()}
    grid, weights = [], {}
    for c in NBSVM_GRID:
        model = LinearSVC(C=c, loss="squared_hinge", dual=True, max_iter=10000, random_state=0)
        fit_started = time.perf_counter()
        model.fit(x["train"], labels["train"])
        fit_seconds = time.perf_counter() - fit_started
        w = model.coef_.ravel()
        w_interpolated = (1 - NBSVM_BETA) * np.abs(w).mean() + NBSVM_BETA * w
        bias = float(model.intercept_[0])
        weights[c] = (w_interpolated, bias)
        predicted = (x["val"] @ w_interpolated + bias > 0).astype(np.int64)
        grid.append({"C": c, "val_accuracy": round(accuracy(predicted, labels["val"]), 4),
                     "fit_seconds": round(fit_seconds, 2), "iterations": int(model.n_iter_)})
    chosen = choose(grid)
    w, bias = weights[chosen["C"]]
    test = accuracy((x["test"] @ w + bias > 0).astype(np.int64), labels["test"])  # the only look
    return {
        "description": "NBSVM (Wang & Manning 2012): binarized unigrams+bigrams scaled by the "
                       f"NB log-count ratio (alpha {NB_ALPHA:g}), L2-loss linear SVM "
                       f"(liblinear), interpolation beta {NBSVM_BETA}",
        "beta": NBSVM_BETA,
        "alpha": NB_ALPHA,
        "grid": grid,
        "chosen": {"C": chosen["C"], "beta": NBSVM_BETA},
        "val_accuracy": chosen["val_accuracy"],
        "test_accuracy": round(test, 4),
        "fit_seconds": chosen["fit_seconds"],
        "total_seconds": round(time.perf_counter() - started, 2),
    }


# -- main --------------------------------------------------------------------------------------


def head(data: LabeledTexts, limit: int | None) -> LabeledTexts:
    """`limit` reviews spread evenly over `data` (both classes), or all of it."""
    if limit is None or limit >= len(data):
        return data
    return data.subset(np.unique(np.linspace(0, len(data) - 1, limit).round().astype(np.int64)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="imdb",
                        help="the IMDb archive or folder, or 'imdb' (found via $SEQRNN_DATA)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads (default 1)")
    parser.add_argument("--limit", type=int, default=None,
                        help="N reviews of each split (quick check only)")
    parser.add_argument("--out", default="bench/results/imdb_bigrams.json",
                        help="where to write the JSON ('' to skip)")
    args = parser.parse_args()

    result: dict = {"command": " ".join(["python", "bench/imdb_bigrams.py", *sys.argv[1:]])}
    started = time.perf_counter()
    with threadpool_limits(limits=args.threads), conditions(result):
        path = locate(args.data)
        load_started = time.perf_counter()
        splits = load_sentiment(path, val_fraction=VAL_FRACTION, seed=SEED)
        sets = {name: head(getattr(splits, name), args.limit) for name in ("train", "val", "test")}
        load_seconds = time.perf_counter() - load_started
        labels = {name: s.labels for name, s in sets.items()}
        shared_movies = (len(np.intersect1d(sets["train"].groups, sets["val"].groups))
                         if sets["train"].groups is not None else None)

        vectorize_started = time.perf_counter()
        vectorizer = CountVectorizer(analyzer=unigrams_and_bigrams)
        counts = {"train": vectorizer.fit_transform(sets["train"].texts).tocsr()}
        counts.update({name: vectorizer.transform(sets[name].texts).tocsr()
                       for name in ("val", "test")})
        vectorize_seconds = time.perf_counter() - vectorize_started

        methods = {"tfidf_lr": tfidf_lr(counts, labels), "nbsvm": nbsvm(counts, labels)}
    total_seconds = time.perf_counter() - started

    result.update({
        "data": {
            "source": str(path),
            "split": f"load_sentiment(val_fraction={VAL_FRACTION}, seed={SEED}): validation "
                     "holds out whole movies of IMDb's training set; test is IMDb's test set",
            "sizes": {name: len(s) for name, s in sets.items()},
            "val_movies_also_in_train": shared_movies,
            "limit": args.limit,
            "tokenizer": "seqrnn.data.tokenize.tokenize",
            "features": int(counts["train"].shape[1]),
            "features_note": "every unigram and bigram of the training split",
        },
        "methods": methods,
        "load_seconds": round(load_seconds, 2),
        "vectorize_seconds": round(vectorize_seconds, 2),
        "total_seconds": round(total_seconds, 2),
        "machine": {
            "cpu": cpu_model(),
            "cpu_flags": cpu_flags(),
            "cpus": os.cpu_count(),
            "threads": args.threads,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
        },
    })
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        with atomic_open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
