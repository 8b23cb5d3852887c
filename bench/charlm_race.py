"""Equal-time race on tiny shakespeare: the validation loss a configuration reaches in a budget.

    SEQRNN_DATA=/work/shared/data python bench/charlm_race.py --minutes 2.25 \\
        [--hidden-size 256] [--num-layers 1] [--input embedding] [--batch-size 64] \\
        [--num-steps 100] [--lr 3e-3] [--dropout 0] [--eval-every 0] [--threads 2] ...

The reference: nanoGPT's published CPU configuration reaches validation loss 1.886 in 135 s
(2.25 minutes) on this 2-core machine. The text is split as `seqrnn charlm train` splits it:
the first 90% trains, the last 10% validates (`--val-fraction 0.1`).

The script runs the recipe (`base.start`) with `TrainConfig(minutes=..., lr_schedule="cosine")`:
the budget counts the training loop (and any evaluation inside it), the cosine schedule decays
the learning rate over the budget, and the final evaluation, on the whole validation text,
comes after the budget. `--eval-every 0` (the default here) evaluates only at the end; a
positive value evaluates every N steps inside the budget, which costs training time.

Prints one JSON object: the configuration, the final validation loss (nats per character)
and bits per character, the steps and characters trained on, the loop's seconds (`train_s`),
the whole call's seconds (`wall_s`: loading the text, the final evaluation and the loss plot
added), and the machine's conditions during the run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import torch
from charlm_throughput import conditions

from seqrnn import presets
from seqrnn.api.charlm import LanguageModel
from seqrnn.configs import AMP_CHOICES, CharLMData, TrainConfig
from seqrnn.recipes import base
from seqrnn.recipes.charlm import RECIPE
from seqrnn.run import RunFolder
from seqrnn.trainer.process import resolve_amp

NEVER = 10**9  # an --eval-every no run reaches: the only evaluation is the final one


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=2.25,
                   help="training budget in minutes (default: 2.25, nanoGPT's 135 s)")
    p.add_argument("--text", default="tinyshakespeare", help="text (default: tinyshakespeare)")
    model = p.add_argument_group("model")
    model.add_argument("--cell", default="lstm", help="lstm, gru or rnn (default: lstm)")
    model.add_argument("--hidden-size", type=int, default=256, help="units (default: 256)")
    model.add_argument("--num-layers", type=int, default=1, help="layers (default: 1)")
    model.add_argument("--dropout", type=float, default=0.0, help="dropout (default: 0)")
    model.add_argument("--input", default="embedding", help="onehot or embedding (default: "
                       "embedding)")
    model.add_argument("--embedding-dim", type=int, default=64, help="embedding size (default: 64)")
    loop = p.add_argument_group("training")
    loop.add_argument("--batch-size", type=int, default=64, help="rows (default: 64)")
    loop.add_argument("--num-steps", type=int, default=100, help="BPTT window (default: 100)")
    loop.add_argument("--lr", type=float, default=3e-3, help="peak Adam lr (default: 3e-3)")
    loop.add_argument("--min-lr-fraction", type=float, default=0.1,
                      help="cosine floor as a fraction of --lr (default: 0.1)")
    loop.add_argument("--lr-schedule", default="cosine", help="cosine or constant (default: "
                      "cosine)")
    loop.add_argument("--warmup-steps", type=int, default=0, help="linear warm-up (default: 0)")
    loop.add_argument("--clip", type=float, default=5.0, help="gradient-norm clip (default: 5)")
    loop.add_argument("--eval-every", type=int, default=0,
                      help="evaluate every N steps inside the budget (default: 0, only at the "
                           "end)")
    loop.add_argument("--threads", type=int, default=2, help="torch CPU threads (default: 2)")
    loop.add_argument("--seed", type=int, default=1, help="seed (default: 1)")
    loop.add_argument("--amp", nargs="?", const="on", default="off", choices=AMP_CHOICES,
                      help="bfloat16 autocast, the loop's --amp: auto, on or off (default: off, "
                           "float32; --amp alone: on); under it the final loss is also "
                           "evaluated again in float32")
    p.add_argument("--out", help="run folder to keep (default: a temporary folder)")
    p.add_argument("--preset", choices=presets.names("charlm"),
                   help="start from a named configuration of `seqrnn charlm train --preset` "
                   "(race: the README's race; race-15min: its 15-minute model); flags override")
    args = p.parse_args(argv)
    if args.preset:  # the preset's values become the defaults, and the flags given win again
        known = vars(args)
        p.set_defaults(**{k: v for k, v in presets.get("charlm", args.preset).values.items()
                          if k in known})
        args = p.parse_args(argv)
    return args


def race(args: argparse.Namespace, out: Path) -> dict:
    data = CharLMData(text=args.text, val_fraction=0.1, batch_size=args.batch_size,
                      num_steps=args.num_steps)
    model = {"cell": args.cell, "hidden_size": args.hidden_size, "num_layers": args.num_layers,
             "dropout": args.dropout, "input": args.input, "embedding_dim": args.embedding_dim}
    config = TrainConfig(epochs=10**6, minutes=args.minutes, lr=args.lr,
                         lr_schedule=args.lr_schedule, min_lr_fraction=args.min_lr_fraction,
                         warmup_steps=args.warmup_steps, clip=args.clip,
                         eval_every=args.eval_every or NEVER, seed=args.seed, device="cpu",
                         threads=args.threads, amp=resolve_amp(args.amp, torch.device("cpu")),
                         progress=False)
    machine: dict = {}
    start = time.perf_counter()
    with conditions(machine):
        result = base.start(RECIPE, data, model, config, out).result
    wall = time.perf_counter() - start
    run = RunFolder(out)
    trained_s = run.load_train_state()["progress"]["elapsed"]
    n_params = sum(t.numel() for t in run.load_weights()[0].values())
    chars = result.step * args.batch_size * args.num_steps
    text = RECIPE.read(data, config.seed, progress=False)  # split as the training split it
    if config.amp == "on":  # which evaluates in bfloat16 too: score the weights in float32
        fp32 = LanguageModel.load(out, weights="latest").evaluate_validation()
        extra = {"val_loss_fp32_eval": round(fp32["loss"], 4)}
    else:
        extra = {}
    return {
        "budget_s": round(args.minutes * 60, 1),
        "val_loss": round(result.last_eval["loss"], 4),
        "val_bits_per_char": round(result.last_eval["bits_per_char"], 4),
        "best_val_loss": round(result.best_eval["loss"], 4), **extra,
        "steps": result.step, "epochs_done": result.epoch, "chars_seen": chars,
        "epochs_seen": round(chars / len(text.train), 2),
        "train_s": round(trained_s, 1), "chars_per_s": round(chars / trained_s),
        "wall_s": round(wall, 1), "stopped": result.stopped, "parameters": n_params,
        "model": model,
        "loop": {k: v for k, v in asdict(config).items()
                 if k not in ("epochs", "progress", "device", "log_every", "patience")},
        "data": {"text": data.text, "val_fraction": data.val_fraction,
                 "batch_size": data.batch_size, "num_steps": data.num_steps},
        "threads": args.threads,
        "torch": torch.__version__, **machine,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = " ".join(["python bench/charlm_race.py", *(sys.argv[1:] if argv is None else argv)])
    if args.out:
        report = race(args, Path(args.out))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            report = race(args, Path(tmp) / "race")
    print(json.dumps({"command": command, **report}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
