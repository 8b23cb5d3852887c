"""A run folder's weights files (seqrnn.run_weights): the step kept with them, and every
damage, type or size that does not fit the model refused in one line."""

import math

import pytest
import torch

from seqrnn.errors import UserError
from seqrnn.run import RunFolder


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
