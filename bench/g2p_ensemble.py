"""Grapheme to phoneme with an ensemble of trained runs: word and phoneme error rates.

    python bench/g2p_ensemble.py runs/g2p-long runs/g2p-15 [--beam 5]

Decodes with the mean of the runs' next-token probabilities (`Transducer.load([...])`, the
same as `seqrnn seq2seq evaluate --model A --model B`). The runs must share their data and
seed (one split: no member saw a test word). Scores each run alone and the ensemble on
validation, where choices are made, and the ensemble once on the held-out test words,
greedy and with `--beam`. The training time is the sum of the members' own. Prints one JSON
object.
"""

from __future__ import annotations

import argparse
import json

import torch
from machine import describe

from seqrnn.api.seq2seq import Transducer
from seqrnn.run import RunFolder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR", help="trained seq2seq runs")
    parser.add_argument("--beam", type=int, default=5, help="beam of the second score (5)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    members = []
    for run in args.runs:
        folder = RunFolder(run)
        config = folder.read_config("seq2seq")
        members.append({
            "run": run, "model": config.model, "minutes_budget": config.loop["minutes"],
            "train_s": round(folder.load_train_state()["progress"]["elapsed"], 1),
            "val_greedy": Transducer.load(run).evaluate("val"),
        })
    ensemble = Transducer.load(args.runs)
    print(json.dumps({
        "command": "python bench/g2p_ensemble.py " + " ".join(
            [*args.runs, f"--beam {args.beam}"]),
        "machine": describe(args.threads),
        "torch": torch.__version__,
        "members": members,
        "train_minutes_total": round(sum(m["train_s"] for m in members) / 60, 1),
        "val_greedy": ensemble.evaluate("val"),
        f"val_beam_{args.beam}": ensemble.evaluate("val", beam=args.beam),
        "test_greedy": ensemble.evaluate("test"),
        f"test_beam_{args.beam}": ensemble.evaluate("test", beam=args.beam),
    }, indent=2))


if __name__ == "__main__":
    main()
