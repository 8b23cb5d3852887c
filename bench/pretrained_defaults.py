"""Does `sentiment train --pretrained` work with its defaults? Fine-tuning against scratch.

    python bench/pretrained_defaults.py --out runs/defaults --lm-minutes 8 --minutes 8
    python bench/pretrained_defaults.py --out runs/defaults-imdb --lm-preset imdb

Runs the commands a user would, each flag left at its default but the budget: a word
language model pretrained on IMDb for `--lm-minutes`, then two classifiers with the same
budget of `--minutes`, one fine-tuned from it (its defaults are the fine-tuning recipe) and
one from scratch (the lecture's). `--lm-preset` names a `wordlm train --preset` for the
language model (its budget still `--lm-minutes`). Each classifier is scored once on the
official test set.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys

from machine import describe
from user_commands import seqrnn


def evaluations(run: str) -> list[dict]:
    """A run's validation records, from its metrics.jsonl."""
    with open(f"{run}/metrics.jsonl", encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    return [{k: v for k, v in r.items() if k.startswith("val_") or k == "step"}
            for r in records if r.get("kind") == "eval"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for the three runs")
    parser.add_argument("--data", default="imdb", help="data set (default: imdb)")
    parser.add_argument("--lm-data", help="the language model's data (default: --data)")
    parser.add_argument("--lm-preset", help="the language model's --preset (default: none)")
    parser.add_argument("--lm-minutes", type=float, default=8.0)
    parser.add_argument("--minutes", type=float, default=8.0, help="each classifier's budget")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scratch-from", metavar="RUN_DIR", help="reuse the from-scratch "
                        "classifier of an earlier call with the same --data and --minutes (it "
                        "does not depend on the language model)")
    args = parser.parse_args()

    common = ["--threads", str(args.threads), "--quiet"]
    lm_preset = ["--preset", args.lm_preset] if args.lm_preset else []
    classifier = [*common, "--data", args.data]
    commands = {
        "lm": ["wordlm", "train", *common, "--data", args.lm_data or args.data, *lm_preset,
               "--minutes", str(args.lm_minutes), "--out", f"{args.out}/lm"],
        "pretrained": ["sentiment", "train", *classifier, "--minutes", str(args.minutes),
                       "--pretrained", f"{args.out}/lm", "--out", f"{args.out}/pretrained"],
        "scratch": ["sentiment", "train", *classifier, "--minutes", str(args.minutes),
                    "--out", f"{args.out}/scratch"],
    }
    runs = {name: f"{args.out}/{name}" for name in commands}
    if args.scratch_from:
        del commands["scratch"]
        runs["scratch"] = args.scratch_from
    record = {"machine": describe(args.threads), "commands": {}, "wall_seconds": {}}
    for name, argv in commands.items():
        record["commands"][name] = "seqrnn " + " ".join(argv)
        record["wall_seconds"][name] = round(seqrnn(*argv)[1], 1)
    for name, run in runs.items():
        record[f"{name}_validation"] = evaluations(run)
    for name in ("pretrained", "scratch"):
        out, seconds = seqrnn("sentiment", "evaluate", "--model", runs[name], "--split", "test")
        record[f"{name}_test"] = json.loads(out)
        record["wall_seconds"][f"{name}_test"] = round(seconds, 1)
    record["pretrained_beats_scratch"] = (record["pretrained_test"]["accuracy"]
                                          > record["scratch_test"]["accuracy"])
    print(json.dumps({"command": "python bench/pretrained_defaults.py " + " ".join(sys.argv[1:]),
                      **record}, indent=1))


if __name__ == "__main__":
    main()
