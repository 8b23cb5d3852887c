"""The registry of task kinds: a kind registered in one line gets the command line,
`seqrnn.train` (presets, resume="auto") and the shared loading."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import seqrnn
from seqrnn import presets, registry
from seqrnn.cli import main
from seqrnn.errors import UserError
from seqrnn.presets import Preset
from seqrnn.registry import Kind
from seqrnn.run import LATEST_WEIGHTS, RunFolder, run_files
from tests.test_recipes_base import MajorityObjective, MajorityRecipe

LOOP = {"epochs": 6, "lr": 0.05, "progress": False, "device": "cpu", "seed": 2}


@pytest.fixture
def majority():
    """The toy task of test_recipes_base (it writes alphabet.json), registered in one line."""
    kind = registry.register(Kind("majority", MajorityRecipe(), files=("alphabet.json",),
                                  presets={"tiny": Preset("two units", {"hidden_size": 2})}))
    yield kind
    registry.unregister("majority")


def test_seqrnns_own_kinds_are_declared_once_and_agree_with_their_specs():
    kinds = {kind.name: kind for kind in registry.kinds()}
    assert list(kinds)[:5] == ["charlm", "wordlm", "sentiment", "seq2seq", "forecast"]
    for name, kind in kinds.items():
        recipe = kind.training_recipe()
        assert recipe.kind == name
        assert set(recipe.vocabularies) <= set(kind.files) <= set(run_files())
        assert kind.model_class().load  # the class users call
    assert presets.defaults("seq2seq") == presets.get("seq2seq", "g2p").values
    with pytest.raises(UserError, match="unknown kind of task 'tagger': use one of charlm, "):
        registry.get("tagger")


def test_a_registered_kind_gets_its_files_known_and_a_train_command(majority, tmp_path, capsys):
    assert "alphabet.json" in run_files()
    out = tmp_path / "cli"
    status = main(["majority", "train", "--out", str(out), "--preset", "tiny", "--max-steps", "2",
                   "--device", "cpu", "--quiet", "--length", "8"])
    assert status == 0
    assert "stopped (max_steps) at step 2" in capsys.readouterr().err
    config = json.loads((out / "config.json").read_text())
    assert config["kind"] == "majority" and config["model"]["hidden_size"] == 2
    assert config["train"]["data"]["length"] == 8 and config["train"]["preset"] == "tiny"
    assert main(["majority", "train", "--out", str(out), "--resume", "auto", "--preset", "tiny",
                 "--max-steps", "4", "--length", "8", "--device", "cpu", "--quiet"]) == 0
    assert RunFolder(out).latest_step() == 4
    assert main(["majority", "train", "--out", str(out), "--resume", "auto",
                 "--hidden-size", "5", "--quiet"]) == 2
    assert "drop --hidden-size" in capsys.readouterr().err
    loaded = seqrnn.load(out)  # no class of its own: the shared loading's Loaded
    assert loaded.config.kind == "majority" and loaded.model.config.hidden_size == 2
    assert not loaded.model.training


def test_seqrnn_train_resumes_auto_exactly_like_a_straight_run(majority, tmp_path):
    straight = seqrnn.train("majority", tmp_path / "straight", hidden_size=3, **LOOP)
    assert straight.result.stopped == "finished" and straight.result.step == 24
    cut = seqrnn.train("majority", tmp_path / "cut", resume="auto", hidden_size=3,
                       max_steps=10, **LOOP)
    assert cut.result.stopped == "max_steps"
    done = seqrnn.train("majority", tmp_path / "cut", resume="auto", hidden_size=3,
                        max_steps=24, **LOOP)
    assert done.result.step == 24 and done.run_dir == tmp_path / "cut"
    a, _ = RunFolder(tmp_path / "straight").load_weights(LATEST_WEIGHTS)
    b, _ = RunFolder(tmp_path / "cut").load_weights(LATEST_WEIGHTS)
    assert all(torch.equal(a[k], b[k]) for k in a)
    best, _ = RunFolder(tmp_path / "cut").load_weights()
    assert all(torch.equal(done.model.model.state_dict()[k], best[k]) for k in best)
    with pytest.raises(UserError, match="drop hidden_size"):
        seqrnn.train("majority", tmp_path / "cut", resume="auto", hidden_size=4, **LOOP)


def test_a_run_of_a_kind_with_its_own_file_killed_before_its_first_checkpoint_restarts(
        majority, tmp_path, monkeypatch):
    def killed(self, model, batch):
        raise SystemExit("killed")

    with monkeypatch.context() as patch:
        patch.setattr(MajorityObjective, "train_loss", killed)
        with pytest.raises(SystemExit):
            seqrnn.train("majority", tmp_path / "r", **LOOP)
    assert (tmp_path / "r" / "alphabet.json").is_file()
    assert not RunFolder(tmp_path / "r").has_checkpoint()
    with pytest.raises(UserError, match="holds no checkpoint yet"):
        seqrnn.train("majority", resume=tmp_path / "r")
    again = seqrnn.train("majority", tmp_path / "r", resume="auto", max_steps=3, **LOOP)
    assert again.result.step == 3 and RunFolder(tmp_path / "r").has_checkpoint()


@pytest.mark.parametrize(("call", "message"), [
    ({"allow_changed_data": True}, "allow_changed_data accepts changed data on resume: drop "
                                   "it, or resume a run with resume RUN_DIR"),
    ({"resume": "somewhere", "preset": "race"}, "resume continues a run with its own "
                                                "configuration: drop preset race"),
    ({"resume": "somewhere", "out": "elsewhere"}, "resume continues somewhere in place: drop "
                                                  "out elsewhere"),
    ({"resume": "somewhere", "lr": 0.1}, "--resume keeps the run's configuration; drop lr"),
    ({"hidden": 3}, "charlm has no setting 'hidden': give fields of CharLMData, "
                    "CharLMConfig or TrainConfig"),
    ({"preset": "fast"}, "unknown preset 'fast' for charlm: use one of lecture, race"),
])
def test_seqrnn_train_refuses_what_the_command_line_refuses_before_training(
        tmp_path, monkeypatch, call, message):
    monkeypatch.chdir(tmp_path)  # where runs/charlm, the default out, would be
    with pytest.raises(UserError, match=message):
        seqrnn.train("charlm", **call)
    assert not (tmp_path / "runs").exists()


def test_a_preset_names_the_fields_it_still_needs(tmp_path):
    with pytest.raises(UserError, match="preset finetune needs pretrained") as error:
        seqrnn.train("sentiment", tmp_path / "r", preset="finetune")
    assert error.value.fields == ("preset", "pretrained")


def test_the_command_line_lists_every_kind_without_importing_torch():
    code = ("import sys; from seqrnn.cli import build_parser; build_parser(); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def majority_routes(served):
    """The toy kind's one route: the probability that a sequence is mostly ones."""
    from fastapi import APIRouter

    router = APIRouter()

    @router.post("/api/majority")
    def mostly_ones(ids: list[int]) -> dict:
        with torch.no_grad():
            logit = served.model.model(torch.tensor([ids]))
        return {"p_ones": float(torch.sigmoid(logit)[0])}

    return router


