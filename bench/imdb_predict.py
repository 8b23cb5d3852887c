"""Prediction throughput of a trained classifier: from Python and from the command line.

    python bench/imdb_predict.py --model runs/imdb [--reviews 5000] [--threads 2]

Takes the first N reviews of the IMDb test split. Python: `predict_proba` on all of them at
once, after a warm-up. CLI: `seqrnn sentiment predict --model RUN --file FILE` as a
subprocess, timed whole (start-up and model loading included). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import torch

from seqrnn.api.sentiment import SentimentClassifier
from seqrnn.data.imdb import read_imdb
from seqrnn.data.locate import locate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a trained sentiment run folder")
    parser.add_argument("--reviews", type=int, default=5000, help="how many test reviews")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    texts = read_imdb(locate("imdb"))["test"].texts[: args.reviews]
    texts = [t.replace("\n", " ") for t in texts]  # the CLI reads one review per line
    clf = SentimentClassifier.load(args.model)
    clf.predict_proba(texts[:200])
    started = time.perf_counter()
    clf.predict_proba(texts)
    api_seconds = time.perf_counter() - started

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write("\n".join(texts) + "\n")
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "seqrnn", "sentiment", "predict", "--model",
                    args.model, "--file", f.name, "--json"], check=True,
                   stdout=subprocess.DEVNULL, env=env)
    cli_seconds = time.perf_counter() - started
    os.unlink(f.name)
    print(json.dumps({
        "reviews": len(texts),
        "threads": args.threads,
        "api_seconds": round(api_seconds, 2),
        "api_reviews_per_s": round(len(texts) / api_seconds, 1),
        "cli_seconds_including_startup": round(cli_seconds, 2),
        "cli_reviews_per_s": round(len(texts) / cli_seconds, 1),
    }))


if __name__ == "__main__":
    main()
