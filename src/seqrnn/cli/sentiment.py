"""`seqrnn sentiment train|evaluate|predict`: the many-to-one review classifier."""

from __future__ import annotations

import argparse

from seqrnn import jsontext
from seqrnn.cli import kind_commands, options


def register(subparsers) -> None:
    kind_commands.kind_group(
        subparsers, "sentiment", help="sentiment classifier: train, evaluate, predict",
        description="A many-to-one recurrent classifier of reviews (IMDb or your own data).",
        commands=[_register_train, _register_evaluate, _register_predict])


def _register_train(commands) -> None:
    kind_commands.train_command(
        commands, "sentiment", "Train a sentiment classifier; the test split is never used "
        "here.", _train_flags,
        lambda best: f"accuracy {best['accuracy']:.4f} (loss {best['loss']:.4f})",
        help="train a classifier into a run folder",
        after=" With --pretrained, the flags left out take the fine-tuning recipe.")


def _train_flags(p: argparse.ArgumentParser) -> None:
    from seqrnn.configs import SentimentConfig, SentimentData

    d = p.add_argument_group("data")
    options.add(d, SentimentData, "data", "the IMDb archive or folder, a CSV/TSV/JSON-lines "
                "file, or the dataset name imdb")
    options.add(d, SentimentData, "text_column", "text column of a table (default: text, or "
                "review for the lecture's CSV)")
    options.add(d, SentimentData, "label_column", "label column of a table (default: label, or "
                "sentiment for the lecture's CSV)")
    options.add(d, SentimentData, "format", "table format when the extension does not say",
                choices=["csv", "tsv", "jsonl", "json"])
    options.add(d, SentimentData, "encoding", "encoding of the data files")
    options.add(d, SentimentData, "val_fraction", "fraction of the training data held out for "
                "validation (class-balanced, seeded; IMDb: whole movies)")
    options.add(d, SentimentData, "test_fraction", "fraction of a table held out for the test "
                "(IMDb keeps its official test set)")
    options.add(d, SentimentData, "on_empty", "rows with empty text: skip and count them, or "
                "stop with an error", choices=["skip", "error"])
    options.add(d, SentimentData, "min_freq", "a word needs this many occurrences in the "
                "training split to get an id")
    options.add(d, SentimentData, "max_vocab", "keep at most this many words (the most "
                "frequent)", type=int)
    options.add(d, SentimentData, "batching", "bucket: batches of similar length, no wasted "
                "padding; fixed: the lecture's left-padded seq_len matrix",
                choices=["bucket", "fixed"])
    options.add(d, SentimentData, "seq_len", "tokens per review: the fixed length, or the cap "
                "for bucketed batches (the review's last tokens are kept)")
    options.add(d, SentimentData, "batch_size", "reviews per batch")
    options.add(d, SentimentData, "pretrained", "fine-tune the encoder of this `seqrnn wordlm "
                "train` run (its vocabulary too; ULMFiT), instead of training an RNN from "
                "scratch; the flags left out then default to the fine-tuning recipe "
                f"({_recipe()})", metavar="RUN_DIR")

    m = p.add_argument_group("model")
    options.add(m, SentimentConfig, "embedding_dim", "word embedding size")
    options.add_recurrent_flags(m, SentimentConfig, "units per recurrent layer and direction")
    options.add(m, SentimentConfig, "dropout", "dropout between layers and before the output "
                "(the lecture's keep probability 0.5 is dropout 0.5)")
    options.add(m, SentimentConfig, "word_dropout", "probability of dropping a whole word's "
                "embedding while training")
    options.add(m, SentimentConfig, "bidirectional", "also read each review backwards",
                action="store_true")
    options.add(m, SentimentConfig, "head", "summary of a review: its last state, or the max "
                "or mean of its states", choices=["last", "max", "mean"])
    options.add(m, SentimentConfig, "uniform_init", "the lecture's uniform [-1, 1] embedding "
                "initialisation", action="store_true")
    options.add(m, SentimentConfig, "head_hidden", "units of the head's hidden layer on a "
                "--pretrained encoder")
    options.add_impl_flag(m, SentimentConfig)
    options.add(m, SentimentConfig, "init", "recurrent weights from torch's default "
                "initialisation, or the cells' (the language model's: forget-gate bias 1)",
                choices=["torch", "cells"])
    m.add_argument("--dense-embedding", dest="sparse_embedding", action="store_false",
                   default=None, help="dense embedding gradients and Adam over every row "
                   "(default: sparse gradients and lazy Adam over the rows a batch uses)")