def majority_graphs(run_dir, weights):
    """The toy kind's ONNX export: its model reads token ids and gives one logit each."""
    from seqrnn.api.export import Exported, Graph

    loaded = seqrnn.load(run_dir, weights=weights)
    graph = Graph(loaded.model, (torch.zeros(2, 6, dtype=torch.long),),
                  {"ids": "(B, T) int64 tokens"}, {"logit": "(B,) of 'mostly ones'"},
                  {"ids": {0: "batch", 1: "time"}, "logit": {0: "batch"}})
    return Exported({"": graph}, {"config": loaded.config.model})


@pytest.fixture
def served_majority():
    """The toy kind with a server hook and an export, still one `register` call."""
    pytest.importorskip("fastapi")
    from seqrnn.serve.hooks import ServeHook

    kind = registry.register(Kind(
        "majority", MajorityRecipe(), files=("alphabet.json",), export=majority_graphs,
        serve=ServeHook("majority", lambda dirs: seqrnn.load(dirs[0]), majority_routes)))
    yield kind
    registry.unregister("majority")


def test_a_registered_kind_is_served_and_exported_without_touching_another_file(
        served_majority, tmp_path, capsys):
    from fastapi.testclient import TestClient

    from seqrnn.cli import build_parser
    from seqrnn.serve.app import build_app, load_runs

    run = seqrnn.train("majority", tmp_path / "run", hidden_size=3, **LOOP)
    args = build_parser().parse_args(["serve", "--majority", str(run.run_dir)])
    assert args.majority == [str(run.run_dir)]  # `seqrnn serve --majority RUN_DIR`
    client = TestClient(build_app(load_runs(runs=[run.run_dir])))  # --model finds its kind
    assert client.get("/api/health").json()["models"]["majority"] is True
    ones = client.post("/api/majority", json=[1, 1, 1, 1, 1, 0]).json()["p_ones"]
    zeros = client.post("/api/majority", json=[0, 0, 0, 0, 1, 0]).json()["p_ones"]
    assert ones > 0.5 > zeros  # the trained toy tells them apart

    ort = pytest.importorskip("onnxruntime")
    assert main(["export", "--model", str(run.run_dir), "--out", str(tmp_path / "m.onnx")]) == 0
    meta = json.loads((tmp_path / "m.onnx.json").read_text())
    assert meta["kind"] == "majority" and meta["config"]["hidden_size"] == 3
    ids = np.array([[1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 1, 0], [1, 0, 1, 0, 1, 0]])
    got = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"ids": ids})[0]
    with torch.no_grad():
        expected = run.model.model(torch.from_numpy(ids)).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-6)
