"""The run folder: its files, the checkpoint pair, fresh and resumable folders, the lock."""

import errno
import math
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import seqrnn.run
from seqrnn.errors import UserError
from seqrnn.kinds import VOCAB_FILE
from seqrnn.run import (
    BEST_WEIGHTS,
    CONFIG_FILE,
    LATEST_WEIGHTS,
    METRICS_FILE,
    PREVIOUS_STATE,
    SAVED_STEP,
    TRAIN_STATE,
    UNRECORDED,
    RunFolder,
)


def test_weights_round_trip_with_step(tmp_path):
    weights = {"a": torch.randn(3, 4), "b": torch.arange(5.0)}
    RunFolder(tmp_path).save_weights("model.safetensors", weights, step=42)
    loaded, step = RunFolder(tmp_path).load_weights()
    assert step == 42
    assert torch.equal(loaded["a"], weights["a"]) and torch.equal(loaded["b"], weights["b"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


def test_truncated_weights_give_a_clear_error(tmp_path):
    RunFolder(tmp_path).save_weights("model.safetensors", {"a": torch.randn(100)}, step=1)
    path = tmp_path / "model.safetensors"
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(UserError, match="corrupt or truncated"):
        RunFolder(tmp_path).load_weights()


def test_missing_folder_and_file(tmp_path):
    with pytest.raises(UserError, match="not found"):
        RunFolder(tmp_path / "nope").read_config("charlm")
    with pytest.raises(UserError, match="config.json is missing"):
        RunFolder(tmp_path).read_config("charlm")


def test_config_kind_is_checked(tmp_path):
    RunFolder(tmp_path).write_config("charlm", {"hidden_size": 3}, None)
    assert RunFolder(tmp_path).read_config("charlm").model == {"hidden_size": 3}
    with pytest.raises(UserError, match="holds a charlm model, not a sentiment model"):
        RunFolder(tmp_path).read_config("sentiment")


def test_corrupt_json(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UserError, match="config.json is corrupt"):
        RunFolder(tmp_path).read_config("charlm")


def state_of(step: int, **extra) -> dict:
    return {"progress": {"step": step}, "optimizers": [], "rng_cpu": torch.get_rng_state(),
            "carried": {}, **extra}


def test_checkpoint_round_trip(tmp_path):
    run = RunFolder(tmp_path)
    run.save_checkpoint({"w": torch.ones(2)}, state_of(3, x=[torch.ones(2)]), step=3)
    weights, state = run.load_checkpoint()
    assert state["progress"] == {"step": 3} and torch.equal(weights["w"], torch.ones(2))
    assert torch.equal(state["rng_cpu"], torch.get_rng_state())
    run.save_checkpoint({"w": torch.zeros(2)}, state_of(4), step=4)
    assert run.load_checkpoint()[1]["progress"]["step"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == [LATEST_WEIGHTS, TRAIN_STATE]


def test_a_kill_between_the_pairs_renames_leaves_a_pair_that_agrees(tmp_path, monkeypatch):
    run = RunFolder(tmp_path)
    run.save_checkpoint({"w": torch.ones(2)}, state_of(3), step=3)
    reached = []

    def killed_before_the_weights(point):  # the state is renamed, then the process dies
        reached.append(point)
        if point == "state renamed":
            raise SystemExit("killed")

    monkeypatch.setattr(seqrnn.run, "commit_reached", killed_before_the_weights)
    with pytest.raises(SystemExit):
        run.save_checkpoint({"w": torch.zeros(2)}, state_of(4), step=4)
    monkeypatch.undo()
    assert reached == ["written", "state renamed"]
    assert run.latest_step() == 3
    assert torch.load(run.file(TRAIN_STATE), weights_only=True)["progress"]["step"] == 4
    assert torch.load(run.file(PREVIOUS_STATE), weights_only=True)["progress"]["step"] == 3
    weights, state = run.load_checkpoint()  # the weights of step 3 and the state kept beside
    assert state["progress"]["step"] == 3 and torch.equal(weights["w"], torch.ones(2))


def full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def safetensors_full_disk(*args, **kwargs):
    from safetensors import SafetensorError

    raise SafetensorError("Error while serializing: I/O error: No space left on device "
                          "(os error 28)")


@pytest.mark.parametrize(("module", "name", "failure"), [
    (torch, "save", full_disk), (seqrnn.run, "save_file", safetensors_full_disk)])
def test_a_full_disk_keeps_the_previous_checkpoint(tmp_path, monkeypatch, module, name, failure):
    run = RunFolder(tmp_path)
    run.save_checkpoint({"w": torch.ones(2)}, state_of(3), step=3)
    monkeypatch.setattr(module, name, failure)
    with pytest.raises(UserError) as caught:
        run.save_checkpoint({"w": torch.zeros(2)}, state_of(4), step=4)
    assert str(caught.value) == (f"no space left on the device of {tmp_path} while saving a "
                                 "checkpoint (the previous checkpoint is intact): free some space "
                                 "and resume")
    if name == "save_file":  # the best weights too
        with pytest.raises(UserError, match="no space left .* intact"):
            run.save_best({"w": torch.zeros(2)}, step=4)
    monkeypatch.undo()
    weights, state = run.load_checkpoint()
    assert state["progress"]["step"] == 3 and torch.equal(weights["w"], torch.ones(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == [LATEST_WEIGHTS, TRAIN_STATE]


def test_weights_and_state_of_different_steps_are_refused(tmp_path):
    run = RunFolder(tmp_path)
    run.save_checkpoint({"w": torch.ones(2)}, state_of(3), step=3)
    run.save_weights(LATEST_WEIGHTS, {"w": torch.ones(2)}, step=9)
    with pytest.raises(UserError, match=r"latest weights \(step 9\) and training state "
                                        r"\(step 3\) disagree"):
        run.load_checkpoint()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_train_state_refuses_pickled_code_in_one_line(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (print, ("executed",))

    (tmp_path / TRAIN_STATE).write_bytes(pickle.dumps(Evil()))
    with pytest.raises(UserError) as error:
        RunFolder(tmp_path).load_train_state()
    message = str(error.value)
    assert "is not a seqrnn training state" in message and "will not be loaded" in message
    assert "\n" not in message and "weights_only=False" not in message


@pytest.mark.parametrize(("state", "what"), [
    ({}, "'progress' is missing"),
    ([1, 2], "a list, not a dict"),
    (state_of(3, optimizers=None), "'optimizers' is missing or not a list"),
    (state_of(3, optimizers=[{"state": {}}]), "an optimizer state has no parameter groups"),
    (state_of(3, rng_cpu=torch.zeros(3)), "'rng_cpu' is not a random generator state"),
    (state_of(3, rng_cpu=torch.get_rng_state()[:100]), "'rng_cpu' is not a random generator"),
    ({**state_of(3), "progress": {"step": "3"}}, "its step is not a count"),
    (state_of(3, best_before_stop=[1]), "'best_before_stop' is not a best evaluation"),
])
def test_damaged_train_state_is_named_in_one_line(tmp_path, state, what):
    torch.save(state, tmp_path / TRAIN_STATE)
    with pytest.raises(UserError, match=f"train_state.pt is damaged \\({re.escape(what)}"):
        RunFolder(tmp_path).load_train_state()


def write_stub(path: Path) -> RunFolder:
    """What a run killed before its first checkpoint leaves."""
    run = RunFolder(path)
    run.create()
    run.write_config("charlm", {"hidden_size": 3}, {"text": "x"}, {"lr": 1.0})
    run.write_json(VOCAB_FILE, {"chars": "ab"})
    run.file(METRICS_FILE).write_text('{"kind": "train", "step": 1}\n{"kind": "tr')
    return run


def test_a_run_stopped_before_its_first_checkpoint_can_start_again(tmp_path):
    run = write_stub(tmp_path / "run")
    (tmp_path / "run" / ".latest.safetensors.x1.tmp").write_bytes(b"half")
    run.check_new()  # allowed
    with pytest.raises(UserError, match="holds no checkpoint yet .* without --resume"):
        run.check_resumable()
    run.start_fresh()
    assert list((tmp_path / "run").iterdir()) == []


def test_a_fresh_run_never_overwrites_a_run_or_other_files(tmp_path):
    run = RunFolder(tmp_path / "run")
    run.save_checkpoint({"w": torch.ones(2)}, state_of(3), step=3)
    with pytest.raises(UserError, match="already holds a run: continue it with --resume"):
        run.check_new()
    saved = RunFolder(tmp_path / "saved")  # a model saved outside training: no "train"
    saved.write_config("charlm", {"hidden_size": 3})
    saved.save_weights("model.safetensors", {"w": torch.ones(2)}, step=0)
    with pytest.raises(UserError, match="already holds a run"):
        saved.check_new()
    kept = write_stub(tmp_path / "kept")  # what save() writes: a training config, step -1
    kept.save_weights(BEST_WEIGHTS, {"w": torch.ones(2)}, step=SAVED_STEP)
    with pytest.raises(UserError, match="kept holds a saved model: choose another out"):
        kept.check_new()
    assert kept.holding() == "holds a saved charlm model"
    assert sorted(p.name for p in kept.path.iterdir()) == sorted(
        [BEST_WEIGHTS, "config.json", METRICS_FILE, VOCAB_FILE])  # nothing cleared
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "metrics.jsonl").write_text("my own\n")
    with pytest.raises(UserError, match="mine is not empty .it holds metrics.jsonl.") as error:
        RunFolder(tmp_path / "mine").check_new()
    assert error.value.field == "out"
    (tmp_path / "a-file").write_text("x")
    for path, message in ((tmp_path / "a-file", "is a file: give a folder"),
                          ("", "the run folder's path is empty: name a file or folder"),
                          (".", "must name a folder")):
        with pytest.raises(UserError, match=message):
            RunFolder(path).check_new()
    (tmp_path / "empty").mkdir()
    RunFolder(tmp_path / "empty").check_new()
    RunFolder(tmp_path / "new").check_new()
    write_stub(tmp_path / "stub")
    assert [RunFolder(tmp_path / name).holding() for name in ("stub", "saved", "mine", "empty")] \
        == ["holds a training run of a charlm model", "holds a charlm model",
            "is not empty (it holds metrics.jsonl)", None]


def test_one_process_at_a_time_holds_a_folder(tmp_path):
    run = RunFolder(tmp_path / "run")
    with run.lock(), pytest.raises(UserError, match="another process is training in .*run"), \
            RunFolder(tmp_path / "run").lock():
        pass
    with run.lock():  # released on leaving
        pass


def test_a_refused_lock_leaves_the_holders_folder_alone(tmp_path, monkeypatch):
    run = RunFolder(tmp_path / "run")
    with run.lock():
        # A second trainer that also found no folder, then lost the race for the lock.
        monkeypatch.setattr(type(run.path), "exists", lambda self: False)
        with pytest.raises(UserError, match="another process"), RunFolder(run.path).lock():
            pass
        monkeypatch.undo()
        assert run.path.is_dir()
    assert not run.path.exists()  # the holder wrote nothing: its folder goes with its lock


def test_a_dead_processs_lock_is_gone_with_it(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from seqrnn.run import RunFolder\n"
         "with RunFolder(sys.argv[1]).lock():\n print('held', flush=True); time.sleep(60)",
         str(tmp_path / "run")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UserError, match="another process"), RunFolder(tmp_path / "run").lock():
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with RunFolder(tmp_path / "run").lock():
        pass


def test_truncating_metrics_drops_what_a_crash_left(tmp_path):
    run = RunFolder(tmp_path)
    lines = ['{"kind": "train", "step": 1}', '{"kind": "eval", "step": 2}',
             '{"kind": "train"}', '[1, 2]', '{"kind": "train", "step": 3}']
    run.file(METRICS_FILE).write_bytes(
        ("\n".join(lines) + '\n{"kind": "tr').encode() + b"\xff\xfe")
    run.truncate_metrics(2)
    assert run.file(METRICS_FILE).read_text().splitlines() == lines[:2]


def test_metrics_lines_hold_null_for_nan_and_infinity(tmp_path):
    run = RunFolder(tmp_path)
    run.append_metrics({"kind": "train", "step": 1, "loss": math.nan, "perplexity": math.inf})
    line = run.file(METRICS_FILE).read_text()
    assert line == '{"kind": "train", "step": 1, "loss": null, "perplexity": null}\n'


def test_mismatched_weights(tmp_path):
    module = torch.nn.Linear(3, 2)
    with pytest.raises(UserError, match="do not match"):
        RunFolder(tmp_path).check_strict_load(module, {"weight": torch.zeros(5, 5)})


@pytest.mark.parametrize("dtype", [torch.int32, torch.bool, torch.uint8])
def test_weights_that_are_not_floating_point_are_refused(tmp_path, dtype):
    RunFolder(tmp_path).save_weights("model.safetensors",
                                     {"a": torch.ones(2), "b": torch.ones(2, dtype=dtype)}, 1)
    with pytest.raises(UserError, match=rf"holds {str(dtype)[6:]} weights \(b\), where seqrnn "
                                        "writes floating point"):
        RunFolder(tmp_path).load_weights()


def test_weights_of_another_float_type_than_the_models_are_refused(tmp_path):
    with pytest.raises(UserError, match=r"are torch.float16 \(weight\) where the model keeps "
                                        "torch.float32"):
        RunFolder(tmp_path).check_strict_load(torch.nn.Linear(3, 2),
                                              {"weight": torch.zeros(2, 3, dtype=torch.float16),
                                               "bias": torch.zeros(2)})


def test_a_config_too_large_for_its_weights_is_refused_before_anything_is_allocated(tmp_path):
    run = RunFolder(tmp_path)
    run.save_weights("model.safetensors", torch.nn.Linear(3, 2).state_dict(), 1)
    run.check_fits(lambda: torch.nn.Linear(3, 2))
    with pytest.raises(UserError, match=r"do not match its config.json \(weight: \[2, 3\] in "
                                        r"the weights, \[10000000000, 3\] in the model\)"):
        run.check_fits(lambda: torch.nn.Linear(3, 10**10))  # 120 GB, were it allocated
    with pytest.raises(UserError, match="config.json names a model far too large for any machine"):
        run.check_fits(lambda: torch.nn.Linear(10**12, 10**12))
    run.save_weights("model.safetensors", {**torch.nn.Linear(3, 2).state_dict(),
                                           "extra": torch.zeros(1)}, 1)
    with pytest.raises(UserError, match=r"\(extra: in the weights but not in the model\)"):
        run.check_fits(lambda: torch.nn.Linear(3, 2))


def test_weights_with_nan_are_refused_in_one_line(tmp_path):
    RunFolder(tmp_path).save_weights("model.safetensors",
                                     {"a": torch.ones(2), "b": torch.tensor([1.0, math.nan])}, 1)
    with pytest.raises(UserError, match=r"holds NaN or infinite weights \(b\): the training that "
                                        "wrote them diverged"):
        RunFolder(tmp_path).load_weights()


def test_every_file_of_a_run_gets_the_usual_permissions(tmp_path):
    run = RunFolder(tmp_path)
    run.write_config("charlm", {"hidden_size": 3})
    run.save_weights("model.safetensors", {"w": torch.ones(2)}, step=1)
    run.save_checkpoint({"w": torch.ones(2)}, state_of(1), step=1)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert len(set(modes.values())) == 1 and modes["config.json"] != 0o600, modes


def test_config_records_the_data_sources_and_preset_and_older_runs_still_load(tmp_path):
    run = RunFolder(tmp_path / "new")
    run.create()
    source = {"path": "/data/r.csv", "size": 10, "blake2b": "ab"}
    run.write_config("charlm", {"hidden_size": 3}, {"text": "x"}, {"lr": 1.0},
                     sources={"text": source}, preset="race")
    config = run.read_config("charlm")
    assert config.sources == {"text": source} and config.preset == "race"
    assert config.preset_recorded
    old = RunFolder(tmp_path / "old")  # written before sources and presets were recorded
    old.create()
    old.write_json(CONFIG_FILE, {"format_version": 1, "kind": "charlm", "model": {},
                                 "train": {"data": {"text": "x"}, "loop": {}}})
    config = old.read_config("charlm")
    assert config.sources is None and config.preset is None and not config.preset_recorded
    old.write_config("charlm", {}, {"text": "x"}, {}, preset=UNRECORDED)  # a resume keeps it
    assert not old.read_config("charlm").preset_recorded
    old.write_json(CONFIG_FILE, {"format_version": 1, "kind": "charlm", "model": {},
                                 "train": {"data": {}, "loop": {}, "sources": "x.csv"}})
    with pytest.raises(UserError, match="config.json is damaged .*sources that are not"):
        old.read_config("charlm")
