"""Does `seqrnn seq2seq train` reach the README's figure with no flag but the data and budget?

    python bench/seq2seq_defaults.py --out runs/g2p-defaults [--minutes 15] [--beam 4]

Runs the commands a user would: `seqrnn seq2seq train --data cmudict --minutes 15` (every
other setting its default, which are the g2p preset's), then `seqrnn seq2seq evaluate` on the
held-out test words, greedy and with a beam. The issue's target: test WER at most 27%.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os

from machine import describe
from user_commands import seqrnn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the run folder")
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--beam", type=int, default=4, help="the beam of the second scoring")
    parser.add_argument("--score-only", action="store_true",
                        help="score the run already in --out (trained by this script)")
    args = parser.parse_args()

    train = ["seq2seq", "train", "--data", "cmudict", "--minutes", str(args.minutes),
             "--out", args.out, "--quiet"]
    record = {"machine": describe(os.cpu_count()), "command": "seqrnn " + " ".join(train)}
    if not args.score_only:
        record["train_seconds"] = round(seqrnn(*train)[1], 1)
    with open(f"{args.out}/config.json", encoding="utf-8") as f:
        record["loop"] = json.load(f)["train"]["loop"]  # the defaults, amp resolved
    with open(f"{args.out}/metrics.jsonl", encoding="utf-8") as f:
        record["validation"] = [
            {k: r[k] for k in ("step", "epoch", "val_wer", "val_per", "val_loss")}
            for r in map(json.loads, f) if r["kind"] == "eval"]
    for beam in (1, args.beam):
        out, seconds = seqrnn("seq2seq", "evaluate", "--model", args.out, "--beam", str(beam))
        record[f"test_beam{beam}"] = {**json.loads(out), "seconds": round(seconds, 1)}
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
