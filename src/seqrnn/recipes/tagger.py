"""Training the sequence tagger: its sentences, its model and the objective the training loop
optimises.

    import seqrnn
    seqrnn.train("tag", out="runs/chunk", data="conll2000", minutes=20)

Sentences of similar length are batched together, the batches shuffled each epoch. The loss is
the CRF's negative log-likelihood of each sentence's tags (or the softmax's cross-entropy per
word); selection is on the validation span F1 as conlleval counts it. The test sentences are
never read here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from seqrnn.configs import TrainConfig
from seqrnn.configs.tagger import TaggerConfig, TaggerData
from seqrnn.data.chunks import LengthChunks
from seqrnn.data.conll import CORPORA, CORPUS_SCHEME, TaggedSentence, load_corpus
from seqrnn.data.tag_files import read_tagged_file
from seqrnn.data.tag_schemes import check_tags, convert, transition_mask
from seqrnn.data.tag_vocab import FeatureVocabs, TagVocab, word_key
from seqrnn.data.text import CharVocab
from seqrnn.data.vocab import WordVocab
from seqrnn.errors import UserError
from seqrnn.kinds import CHARS_FILE, FEATURES_FILE, TAGS_FILE, VOCAB_FILE
from seqrnn.models.crf import Constraint
from seqrnn.models.tagger import BiLSTMTagger
from seqrnn.recipes import base
from seqrnn.recipes.char_lms import check_coverage, encode_known, read_char_lms, sentence_text
from seqrnn.run import RunFolder
from seqrnn.tag_metrics import span_scores
from seqrnn.trainer import IndependentBatches, Selection
from seqrnn.trainer.distributed import Group

EVAL_BATCH = 256  # sentences decoded at once for the validation scores
SPLITS = ("train", "validation", "test")


def read_splits(data: TaggerData, seed: int, *, test: bool = False
                ) -> dict[str, list[TaggedSentence]]:
    """The sentences of each split, their tags in the training scheme: a corpus's official
    splits, or the files the data config names (validation carved from training, seeded, when
    it names none). The test split only when `test`, so training never reads it."""
    if data.data in CORPORA:
        splits = load_corpus(data.data)
        scheme = CORPUS_SCHEME
    else:
        splits = {"train": _read(data.data, data)}
        if data.validation is not None:
            splits["validation"] = _read(data.validation, data)
        else:
            splits["train"], splits["validation"] = _carve(splits["train"],
                                                           data.val_fraction, seed)
        if test:
            if data.test is None:
                raise UserError(f"{data.data} has no test sentences: give the {{test}} file",
                                fields=("test",))
            splits["test"] = _read(data.test, data)
        scheme = data.input_scheme
    wanted = SPLITS if test else SPLITS[:2]
    return {name: _in_scheme(splits[name], scheme, data.scheme) for name in wanted}


def _read(path: str, data: TaggerData) -> list[TaggedSentence]:
    sentences = read_tagged_file(path, data)
    for number, sentence in enumerate(sentences, start=1):
        check_tags(sentence.tags, data.input_scheme, f"{path} sentence {number}")
    return sentences


def _carve(sentences: list[TaggedSentence], fraction: float, seed: int
           ) -> tuple[list[TaggedSentence], list[TaggedSentence]]:
    count = max(1, round(fraction * len(sentences)))
    if count >= len(sentences):
        raise UserError(f"{len(sentences)} training sentences leave none to train on after "
                        "holding out validation: give more, or a {validation} file",
                        fields=("validation",))
    held = set(np.random.default_rng(seed).permutation(len(sentences))[:count].tolist())
    return ([s for i, s in enumerate(sentences) if i not in held],
            [s for i, s in enumerate(sentences) if i in held])


def _in_scheme(sentences: list[TaggedSentence], source: str, target: str
               ) -> list[TaggedSentence]:
    if source == target:
        return sentences
    return [TaggedSentence(s.tokens, tuple(convert(s.tags, source, target)), s.features)
            for s in sentences]


@dataclass(frozen=True)
class Vocabularies:
    words: WordVocab
    chars: WordVocab
    tags: TagVocab
    features: FeatureVocabs
    lm_chars: CharVocab | None = None  # the character language models' (in the model config)

    @classmethod
    def build(cls, train: list[TaggedSentence], data: TaggerData) -> Vocabularies:
        return cls(WordVocab.build([word_key(w, data.lowercase) for w in s.tokens]
                                   for s in train),
                   WordVocab.build(list(w) for s in train for w in s.tokens),
                   TagVocab.build((s.tags for s in train), data.scheme),
                   FeatureVocabs.build((s.features for s in train),
                                       len(train[0].features) if train else 0))


class Encoded:
    """Sentences as id arrays, ready to batch: one row per word of all sentences end to end
    (words, characters (W, C), features (W, F), tags; zeros without `with_tags`, for sentences
    to predict), each sentence's length and start; with character language models each
    sentence's characters as they read them, end to end, and each word's first and last
    position in its sentence's. Memory grows with the words, not with sentences x the longest
    one; `tensors` pads a batch."""

    def __init__(self, sentences: list[TaggedSentence], vocab: Vocabularies, data: TaggerData,
                 split: str, *, with_tags: bool = True):
        self.lengths = np.array([len(s) for s in sentences], dtype=np.int64)
        self.starts = np.cumsum(self.lengths) - self.lengths
        total = int(self.lengths.sum())
        widest = min(data.max_word_length,
                     max((len(w) for s in sentences for w in s.tokens), default=1))
        features = len(vocab.features)
        self.words = np.zeros(total, dtype=np.int32)
        self.chars = np.zeros((total, widest), dtype=np.int32)
        self.features = np.zeros((total, features), dtype=np.int32)
        self.tags = np.zeros(total, dtype=np.int32)
        self.gold = [list(s.tags) for s in sentences]
        for i, (s, start) in enumerate(zip(sentences, self.starts, strict=True)):
            words = slice(start, start + len(s))
            self.words[words] = vocab.words.encode(word_key(w, data.lowercase)
                                                   for w in s.tokens)
            for j, word in enumerate(s.tokens):
                ids = vocab.chars.encode(word[:widest])
                self.chars[start + j, : len(ids)] = ids
            if features:
                self.features[words] = np.array(vocab.features.encode(s.features)).T
            if with_tags:  # refuses a tag training never saw
                self.tags[words] = vocab.tags.encode(s.tags, where=f"{split} sentence {i + 1}")
        self.lm: tuple[np.ndarray, ...] = ()
        if vocab.lm_chars is not None:
            self.lm = self._lm_inputs(sentences, vocab.lm_chars)
            self.lm_space = encode_known(vocab.lm_chars, " ")[0]  # what padding reads

    @staticmethod
    def _lm_inputs(sentences: list[TaggedSentence], chars: CharVocab) -> tuple[np.ndarray, ...]:
        """Every sentence's characters end to end, each sentence's length and start there,
        and each word's first and last position in its sentence's."""
        texts = [sentence_text(s.tokens) for s in sentences]
        ids = encode_known(chars, "".join(text for text, _, _ in texts)).astype(np.int32)
        lengths = np.array([len(text) for text, _, _ in texts], dtype=np.int64)
        first = np.array([p for _, starts, _ in texts for p in starts], dtype=np.int64)
        last = np.array([p for _, _, ends in texts for p in ends], dtype=np.int64)
        return ids, lengths, np.cumsum(lengths) - lengths, first, last

    def __len__(self) -> int:
        return len(self.lengths)

    def tensors(self, rows: np.ndarray) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
        """The model's inputs for `rows` (words, chars, features, mask and any language model
        inputs), right-padded with zeros to their longest sentence, and their tags."""
        mask, index = _padded(self.lengths[rows], self.starts[rows])
        inputs = [self.words[index] * mask, self.chars[index] * mask[..., None],
                  self.features[index] * mask[..., None]]
        tags = self.tags[index] * mask
        if self.lm:
            ids, lengths, starts, first, last = self.lm
            text_mask, text_index = _padded(lengths[rows], starts[rows])
            inputs += [np.where(text_mask, ids[text_index], self.lm_space), first[index] * mask,
                       last[index] * mask]
        arrays = [a.astype(np.int64) for a in inputs]
        arrays.insert(3, mask)
        return (tuple(torch.from_numpy(a) for a in arrays),
                torch.from_numpy(tags.astype(np.int64)))


def _padded(lengths: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mask (B, T) of rows of `lengths` right-padded to the longest, and each position's
    index into the rows laid end to end from `starts` (0 at padding)."""
    longest = int(lengths.max())
    mask = np.arange(longest)[None, :] < lengths[:, None]
    return mask, np.where(mask, starts[:, None] + np.arange(longest), 0)


