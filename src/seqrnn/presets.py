"""Named configurations: the lecture's, and the one behind each figure the README reports.

A preset is a set of configuration fields (data, model and training loop alike), applied
under what the user types: `seqrnn charlm train --preset race --lr 1e-3` is the race with
another learning rate. The bench scripts take the same names, so each README figure is one
short command. Torch-free, like seqrnn.configs, so the command line can list them cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seqrnn.errors import field_error


@dataclass(frozen=True)
class Preset:
    summary: str
    values: dict[str, Any] = field(default_factory=dict)
    needs: tuple[str, ...] = ()  # fields the user must still give, e.g. a pretrained run


# A preset keeps the precision its figure was measured in: "off" (float32), or "auto" for those
# measured in bfloat16 (on where the machine has bfloat16 units, float32 elsewhere).
_RACE = {"text": "tinyshakespeare", "val_fraction": 0.1, "batch_size": 32, "num_steps": 50,
         "input": "embedding", "embedding_dim": 64, "hidden_size": 256, "dropout": 0.0,
         "epochs": 1000, "minutes": 2.25, "lr": 5e-3, "lr_schedule": "cosine",
         "min_lr_fraction": 0.1, "seed": 1, "amp": "off"}

# ULMFiT's fine-tuning of a pretrained encoder: slanted triangular lr 0.01, each lower layer
# group's lr divided by 2.6, one more group unfrozen each epoch. The lecture's constant 1e-3
# leaves a pretrained encoder at chance (issue 24: test 0.547 after 8 minutes).
FINETUNE_RECIPE = {"epochs": 6, "lr": 0.01, "lr_schedule": "slanted", "min_lr_fraction": 0.03,
                   "layer_lr_decay": 2.6, "unfreeze_epochs": 1, "batch_size": 64,
                   "seq_len": 400, "dropout": 0.3}

PRESETS: dict[str, dict[str, Preset]] = {
    "charlm": {
        "lecture": Preset("the lecture's model on Hamlet: LSTM 1x128 on one-hot characters, "
                          "batch 64 x 100 steps, Adam 1e-3, clip 5, dropout 0.5, 100 epochs, "
                          "float32",
                          {"text": "hamlet", "epochs": 100, "amp": "off"}),
        "race": Preset("the equal-time race on tiny shakespeare: LSTM 256 on 64-wide "
                       "embeddings, batch 32 x 50, Adam 5e-3 with cosine decay over 2.25 "
                       "minutes (the README: validation 1.514)", _RACE),
        "race-15min": Preset("the 15-minute model: the race with LSTM 512, dropout 0.25, "
                             "Adam 4e-3, bfloat16 where the machine has it, validation every "
                             "2,000 steps "
                             "(the README: best validation 1.486)",
                             {**_RACE, "minutes": 15.0, "hidden_size": 512, "dropout": 0.25,
                              "lr": 4e-3, "amp": "auto", "eval_every": 2000}),
    },
    "sentiment": {
        "lecture": Preset("the lecture's classifier on IMDb: embedding 256, LSTM 128, last "
                          "state, batch 100, Adam 1e-3, dropout 0.5, 200 words, 10 epochs, "
                          "float32",
                          {"data": "imdb", "epochs": 10, "amp": "off"}),
        "best-20min": Preset("the best classifier trained from scratch in 20 minutes: a "
                             "bidirectional GRU 2x128, max-pooled, 800 words, word dropout "
                             "0.25, weight averaging (the README: test 0.9005)",
                             {"data": "imdb", "epochs": 30, "minutes": 20.0,
                              "bidirectional": True, "head": "max", "cell": "gru",
                              "embedding_dim": 128, "hidden_size": 128, "seq_len": 800,
                              "min_freq": 5, "batch_size": 128, "lr": 0.003,
                              "lr_schedule": "cosine", "word_dropout": 0.25,
                              "ema_decay": 0.995, "amp": "off"}),
        "finetune": Preset("ULMFiT fine-tuning of a word language model (give --pretrained): "
                           "slanted triangular lr 0.01, layer decay 2.6, one more layer group "
                           "each epoch, 400 words, bfloat16 where the machine has it, 28 "
                           "minutes",
                           {"data": "imdb", **FINETUNE_RECIPE, "minutes": 28.0, "amp": "auto"},
                           needs=("pretrained",)),
    },
    "seq2seq": {
        "g2p": Preset("grapheme to phoneme on cmudict: a bidirectional LSTM encoder of 256 "
                      "units, additive attention, dropout 0.2, batch 64, Adam 3e-3 with cosine "
                      "decay over 15 minutes, bfloat16 where the machine has it (test WER "
                      "26.6%): the defaults of seq2seq train",
                      {"data": "cmudict", "hidden_size": 256, "embedding_dim": 64,
                       "bidirectional": True, "attention": "additive", "dropout": 0.2,
                       "batch_size": 64, "lr": 3e-3, "lr_schedule": "cosine",
                       "minutes": 15.0, "epochs": 100, "amp": "auto"}),
    },
    "wordlm": {
        "imdb": Preset("the language model pretrained on IMDb's training and unlabelled "
                       "reviews for the classifier: AWD-LSTM 2x512 on 256-wide embeddings, "
                       "adaptive softmax, bfloat16 where the machine has it, cosine lr 3e-3 "
                       "over 110 minutes: the defaults of wordlm train",
                       {"data": "imdb", "embedding_dim": 256, "hidden_size": 512,
                        "num_layers": 2, "batch_size": 64,
                        "num_steps": 70, "amp": "auto", "minutes": 110.0, "epochs": 4,
                        "lr": 3e-3, "lr_schedule": "cosine", "eval_every": 2500,
                        "embedding_dropout": 0.01, "input_dropout": 0.125,
                        "hidden_dropout": 0.075, "output_dropout": 0.05,
                        "weight_dropout": 0.1}),
    },
}


# Kinds the lecture never configured: their defaults are the preset of the README's best
# measured recipe for their usual budget (issue 31). The others' are the lecture's, which are
# the config dataclasses' own defaults.
DEFAULT_PRESETS = {"wordlm": "imdb", "seq2seq": "g2p"}


def defaults(kind: str) -> dict[str, Any]:
    """The fields whose default for task `kind` is not its config dataclass's: a preset's."""
    name = DEFAULT_PRESETS.get(kind)
    return dict(PRESETS[kind][name].values) if name else {}


def loop_defaults(kind: str) -> dict[str, Any]:
    """The training-loop fields of `defaults(kind)`: `TrainConfig(**loop_defaults("seq2seq"))`
    trains from Python as `seqrnn seq2seq train` does (the data and model fields of those
    defaults are their configs' own defaults already)."""
    from dataclasses import fields

    from seqrnn.configs import TrainConfig

    names = {f.name for f in fields(TrainConfig)}
    return {k: v for k, v in defaults(kind).items() if k in names}


def defaults_source(kind: str) -> str:
    """Where the defaults of task `kind` come from, for --help."""
    name = DEFAULT_PRESETS.get(kind)
    return f"the {name} preset's" if name else "the lecture's"


# Defaults that follow from another field being given: kind -> [(field, defaults)].
IMPLIED: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "sentiment": [("pretrained", FINETUNE_RECIPE)],
}


def implied_defaults(kind: str, given: dict[str, Any]) -> dict[str, Any]:
    """The defaults that the fields in `given` (those set to something) imply for task `kind`:
    a pretrained encoder trains with the fine-tuning recipe. Whatever the user sets wins."""
    implied: dict[str, Any] = {}
    for name, defaults in IMPLIED.get(kind, []):
        if given.get(name) is not None:
            implied.update(defaults)
    return implied


def names(kind: str) -> list[str]:
    return list(PRESETS.get(kind, {}))


def get(kind: str, name: str) -> Preset:
    """The preset `name` of task `kind`; UserError about field `preset` if there is none."""
    presets = PRESETS.get(kind, {})
    if name not in presets:
        choices = ", ".join(presets) or "none"
        raise field_error("preset", f"unknown {{}} {name!r} for {kind}: use one of {choices}")
    return presets[name]


def describe(kind: str) -> str:
    """One line per preset, for --help."""
    return "; ".join(f"{name}: {preset.summary}"
                     for name, preset in PRESETS.get(kind, {}).items())
