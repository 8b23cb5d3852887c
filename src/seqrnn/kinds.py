"""seqrnn's own kinds of task, each declared once (seqrnn.registry).

A kind's block is all that names it: its recipe, the files its runs write, the class users
load, its presets (the lecture's, and the one behind each figure the README reports) and
its defaults. Torch-free: what imports torch is named as "module:attribute".
"""

from __future__ import annotations

from seqrnn.presets import Preset
from seqrnn.registry import Kind, register

VOCAB_FILE = "vocab.json"  # the vocabulary (characters or words)
LABELS_FILE = "labels.json"  # the label names (classifiers)
SOURCE_VOCAB_FILE = "source_vocab.json"  # a sequence-to-sequence model has one per side
TARGET_VOCAB_FILE = "target_vocab.json"
CHARS_FILE = "chars.json"  # a tagger's characters, tags and feature columns beside its words
TAGS_FILE = "tags.json"
FEATURES_FILE = "features.json"
CONDITIONS_FILE = "conditions.json"  # a conditioned language model's conditions (--condition)

# A preset keeps the precision its figure was measured in: "off" (float32), or "auto" for those
# measured in bfloat16 (on where the machine has bfloat16 units, float32 elsewhere).
_RACE = {"text": "tinyshakespeare", "val_fraction": 0.1, "batch_size": 32, "num_steps": 50,
         "input": "embedding", "embedding_dim": 64, "hidden_size": 256, "dropout": 0.0,
         "epochs": 1000, "minutes": 2.25, "lr": 5e-3, "lr_schedule": "cosine",
         "min_lr_fraction": 0.1, "seed": 1, "amp": "off"}

register(Kind(
    "charlm", "seqrnn.recipes.charlm:RECIPE", files=(VOCAB_FILE, CONDITIONS_FILE),
    model="seqrnn.api.charlm:LanguageModel", cli="seqrnn.cli.charlm",
    serve="seqrnn.serve.routers.charlm:HOOK", export="seqrnn.api.export:charlm_graphs",
    presets={
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
    }))

# Kinds the lecture never configured default to the preset of the README's best measured
# recipe for their usual budget (issue 31); the others' defaults are the lecture's, which are
# the config dataclasses' own.
register(Kind(
    "wordlm", "seqrnn.recipes.wordlm:RECIPE", files=(VOCAB_FILE, CONDITIONS_FILE),
    model="seqrnn.api.wordlm:WordLanguageModel", cli="seqrnn.cli.wordlm",
    serve="seqrnn.serve.routers.wordlm:HOOK", export="seqrnn.api.export:wordlm_graphs",
    presets={
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
    default_preset="imdb"))

# ULMFiT's fine-tuning of a pretrained encoder: slanted triangular lr 0.01, each lower layer
# group's lr divided by 2.6, one more group unfrozen each epoch. The lecture's constant 1e-3
# leaves a pretrained encoder at chance (issue 24: test 0.547 after 8 minutes).
FINETUNE_RECIPE = {"epochs": 6, "lr": 0.01, "lr_schedule": "slanted", "min_lr_fraction": 0.03,
                   "layer_lr_decay": 2.6, "unfreeze_epochs": 1, "batch_size": 64,
                   "seq_len": 400, "dropout": 0.3}

register(Kind(
    "sentiment", "seqrnn.recipes.sentiment:RECIPE", files=(VOCAB_FILE, LABELS_FILE),
    model="seqrnn.api.sentiment:SentimentClassifier", cli="seqrnn.cli.sentiment",
    serve="seqrnn.serve.routers.sentiment:HOOK", export="seqrnn.api.export:sentiment_graphs",
    presets={
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
    implied=(("pretrained", FINETUNE_RECIPE),)))

register(Kind(
    "seq2seq", "seqrnn.recipes.seq2seq:RECIPE", files=(SOURCE_VOCAB_FILE, TARGET_VOCAB_FILE),
    model="seqrnn.api.seq2seq:Transducer", cli="seqrnn.cli.seq2seq",
    serve="seqrnn.serve.routers.seq2seq:HOOK", export="seqrnn.api.export:seq2seq_graphs",
    presets={
        "g2p": Preset("grapheme to phoneme on cmudict: a bidirectional LSTM encoder of 256 "
                      "units, additive attention, dropout 0.2, batch 64, Adam 3e-3 with cosine "
                      "decay over 15 minutes, bfloat16 where the machine has it (test WER "
                      "26.6%): the defaults of seq2seq train",
                      {"data": "cmudict", "hidden_size": 256, "embedding_dim": 64,
                       "bidirectional": True, "attention": "additive", "dropout": 0.2,
                       "batch_size": 64, "lr": 3e-3, "lr_schedule": "cosine",
                       "minutes": 15.0, "epochs": 100, "amp": "auto"}),
    },
    default_preset="g2p"))

register(Kind(
    "forecast", "seqrnn.recipes.forecast:RECIPE", model="seqrnn.api.forecast:Forecaster",
    cli="seqrnn.cli.forecast", serve="seqrnn.serve.routers.forecast:HOOK",
    export="seqrnn.api.export:forecast_graphs",
    presets={
        "m3": Preset("one global forecaster for the M3 competition's 3,003 series: LSTM 2x128 "
                     "reading 36 deseasonalised points, 5 quantiles, batch 256, Adam 3e-3 with "
                     "cosine decay over 12 minutes, bfloat16 where the machine has it: the "
                     "defaults of forecast train",
                     {"data": "m3", "input_length": 36, "hidden_size": 128, "num_layers": 2,
                      "batch_size": 256, "lr": 3e-3, "lr_schedule": "cosine",
                      "minutes": 12.0, "epochs": 1000, "eval_every": 100, "amp": "auto"}),
    },
    default_preset="m3"))

register(Kind(
    "tag", "seqrnn.recipes.tagger:RECIPE",
    files=(VOCAB_FILE, CHARS_FILE, TAGS_FILE, FEATURES_FILE),
    model="seqrnn.api.tagger:Tagger", cli="seqrnn.cli.tagger",
    serve="seqrnn.serve.routers.tagger:HOOK", export="seqrnn.api.export:tagger_graphs",
    presets={
        "conll2000": Preset("chunking on CoNLL-2000: words, their characters (a BiLSTM of 25 "
                            "per direction) and parts of speech into a BiLSTM of 200 per "
                            "direction and a CRF, BIOES tags, batch 32, Adam 2e-3 with cosine "
                            "decay over 20 minutes: the defaults of tag train",
                            {"data": "conll2000", "scheme": "bioes", "batch_size": 32,
                             "lr": 2e-3, "lr_schedule": "cosine", "minutes": 20.0,
                             "epochs": 100, "eval_every": 500, "amp": "off"}),
    },
    default_preset="conll2000"))
