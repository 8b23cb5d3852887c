"""Training the word language model (AWD-LSTM): its data, its model and the objective the
training loop optimises.

    import seqrnn
    seqrnn.train("wordlm", data="imdb", hidden_size=1152, epochs=1, out="runs/imdb-lm")

or, with every config spelled out, `base.start(wordlm.RECIPE, WordLMData(...), {...},
TrainConfig(...), out)`.
"""

from __future__ import annotations

import numbers

import torch
from torch import nn

from seqrnn.configs import WordLMConfig, WordLMData
from seqrnn.data.documents import (
    DocumentSplits,
    build_word_vocab,
    encode_counted,
    encode_documents,
    load_documents,
)
from seqrnn.data.prepared import PreparedCorpus
from seqrnn.data.vocab import WordVocab
from seqrnn.data.word_corpus import PreparedWords, prepare_words, word_corpus_files
from seqrnn.errors import UserError
from seqrnn.kinds import VOCAB_FILE
from seqrnn.metrics import perplexity
from seqrnn.models.wordlm import WordLM
from seqrnn.recipes import base
from seqrnn.recipes.conditioned import (
    ConditionedDocuments,
    condition_ids,
    conditioned_prepared,
    read_conditioned,
)
from seqrnn.recipes.stream import StreamObjective, StreamRecipe, StreamSets, prepared_sets
from seqrnn.run import RunFolder


def word_loss_mean(model: nn.Module, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the next words (B, T) given the model's hidden (B, T, O)."""
    lm = getattr(model, "module", model)  # the decoder lives outside a DDP wrapper's forward
    return lm.loss(hidden, targets)


def word_loss_sum(model: nn.Module, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return word_loss_mean(model, hidden, targets) * targets.numel()


def word_metrics(total_nats: float, count: int) -> dict[str, float]:
    loss = total_nats / count
    return {"loss": loss, "perplexity": perplexity(loss)}


class WordLMObjective(StreamObjective):
    """The word model's stream objective: cross-entropy per word, perplexity."""

    items = "words"
    train_loss_mean = staticmethod(word_loss_mean)
    loss_sum = staticmethod(word_loss_sum)
    metrics = staticmethod(word_metrics)


class WordLMRecipe(StreamRecipe[WordLMData, DocumentSplits | PreparedWords | ConditionedDocuments,
                                WordLMConfig]):
    objective_class = WordLMObjective
    kind = "wordlm"
    data_config = WordLMData
    model_config = WordLMConfig
    model_class = WordLM
    vocabularies = {VOCAB_FILE: (WordVocab, "vocab_size")}

    def check_model_options(self, model_options: dict) -> WordLMConfig:
        # The data decides the vocabulary's size: take one just large enough for the cutoffs,
        # and at least 1, so that a bad cutoff is named as such and not as a vocabulary size.
        cutoffs = model_options.get("cutoffs") or ()
        given = [c for c in cutoffs if isinstance(c, numbers.Real) and not isinstance(c, bool)]
        vocab_size = int(max([0, *given])) + 1
        return self.model_config(**{"vocab_size": vocab_size, **model_options})

    def read(self, data: WordLMData, seed: int,
             progress: bool) -> DocumentSplits | PreparedWords | ConditionedDocuments:
        """Text files: their prepared corpus, memory-mapped (seqrnn.data.word_corpus); IMDb
        and tables: their documents in memory, with a condition each one's value."""
        if data.condition is not None:
            splits = load_documents(data.data, val_fraction=data.val_fraction, seed=seed,
                                    text_column=data.text_column, encoding=data.encoding,
                                    progress=progress, condition=data.condition)
            return read_conditioned(splits, data.condition_dropout, seed)
        found = word_corpus_files(data.data)
        if found is not None:
            files, one_text = found
            return prepare_words(files, one_text=one_text, encoding=data.encoding,
                                 val_fraction=data.val_fraction, min_freq=data.min_freq,
                                 max_vocab=data.max_vocab, progress=progress)
        return load_documents(data.data, val_fraction=data.val_fraction, seed=seed,
                              text_column=data.text_column, encoding=data.encoding,
                              progress=progress)

    def prepare(self, raw: DocumentSplits | PreparedWords | ConditionedDocuments,
                data: WordLMData, progress: bool,
                saved: RunFolder | None) -> base.Prepared[StreamSets]:
        if isinstance(raw, PreparedCorpus):
            vocab = self._vocab(raw.vocab, data, saved)
            return base.Prepared(files={VOCAB_FILE: vocab},
                                 model_fields={"vocab_size": len(vocab)}, sets=prepared_sets(raw))
        conditioned = raw if isinstance(raw, ConditionedDocuments) else None
        raw = raw.splits if conditioned else raw
        vocab = self._vocab(build_word_vocab(raw.train, min_freq=data.min_freq,
                                             max_vocab=data.max_vocab, progress=progress),
                            data, saved)
        if conditioned is None:
            sets = StreamSets(encode_documents(raw.train, vocab, progress=progress),
                              encode_documents(raw.val, vocab))
            return base.Prepared(files={VOCAB_FILE: vocab},
                                 model_fields={"vocab_size": len(vocab)}, sets=sets)
        (train, train_lengths), (val, val_lengths) = (
            encode_counted(raw.train, vocab, progress=progress), encode_counted(raw.val, vocab))
        conditions, ids = condition_ids(conditioned, data.condition, train_lengths, val_lengths,
                                        saved)
        return conditioned_prepared(vocab, conditions, train, val, *ids)

    def _vocab(self, vocab: WordVocab, data: WordLMData, saved: RunFolder | None) -> WordVocab:
        """`vocab`, refused when it is not the vocabulary of the run being resumed."""
        if saved is not None and vocab != WordVocab.from_dict(saved.read_json(VOCAB_FILE)):
            raise UserError(f"{data.data} gives a different vocabulary than the run in "
                            f"{saved.path}: resume with the data it was trained on ({{data}})",
                            fields=("data",))
        return vocab


RECIPE = WordLMRecipe()

