import pytest
import torch

from seqrnn.errors import UserError
from seqrnn.run import TRAIN_STATE, RunFolder


def test_weights_round_trip_with_step(tmp_path):
    weights = {"a": torch.randn(3, 4), "b": torch.arange(5)}
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


def test_train_state_loads_with_weights_only(tmp_path):
    state = {"progress": {"step": 3}, "rng": torch.get_rng_state(), "x": [torch.ones(2)]}
    RunFolder(tmp_path).save_train_state(state)
    loaded = RunFolder(tmp_path).load_train_state()
    assert loaded["progress"] == {"step": 3}
    assert torch.equal(loaded["rng"], state["rng"])


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_train_state_refuses_pickled_code(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (print, ("executed",))

    (tmp_path / TRAIN_STATE).write_bytes(pickle.dumps(Evil()))
    with pytest.raises(UserError, match="cannot resume"):
        RunFolder(tmp_path).load_train_state()


def test_mismatched_weights(tmp_path):
    module = torch.nn.Linear(3, 2)
    with pytest.raises(UserError, match="do not match"):
        RunFolder(tmp_path).check_strict_load(module, {"weight": torch.zeros(5, 5)})
