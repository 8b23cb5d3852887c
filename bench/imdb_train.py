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
import dataclasses
import json
import time

from machine import describe

from seqrnn import presets
from seqrnn.api.sentiment import evaluate
from seqrnn.configs import SentimentConfig, SentimentData, TrainConfig
from seqrnn.run import RunFolder
from seqrnn.tasks.sentiment import train
from seqrnn.tasks.wordlm import SPEC as WORDLM


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

    chosen = dict(presets.get("sentiment", args.preset).values) if args.preset else {}
    chosen.pop("data", None)  # --data says which
    chosen.update((k, parse_value(v)) for k, v in (item.split("=", 1) for item in args.set))
    epochs = args.epochs or chosen.pop("epochs", 10)
    minutes = args.minutes or chosen.pop("minutes", None)
    chosen.pop("epochs", None)
    chosen.pop("minutes", None)
    names = {cls: {f.name for f in dataclasses.fields(cls)}
             for cls in (SentimentData, SentimentConfig, TrainConfig)}
    unknown = set(chosen) - set().union(*names.values())
    if unknown:
        parser.error(f"unknown fields {sorted(unknown)}")
    model = {k: v for k, v in chosen.items() if k in names[SentimentConfig]}
    if args.random_encoder:
        if "pretrained" not in chosen:
            parser.error("--random-encoder needs --set pretrained=RUN (the shape to copy)")
        model["lm"] = RunFolder(chosen.pop("pretrained")).read_config(WORDLM.kind).model
    data = SentimentData(data=args.data,
                         **{k: v for k, v in chosen.items() if k in names[SentimentData]})
    loop_fields = {k: v for k, v in chosen.items() if k in names[TrainConfig]}
    loop = TrainConfig(epochs=epochs, minutes=minutes, threads=args.threads,
                       progress=False, **loop_fields)

    started = time.perf_counter()
    result = train(data, model, loop, args.out)
    wall = time.perf_counter() - started
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
        "data": dataclasses.asdict(data),
        "model": model,
        "loop": dataclasses.asdict(loop),
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
