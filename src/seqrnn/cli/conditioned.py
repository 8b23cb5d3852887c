"""The flags both language models take for a condition (--condition): training's, and
evaluate's condition gap and control (seqrnn.api.condition_evaluation)."""

from __future__ import annotations

import argparse
from functools import partial
from typing import Any

from seqrnn.cli import options
from seqrnn.errors import UserError


def add_train_flags(data: Any, model: Any, data_config: type, model_config: type,
                    kind: str) -> None:
    """--condition and --condition-dropout (data), --condition-mode and --condition-dim."""
    from seqrnn.configs.checks import CONDITION_MODES

    add = partial(options.add, kind=kind)
    add(data, data_config, "condition", "condition the model on each document's value of this: "
        "rating or label (IMDb: the rating of the file name <id>_<rating>.txt, each rating a "
        "category; the label neg or pos), or a table's column; unlabelled reviews and blank "
        "cells read the 'none' entry")
    add(data, data_config, "condition_dropout", "fraction of the training documents (drawn "
        "once with --seed) that read the 'none' entry instead of their condition, so that the "
        "model also writes without one")
    add(model, model_config, "condition_mode", "where the condition enters: concatenated to "
        "the input at every step, written into the state where a document starts, or both",
        choices=CONDITION_MODES)
    add(model, model_config, "condition_dim", "width of a condition's learned vector")


def add_evaluate_flags(p: argparse.ArgumentParser, token: str) -> None:
    """evaluate's flags shared by the two language models: reading the run's own data, and a
    conditioned model's evaluations."""
    p.add_argument("--allow-changed-data", action="store_true",
                   help="without --text, and for --condition-gap: take the validation split "
                   "from the run's data although its content changed since the run read it "
                   "(refused by default)")
    g = p.add_argument_group("conditioned models")
    g.add_argument("--condition", help="read --text with this condition (a value, or a mixture "
                   "such as 1:0.5,10:0.5; default: the 'none' entry)")
    g.add_argument("--condition-gap", action="store_true",
                   help="perplexity of the run's held-out documents read with their true "
                   "condition, with none and with a wrong one (a rating's farthest)")
    g.add_argument("--max-documents", type=int, metavar="N",
                   help="--condition-gap: score at most the first N held-out documents")
    g.add_argument("--classifier", type=options.path_arg, metavar="RUN_DIR",
                   help="control: score --samples samples per condition with this `seqrnn "
                   "sentiment` run: the share in the requested class (ratings 1-4 negative, "
                   "7-10 positive; a label its own) and the Spearman correlation of rating "
                   "and P(positive)")
    g.add_argument("--samples", type=int, default=20,
                   help="--classifier: samples per condition (default: 20)")
    g.add_argument("--sample-length", type=int, default=60,
                   help=f"--classifier: {token}s per sample (default: 60)")
    g.add_argument("--seed", type=int, default=0,
                   help="--classifier: sample i of each condition is drawn with seed SEED+i "
                   "(default: 0)")


def evaluation(args: argparse.Namespace, lm: Any, text_metrics: Any,
               validation_metrics: Any) -> dict:
    """What evaluate prints: `text_metrics()` for --text, the condition gap and control where
    asked for, and with none of them `validation_metrics()` (the run's validation split)."""
    from seqrnn.api.condition_evaluation import condition_gap, control, held_out_documents

    if args.condition is not None and args.text is None:
        raise UserError("--condition reads --text with a condition: give --text too")
    if args.classifier is not None and args.sample_length < 0:  # sample() would name --length
        raise UserError(f"--sample-length must be zero or positive, got {args.sample_length}")
    asked = args.condition_gap or args.classifier is not None
    result = text_metrics() if args.text is not None else {} if asked else validation_metrics()
    if args.condition_gap:
        windows = {"num_steps": args.num_steps, "rows": args.rows} if "rows" in args else {}
        held_out = held_out_documents(lm, allow_changed_data=args.allow_changed_data)
        result["condition_gap"] = condition_gap(lm, *held_out, max_documents=args.max_documents,
                                                **windows)
    if args.classifier is not None:
        from seqrnn.api.sentiment import load_classifier

        result["control"] = control(lm, load_classifier(args.classifier, device=args.device),
                                    samples=args.samples, length=args.sample_length,
                                    seed=args.seed)
    return result
