import dataclasses

import pytest

from seqrnn import presets, registry
from seqrnn.cli import main
from seqrnn.configs import TrainConfig
from seqrnn.errors import UserError
from seqrnn.recipes.charlm import RECIPE as CHARLM
from seqrnn.recipes.sentiment import RECIPE as SENTIMENT
from seqrnn.recipes.seq2seq import RECIPE as SEQ2SEQ
from seqrnn.recipes.wordlm import RECIPE as WORDLM
from tests.test_recipes_seq2seq import WORDS

SPECS = {recipe.kind: recipe for recipe in (CHARLM, SENTIMENT, WORDLM, SEQ2SEQ)}


def fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


@pytest.mark.parametrize(("kind", "name"), [(kind, name) for kind in SPECS
                                            for name in presets.names(kind)])
def test_every_preset_builds_valid_configurations(kind, name):
    recipe = SPECS[kind]
    preset = presets.get(kind, name)
    data = {k: v for k, v in preset.values.items() if k in fields(recipe.data_config)}
    model = {k: v for k, v in preset.values.items() if k in fields(recipe.model_config)}
    loop = {k: v for k, v in preset.values.items() if k in fields(TrainConfig)}
    assert set(preset.values) == set(data) | set(model) | set(loop)  # no field unheard of
    recipe.data_config(**data)
    TrainConfig(**loop)
    sizes = ({"source_vocab_size": 30, "target_vocab_size": 40} if kind == "seq2seq"
             else {"vocab_size": 50_000})
    recipe.model_config(**sizes, **model)
    assert set(preset.needs) <= fields(recipe.data_config) | fields(recipe.model_config)


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


def test_the_kinds_the_lecture_never_configured_default_to_their_best_preset():
    assert presets.defaults("wordlm") == presets.get("wordlm", "imdb").values
    assert presets.defaults("seq2seq") == presets.get("seq2seq", "g2p").values
    assert presets.defaults("charlm") == presets.defaults("sentiment") == {}
    assert presets.defaults_source("seq2seq") == "the g2p preset's"
    assert presets.defaults_source("charlm") == "the lecture's"
    # The model fields of the word model's preset are its config's own defaults too, so
    # Python's WordLMConfig(vocab_size) is the model the command line trains.
    from seqrnn.configs import WordLMConfig

    model = WordLMConfig(30000)
    assert all(getattr(model, k) == v for k, v in presets.defaults("wordlm").items()
               if k in fields(WordLMConfig))


def help_text(capsys, *argv) -> str:
    assert main([*argv, "--help"]) == 0
    return " ".join(capsys.readouterr().out.split())


def test_help_says_where_each_default_comes_from(capsys):
    seq2seq = help_text(capsys, "seq2seq", "train")
    assert "Defaults are the g2p preset's, the README's best recipe measured" in seq2seq
    assert "--lr LR Adam learning rate (default: 0.003, the g2p preset's)" in seq2seq
    assert "--clip CLIP clip the global gradient norm to this value (default: 5.0)" in seq2seq
    wordlm = help_text(capsys, "wordlm", "train")
    assert "(default: 110.0, the imdb preset's)" in wordlm
    assert "Defaults are the lecture's configuration" in help_text(capsys, "charlm", "train")
    sentiment = help_text(capsys, "sentiment", "train")
    assert "the flags left out take the fine-tuning recipe" in sentiment
    assert "--lr LR Adam learning rate (default: 0.001)" in sentiment


def test_a_run_takes_its_kinds_defaults_and_a_flag_overrides_them(tmp_path, monkeypatch):
    from seqrnn.run import RunFolder
    from seqrnn.trainer import process

    monkeypatch.setattr(process, "has_bfloat16_units", lambda device: False)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("source\ttarget\n" + "".join(f"{w}\t{' '.join(w)}\n" for w in WORDS))
    small = ["seq2seq", "train", "--data", str(pairs), "--hidden-size", "8", "--embedding-dim",
             "4", "--max-steps", "1", "--quiet", "--threads", "1"]
    assert main([*small, "--out", str(tmp_path / "a")]) == 0
    loop = RunFolder(tmp_path / "a").read_config("seq2seq").loop
    assert (loop["lr"], loop["lr_schedule"], loop["minutes"]) == (3e-3, "cosine", 15.0)
    assert loop["amp"] == "off"  # auto, recorded as what it was on this (patched) machine
    assert main([*small, "--lr", "0.01", "--amp", "--out", str(tmp_path / "b")]) == 0
    loop = RunFolder(tmp_path / "b").read_config("seq2seq").loop
    assert (loop["lr"], loop["lr_schedule"], loop["amp"]) == (0.01, "cosine", "on")


@pytest.mark.parametrize("kind", ["wordlm", "seq2seq"])
def test_python_trains_with_the_command_lines_defaults(kind):
    """The data and model fields of a kind's defaults are its configs' own defaults, so
    `loop_defaults` is all Python needs to train as the command line does."""
    recipe = SPECS[kind]
    values = presets.defaults(kind)
    sizes = ({"source_vocab_size": 30, "target_vocab_size": 40} if kind == "seq2seq"
             else {"vocab_size": 30_000})
    data, model = recipe.data_config(), recipe.model_config(**sizes)
    for name, value in values.items():
        if name in fields(recipe.data_config):
            assert getattr(data, name) == value, name
        elif name in fields(recipe.model_config):
            assert getattr(model, name) == value, name
    loop = presets.loop_defaults(kind)
    assert set(loop) == set(values) & fields(TrainConfig) and loop["lr"] == 3e-3


@pytest.mark.parametrize("kind", ["seq2seq", "wordlm"])
def test_a_run_of_the_defaults_is_a_run_of_the_preset_they_come_from(kind, tmp_path):
    """`seqrnn seq2seq train --data D` is `--preset g2p --data D`: the README says so."""
    from seqrnn.run import RunFolder

    if kind == "seq2seq":
        data = tmp_path / "pairs.tsv"
        data.write_text("source\ttarget\n" + "".join(f"{w}\t{' '.join(w)}\n" for w in WORDS))
    else:
        data = tmp_path / "corpus.txt"
        data.write_text(" ".join(WORDS * 20))
    small = [kind, "train", "--data", str(data), "--hidden-size", "8", "--embedding-dim", "8",
             "--max-steps", "1", "--quiet", "--threads", "1"]
    if kind == "wordlm":
        small += ["--batch-size", "4", "--num-steps", "5", "--sample-length", "0"]
    assert main([*small, "--out", str(tmp_path / "defaults")]) == 0
    name = registry.get(kind).default_preset
    assert main([*small, "--preset", name, "--out", str(tmp_path / "preset")]) == 0
    by_default = RunFolder(tmp_path / "defaults").read_config(kind)
    by_preset = RunFolder(tmp_path / "preset").read_config(kind)
    assert (by_default.model, by_default.data, by_default.loop) == (
        by_preset.model, by_preset.data, by_preset.loop)
    assert (by_default.preset, by_preset.preset) == (None, name)
