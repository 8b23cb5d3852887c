"""The toy language of issue 29, shared by the conditioned-model tests: label a writes only
"abab...", label b only "baba...", each document a table row."""

import csv
import random
from pathlib import Path


def write_toy_table(path: Path, rows: int = 200, seed: int = 0) -> Path:
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for _ in range(rows):
            label = rng.choice("ab")
            writer.writerow([("ab" if label == "a" else "ba") * rng.randint(3, 8), label])
    return path


def train_toy(run_dir: Path, **options):
    """A character model of the toy table conditioned on its label, trained in about a second."""
    from seqrnn.configs import CharLMData, TrainConfig
    from seqrnn.recipes import base, charlm

    table = write_toy_table(run_dir.parent / f"{run_dir.name}.csv")
    data = CharLMData(text=str(table), condition="label",
                      condition_dropout=options.pop("condition_dropout", 0.2),
                      batch_size=8, num_steps=20, eval_rows=4)
    model = {"hidden_size": 32, "dropout": 0.0, "input": "embedding", "embedding_dim": 8,
             **options}
    return base.start(charlm.RECIPE, data, model,
                      TrainConfig(epochs=4, lr=1e-2, progress=False, seed=3, threads=1), run_dir)
