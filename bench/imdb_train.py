"""Train a sentiment classifier on IMDb, select on validation, score the official test set once.

    python bench/imdb_train.py --out runs/imdb-lecture                      # the lecture's setup
    python bench/imdb_train.py --out runs/imdb-best --epochs 30 --minutes 20 --set \\
        bidirectional=true head=max cell=gru embedding_dim=128 hidden_size=128 seq_len=800 \\
        min_freq=5 batch_size=128 lr=0.003 lr_schedule=cosine word_dropout=0.25 ema_decay=0.995

`--random-encoder` is the ablation of a pretrained run: with `--set pretrained=RUN ...` it
trains the same classifier and recipe on a randomly initialised encoder of RUN's shape, its
vocabulary counted on the labelled training reviews (`min_freq`, `max_vocab`).

`--set` takes any SentimentData, SentimentConfig or TrainConfig field. Prints one JSON
object: the configuration, steps, epochs, training seconds and seconds per epoch, the
validation metrics of the best and of the last evaluation, and the test metrics of the best
checkpoint (selected on validation accuracy, never on test).
"""

from __future__ import annotations

import argparse
import json
import time

from machine import describe

import seqrnn
from seqrnn import presets
from seqrnn.api.sentiment_evaluation import evaluate
from seqrnn.errors import UserError
from seqrnn.run import RunFolder


def parse_value(text: str):
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="run folder (must not exist yet)")
    parser.add_argument("--data", default="imdb", help="data set (default: imdb)")
    parser.add_argument("--preset", choices=presets.names("sentiment"),
                        help="start from a named configuration of `seqrnn sentiment train "
                        "--preset` (best-20min: the README's best model trained from scratch; "
                        "finetune: its fine-tuning, with --set pretrained=RUN); --epochs, "
                        "--minutes and --set override it")
    parser.add_argument("--epochs", type=int, help="most epochs (default: 10)")
    parser.add_argument("--minutes", type=float, help="training-time budget")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                        help="any data, model or training field")
    parser.add_argument("--random-encoder", action="store_true",
                        help="the ablation: pretrained=RUN's shape, randomly initialised")
    args = parser.parse_args()

    settings = {k: parse_value(v) for k, v in (item.split("=", 1) for item in args.set)}
    settings.update((k, v) for k, v in (("data", args.data), ("epochs", args.epochs),
                                        ("minutes", args.minutes)) if v is not None)
    preset = args.preset
    if "epochs" not in settings and not (preset and "epochs" in presets.get("sentiment",
                                                                             preset).values):
        settings["epochs"] = 10  # this script's default, not the lecture's 100
    if args.random_encoder:
        if "pretrained" not in settings:
            parser.error("--random-encoder needs --set pretrained=RUN (the shape to copy)")
        if preset:  # the recipe without the run it needs: the encoder is made here
            settings = {**presets.get("sentiment", preset).values, **settings}
            preset = None
        settings["lm"] = RunFolder(settings.pop("pretrained")).read_config("wordlm").model

    started = time.perf_counter()
    try:
        trained = seqrnn.train("sentiment", args.out, preset=preset, **{
            "threads": args.threads, "progress": False, **settings})
    except UserError as exc:  # an unknown field, a bad value, a folder in use
        parser.error(str(exc))
    wall = time.perf_counter() - started
    result, config = trained.result, RunFolder(args.out).read_config("sentiment")
    state = RunFolder(args.out).load_train_state()
    train_seconds = state["progress"]["elapsed"]
    progress = state["progress"]
    steps_per_epoch = (progress["step"] - progress["index"]) / progress["epoch"] \
        if progress["epoch"] else None
    test = evaluate(args.out, split="test")
    print(json.dumps({
        "command": "python bench/imdb_train.py " + " ".join(
            f"--{k} {v}" for k, v in (("data", None if args.data == "imdb" else args.data),
                                       ("out", args.out), ("preset", args.preset),
                                       ("epochs", args.epochs),
                                       ("minutes", args.minutes)) if v is not None)
        + (" --random-encoder" if args.random_encoder else "")
        + (" --set " + " ".join(args.set) if args.set else ""),
        "machine": describe(args.threads),
        "data": config.data,
        "model": config.model,
        "loop": config.loop,
        "stopped": result.stopped,
        "steps": result.step,
        "epochs_completed": result.epoch,
        "train_seconds": round(train_seconds, 1),
        "seconds_per_epoch": round(train_seconds / result.step * steps_per_epoch, 1)
        if steps_per_epoch else None,
        "wall_seconds_with_data_and_evaluation": round(wall, 1),
        "best_val": result.best_eval,
        "last_val": result.last_eval,
        "test": test,
    }, indent=1))


if __name__ == "__main__":
    main()
