"""Data-parallel throughput on this machine: 2 ranks x 1 thread against 1 process x 2 threads.

    SEQRNN_DATA=/work/shared/data python bench/ddp_throughput.py [--steps 60] [--warmup 10]
        [--tasks charlm,sentiment] [--imdb]

Each task trains the same configuration for a fixed number of steps twice,
through the real command line: once as one process with --threads 2, once
under `torchrun --standalone --nproc_per_node 2` (one thread per rank, the
default there). Both runs see the same global batches (--batch-size is the
global batch), so the figures compare like with like.

- charlm: the lecture's configuration on Hamlet (batch 64 x 100 steps, one
  LSTM layer of 128, one-hot input).
- sentiment: the lecture's configuration (embedding 256, LSTM 128, batch 100,
  bucketed batches cut at 200 tokens, sparse embedding gradients) on 4,000
  synthetic reviews with IMDb's shape (lengths log-normal around 230 tokens,
  a Zipf vocabulary of 30,000 words), or with --imdb on the real archive
  (reading it then takes each process a minute or more).

Throughput comes from the run's metrics.jsonl (a record every step, counted
over the whole global batch): items over seconds for the steps after
--warmup (the harmonic mean of the per-step rates, the batches being of
equal size). Prints one JSON object. The machine is shared: the load average
is printed before and after each run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from seqrnn.run import RunFolder

CHARLM = ["charlm", "train", "--text", "hamlet", "--batch-size", "64", "--num-steps", "100",
          "--hidden-size", "128", "--sample-length", "0"]
SENTIMENT = ["sentiment", "train", "--embedding-dim", "256", "--hidden-size", "128",
             "--batch-size", "100", "--seq-len", "200"]
TORCHRUN = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]


def synthetic_reviews(path: Path, n: int = 4000, vocab: int = 30_000, seed: int = 0) -> None:
    """Reviews shaped like IMDb's: log-normal lengths (median 230 tokens), Zipf word counts."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(np.log(230), 0.7, n), 10, 2500).astype(int)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "sentiment"])
        for i, length in enumerate(lengths):
            words = np.minimum(rng.zipf(1.3, length), vocab)
            writer.writerow([" ".join(f"w{w}" for w in words), i % 2])


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def rate(metrics: Path, items: str, warmup: int) -> dict[str, float]:
    """Items per second over the steps after `warmup`, and the median step."""
    rates = [r[f"{items}_per_s"] for r in map(json.loads, metrics.read_text().splitlines())
             if r["kind"] == "train" and r["step"] > warmup]
    if not rates:
        raise SystemExit(f"no training records after step {warmup} in {metrics}")
    return {"per_s": round(statistics.harmonic_mean(rates), 1),
            "median_step_per_s": round(statistics.median(rates), 1), "steps": len(rates)}


def run(command: list[str], out: Path, items: str, warmup: int, env: dict) -> dict:
    before = load_average()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *command, "--out", str(out), "--quiet",
                           "--log-every", "1"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return {**rate(RunFolder(out).metrics_path, items, warmup),
            "wall_s": round(time.perf_counter() - started, 1),
            "load_before": before, "load_after": load_average()}


def compare(name: str, args: list[str], items: str, steps: int, warmup: int, work: Path,
            env: dict) -> dict:
    cli = ["-m", "seqrnn", *args, "--max-steps", str(steps)]
    one = run([*cli, "--threads", "2"], work / f"{name}-one", items, warmup, env)
    ddp = run([*TORCHRUN, *cli], work / f"{name}-ddp", items, warmup, env)
    return {"one_process_2_threads": one, "two_ranks_1_thread": ddp,
            "speedup": round(ddp["per_s"] / one["per_s"], 2), "items": items}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="training steps per run")
    parser.add_argument("--warmup", type=int, default=10, help="first steps left out")
    parser.add_argument("--tasks", default="charlm,sentiment", help="comma-separated tasks")
    parser.add_argument("--imdb", action="store_true",
                        help="the real IMDb archive instead of synthetic reviews")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    results: dict = {"cpus": os.cpu_count(), "steps": args.steps, "warmup": args.warmup}
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        for task in args.tasks.split(","):
            if task == "charlm":
                results[task] = compare(task, CHARLM, "chars", args.steps, args.warmup, work, env)
            elif task == "sentiment":
                data = "imdb"
                if not args.imdb:
                    data = str(work / "reviews.csv")
                    synthetic_reviews(Path(data))
                results[task] = compare(task, [*SENTIMENT, "--data", data], "reviews",
                                        args.steps, args.warmup, work, env)
            else:
                raise SystemExit(f"unknown task {task!r}: use charlm, sentiment")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
