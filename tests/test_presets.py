import dataclasses

import pytest

from seqrnn import presets
from seqrnn.cli import main
from seqrnn.configs import TrainConfig
from seqrnn.errors import UserError
from seqrnn.tasks.charlm import SPEC as CHARLM
from seqrnn.tasks.sentiment import SPEC as SENTIMENT
from seqrnn.tasks.seq2seq import SPEC as SEQ2SEQ
from seqrnn.tasks.wordlm import SPEC as WORDLM

SPECS = {spec.kind: spec for spec in (CHARLM, SENTIMENT, WORDLM, SEQ2SEQ)}


def fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


@pytest.mark.parametrize(("kind", "name"), [(kind, name) for kind, named in
                                            presets.PRESETS.items() for name in named])
def test_every_preset_builds_valid_configurations(kind, name):
    spec = SPECS[kind]
    preset = presets.get(kind, name)
    data = {k: v for k, v in preset.values.items() if k in fields(spec.data_config)}
    model = {k: v for k, v in preset.values.items() if k in fields(spec.model_config)}
    loop = {k: v for k, v in preset.values.items() if k in fields(TrainConfig)}
    assert set(preset.values) == set(data) | set(model) | set(loop)  # no field unheard of
    spec.data_config(**data)
    TrainConfig(**loop)
    sizes = ({"source_vocab_size": 30, "target_vocab_size": 40} if kind == "seq2seq"
             else {"vocab_size": 50_000})
    spec.model_config(**sizes, **model)
    assert set(preset.needs) <= fields(spec.data_config) | fields(spec.model_config)


def test_the_lecture_is_a_preset_of_both_lecture_tasks():
    assert {"lecture", "race", "race-15min"} <= set(presets.names("charlm"))
    assert {"lecture", "best-20min", "finetune"} <= set(presets.names("sentiment"))
    with pytest.raises(UserError) as caught:
        presets.get("charlm", "fast")
    assert caught.value.field == "preset" and "use one of lecture, race" in str(caught.value)


def test_a_preset_fills_what_the_flags_leave_out(tmp_path, capsys):
    text = tmp_path / "t.txt"
    text.write_text("the cat sat on the mat. " * 200)
    assert main(["charlm", "train", "--preset", "race", "--text", str(text), "--lr", "0.02",
                 "--max-steps", "3", "--out", str(tmp_path / "run"), "--quiet",
                 "--sample-length", "0"]) == 0
    from seqrnn.run import RunFolder

    config = RunFolder(tmp_path / "run").read_config("charlm")
    assert config.model["hidden_size"] == 256 and config.model["input"] == "embedding"
    assert config.data["batch_size"] == 32 and config.data["text"] == str(text)
    assert config.loop["lr"] == 0.02 and config.loop["minutes"] == 2.25
    # --resume auto with the same preset and flags finds nothing changed
    assert main(["charlm", "train", "--preset", "race", "--text", str(text), "--lr", "0.02",
                 "--max-steps", "4", "--out", str(tmp_path / "run"), "--resume", "auto",
                 "--quiet", "--sample-length", "0"]) == 0
    assert RunFolder(tmp_path / "run").latest_step() == 4
    capsys.readouterr()
    assert main(["charlm", "train", "--resume", str(tmp_path / "run"), "--preset", "race"]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "--resume continues a run with its own configuration: drop --preset race")


def test_a_preset_that_needs_a_flag_says_so(tmp_path, capsys):
    assert main(["sentiment", "train", "--preset", "finetune", "--out",
                 str(tmp_path / "r")]) == 2
    assert capsys.readouterr().err.strip() == (
        "seqrnn: error: --preset finetune needs --pretrained")
    assert not (tmp_path / "r").exists()
    assert main(["charlm", "train", "--preset", "nope"]) == 2
    assert "argument --preset: invalid choice: 'nope'" in capsys.readouterr().err
