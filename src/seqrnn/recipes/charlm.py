"""Training the character language model: its data, its model and the objective the training loop
optimises.

    import seqrnn
    seqrnn.train("charlm", text="hamlet", hidden_size=128, epochs=5, out="runs/hamlet")

or, with every config spelled out, `base.start(charlm.RECIPE, CharLMData(...), {...},
TrainConfig(...), out)`; `base.resume(charlm.RECIPE, run_dir)` continues a run.
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch
import torch.nn.functional as F

from seqrnn.configs import CharLMConfig, CharLMData
from seqrnn.data.char_corpus import PreparedText, corpus_files, prepare_text
from seqrnn.data.documents import load_documents
from seqrnn.data.prepared import PreparedCorpus
from seqrnn.data.text import CharVocab, TextSplits, drop_unknown, load_text, split_text
from seqrnn.errors import UserError
from seqrnn.kinds import VOCAB_FILE
from seqrnn.metrics import perplexity
from seqrnn.models.charlm import CharLM
from seqrnn.recipes import base
from seqrnn.recipes.conditioned import (
    ConditionedDocuments,
    condition_ids,
    conditioned_prepared,
    read_conditioned,
)
from seqrnn.recipes.stream import StreamObjective, StreamRecipe, StreamSets, prepared_sets
from seqrnn.run import RunFolder


def loss_metrics(total_nats: float, count: int) -> dict[str, float]:
    loss = total_nats / count
    return {"loss": loss, "bits_per_char": loss / math.log(2), "perplexity": perplexity(loss)}


def char_loss_mean(model: CharLM, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of a training window, in the logits' own precision (bf16 with --amp)."""
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


def char_loss_sum(model: CharLM, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Summed cross-entropy of logits (B, T, V) against the next characters (B, T)."""
    return F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), reduction="sum")


class CharLMObjective(StreamObjective):
    """The character model's stream objective: cross-entropy per character, bits per character."""

    items = "chars"
    train_loss_mean = staticmethod(char_loss_mean)
    loss_sum = staticmethod(char_loss_sum)
    metrics = staticmethod(loss_metrics)


DOCUMENT_END = "\n"  # a conditioned model's documents are joined, each ending with it


class CharLMRecipe(StreamRecipe[CharLMData, TextSplits | PreparedText | ConditionedDocuments,
                                CharLMConfig]):
    objective_class = CharLMObjective
    kind = "charlm"
    data_config = CharLMData
    model_config = CharLMConfig
    model_class = CharLM
    data_field = "text"
    vocabularies = {VOCAB_FILE: (CharVocab, "vocab_size")}

    def read(self, data: CharLMData, seed: int,
             progress: bool) -> TextSplits | PreparedText | ConditionedDocuments:
        """Text files: their prepared corpus, memory-mapped (seqrnn.data.char_corpus); a named
        dataset (small, and prepared by its own rules): its text in memory; with a condition,
        the documents of IMDb or a table, each with its value."""
        if data.condition is not None:
            documents = load_documents(data.text, val_fraction=data.val_fraction, seed=seed,
                                       encoding=data.encoding, progress=progress,
                                       condition=data.condition)
            return read_conditioned(documents, data.condition_dropout, seed)
        found = corpus_files(data.text)
        if found is not None:
            files, many = found
            prepared = prepare_text(files, encoding=data.encoding,
                                    val_fraction=data.val_fraction,
                                    test_fraction=data.test_fraction, newline_per_file=many,
                                    progress=progress)
            if data.reverse:  # the same splits, read backwards: views, nothing copied
                prepared = replace(prepared, train=prepared.train[::-1], val=prepared.val[::-1])
            return prepared
        splits = split_text(load_text(data.text, data.encoding), data.val_fraction,
                            data.test_fraction)
        if data.reverse:  # split first: validation stays the text's end, read backwards
            splits = TextSplits(splits.train[::-1], splits.val[::-1], splits.test[::-1])
        return splits

    def prepare(self, raw: TextSplits | PreparedText | ConditionedDocuments, data: CharLMData,
                progress: bool, saved: RunFolder | None) -> base.Prepared[StreamSets]:
        if isinstance(raw, ConditionedDocuments):
            return self._prepare_conditioned(raw, data, saved)
        if isinstance(raw, PreparedCorpus):
            vocab, sets = self._vocab(raw.vocab, data, saved), prepared_sets(raw)
        else:
            vocab = self._vocab(CharVocab.from_text(raw.train), data, saved)
            # Validation characters the training text never had cannot be predicted: drop them.
            sets = StreamSets(vocab.encode(raw.train, vocab.dtype),
                              vocab.encode(drop_unknown(vocab, raw.val)[0], vocab.dtype))
        return base.Prepared(files={VOCAB_FILE: vocab}, model_fields={"vocab_size": len(vocab)},
                             sets=sets)

    def _prepare_conditioned(self, raw: ConditionedDocuments, data: CharLMData,
                             saved: RunFolder | None) -> base.Prepared[StreamSets]:
        """Each document's characters and DOCUMENT_END, the documents in one stream, each
        character with its document's condition."""
        train = [doc + DOCUMENT_END for doc in raw.splits.train]
        vocab = self._vocab(CharVocab.from_text("".join(train)), data, saved)
        val = [drop_unknown(vocab, doc + DOCUMENT_END)[0] for doc in raw.splits.val]
        conditions, (train_c, val_c) = condition_ids(
            raw, data.condition, [len(doc) for doc in train], [len(doc) for doc in val], saved)
        sets = [vocab.encode("".join(train), vocab.dtype), vocab.encode("".join(val), vocab.dtype)]
        if data.reverse:
            sets, (train_c, val_c) = [s[::-1] for s in sets], (train_c[::-1], val_c[::-1])
        return conditioned_prepared(vocab, conditions, *sets, train_c, val_c)

    def _vocab(self, vocab: CharVocab, data: CharLMData, saved: RunFolder | None) -> CharVocab:
        """`vocab`, refused when it is not the vocabulary of the run being resumed."""
        if saved is not None and vocab != CharVocab.from_dict(saved.read_json(VOCAB_FILE)):
            raise UserError(
                f"the text {data.text!r} has a different character vocabulary than the run in "
                f"{saved.path}: resume with the text it was trained on ({{text}})",
                fields=("text",))
        return vocab


RECIPE = CharLMRecipe()

