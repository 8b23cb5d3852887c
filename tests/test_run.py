"""The run folder: its files, fresh and resumable folders, the lock, metrics and config
(its weights files in test_run_weights, its checkpoint in test_run_commit)."""

import math
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from seqrnn.errors import UserError
from seqrnn.kinds import VOCAB_FILE
from seqrnn.run import (
    BEST_WEIGHTS,
    CONFIG_FILE,
    METRICS_FILE,
    SAVED_STEP,
    UNRECORDED,
    RunFolder,
)
from tests.test_run_commit import state_of


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
