"""A run folder's checkpoint (seqrnn.run_commit): the pair of latest weights and training
state committed so that a kill or a full disk leaves a pair that agrees, and the training
state read back without executing anything."""

import errno
import re

import pytest
import torch

import seqrnn.run_commit
import seqrnn.run_weights
from seqrnn.errors import UserError
from seqrnn.run import LATEST_WEIGHTS, PREVIOUS_STATE, TRAIN_STATE, RunFolder


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

    monkeypatch.setattr(seqrnn.run_commit, "commit_reached", killed_before_the_weights)
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
    (torch, "save", full_disk), (seqrnn.run_weights, "save_file", safetensors_full_disk)])
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
