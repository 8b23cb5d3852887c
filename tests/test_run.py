import pytest
import torch

from seqrnn import checkpoint
from seqrnn.errors import UserError


def test_weights_round_trip_with_step(tmp_path):
    weights = {"a": torch.randn(3, 4), "b": torch.arange(5)}
    checkpoint.save_weights(tmp_path / "model.safetensors", weights, step=42)
    loaded, step = checkpoint.load_weights(tmp_path)
    assert step == 42
    assert torch.equal(loaded["a"], weights["a"]) and torch.equal(loaded["b"], weights["b"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


def test_truncated_weights_give_a_clear_error(tmp_path):
    checkpoint.save_weights(tmp_path / "model.safetensors", {"a": torch.randn(100)}, step=1)
    path = tmp_path / "model.safetensors"
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(UserError, match="corrupt or truncated"):
        checkpoint.load_weights(tmp_path)


def test_missing_folder_and_file(tmp_path):
    with pytest.raises(UserError, match="not found"):
        checkpoint.read_config(tmp_path / "nope", "charlm")
    with pytest.raises(UserError, match="config.json is missing"):
        checkpoint.read_config(tmp_path, "charlm")


def test_config_kind_is_checked(tmp_path):
    checkpoint.write_config(tmp_path, "charlm", {"hidden_size": 3}, None)
    assert checkpoint.read_config(tmp_path, "charlm")["model"] == {"hidden_size": 3}
    with pytest.raises(UserError, match="holds a charlm model, not a sentiment model"):
        checkpoint.read_config(tmp_path, "sentiment")


def test_corrupt_json(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(UserError, match="config.json is corrupt"):
        checkpoint.read_config(tmp_path, "charlm")


def test_train_state_loads_with_weights_only(tmp_path):
    state = {"progress": {"step": 3}, "rng": torch.get_rng_state(), "x": [torch.ones(2)]}
    checkpoint.save_train_state(tmp_path, state)
    loaded = checkpoint.load_train_state(tmp_path)
    assert loaded["progress"] == {"step": 3}
    assert torch.equal(loaded["rng"], state["rng"])


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_train_state_refuses_pickled_code(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (print, ("executed",))

    (tmp_path / checkpoint.TRAIN_STATE).write_bytes(pickle.dumps(Evil()))
    with pytest.raises(UserError, match="cannot resume"):
        checkpoint.load_train_state(tmp_path)


def test_mismatched_weights(tmp_path):
    module = torch.nn.Linear(3, 2)
    with pytest.raises(UserError, match="do not match"):
        checkpoint.check_strict_load(module, {"weight": torch.zeros(5, 5)}, tmp_path)
