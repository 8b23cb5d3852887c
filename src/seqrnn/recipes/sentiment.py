"""Training the sentiment classifier: its data, its model and the objective the training loop
optimises.

    import seqrnn
    seqrnn.train("sentiment", data="imdb", hidden_size=128, epochs=5, out="runs/imdb")

or, with every config spelled out, `base.start(sentiment.RECIPE, SentimentData(...), {...},
TrainConfig(...), out)`.

The vocabulary is counted on the training split only, validation is carved
from training data, and the test split is never read here.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from seqrnn.configs import SentimentConfig, SentimentData, TrainConfig, WordLMConfig
from seqrnn.data.batches import ReviewBatches
from seqrnn.data.labels import LabeledTexts, LabelMap, SentimentSplits
from seqrnn.data.sentiment_sets import load_sentiment
from seqrnn.data.sequences import EncodedTexts, encode_texts
from seqrnn.data.tables import TableOptions
from seqrnn.data.tokenize import iter_tokenized
from seqrnn.data.vocab import UNK_ID, WordVocab
from seqrnn.errors import UserError, field_error
from seqrnn.kinds import LABELS_FILE, VOCAB_FILE
from seqrnn.metrics import DECISION_THRESHOLD
from seqrnn.models.finetuned import build_classifier
from seqrnn.models.sentiment import SentimentRNN
from seqrnn.recipes import base
from seqrnn.recipes.wordlm import RECIPE as WORDLM
from seqrnn.run import BEST_WEIGHTS, RunFolder
from seqrnn.trainer import IndependentBatches, Selection
from seqrnn.trainer.distributed import Group


class SentimentObjective(IndependentBatches):
    """The loop's objective: shuffled review batches, binary cross-entropy, no carried state.

    Under torchrun the epoch's batches are those of a single process (seeded by
    seed and epoch, whatever the number of ranks), and every rank takes its own
    equal slice of each: the distributed sampler. A batch whose size does not
    divide by the number of ranks (the epoch's one short batch) loses its last
    few reviews, or all of them when it has fewer reviews than there are ranks.
    """

    items = "reviews"
    # What the classifier is for; its validation loss keeps falling on overconfident
    # mistakes long after accuracy has peaked (lecture configuration: epoch 5 vs 7).
    selection = Selection("accuracy", higher_is_better=True)

    def __init__(self, train: EncodedTexts, val: EncodedTexts, data: SentimentData, seed: int,
                 group: Group | None = None):
        super().__init__(data.batch_size, group)
        self.train = ReviewBatches(train, data, shuffle=True, seed=seed)
        self.val = ReviewBatches(val, data, shuffle=False, seed=seed)
        self.labels = torch.from_numpy(train.labels).float()
        # Chance: the accuracy of always answering validation's most common class.
        positive = float(np.mean(val.labels)) if len(val.labels) else 0.5
        self.majority = max(positive, 1 - positive)
        self._epoch, self._batches = -1, []

    def batches(self, epoch: int) -> list[np.ndarray]:
        """The global batches of `epoch`: review indices, each batch divisible by the ranks."""
        if epoch != self._epoch:
            batches = self.train.indices(epoch)
            if self.group.distributed:
                ranks = self.group.world_size
                batches = [rows[: len(rows) - len(rows) % ranks] for rows in batches
                           if len(rows) >= ranks]
            self._epoch, self._batches = epoch, batches
        return self._batches

    def num_batches(self, epoch: int) -> int:
        return len(self.batches(epoch))

    def batch(self, epoch: int, index: int):
        rows = self.batches(epoch)[index]
        rows = rows[self.group.share(len(rows))]  # this rank's slice of the global batch
        return self.group.stage((self.train.tokens(rows), self.labels[torch.from_numpy(rows)]))

    def train_loss(self, model: SentimentRNN, batch) -> tuple[torch.Tensor, int]:
        device = next(model.parameters()).device
        tokens, labels = (t.to(device, non_blocking=True) for t in batch)
        logits = model(tokens)  # (B,): every batch starts from a zero state
        return F.binary_cross_entropy_with_logits(logits, labels), len(labels)

    def evaluate(self, model: SentimentRNN) -> dict[str, float]:
        """Log loss and accuracy: sums over each rank's share of the batches, all-reduced."""
        ranks = self.group.world_size
        mine = self.val.indices(0)[self.group.rank :: ranks]  # mixed lengths on every rank
        rows = np.sort(np.concatenate(mine)) if mine else np.zeros(0, dtype=np.int64)
        probs = predict_probabilities(model, self.val, mine)[rows]
        labels = self.val.encoded.labels[rows]
        eps = 1e-7
        log_likelihood = labels * np.log(probs + eps) + (1 - labels) * np.log(1 - probs + eps)
        correct = np.sum((probs >= DECISION_THRESHOLD) == labels)
        nats, correct, count = self.group.sum(
            [float(-log_likelihood.sum()), float(correct), len(rows)])
        return {"loss": nats / count, "accuracy": correct / count, "majority": self.majority}


@torch.no_grad()
def predict_probabilities(model: SentimentRNN, batches: ReviewBatches,
                          only: list[np.ndarray] | None = None) -> np.ndarray:
    """P(positive) for every review of `batches`, in the order of its encoded set.

    With `only` (some of the batches' review indices), just those reviews are
    scored; the other entries are NaN.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = np.full(len(batches.encoded), np.nan, dtype=np.float64)
    chosen = batches.indices(0) if only is None else only
    for rows in chosen:
        tokens = batches.tokens(rows).to(device)
        out[rows] = torch.sigmoid(model(tokens)).double().cpu().numpy()
    model.train(was_training)
    return out


def table_options(data: SentimentData, label_map: LabelMap | None = None) -> TableOptions:
    """How `data` says its rows are read; `label_map` fixes the label values (None: inferred)."""
    return TableOptions(text_column=data.text_column, label_column=data.label_column,
                        file_format=data.format, encoding=data.encoding, label_map=label_map,
                        on_empty=data.on_empty)


def read_splits(data: SentimentData, seed: int, progress: bool,
                label_map: LabelMap | None = None) -> SentimentSplits:
    """The train, validation and test splits of `data.data`, drawn as in training."""
    splits = load_sentiment(data.data, table_options(data, label_map),
                            val_fraction=data.val_fraction, test_fraction=data.test_fraction,
                            seed=seed, progress=progress)
    if splits.skipped_empty and progress:
        print(f"skipped {splits.skipped_empty} rows with empty text", file=sys.stderr)
    return splits


def build_vocab(texts: Sequence[str], data: SentimentData, progress: bool) -> WordVocab:
    """The word vocabulary of `texts` (the training split), with data's min_freq and max_vocab."""
    return WordVocab.build(iter_tokenized(texts, progress=progress, desc="counting words"),
                           min_freq=data.min_freq, max_vocab=data.max_vocab)


# SentimentConfig fields a pretrained encoder decides, and the value each must then have.
ENCODER_FIELDS = {"embedding_dim": None, "hidden_size": None, "num_layers": None,
                  "cell": "lstm", "bidirectional": False, "impl": "fused", "init": "torch",
                  "uniform_init": False, "sparse_embedding": True}
MIN_COVERAGE = 0.5  # of the training words a pretrained vocabulary must know


def pretrained_run(path: str) -> RunFolder:
    """The word language model run `path`, checked to be one."""
    run = RunFolder(path)
    try:
        run.read_config(WORDLM.kind)
    except UserError as exc:
        raise UserError(f"{{pretrained}}: {exc.template}",
                        fields=("pretrained", *exc.fields)) from None
    return run


def pretrained_encoder(run: RunFolder) -> tuple[WordVocab, dict, dict[str, torch.Tensor]]:
    """A language model run's vocabulary, encoder config (as model fields) and encoder weights."""
    lm = run.build_config(WordLMConfig, run.read_config(WORDLM.kind).model)
    if lm.conditions:
        raise UserError(f"the language model in {run.path} is conditioned (trained with "
                        "--condition), so its encoder reads a condition a classifier does not "
                        "have: give {pretrained} an unconditioned run", fields=("pretrained",))
    vocab = WordVocab.from_dict(run.read_json(VOCAB_FILE))
    weights, _ = run.load_weights(BEST_WEIGHTS)
    prefix = "encoder."
    encoder = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
    return vocab, {"lm": lm}, encoder


def check_held_out_alike(run: RunFolder, data: SentimentData, seed: int) -> None:
    """On IMDb, the language model must have held out this classifier's validation movies."""
    saved = run.read_config(WORDLM.kind)
    lm_data, lm_seed = (saved.data or {}).get("data"), (saved.loop or {}).get("seed")
    lm_fraction = (saved.data or {}).get("val_fraction")
    if lm_data == data.data == "imdb" and (lm_seed, lm_fraction) != (seed, data.val_fraction):
        raise UserError(
            f"the language model in {run.path} held out the validation movies of seed "
            f"{lm_seed} and val_fraction {lm_fraction}, so it has read some of this run's "
            "validation reviews: use {seed} " f"{lm_seed} and {{val_fraction}} {lm_fraction}",
            fields=("seed", "val_fraction"))


def check_coverage(encoded: EncodedTexts, data: SentimentData) -> None:
    """A pretrained vocabulary must know most training words, or the encoder reads noise."""
    known = float(np.mean(encoded.ids != UNK_ID)) if len(encoded.ids) else 0.0
    if known < MIN_COVERAGE:
        raise UserError(f"the language model in {data.pretrained} knows only {known:.0%} of the "
                        f"words of {data.data}: pretrain it on text like these reviews, or "
                        "train without {pretrained}", fields=("pretrained",))


def refuse_contradictions(model_options: dict, lm: WordLMConfig) -> None:
    """Model options that a pretrained encoder decides must be left out (or agree)."""
    for name, required in ENCODER_FIELDS.items():
        if name not in model_options:
            continue
        wanted = getattr(lm, name) if required is None else required
        if name == "sparse_embedding" or model_options[name] == wanted:
            continue
        raise field_error(name, f"{{}} {model_options[name]} contradicts the pretrained encoder "
                          f"({wanted}): drop it, the encoder decides")


TextPair = tuple[LabeledTexts, LabeledTexts]  # the training and validation reviews
EncodedPair = tuple[EncodedTexts, EncodedTexts]  # the same, encoded


class SentimentRecipe(base.Recipe[SentimentData, TextPair, EncodedPair, SentimentConfig]):
    kind = "sentiment"
    data_config = SentimentData
    model_config = SentimentConfig
    model_class = SentimentRNN
    other_paths = ("pretrained",)
    vocabularies = {VOCAB_FILE: (WordVocab, "vocab_size")}

    def model_from_config(self, config: SentimentConfig) -> torch.nn.Module:
        return build_classifier(config)

    def batch_shape(self, data: SentimentData) -> tuple[int, int, str]:
        return data.batch_size, data.seq_len, "seq_len"

    def check_start(self, data: SentimentData, seed: int) -> None:
        # Only a new run reads the language model's folder: a resumed one has every weight.
        if data.pretrained is not None:
            check_held_out_alike(pretrained_run(data.pretrained), data, seed)

    def read(self, data: SentimentData, seed: int, progress: bool) -> TextPair:
        splits = read_splits(data, seed, progress)
        return splits.train, splits.val

    def prepare(self, raw: TextPair, data: SentimentData, progress: bool,
                saved: RunFolder | None) -> base.Prepared[EncodedPair]:
        train_set, val_set = raw
        labels = train_set.label_map
        if saved is not None and labels != LabelMap.from_dict(saved.read_json(LABELS_FILE)):
            raise UserError(f"the labels of {data.data} differ from those of the run in "
                            f"{saved.path}: resume with the data it was trained on ({{data}})",
                            fields=("data",))
        if data.pretrained is None:
            vocab, fields, encoder = build_vocab(train_set.texts, data, progress), {}, None
        elif saved is None:
            vocab, fields, encoder = pretrained_encoder(pretrained_run(data.pretrained))
        else:  # resuming: the run's own copy of the language model's vocabulary
            vocab, fields, encoder = WordVocab.from_dict(saved.read_json(VOCAB_FILE)), {}, None
        if saved is not None and vocab != WordVocab.from_dict(saved.read_json(VOCAB_FILE)):
            raise UserError(f"{data.data} gives a different vocabulary than the run in "
                            f"{saved.path}: resume with the data it was trained on ({{data}})",
                            fields=("data",))
        train_enc = encode_texts(train_set.texts, vocab, train_set.labels, progress=progress)
        if data.pretrained is not None:
            check_coverage(train_enc, data)
        sets = (train_enc, encode_texts(val_set.texts, vocab, val_set.labels))
        return base.Prepared(files={VOCAB_FILE: vocab, LABELS_FILE: labels},
                             model_fields={"vocab_size": len(vocab), **fields}, sets=sets,
                             init_weights=encoder)

    def build_model(self, prepared: base.Prepared[EncodedPair],
                    model_options: dict) -> torch.nn.Module:
        if prepared.init_weights is None:
            return super().build_model(prepared, model_options)
        lm = prepared.model_fields["lm"]
        refuse_contradictions(model_options, lm)
        options = {k: v for k, v in model_options.items() if k not in ENCODER_FIELDS}
        model = super().build_model(prepared, {**options, "sparse_embedding": False})
        model.encoder.load_state_dict(prepared.init_weights)
        return model

    def make_objective(self, prepared: base.Prepared[EncodedPair], data: SentimentData,
                       train_config: TrainConfig, group: Group) -> SentimentObjective:
        train_enc, val_enc = prepared.sets
        return SentimentObjective(train_enc, val_enc, data, train_config.seed, group)


RECIPE = SentimentRecipe()

