"""The BiLSTM-CRF tagger on a CoNLL corpus's test set, against the published anchors.

    python bench/tagger.py --out runs/chunk [--data conll2000] [--minutes 20]
        [--variants crf,softmax,no-chars,char-lm,char-lm-tuned] [--members 1]
        [--char-lm FWD_RUN --char-lm-backward BWD_RUN] [--set hidden_size=100 ...]

Trains one run per variant (`crf`: the kind's defaults, a CRF over words, characters and the
part of speech; `softmax`: each word's tag on its own; `no-chars`: without the character
encoder; `char-lm` and `char-lm-tuned`: with the character language models of --char-lm and
--char-lm-backward, frozen or fine-tuned, their pretraining time reported beside), each for
`--minutes` on the same data and
seed (equal budget), selected on validation span F1; then scores each once on the test
sentences as conlleval counts them. With `--members N` each variant trains N runs (seeds 1 to
N; out/VARIANT, out/VARIANT-2, ...) and is also scored as their ensemble (mean scores).
Needs the corpus archives in $SEQRNN_DATA. Prints one JSON
object.

Published anchors (span F1 on the test sets): CoNLL-2000 chunking: the shared task's best
93.48, BiLSTM-CRF (Huang, Xu & Yu 2015) 94.46, Flair (Akbik et al. 2018) 96.72; CoNLL-2002
named entities: LSTM-CRF with characters (Lample et al. 2016) Spanish 85.75, Dutch 81.74.
"""

from __future__ import annotations

import argparse
import json

import torch
from imdb_train import parse_value
from machine import describe
from runs import train_timed

from seqrnn.api.tagger import Tagger

ANCHORS = {
    "conll2000": {"shared_task_best": 93.48, "bilstm_crf_huang_2015": 94.46,
                  "flair_akbik_2018": 96.72},
    "conll2002-es": {"lstm_crf_lample_2016": 85.75},
    "conll2002-nl": {"lstm_crf_lample_2016": 81.74},
}
VARIANTS = {"crf": {}, "softmax": {"decoder": "softmax"}, "no-chars": {"char_hidden": 0},
            "char-lm": {}, "char-lm-tuned": {"char_lm_fine_tune": True}}
WITH_LMS = ("char-lm", "char-lm-tuned")


def pretraining(run: str) -> dict:
    """A language model run's training time and best validation, from its metrics."""
    with open(f"{run}/metrics.jsonl", encoding="utf-8") as lines:
        evals = [json.loads(line) for line in lines if '"eval"' in line]
    best = min(evals, key=lambda e: e["val_loss"])
    return {"train_seconds": round(evals[-1]["elapsed"], 1), "steps": evals[-1]["step"],
            "best_bits_per_char": round(best["val_bits_per_char"], 4)}


def brief(test: dict) -> dict:
    """conlleval's figures in percent, overall and per type."""
    return {**{k: round(100 * test[k], 2) for k in ("f1", "precision", "recall", "accuracy")},
            "per_type": {t: round(100 * s["f1"], 2) for t, s in test["per_type"].items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder of the runs (out/VARIANT)")
    parser.add_argument("--data", default="conll2000", choices=list(ANCHORS))
    parser.add_argument("--minutes", type=float, default=20.0, help="training per variant")
    parser.add_argument("--variants", default="crf", help=f"comma-separated, of: "
                        f"{', '.join(VARIANTS)} (crf)")
    parser.add_argument("--members", type=int, default=1, help="runs per variant (1)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (2)")
    parser.add_argument("--char-lm", help="forward character language model run (charlm train)")
    parser.add_argument("--char-lm-backward", help="backward one (charlm train --reverse)")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                        help="any data, model or training field, for every variant")
    args = parser.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    if set(variants) - set(VARIANTS):
        parser.error(f"unknown variants; use some of {', '.join(VARIANTS)}")
    shared = {k: parse_value(v) for k, v in (item.partition("=")[::2] for item in args.set)}
    lms = {"char_lm": args.char_lm, "char_lm_backward": args.char_lm_backward}
    if set(variants) & set(WITH_LMS) and not any(lms.values()):
        parser.error("the char-lm variants need --char-lm and/or --char-lm-backward")

    runs, ensembles = {}, {}
    for name in variants:
        folders = []
        for k in range(1, args.members + 1):
            run = f"{args.out}/{name}" + (f"-{k}" if k > 1 else "")
            settings = {"data": args.data, "minutes": args.minutes, "threads": args.threads,
                        "progress": False, "seed": k, **shared, **VARIANTS[name],
                        **({field: run_dir for field, run_dir in lms.items() if run_dir}
                           if name in WITH_LMS else {})}
            trained, report = train_timed(parser, "tag", run, settings)
            folders.append(run)
            runs[run] = {"variant": name, "settings": settings, **report,
                         "test": brief(trained.model.evaluate("test"))}
            print(json.dumps({run: runs[run]}), flush=True)
        if len(folders) > 1:
            ensembles[name] = {"runs": folders,
                               "test": brief(Tagger.load(folders).evaluate("test"))}
            print(json.dumps({name: ensembles[name]}), flush=True)
    print(json.dumps({
        "command": "python bench/tagger.py " + " ".join(
            [f"--out {args.out}", f"--data {args.data}", f"--minutes {args.minutes:g}",
             f"--variants {args.variants}", f"--members {args.members}",
             *(f"--{k.replace('_', '-')} {v}" for k, v in lms.items() if v),
             *(["--set", *args.set] if args.set else [])]),
        "machine": describe(args.threads), "torch": torch.__version__,
        "runs": runs, "ensembles": ensembles, "anchors": ANCHORS[args.data],
        "char_lms": {v: pretraining(v) for v in lms.values() if v},
    }, indent=1))


if __name__ == "__main__":
    main()
