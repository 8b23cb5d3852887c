"""A benchmark's runs: each trained (or finished: resume="auto" reuses what is done) and timed."""

from __future__ import annotations

import argparse
import time

from seqrnn.errors import UserError
from seqrnn.training import Trained, train


def train_timed(parser: argparse.ArgumentParser, kind: str, run: str,
                settings: dict) -> tuple[Trained, dict]:
    """The trained run and its report (steps, epochs, train_seconds, best_validation); bad
    settings end the benchmark in one line through `parser.error`."""
    started = time.perf_counter()
    try:
        trained = train(kind, run, resume="auto", **settings)
    except UserError as exc:
        parser.error(str(exc))
    return trained, {
        "steps": trained.result.step, "epochs": trained.result.epoch,
        "train_seconds": round(time.perf_counter() - started, 1),
        "best_validation": {k: round(v, 4) for k, v in trained.result.best_eval.items()}}
