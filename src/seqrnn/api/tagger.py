"""A trained tagger, loaded: tag sentences (raw text or tokens), and score it on a split.

    from seqrnn.api.tagger import Tagger
    tagger = Tagger.load("runs/chunk")                 # or several runs: an ensemble
    tagger.predict(["He reckons the deficit will narrow ."], features=[[...]])

Each answer holds the tokens, a tag for each (in the scheme the model was trained in) and the
spans those tags make (type, start, end exclusive), as conlleval reads them. An ensemble adds
its members' emission scores and transition scores, then decodes once under the shared tag
constraint.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from seqrnn.api.loading import load_trained
from seqrnn.api.protocol import load_members, run_dirs
from seqrnn.configs.tagger import TaggerData
from seqrnn.data.conll import CORPORA, TaggedSentence
from seqrnn.data.tag_schemes import spans
from seqrnn.data.tag_vocab import TagVocab
from seqrnn.data.text import CharVocab
from seqrnn.data.tokenize import split_words
from seqrnn.errors import UserError, field_error
from seqrnn.kinds import CHARS_FILE, FEATURES_FILE, TAGS_FILE, VOCAB_FILE
from seqrnn.models.crf import viterbi
from seqrnn.models.tagger import BiLSTMTagger
from seqrnn.recipes.tagger import EVAL_BATCH, RECIPE, Encoded, Vocabularies, read_splits
from seqrnn.run import RunConfig, RunFolder
from seqrnn.tag_metrics import span_scores

MAX_TOKENS = 1000  # tokens of one sentence predict reads


class Tagger:
    """One trained tagger, or an ensemble of runs of the same data and tags."""

    def __init__(self, models: Sequence[BiLSTMTagger], vocab: Vocabularies, data: TaggerData,
                 config: RunConfig, *, run: Path | None = None):
        self.models = [m.eval() for m in models]
        self.vocab, self.data, self.config, self.run = vocab, data, config, run

    @classmethod
    def load(cls, run_dir: str | Path | Sequence[str | Path], *, weights: str = "best",
             device: str = "cpu") -> Tagger:
        """One run folder, or several tagging as an ensemble: runs of the same data, split and
        tags (a corpus's split is fixed, so their seeds may differ)."""
        paths = run_dirs(run_dir)
        data = RunFolder(paths[0]).read_config(RECIPE.kind).data or {}
        seeded = data.get("data") not in CORPORA and data.get("validation") is None
        members = load_members(paths, RECIPE.kind,
                               lambda path: cls._load_one(path, weights, device),
                               seeded=seeded)
        first = members[0]
        for path, member in zip(paths[1:], members[1:], strict=True):
            if member.vocab.tags != first.vocab.tags:
                raise UserError(f"{path} cannot join an ensemble with {paths[0]}: its tags "
                                "differ; ensemble runs trained on the same data and scheme")
            if member.vocab.lm_chars != first.vocab.lm_chars:
                raise UserError(f"{path} cannot join an ensemble with {paths[0]}: they read "
                                "different character language models (or one reads none)")
        return cls([m for member in members for m in member.models], first.vocab, first.data,
                   first.config, run=first.run)

    @classmethod
    def _load_one(cls, run_dir: str | Path, weights: str, device: str) -> Tagger:
        run = RunFolder(run_dir)
        loaded = load_trained(run_dir, RECIPE, weights=weights, device=device)
        v, lm_chars = loaded.vocabularies, loaded.model.config.lm_chars
        vocab = Vocabularies(v[VOCAB_FILE], v[CHARS_FILE], v[TAGS_FILE], v[FEATURES_FILE],
                             CharVocab(tuple(lm_chars)) if lm_chars else None)
        config = loaded.config
        data = run.build_config(TaggerData, config.data, "data") if config.data else TaggerData()
        return cls([loaded.model], vocab, data, config, run=run.path)

    @property
    def device(self) -> torch.device:
        return next(self.models[0].parameters()).device

    @property
    def tags(self) -> TagVocab:
        return self.vocab.tags

    def predict(self, sentences: Sequence[str | Sequence[str]], *,
                features: Sequence[Sequence[Sequence[str]]] | None = None) -> list[dict]:
        """Each sentence's tokens, tags and spans. A sentence is raw text (split into words,
        case kept, punctuation apart) or its tokens; `features` gives each sentence's feature
        columns (one list per column, a value per token) when the model reads any."""
        if isinstance(sentences, str):
            raise field_error("sentences", "{} must be a list of sentences, not one string")
        tokenized = [split_words(s) if isinstance(s, str) else [str(t) for t in s]
                     for s in sentences]
        for number, tokens in enumerate(tokenized, start=1):
            if not tokens:
                raise field_error("sentences", f"sentence {number} of {{}} is empty")
            if len(tokens) > MAX_TOKENS:
                raise field_error("sentences", f"sentence {number} of {{}} has {len(tokens)} "
                                  f"tokens; at most {MAX_TOKENS}")
        columns = len(self.vocab.features)
        if columns and features is None:
            raise UserError(f"this tagger reads {columns} feature column(s) (e.g. parts of "
                            "speech) beside the words: give each sentence's tokens with its "
                            "features (predict's features=, or tag predict --tokens with "
                            "\"features\")", fields=("features",))
        features = features or [()] * len(tokenized)
        if len(features) != len(tokenized):
            raise field_error("features", f"{{}} has {len(features)} entries for "
                              f"{len(tokenized)} sentences")
        tagged = []
        for number, (tokens, extra) in enumerate(zip(tokenized, features, strict=True), 1):
            extra = tuple(tuple(str(v) for v in column) for column in extra)
            if len(extra) != columns or any(len(c) != len(tokens) for c in extra):
                raise field_error("features", f"sentence {number} needs {columns} feature "
                                  f"column(s) of {len(tokens)} values in {{}}")
            tagged.append(TaggedSentence(tuple(tokens), ("O",) * len(tokens), extra))
        predicted = self._decode(tagged)
        return [{"tokens": list(s.tokens), "tags": tags,
                 "spans": [{"type": kind, "start": start, "end": end,
                            "text": " ".join(s.tokens[start:end])}
                           for kind, start, end in spans(tags, self.tags.scheme)]}
                for s, tags in zip(tagged, predicted, strict=True)]

    def evaluate(self, split: str = "test") -> dict:
        """conlleval's span precision, recall and F1 (overall and per type) and the token
        accuracy on a split of the run's data ("validation" or "test")."""
        if split not in ("validation", "test"):
            raise field_error("split", f"{{}} must be validation or test, got {split!r}")
        seed = (self.config.loop or {}).get("seed", 1)
        sentences = read_splits(self.data, seed, test=split == "test")[split]
        gold = [list(s.tags) for s in sentences]
        predicted = self._decode(sentences)  # a tag training never saw is simply missed
        return {"data": self.data.data, "split": split, "models": len(self.models),
                "sentences": len(sentences),
                **span_scores(gold, predicted, self.tags.scheme)}

    @torch.no_grad()
    def _decode(self, sentences: list[TaggedSentence]) -> list[list[str]]:
        encoded = Encoded(sentences, self.vocab, self.data, "input", with_tags=False)
        out: list[list[str]] = []
        for start in range(0, len(encoded), EVAL_BATCH):
            rows = np.arange(start, min(start + EVAL_BATCH, len(encoded)))
            inputs, _ = encoded.tensors(rows)
            best = self._best(*(t.to(self.device) for t in inputs)).cpu().numpy()
            for row, length in zip(best, encoded.lengths[rows], strict=True):
                out.append(self.tags.decode(row[:length]))
        return out

    def _best(self, *inputs: torch.Tensor) -> torch.Tensor:
        """The best tags (B, T): one model's decoding, or the ensemble's mean scores decoded
        once (a softmax ensemble's mean log-probabilities)."""
        first, count, mask = self.models[0], len(self.models), inputs[3]
        if count == 1:
            return first.decode(*inputs)
        outputs = [m(*inputs) for m in self.models]
        if first.config.decoder != "crf":
            return first.decoder.decode(sum(o.log_softmax(-1) for o in outputs) / count, mask)
        start, transitions, end = (sum(getattr(m.decoder, name) for m in self.models) / count
                                   for name in ("start", "transitions", "end"))
        return viterbi(sum(outputs) / count, mask, *first.decoder.constraint.apply(
            start, transitions, end, -torch.inf))
