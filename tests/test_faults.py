"""Fault injection: a training process killed at seeded moments, again and again.

Each kill lands somewhere in a short run that evaluates and checkpoints every
other step, so many land inside a checkpoint's writes. After every kill the run
folder must either resume or start afresh, and the run finished that way must
end with the weights, latest and best, of a run never interrupted.
"""

import os
import random
import shutil
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


# Full disks. A file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored) makes every write past it
# fail with EFBIG, on any Linux and without privileges: at 4 KiB the first weights fail to
# save (safetensors), at 20 KiB the weights fit and the training state does not (torch.save).
SENTIMENT = ["--hidden-size", "16", "--embedding-dim", "16", "--batch-size", "20", "--quiet",
             "--eval-every", "2", "--max-steps", "4", "--threads", "1", "--seed", "5"]


def sentiment_table(folder: Path) -> Path:
    from tests.test_api_sentiment import reviews, write_csv

    write_csv(folder / "reviews.csv", *reviews(120))
    return folder / "reviews.csv"


def under_file_size_limit(limit: int):
    def limited() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(
            resource.RLIMIT_FSIZE)[1]))
    return limited


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE semantics")
@pytest.mark.parametrize(("kind", "limit"), [("charlm", 4096), ("sentiment", 20480)])
def test_a_write_that_fails_in_training_is_one_line_and_the_run_starts_again(
        text, tmp_path, kind, limit):
    run = tmp_path / "run"
    data = ["--text", str(text)] if kind == "charlm" else [
        "--data", str(sentiment_table(tmp_path))]
    argv = [kind, "train", *data, "--out", str(run),
            *(TRAIN if kind == "charlm" else SENTIMENT), "--max-steps", "4"]
    done = subprocess.run([sys.executable, "-m", "seqrnn", *argv], capture_output=True,
                          text=True, timeout=120, preexec_fn=under_file_size_limit(limit),
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode == 2, done.stderr
    assert done.stderr == (f"seqrnn: error: cannot save a checkpoint in {run} (File too large; "
                           "no checkpoint was saved): start the run again once the folder can "
                           "be written\n")
    assert not RunFolder(run).has_checkpoint()
    assert main(argv) == 0  # the same command, with room: it starts again
    assert RunFolder(run).load_checkpoint()[1]["progress"]["step"] == 4


@pytest.fixture
def small_disk(tmp_path):
    """A 128 KiB tmpfs: room for a first checkpoint of the charlm run, not a second."""
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(mount)],
                              capture_output=True)
    except FileNotFoundError:
        done = None
    if done is None or done.returncode != 0:
        pytest.skip("mounting a tmpfs needs root (and mount)")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_stops_training_in_one_line_and_the_run_resumes(text, tmp_path,
                                                                     small_disk):
    run = small_disk / "run"
    argv = ["charlm", "train", "--text", str(text), "--out", str(run), "--max-steps", "6",
            *TRAIN]
    done = subprocess.run([sys.executable, "-m", "seqrnn", *argv], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (f"seqrnn: error: no space left on the device of {run} while saving "
                           "a checkpoint (the previous checkpoint is intact): free some space "
                           "and resume\n")
    moved = Path(shutil.copytree(run, tmp_path / "moved"))  # room elsewhere
    assert not list(moved.glob(".*"))  # no temporary file left behind
    saved = RunFolder(moved).load_checkpoint()[1]["progress"]["step"]
    assert 0 < saved < 6
    assert main(["charlm", "train", "--resume", str(moved), "--quiet", "--threads", "1"]) == 0
    assert RunFolder(moved).load_checkpoint()[1]["progress"]["step"] == 6
