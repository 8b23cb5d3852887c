"""Optimizers, schedules and the fine-tuning controls of the training loop."""

import pytest
import torch
from torch import nn

from seqrnn.configs import TrainConfig
from seqrnn.trainer.optim import build_optimizers, scheduled_lr, unfreeze_top


class Stack(nn.Module):
    """Three layer groups, bottom to top."""

    def __init__(self):
        super().__init__()
        self.bottom, self.middle, self.top = nn.Linear(1, 2), nn.Linear(2, 2), nn.Linear(2, 1)

    def forward(self, x):
        return self.top(torch.tanh(self.middle(torch.tanh(self.bottom(x)))))

    def layer_groups(self):
        return [self.bottom.parameters(), self.middle.parameters(), self.top.parameters()]


def test_slanted_schedule_climbs_for_a_tenth_then_decays_to_the_floor():
    config = TrainConfig(lr=1.0, lr_schedule="slanted", min_lr_fraction=1 / 32)
    lrs = [scheduled_lr(config, step, 0.0, 100) for step in range(101)]
    assert lrs[0] == pytest.approx(1 / 32)
    assert max(lrs) == pytest.approx(1.0) and lrs.index(max(lrs)) == 10
    assert lrs[5] == pytest.approx(1 / 32 + (1 - 1 / 32) * 0.5)
    assert lrs[100] == pytest.approx(1 / 32)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:], strict=False))


def test_discriminative_learning_rates_scale_each_lower_group():
    optimizer, = build_optimizers(Stack(), TrainConfig(layer_lr_decay=2.6))
    scales = [group["lr_scale"] for group in optimizer.param_groups]
    assert scales == pytest.approx([1 / 2.6 ** 2, 1 / 2.6, 1.0])
    optimizer, = build_optimizers(Stack(), TrainConfig())
    assert [group["lr_scale"] for group in optimizer.param_groups] == [1.0]
    assert type(optimizer) is torch.optim.Adam


def test_weight_decay_takes_adamw():
    optimizer, = build_optimizers(Stack(), TrainConfig(weight_decay=0.01))
    assert type(optimizer) is torch.optim.AdamW
    assert optimizer.param_groups[0]["weight_decay"] == 0.01


def test_gradual_unfreezing_adds_one_group_from_the_top_every_k_epochs():
    model = Stack()

    def trainable():
        return [all(p.requires_grad for p in group) for group in model.layer_groups()]

    unfreeze_top(model, epoch=0, every=1)
    assert trainable() == [False, False, True]
    unfreeze_top(model, epoch=1, every=1)
    assert trainable() == [False, True, True]
    unfreeze_top(model, epoch=3, every=2)
    assert trainable() == [False, True, True]
    unfreeze_top(model, epoch=9, every=1)
    assert trainable() == [True, True, True]


def test_fine_tuning_controls_are_checked():
    from seqrnn.errors import UserError

    with pytest.raises(UserError, match="layer_lr_decay must be positive"):
        TrainConfig(layer_lr_decay=0)
    with pytest.raises(UserError, match="unfreeze_epochs must be zero or positive"):
        TrainConfig(unfreeze_epochs=-1)


def test_the_loop_unfreezes_by_epoch_and_resume_keeps_the_schedule(tmp_path):
    from seqrnn.trainer import Selection, Trainer
    from tests.test_loop import ScriptedTask

    def run(run_dir, **budget):
        torch.manual_seed(0)
        model = Stack()
        config = TrainConfig(epochs=3, lr=0.01, unfreeze_epochs=1, layer_lr_decay=2.6,
                             progress=False, device="cpu", **budget)
        return model, Trainer(model, ScriptedTask(Selection("loss")), config, run_dir)

    model, trainer = run(tmp_path / "one", max_steps=2)  # epoch 0: the top group only
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trainer.fit()
    after = model.state_dict()
    assert torch.equal(after["bottom.weight"], before["bottom.weight"])
    assert torch.equal(after["middle.weight"], before["middle.weight"])
    assert not torch.equal(after["top.weight"], before["top.weight"])
    _, straight = run(tmp_path / "straight")
    straight.fit()
    _, cut = run(tmp_path / "cut", max_steps=3)  # stops inside epoch 1
    cut.fit()
    _, resumed = run(tmp_path / "cut")
    resumed.fit(resume=True)
    for name, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name
