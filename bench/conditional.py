"""A word language model conditioned on IMDb's rating against an unconditioned one, at equal
budget: held-out perplexity with the true rating, none and a wrong one, and control.

    python bench/conditional.py --out runs/conditional --classifier runs/imdb-clf
        [--data imdb] [--condition rating] [--condition-dropout 0.1] [--minutes 30]
        [--samples 20] [--length 60] [--max-documents N] [--set hidden_size=512 ...]

Trains `seqrnn wordlm train` twice on `--data` for `--minutes` each with the same seed and
settings, one with `--condition` (and `--condition-dropout`, so that it also reads "none"),
one without; on IMDb both read the same reviews (the conditioned one reads the unlabelled ones
with the "none" entry). Then scores both on the conditioned run's held-out documents that carry
a rating: the conditioned one with each document's true rating, none and a wrong one (1 <-> 10;
seqrnn.api.condition_evaluation.condition_gap), the unconditioned one as is. With
`--classifier` (a `seqrnn sentiment` run) it writes `--samples` samples of `--length` words per
rating and reports the share the classifier puts in the requested class (ratings 1-4 negative,
7-10 positive) and the Spearman correlation of rating and P(positive).

Issue 29's targets: perplexity with the true rating at least 3% below the model without it;
at least 95% of samples for ratings 1-2 negative and for 9-10 positive; Spearman >= 0.7.
Prints one JSON line per run as it ends, then one JSON object.
"""

from __future__ import annotations

import argparse
import json

import torch
from imdb_train import parse_value
from machine import describe
from runs import train_timed

from seqrnn.api.condition_evaluation import (
    condition_gap,
    control,
    documents_loss,
    held_out_documents,
    known_documents,
)
from seqrnn.api.sentiment import load_classifier
from seqrnn.errors import UserError

TARGETS = {"gap": 0.03, "share_extremes": 0.95, "spearman": 0.7}
EXTREMES = ("1", "2", "9", "10")


def train(parser: argparse.ArgumentParser, run: str, settings: dict) -> tuple[object, dict]:
    trained, report = train_timed(parser, "wordlm", run, settings)
    report = {"settings": settings, **report}
    print(json.dumps({run: report}), flush=True)
    return trained.model, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder of the runs (out/conditioned, "
                        "out/unconditioned)")
    parser.add_argument("--data", default="imdb")
    parser.add_argument("--condition", default="rating")
    parser.add_argument("--condition-dropout", type=float, default=0.1)
    parser.add_argument("--minutes", type=float, default=30.0, help="training per model")
    parser.add_argument("--classifier", help="a `seqrnn sentiment` run folder, for control")
    parser.add_argument("--samples", type=int, default=20, help="samples per rating (20)")
    parser.add_argument("--length", type=int, default=60, help="words per sample (60)")
    parser.add_argument("--max-documents", type=int, help="held-out documents scored (all)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (2)")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                        help="any data, model or training field, for both models")
    args = parser.parse_args()
    shared = {"data": args.data, "minutes": args.minutes, "epochs": 1000,
              "threads": args.threads, "progress": False, "seed": 1,
              **{k: parse_value(v) for k, v in (item.partition("=")[::2] for item in args.set)}}
    try:
        conditioned, cond_report = train(parser, f"{args.out}/conditioned", {
            **shared, "condition": args.condition, "condition_dropout": args.condition_dropout})
        plain, plain_report = train(parser, f"{args.out}/unconditioned", shared)
        documents, values = known_documents(conditioned.conditions,
                                            *held_out_documents(conditioned),
                                            args.max_documents)
        gap = condition_gap(conditioned, documents, values)
        unconditioned = documents_loss(plain, documents)
        report = {"condition_gap": gap, "unconditioned": unconditioned,
                  "gap_against_unconditioned":
                      1 - gap["true"]["perplexity"] / unconditioned["perplexity"]}
        if args.classifier:
            steered = control(conditioned, load_classifier(args.classifier),
                              samples=args.samples, length=args.length, seed=1)
            extremes = [steered["conditions"][v]["share_requested"] for v in EXTREMES
                        if v in steered["conditions"]]
            steered["share_extremes"] = sum(extremes) / len(extremes) if extremes else None
            report["control"] = steered
    except UserError as exc:
        parser.error(str(exc))
    print(json.dumps({
        "command": "python bench/conditional.py " + " ".join(
            [f"--out {args.out}", f"--data {args.data}", f"--condition {args.condition}",
             f"--condition-dropout {args.condition_dropout:g}", f"--minutes {args.minutes:g}",
             *([f"--classifier {args.classifier}", f"--samples {args.samples}",
                f"--length {args.length}"] if args.classifier else []),
             *([f"--max-documents {args.max_documents}"] if args.max_documents else []),
             *(["--set", *args.set] if args.set else [])]),
        "machine": describe(args.threads), "torch": torch.__version__,
        "runs": {"conditioned": cond_report, "unconditioned": plain_report},
        **report, "targets": TARGETS,
    }, indent=1))


if __name__ == "__main__":
    main()
