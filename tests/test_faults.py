"""Fault injection: training processes failed or killed at named points of a checkpoint's
commit, and at unplanned moments.

Each run evaluates and checkpoints every other step. A test replaces
seqrnn.run_commit.commit_reached (a no-op called at the commit's named points) to raise or to
SIGKILL the process there; one test sends real SIGKILLs and SIGTERMs from outside, at
moments it does not choose. After every failure the run folder must either resume or start
afresh, and the run finished that way must end with the weights, latest and best, of a run
never interrupted.
"""

import errno
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import seqrnn.run_commit
from seqrnn.cli import main
from seqrnn.run import BEST_WEIGHTS, LATEST_WEIGHTS, PREVIOUS_STATE, RunFolder

TEXT = "".join(f"{w} the cat sat on the mat.\n" for w in ["one", "two", "three"] * 60)
STEPS = 80
# eval-every 2: a stop between evaluations adds one, which must not change the selection
TRAIN = ["--batch-size", "4", "--num-steps", "16", "--hidden-size", "24", "--lr", "0.01",
         "--eval-rows", "4", "--eval-every", "2", "--epochs", "100", "--seed", "5",
         "--sample-length", "0", "--quiet", "--threads", "1", "--log-every", "1"]
# A training process whose commit_reached kills it (argv[1] "kill") at the argv[3]-th time it
# reaches point argv[2], or reports each point reached on stdout (argv[1] "report").
CHILD = """
import os, signal, sys
import seqrnn.run_commit
action, point, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
reached = []

def commit_reached(name):
    if action == "report":
        print(name, flush=True)
    elif name == point:
        reached.append(name)
        if len(reached) == nth:
            os.kill(os.getpid(), signal.SIGKILL)

seqrnn.run_commit.commit_reached = commit_reached
from seqrnn.cli import main
sys.exit(main(sys.argv[4:]))
"""


def start_or_resume(text: Path, run: Path) -> list[str]:
    """The command that continues `run` (or starts it, when it holds no checkpoint yet)."""
    if RunFolder(run).has_checkpoint():
        return ["charlm", "train", "--resume", str(run), "--max-steps", str(STEPS), "--quiet",
                "--sample-length", "0", "--threads", "1"]
    return ["charlm", "train", "--text", str(text), "--out", str(run), "--max-steps",
            str(STEPS), *TRAIN]


def child(action: str, point: str, nth: int, argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CHILD, action, point, str(nth), *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def weights(run: Path, name: str) -> dict[str, torch.Tensor]:
    return RunFolder(run).load_weights(name)[0]


def saved_step(run: Path) -> int:
    return RunFolder(run).load_checkpoint()[1]["progress"]["step"]


def assert_same_weights(run: Path, straight: Path) -> None:
    assert saved_step(run) == STEPS
    for name in (LATEST_WEIGHTS, BEST_WEIGHTS):
        ours, theirs = weights(run, name), weights(straight, name)
        assert all(torch.equal(ours[k], theirs[k]) for k in theirs), name


@pytest.fixture(scope="module")
def text(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("text") / "text.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def straight(text, tmp_path_factory) -> Path:
    """The run never interrupted."""
    run = tmp_path_factory.mktemp("straight") / "run"
    assert main(start_or_resume(text, run)) == 0
    return run


def test_killed_at_each_point_of_a_commit_the_run_resumes_to_the_same_weights(
        text, straight, tmp_path):
    run = tmp_path / "killed"
    # (point, which commit of the process): the first commit dies before any checkpoint
    for point, nth in [("written", 1), ("state renamed", 3), ("weights renamed", 2),
                       ("written", 4)]:
        before = saved_step(run) if RunFolder(run).has_checkpoint() else 0
        process = child("kill", point, nth, start_or_resume(text, run))
        _, err = process.communicate(timeout=120)
        assert process.returncode == -signal.SIGKILL, err
        if point != "weights renamed":
            assert list(run.glob(".*.tmp"))  # the kill left its temporary files behind
        if point == "written" and nth == 1:
            assert not RunFolder(run).has_checkpoint()  # so the same command starts afresh
            continue
        latest = RunFolder(run).latest_step()
        state = RunFolder(run).load_train_state()["progress"]["step"]
        expected = before + 2 * nth  # a checkpoint every other step
        if point == "written":  # nothing renamed: the previous pair
            assert latest == state == expected - 2
        elif point == "state renamed":  # the new state, the previous weights and state
            assert (latest, state) == (expected - 2, expected)
            assert RunFolder(run).load_train_state(PREVIOUS_STATE)["progress"]["step"] == latest
        else:
            assert latest == state == expected and (run / PREVIOUS_STATE).exists()
        assert saved_step(run) == latest  # the pair that agrees is the one resumed
    assert main(start_or_resume(text, run)) == 0
    assert not list(run.glob(".*.tmp"))  # the resumed run cleared the leftovers
    assert not (run / PREVIOUS_STATE).exists()
    assert_same_weights(run, straight)


@pytest.mark.parametrize("point", ["written", "state renamed"])
def test_a_write_failing_inside_a_commit_keeps_the_previous_checkpoint(
        text, straight, tmp_path, capsys, monkeypatch, point):
    run = tmp_path / "run"
    commits = []

    def fail_at_the_third(name):
        commits.append(name)
        if commits.count(point) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(seqrnn.run_commit, "commit_reached", fail_at_the_third)
    assert main(start_or_resume(text, run)) == 2
    assert capsys.readouterr().err == (
        f"seqrnn: error: no space left on the device of {run} while saving a checkpoint (the "
        "previous checkpoint is intact): free some space and resume\n")
    assert saved_step(run) == RunFolder(run).latest_step() == 4
    assert not list(run.glob(".*.tmp"))
    monkeypatch.undo()
    assert main(start_or_resume(text, run)) == 0
    assert_same_weights(run, straight)


def test_a_real_kill_at_an_unplanned_moment_resumes_to_the_uninterrupted_weights(
        text, straight, tmp_path):
    """A real SIGKILL, then a real SIGTERM, from outside, each sent as soon as the process reports
    that it has committed a seeded number of checkpoints: where it has got to by then is
    the machine's business."""
    rng = random.Random(12)
    run = tmp_path / "killed"
    outcomes = []
    for sig in (signal.SIGKILL, signal.SIGTERM):
        process = child("report", "", 0, start_or_resume(text, run))
        commits = rng.randint(1, 4)
        for line in process.stdout:
            commits -= line.strip() == "weights renamed"
            if commits == 0:
                process.send_signal(sig)
                break
        _, err = process.communicate(timeout=120)
        assert "Traceback" not in err, err
        outcomes.append((sig, process.returncode))
    assert main(start_or_resume(text, run)) == 0  # whatever the kills left, it finishes
    assert_same_weights(run, straight)
    # Killed mid-run, or (SIGTERM) saved and stopped: the run cannot have finished first, it
    # had dozens of steps left when the signal was sent.
    assert outcomes == [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGTERM, 130)]


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
