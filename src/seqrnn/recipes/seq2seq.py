"""Training the encoder-decoder: its pairs, its model and the objective the training loop optimises.

    import seqrnn
    seqrnn.train("seq2seq", data="cmudict", attention="additive", minutes=15, lr=3e-3,
                 out="runs/g2p")

or, with every config spelled out, `base.start(seq2seq.RECIPE, Seq2SeqData(...), {...},
TrainConfig(...), out)`.

Teacher forcing: the decoder reads the true previous token at every step. Selection is on the
validation word error rate of greedy decoding; the test sources are never read here.
"""

from __future__ import annotations

import sys

import numpy as np
import torch
import torch.nn.functional as F

from seqrnn.configs import Seq2SeqConfig, Seq2SeqData, TrainConfig
from seqrnn.data.chunks import LengthChunks
from seqrnn.data.pairs import Pairs, load_pairs
from seqrnn.data.symbols import BOS_ID, EOS_ID, PAD_ID, SymbolVocab
from seqrnn.errors import UserError
from seqrnn.inference.transduce import greedy
from seqrnn.kinds import SOURCE_VOCAB_FILE, TARGET_VOCAB_FILE
from seqrnn.metrics import transduction_errors, unigram_loss
from seqrnn.models.seq2seq import Seq2Seq
from seqrnn.recipes import base
from seqrnn.run import RunFolder
from seqrnn.trainer import IndependentBatches, Selection
from seqrnn.trainer.distributed import Group

EVAL_BATCH = 256  # sources decoded at once for the validation error rates


