"""The lecture's configuration on Hamlet: time per epoch, validation bits per character, a sample.

    SEQRNN_DATA=/work/shared/data python bench/charlm_hamlet.py [--epochs 100] [--threads 2]
        [--out DIR] [--sample-length 500]

Runs `base.start(charlm.RECIPE, ...)` with every default (LSTM 1 x 128, one-hot input, batch 64,
100 steps, Adam 1e-3, clip 5, dropout 0.5, an evaluation after each epoch) for `--epochs`
epochs, then prints one JSON object: the seconds per epoch (the loop's own clock, evaluation
included, from metrics.jsonl), the validation loss and bits per character after the last
epoch and at the best epoch, and a sample of the best model from the lecture's prime "The ".
It takes about 3 minutes on 2 idle cores; the machine's conditions are in the output.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from charlm_throughput import conditions

from seqrnn.api.charlm import LanguageModel
from seqrnn.configs import CharLMData, TrainConfig
from seqrnn.recipes import base
from seqrnn.recipes.charlm import RECIPE
from seqrnn.run import RunFolder


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=100, help="epochs to train (default: 100)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default: 2)")
    p.add_argument("--out", help="run folder to keep (default: a temporary folder)")
    p.add_argument("--sample-length", type=int, default=500,
                   help="characters of the sample (default: 500)")
    p.add_argument("--seed", type=int, default=1, help="seed of training and sample (default: 1)")
    return p.parse_args(argv)


def epoch_seconds(metrics_file: Path) -> list[float]:
    """Seconds of each epoch, from the loop's elapsed time at each end-of-epoch evaluation."""
    evals = [r for r in map(json.loads, metrics_file.open()) if r["kind"] == "eval"]
    ends = [r["elapsed"] for r in evals]
    return [b - a for a, b in zip([0.0, *ends], ends, strict=False)]


def run(args: argparse.Namespace, out: Path) -> dict:
    config = TrainConfig(epochs=args.epochs, threads=args.threads, seed=args.seed,
                         device="cpu", amp="off", progress=False)  # the lecture's float32
    machine: dict = {}
    start = time.perf_counter()
    with conditions(machine):
        result = base.start(RECIPE, CharLMData(text="hamlet"), {}, config, out).result
    wall = time.perf_counter() - start
    metrics = RunFolder(out).metrics_path
    epochs = epoch_seconds(metrics)
    evals = [r for r in map(json.loads, metrics.open()) if r["kind"] == "eval"]
    best = min(evals, key=lambda r: r["val_loss"])
    lm = LanguageModel.load(out)
    return {
        "configuration": "lecture defaults: LSTM 1x128, one-hot, batch 64, num_steps 100, "
                         "Adam lr 1e-3, clip 5, dropout 0.5",
        "threads": args.threads, "torch": torch.__version__, **machine,
        "epochs": result.epoch, "steps": result.step, "stopped": result.stopped,
        "wall_s": round(wall, 1),
        "seconds_per_epoch_median": round(statistics.median(epochs), 3),
        "seconds_per_epoch_mean": round(statistics.mean(epochs), 3),
        "seconds_first_epoch": round(epochs[0], 3),
        "final": {k: round(v, 4) for k, v in result.last_eval.items()},
        "best": {"epoch": best["epoch"], "val_loss": round(best["val_loss"], 4),
                 "val_bits_per_char": round(best["val_bits_per_char"], 4)},
        "sample_prime": "The ",
        "sample": lm.sample("The ", args.sample_length, seed=args.seed),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = " ".join(["python bench/charlm_hamlet.py", *(sys.argv[1:] if argv is None else argv)])
    if args.out:
        report = run(args, Path(args.out))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            report = run(args, Path(tmp) / "hamlet")
    print(json.dumps({"command": command, **report}, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