def tag_constraint(tags: TagVocab) -> Constraint:
    """The transitions the scheme allows (no I- tag that no B- opened), for the decoder."""
    mask = transition_mask(tags.tags, tags.scheme)
    return Constraint(torch.tensor(mask.start), torch.tensor(mask.allowed),
                      torch.tensor(mask.end))


def decode_batches(model: BiLSTMTagger, encoded: Encoded, tags: TagVocab
                   ) -> tuple[list[list[str]], float]:
    """Each sentence's predicted tags and the mean loss per sentence, EVAL_BATCH at a time
    (the model in eval mode)."""
    device = next(model.parameters()).device
    predicted: list[list[str]] = []
    loss = 0.0
    for start in range(0, len(encoded), EVAL_BATCH):
        rows = np.arange(start, min(start + EVAL_BATCH, len(encoded)))
        inputs, gold = encoded.tensors(rows)
        inputs = tuple(t.to(device) for t in inputs)
        loss += float(model.loss(*inputs, tags=gold.to(device))) * len(rows)
        best = model.decode(*inputs).cpu().numpy()
        for row, length in zip(best, encoded.lengths[rows], strict=True):
            predicted.append(tags.decode(row[:length]))
    return predicted, loss / max(len(encoded), 1)


class FrozenLMVectors:
    """The frozen character language models' vectors of every training word, computed once:
    they are the same in every epoch, and computing them is most of a step's cost otherwise.
    Held flat (one row per word) on the model's device, in the precision they came in."""

    LIMIT_BYTES = 2**30  # larger sets are computed batch by batch instead

    def __init__(self, model: BiLSTMTagger, encoded: Encoded):
        device = next(model.parameters()).device
        parts = []
        with torch.no_grad():
            for start in range(0, len(encoded), EVAL_BATCH):
                rows = np.arange(start, min(start + EVAL_BATCH, len(encoded)))
                inputs, _ = encoded.tensors(rows)
                *_, mask = (t.to(device) for t in inputs[:4])
                lm = (t.to(device) for t in inputs[4:])
                parts.append(model.char_lm(*lm, mask)[mask])
        self.vectors = torch.cat(parts)  # (words, char_lm_dim)
        self.starts = torch.from_numpy(encoded.starts).to(device)

    @classmethod
    def fits(cls, model: BiLSTMTagger, encoded: Encoded) -> bool:
        size = int(encoded.lengths.sum()) * model.config.char_lm_dim * 4  # float32 at most
        return model.char_lm is not None and model.char_lm.frozen and size <= cls.LIMIT_BYTES

    def gather(self, rows: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The vectors of sentences `rows` (B,), right-padded as `mask` (B, T): (B, T, D)."""
        index = self.starts[rows].unsqueeze(1) + torch.arange(mask.shape[1], device=mask.device)
        return self.vectors[index.clamp(max=len(self.vectors) - 1)] * mask.unsqueeze(-1)


class TaggerObjective(IndependentBatches):
    """The loop's objective: batches of similar sentence length, shuffled each epoch; the
    decoder's loss; span F1 on validation. Under torchrun every rank takes its slice of each
    global batch."""

    items = "sentences"
    selection = Selection("f1", higher_is_better=True)
    loss_varies_by_batch = True  # a CRF's loss is each sentence's, growing with its length

    def __init__(self, train: Encoded, val: Encoded, tags: TagVocab, data: TaggerData,
                 seed: int, group: Group | None = None):
        super().__init__(data.batch_size, group)
        self.train, self.val, self.tags, self.data = train, val, tags, data
        self.chunks = LengthChunks(train.lengths, data.batch_size, seed, self.group.world_size)
        self.lm_vectors: FrozenLMVectors | bool | None = None  # False: not for this model

    def num_batches(self, epoch: int) -> int:
        return self.chunks.count(epoch)

    def batch(self, epoch: int, index: int) -> tuple[torch.Tensor, ...]:
        rows = self.chunks.rows(epoch, index)
        rows = rows[self.group.share(len(rows))]
        inputs, tags = self.train.tensors(rows)
        return self.group.stage((*inputs, tags, torch.from_numpy(rows)))

    def train_loss(self, model: BiLSTMTagger, batch) -> tuple[torch.Tensor, int]:
        device = next(model.parameters()).device
        *inputs, tags, rows = (t.to(device, non_blocking=True) for t in batch)
        if self.lm_vectors is None:
            fits = FrozenLMVectors.fits(model, self.train)
            self.lm_vectors = FrozenLMVectors(model, self.train) if fits else False
        if self.lm_vectors:
            inputs = [*inputs[:4], self.lm_vectors.gather(rows, inputs[3])]
        return model.loss(*inputs, tags=tags), len(tags)

    @torch.no_grad()
    def evaluate(self, model: BiLSTMTagger) -> dict[str, float]:
        """The loss and conlleval's span precision, recall and F1 (and token accuracy) of the
        validation sentences (each rank alike: the set is small)."""
        was_training = model.training
        model.eval()
        predicted, loss = decode_batches(model, self.val, self.tags)
        model.train(was_training)
        found = span_scores(self.val.gold, predicted, self.tags.scheme)
        return {"loss": loss, **{k: float(found[k])
                                 for k in ("f1", "precision", "recall", "accuracy")}}


Splits = dict[str, list[TaggedSentence]]  # "train" and "validation"
EncodedSets = tuple[Encoded, Encoded, TagVocab]


class TaggerRecipe(base.Recipe[TaggerData, Splits, EncodedSets, TaggerConfig]):
    kind = "tag"
    data_config = TaggerData
    model_config = TaggerConfig
    model_class = BiLSTMTagger
    other_paths = ("validation", "test", "char_lm", "char_lm_backward")
    vocabularies = {VOCAB_FILE: (WordVocab, "vocab_size"),
                    CHARS_FILE: (WordVocab, "char_vocab_size"),
                    TAGS_FILE: (TagVocab, "num_tags"),
                    FEATURES_FILE: (FeatureVocabs, "feature_vocab_sizes")}

    def absolute_paths(self, data: TaggerData) -> TaggerData:
        if data.data in CORPORA:  # a name, not a path
            return replace(super().absolute_paths(data), data=data.data)
        return super().absolute_paths(data)

    def read(self, data: TaggerData, seed: int, progress: bool) -> Splits:
        if data.data not in CORPORA and not Path(data.data).expanduser().exists():
            raise UserError(f"no such file or corpus: {data.data}; give a file of tagged "
                            f"sentences or one of {', '.join(CORPORA)}", fields=("data",))
        return read_splits(data, seed)

    def prepare(self, raw: Splits, data: TaggerData, progress: bool,
                saved: RunFolder | None) -> base.Prepared[EncodedSets]:
        vocab = Vocabularies.build(raw["train"], data)
        lms, lm_fields = None, {}
        if saved is not None:  # the run's own copy of the language models' characters
            chars = saved.read_config(self.kind).model.get("lm_chars")
            vocab = replace(vocab, lm_chars=CharVocab(tuple(chars)) if chars else None)
        else:
            lms = read_char_lms(data)
        if lms is not None:
            check_coverage(lms.chars, raw["train"], data)
            vocab, lm_fields = replace(vocab, lm_chars=lms.chars), lms.fields
        files = {VOCAB_FILE: vocab.words, CHARS_FILE: vocab.chars, TAGS_FILE: vocab.tags,
                 FEATURES_FILE: vocab.features}
        if saved is not None:
            for name, (cls, _) in self.vocabularies.items():
                if files[name] != cls.from_dict(saved.read_json(name)):
                    raise UserError(f"{data.data} gives other words, tags or features than "
                                    f"the run in {saved.path}: resume with the data it was "
                                    "trained on ({data})", fields=("data",))
        sets = (Encoded(raw["train"], vocab, data, "train"),
                Encoded(raw["validation"], vocab, data, "validation"), vocab.tags)
        return base.Prepared(
            files=files,
            model_fields={"vocab_size": len(vocab.words), "char_vocab_size": len(vocab.chars),
                          "num_tags": len(vocab.tags),
                          "feature_vocab_sizes": vocab.features.sizes, **lm_fields},
            sets=sets, init_weights=lms.weights if lms else None)

    def build_model(self, prepared: base.Prepared[EncodedSets], model_options: dict
                    ) -> BiLSTMTagger:
        model = super().build_model(prepared, model_options)
        model.decoder.constraint.set(tag_constraint(prepared.sets[2]))
        if prepared.init_weights is not None:  # the pretrained language models'
            model.char_lm.load_state_dict(prepared.init_weights)
        return model

    def check_model_options(self, model_options: dict) -> TaggerConfig:
        return self.model_config(**{"vocab_size": 1, "char_vocab_size": 1, "num_tags": 1,
                                    "feature_vocab_sizes": (), **model_options})

    def batch_shape(self, data: TaggerData) -> tuple[int, int, str] | None:
        return None  # sentences are short: the weights dominate

    def make_objective(self, prepared: base.Prepared[EncodedSets], data: TaggerData,
                       train_config: TrainConfig, group: Group) -> TaggerObjective:
        train, val, tags = prepared.sets
        return TaggerObjective(train, val, tags, data, train_config.seed, group)


RECIPE = TaggerRecipe()