def _recipe() -> str:
    from seqrnn.errors import flag
    from seqrnn.kinds import FINETUNE_RECIPE

    return ", ".join(f"{flag(k)} {v}" for k, v in FINETUNE_RECIPE.items())


ENSEMBLE = "for an ensemble (the mean of the models' probabilities)"


def _register_evaluate(commands) -> None:
    p = kind_commands.model_command(commands, "evaluate", _evaluate, ENSEMBLE)
    p.add_argument("--data", type=options.path_arg,
                   help="data set to score (default: the one the model trained on)")
    p.add_argument("--split", choices=["train", "val", "test", "all"],
                   help="which split, drawn as in training, or every row (default: test on "
                   "the data the model trained on, all on other data)")
    p.add_argument("--labels", metavar="VALUE=CLASS,VALUE=CLASS",
                   help="which of the data's label values is which of the model's classes, "
                   "for data that spells them differently: for example 0=neg,1=pos")
    p.add_argument("--text-column", help="the text column of another table (default: text, "
                   "or review)")
    p.add_argument("--label-column", help="the label column of another table (default: label, "
                   "or sentiment)")
    p.add_argument("--allow-changed-data", action="store_true",
                   help="draw the splits from the data although it is not what the run read "
                   "(its content changed, or other data with --split; refused by default: rows "
                   "would move between splits)")
    kind_commands.add_device_flag(p)


def _register_predict(commands) -> None:
    p = kind_commands.model_command(commands, "predict", _predict, ENSEMBLE)
    options.add_inputs(p, "texts", "TEXT", "texts to classify")
    p.add_argument("--labels", metavar="VALUE=CLASS,VALUE=CLASS",
                   help="print each label as the data spells it: for example 0=neg,1=pos "
                   "prints 0 for neg")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per line: text, label, probability, p_positive")
    kind_commands.add_device_flag(p)


def _evaluate(args: argparse.Namespace) -> int:
    """accuracy, precision, recall, F1, ROC AUC

    Score a trained classifier on a split of a data set; prints one JSON object.
    """
    from seqrnn.api.sentiment_evaluation import evaluate

    print(jsontext.dumps(evaluate(args.model, args.data, args.split, device=args.device,
                                  labels=args.labels, text_column=args.text_column,
                                  label_column=args.label_column,
                                  allow_changed_data=args.allow_changed_data)))
    return 0


def _predict(args: argparse.Namespace) -> int:
    """label and probability of texts

    Classify texts given as arguments, in --file (one per line), or on standard input (one per
    line).
    """
    from seqrnn.api.sentiment import load_classifier
    from seqrnn.metrics import DECISION_THRESHOLD

    clf = load_classifier(args.model, device=args.device)
    spelled = {} if args.labels is None else {
        name: value for value, name in clf.label_mapping(args.labels).items()}
    texts = options.input_lines(args.texts, args.file, "texts", skip_blank=False)
    positive = clf.predict_proba(texts)[:, 1] if texts else []
    for text, p in zip(texts, positive, strict=True):
        is_positive = p >= DECISION_THRESHOLD
        label = clf.classes_[int(is_positive)]
        label = spelled.get(str(label), label)
        probability = p if is_positive else 1 - p
        if args.json:
            print(jsontext.dumps({"text": text, "label": str(label),
                                  "probability": float(probability), "p_positive": float(p)}))
        else:
            shown = text if len(text) <= 60 else text[:57] + "..."
            print(f"{label}\t{probability:.3f}\t{shown}")
    return 0