def padded(rows: list[list[int]]) -> torch.Tensor:
    """Right-padded (len(rows), longest) int64."""
    out = torch.full((len(rows), max(map(len, rows))), PAD_ID, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.tensor(row, dtype=torch.long)
    return out


class Encoded:
    """Pairs as ids: every (source, target) alternative, and each source's references."""

    def __init__(self, pairs: Pairs, source_vocab: SymbolVocab, target_vocab: SymbolVocab):
        sources, targets = pairs.examples()
        self.sources = [source_vocab.encode(s) for s in sources]
        self.targets = [target_vocab.encode(t, what="the target") for t in targets]
        self.words = [source_vocab.encode(s) for s in pairs.sources]
        self.references = pairs.targets


def _with_ends(targets: list[list[int]]) -> np.ndarray:
    """Every target token and each target's end token, as the loss counts them."""
    return np.fromiter((t for target in targets for t in (*target, EOS_ID)), dtype=np.int64)


class Seq2SeqObjective(IndependentBatches):
    """The loop's objective: batches of similar source length, shuffled each epoch, and teacher-
    forced cross-entropy per target token. Under torchrun every rank takes its slice of each
    global batch (the distributed sampler)."""

    items = "pairs"
    selection = Selection("wer", higher_is_better=False)

    def __init__(self, train: Encoded, val: Encoded, target_vocab: SymbolVocab,
                 data: Seq2SeqData, seed: int, group: Group | None = None):
        super().__init__(data.batch_size, group)
        self.train, self.val, self.target_vocab = train, val, target_vocab
        self.data, self.seed = data, seed
        self.chunks = LengthChunks(np.array([len(s) for s in train.sources]), data.batch_size,
                                   seed, self.group.world_size)
        self.unigram = unigram_loss(_with_ends(train.targets), _with_ends(val.targets))

    def num_batches(self, epoch: int) -> int:
        return self.chunks.count(epoch)

    def batch(self, epoch: int, index: int):
        rows = self.chunks.rows(epoch, index)
        # Every rank divides its sum by its share of the global batch's target tokens (each
        # target and its end token), so DDP's average of the ranks' gradients is one
        # process's mean over the global batch.
        tokens = sum(len(self.train.targets[i]) + 1 for i in rows) / self.group.world_size
        mine = rows[self.group.share(len(rows))]
        return self.group.stage(self._tensors(self.train, mine)), tokens

    @staticmethod
    def _tensors(encoded: Encoded, rows) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        source = padded([encoded.sources[i] for i in rows])
        previous = padded([[BOS_ID, *encoded.targets[i]] for i in rows])
        target = padded([[*encoded.targets[i], EOS_ID] for i in rows])
        return source, previous, target

    def train_loss(self, model: Seq2Seq, batch) -> tuple[torch.Tensor, int]:
        tensors, tokens_per_rank = batch
        device = next(model.parameters()).device
        source, previous, target = (t.to(device, non_blocking=True) for t in tensors)
        logits = model(source, previous)  # (B, T, V)
        nats = F.cross_entropy(logits.flatten(0, 1).float(), target.flatten(),
                               ignore_index=PAD_ID, reduction="sum")
        return nats / tokens_per_rank, int((target != PAD_ID).sum())

    @torch.no_grad()
    def evaluate(self, model: Seq2Seq) -> dict[str, float]:
        """Teacher-forced loss per target token, and greedy WER and PER on validation words:
        sums over each rank's share, all-reduced."""
        was_training = model.training
        model.eval()
        device = next(model.parameters()).device
        ranks, rank = self.group.world_size, self.group.rank
        nats = tokens = 0.0
        examples = np.arange(len(self.val.sources))[rank::ranks]
        for start in range(0, len(examples), EVAL_BATCH):
            source, previous, target = (t.to(device) for t in self._tensors(
                self.val, examples[start : start + EVAL_BATCH]))
            logits = model(source, previous)
            nats += float(F.cross_entropy(logits.flatten(0, 1).float(), target.flatten(),
                                          ignore_index=PAD_ID, reduction="sum"))
            tokens += float((target != PAD_ID).sum())
        words = np.arange(len(self.val.words))[rank::ranks]
        wrong = edits = length = 0.0
        for start in range(0, len(words), EVAL_BATCH):
            chosen = words[start : start + EVAL_BATCH]
            outputs = greedy(model, padded([self.val.words[i] for i in chosen]).to(device),
                             self.data.max_length + 1)
            errors = transduction_errors(
                [self.target_vocab.decode(ids) for ids in outputs],
                [self.val.references[i] for i in chosen])
            wrong += errors["wer"] * len(chosen)
            edits += errors["per"] * errors["reference_tokens"]
            length += errors["reference_tokens"]
        nats, tokens, wrong, edits, length = self.group.sum([nats, tokens, wrong, edits, length])
        model.train(was_training)
        return {"loss": nats / tokens, "wer": wrong / len(self.val.words),
                "per": edits / max(length, 1.0), "unigram": self.unigram}


PairSplits = tuple[Pairs, Pairs]  # the training and validation pairs
# The encoded training and validation pairs and the target vocabulary validation decodes with.
EncodedSets = tuple[Encoded, Encoded, SymbolVocab]


class Seq2SeqRecipe(base.Recipe[Seq2SeqData, PairSplits, EncodedSets, Seq2SeqConfig]):
    kind = "seq2seq"
    data_config = Seq2SeqData
    model_config = Seq2SeqConfig
    model_class = Seq2Seq
    vocabularies = {SOURCE_VOCAB_FILE: (SymbolVocab, "source_vocab_size"),
                    TARGET_VOCAB_FILE: (SymbolVocab, "target_vocab_size")}

    def read(self, data: Seq2SeqData, seed: int, progress: bool) -> PairSplits:
        splits = load_pairs(data, seed)
        if progress:
            for note in splits.notes:
                print(f"note: {note}", file=sys.stderr)
        return splits.train, splits.val

    def prepare(self, raw: PairSplits, data: Seq2SeqData, progress: bool,
                saved: RunFolder | None) -> base.Prepared[EncodedSets]:
        train, val = raw
        source_vocab = SymbolVocab.build(train.sources)
        target_vocab = SymbolVocab.build(t for targets in train.targets for t in targets)
        if saved is not None:
            for name, vocab in ((SOURCE_VOCAB_FILE, source_vocab),
                                (TARGET_VOCAB_FILE, target_vocab)):
                if vocab != SymbolVocab.from_dict(saved.read_json(name)):
                    raise UserError(f"{data.data} gives other symbols than the run in "
                                    f"{saved.path}: resume with the data it was trained on "
                                    "({data})", fields=("data",))
        val = known_pairs(val, source_vocab, target_vocab)
        if not len(val):
            raise UserError(f"every validation source of {data.data} has symbols training "
                            "never saw: give more pairs, or a larger {val_fraction}",
                            fields=("val_fraction",))
        sets = (Encoded(train, source_vocab, target_vocab),
                Encoded(val, source_vocab, target_vocab), target_vocab)
        return base.Prepared(
            files={SOURCE_VOCAB_FILE: source_vocab, TARGET_VOCAB_FILE: target_vocab},
            model_fields={"source_vocab_size": len(source_vocab),
                          "target_vocab_size": len(target_vocab)}, sets=sets)

    def check_model_options(self, model_options: dict) -> Seq2SeqConfig:
        return self.model_config(**{"source_vocab_size": 1, "target_vocab_size": 1,
                                    **model_options})

    def batch_shape(self, data: Seq2SeqData) -> tuple[int, int, str]:
        return data.batch_size, 2 * data.max_length, "max_length"  # source and target

    def make_objective(self, prepared: base.Prepared[EncodedSets], data: Seq2SeqData,
                       train_config: TrainConfig, group: Group) -> Seq2SeqObjective:
        train, val, target_vocab = prepared.sets
        return Seq2SeqObjective(train, val, target_vocab, data, train_config.seed, group)


def known_pairs(pairs: Pairs, source_vocab: SymbolVocab, target_vocab: SymbolVocab) -> Pairs:
    """The pairs whose symbols training has seen (a rare symbol may occur only in held-out
    pairs: they cannot be read, and are left out)."""
    keep = [i for i, (source, targets) in enumerate(zip(pairs.sources, pairs.targets,
                                                        strict=True))
            if not source_vocab.unknown(source)
            and not any(target_vocab.unknown(t) for t in targets)]
    return pairs.subset(keep)


RECIPE = Seq2SeqRecipe()

