"""Fault injection: a training process killed at seeded moments, again and again.

Each kill lands somewhere in a short run that evaluates and checkpoints every
other step, so many land inside a checkpoint's writes. After every kill the run
folder must either resume or start afresh, and the run finished that way must
end with the weights, latest and best, of a run never interrupted.
"""

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from seqrnn.cli import main
from seqrnn.run import BEST_WEIGHTS, LATEST_WEIGHTS, RunFolder

TEXT = "".join(f"{w} the cat sat on the mat.\n" for w in ["one", "two", "three"] * 60)
STEPS = 80
# eval-every 2: a stop between evaluations adds one, which must not change the selection
TRAIN = ["--batch-size", "4", "--num-steps", "16", "--hidden-size", "24", "--lr", "0.01",
         "--eval-rows", "4", "--eval-every", "2", "--epochs", "100", "--seed", "5",
         "--sample-length", "0", "--quiet", "--threads", "1", "--log-every", "1"]
KILLS = 8  # bounded: a few steps of training each, plus the interpreter's start


def start_or_resume(text: Path, run: Path) -> list[str]:
    """The command that continues `run` (or starts it, when it holds no checkpoint yet)."""
    if RunFolder(run).has_checkpoint():
        return ["charlm", "train", "--resume", str(run), "--max-steps", str(STEPS), "--quiet",
                "--sample-length", "0", "--threads", "1"]
    return ["charlm", "train", "--text", str(text), "--out", str(run), "--max-steps",
            str(STEPS), *TRAIN]


def wait_for_step(metrics: Path, step: int, process: subprocess.Popen) -> None:
    """Until the run has logged `step` (or has ended: a resumed run past it)."""
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        lines = metrics.read_text().splitlines() if metrics.exists() else []
        if any(f'"step": {step},' in line for line in lines):
            return
        time.sleep(0.01)


def weights(run: Path, name: str) -> dict[str, torch.Tensor]:
    return RunFolder(run).load_weights(name)[0]


@pytest.fixture(scope="module")
def text(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("text") / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_killed_runs_resume_to_the_uninterrupted_weights(text, tmp_path):
    straight = tmp_path / "straight"
    assert main(start_or_resume(text, straight)) == 0
    rng = random.Random(12)
    run = tmp_path / "killed"
    outcomes = []
    for kill in range(KILLS):
        sig = signal.SIGKILL if kill % 2 == 0 else signal.SIGTERM
        saved = RunFolder(run).load_checkpoint()[1]["progress"]["step"] \
            if RunFolder(run).has_checkpoint() else 0
        target = saved + rng.randint(1, 8)  # a step to pass, then a moment after it
        process = subprocess.Popen([sys.executable, "-m", "seqrnn", *start_or_resume(text, run)],
                                   stderr=subprocess.PIPE, text=True)
        wait_for_step(run / "metrics.jsonl", target, process)
        time.sleep(rng.uniform(0.0, 0.02))
        process.send_signal(sig)
        _, err = process.communicate(timeout=120)
        assert "Traceback" not in err, err
        outcomes.append((sig, process.returncode))
    assert main(start_or_resume(text, run)) == 0  # whatever the kills left, it finishes
    assert RunFolder(run).load_checkpoint()[1]["progress"]["step"] == STEPS
    for name in (LATEST_WEIGHTS, BEST_WEIGHTS):
        ours, theirs = weights(run, name), weights(straight, name)
        assert all(torch.equal(ours[k], theirs[k]) for k in theirs), name
    # Killed mid-run, or (SIGTERM) saved and stopped; now and then the run finished first.
    assert {code for sig, code in outcomes if sig == signal.SIGKILL} <= {-signal.SIGKILL, 0}
    assert {code for sig, code in outcomes if sig == signal.SIGTERM} <= {130, -signal.SIGTERM, 0}
    assert (signal.SIGTERM, 130) in outcomes and (signal.SIGKILL, -signal.SIGKILL) in outcomes
