"""A trained encoder-decoder, ready to transduce: spellings to pronunciations, say.

    from seqrnn.api.seq2seq import Transducer
    g2p = Transducer.load("runs/g2p")
    g2p.predict(["seqrnn", "pronounce"], beam=5)     # ["S IY K ER N", "P R AH N AW N S"]
    g2p.evaluate(split="test", beam=5)               # {"wer": ..., "per": ..., "words": ...}
    both = Transducer.load(["runs/g2p", "runs/g2p-512"])  # an ensemble: same data and seed
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from seqrnn.api.loading import load_trained
from seqrnn.api.protocol import load_members
from seqrnn.configs import MAX_BEAM, Seq2SeqData
from seqrnn.data.identity import check_unchanged
from seqrnn.data.pairs import join_tokens, load_pairs, split_tokens
from seqrnn.data.symbols import BOS_ID, SymbolVocab
from seqrnn.errors import UserError, field_error
from seqrnn.inference.transduce import beam_search, greedy
from seqrnn.kinds import SOURCE_VOCAB_FILE, TARGET_VOCAB_FILE
from seqrnn.metrics import require_items, transduction_errors
from seqrnn.models.seq2seq import Ensemble, Seq2Seq
from seqrnn.recipes.seq2seq import RECIPE, known_pairs, padded
from seqrnn.run import RunConfig, RunFolder

SPLITS = ("train", "val", "test")
BATCH = 256  # sources decoded at once


class Transducer:
    """A trained model with both vocabularies and the data's token rules."""

    def __init__(self, model: Seq2Seq | Ensemble, source_vocab: SymbolVocab,
                 target_vocab: SymbolVocab, data: Seq2SeqData, seed: int = 1, *,
                 run: Path | None = None, source: dict | None = None,
                 config: RunConfig | None = None):
        self.model = model.eval()
        self.source_vocab, self.target_vocab, self.data = source_vocab, target_vocab, data
        self.seed = seed  # the run's: it drew the split
        self.run, self.source = run, source  # its folder, and its data's fingerprint
        self.config = config  # its run's config.json (None: built in memory)

    @classmethod
    def load(cls, run_dir: str | Path | Sequence[str | Path], *, weights: str = "best",
             device: str = "cpu") -> Transducer:
        """One run folder, or several decoding as an ensemble (the mean of their next-token
        probabilities): runs of the same data, split and vocabularies, e.g. models of another
        size trained with the same seed."""
        members = load_members(run_dir, RECIPE.kind,
                               lambda path: cls._load_one(path, weights, device),
                               RECIPE.data_field)
        if len(members) == 1:
            return members[0]
        first = members[0]
        for member in members[1:]:
            for what, mine, theirs in [
                    ("source vocabulary", first.source_vocab.to_dict(),
                     member.source_vocab.to_dict()),
                    ("target vocabulary", first.target_vocab.to_dict(),
                     member.target_vocab.to_dict())]:
                if mine != theirs:
                    raise UserError(f"{member.run} cannot join an ensemble with {first.run}: "
                                    f"its {what} differs; ensemble runs trained on the same "
                                    "data with the same seed")
        return cls(Ensemble([m.model for m in members]), first.source_vocab, first.target_vocab,
                   first.data, first.seed, run=first.run, source=first.source,
                   config=first.config)

    @classmethod
    def _load_one(cls, run_dir: str | Path, weights: str, device: str) -> Transducer:
        run = RunFolder(run_dir)
        # The model first: it checks the folder's kind, so another task's run is named as such.
        loaded = load_trained(run_dir, RECIPE, weights=weights, device=device)
        model, config = loaded.model, loaded.config
        source_vocab = loaded.vocabularies[SOURCE_VOCAB_FILE]
        target_vocab = loaded.vocabularies[TARGET_VOCAB_FILE]
        data = run.build_config(Seq2SeqData, config.data, "data") if config.data else \
            Seq2SeqData()
        return cls(model, source_vocab, target_vocab, data, (config.loop or {}).get("seed", 1),
                   run=run.path, source=(config.sources or {}).get(RECIPE.data_field),
                   config=config)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def encode_source(self, source: str) -> list[int]:
        tokens = split_tokens(source.strip().lower() if self.data.data == "cmudict"
                              else source.strip(), self.data.source_tokens)
        if not tokens:
            raise field_error("sources", "{} must not be empty")
        if len(tokens) > self.data.max_length:
            raise field_error("sources", f"{source[:40]!r} has {len(tokens)} tokens; this "
                              f"model reads at most {self.data.max_length}")
        try:
            return self.source_vocab.encode(tokens, what="the source")
        except UserError as exc:
            raise UserError(exc.template, fields=("sources",)) from None

    def predict_ids(self, sources: Sequence[str], beam: int = 1) -> list[list[int]]:
        if isinstance(sources, str):
            raise UserError("predict takes a list of sources, not one string")
        if not 1 <= beam <= MAX_BEAM:
            raise field_error("beam", f"{{}} must be between 1 and {MAX_BEAM}, got {beam}")
        encoded = [self.encode_source(source) for source in sources]
        out: list[list[int]] = []
        for start in range(0, len(encoded), BATCH):
            batch = padded(encoded[start : start + BATCH]).to(self.device)
            limit = self.data.max_length + 1
            out += (greedy(self.model, batch, limit) if beam == 1
                    else beam_search(self.model, batch, beam, limit))
        return out

    def predict(self, sources: Sequence[str], beam: int = 1) -> list[str]:
        """The output of each source: tokens joined as the data spells them."""
        return [join_tokens(tuple(self.target_vocab.decode(ids)), self.data.target_tokens)
                for ids in self.predict_ids(sources, beam)]

    @torch.no_grad()
    def attention(self, source: str, beam: int = 1) -> tuple[list[str], list[str], np.ndarray]:
        """Source tokens, output tokens (the end token last, when one was written) and the
        attention weights (output x source) with which the decoder wrote each of them."""
        if isinstance(self.model, Ensemble):
            raise UserError("an ensemble has no one attention to show: inspect one model")
        if self.model.config.attention == "none":
            raise UserError("this model has no attention to show (it was trained with "
                            "--attention none)")
        ids = self.encode_source(source)
        output = self.predict_ids([source], beam)[0]
        x = torch.tensor([ids], device=self.device)
        memory, mask, state = self.model.encode(x)
        previous = torch.tensor([[BOS_ID, *output]], device=self.device)
        _, _, weights = self.model.decode(previous, state, memory, mask)
        ended = len(output) <= self.data.max_length  # else decoding stopped at its limit
        weights = weights[0].float().cpu().numpy()
        if not ended:
            weights = weights[:-1]  # the row of an end token that was never written
        return (self.source_vocab.decode(ids),
                [*self.target_vocab.decode(output), *(["</s>"] if ended else [])], weights)

    def evaluate(self, split: str = "test", beam: int = 1, data: str | None = None, *,
                 allow_changed_data: bool = False) -> dict:
        """WER and PER on a split of the data, drawn as in training (same seed and fractions).

        "test" is never a source the model was trained or selected on. `data` is the run's
        data where it moved; every split is drawn with the run's seed and fractions, so data
        other than the run read (its content changed, an edited copy, another file) is refused
        unless `allow_changed_data`.
        """
        if split not in SPLITS:
            raise field_error("split", f"unknown {{}} {split!r}: use one of {', '.join(SPLITS)}")
        if self.run is not None:  # the run's splits, drawn again: only from the data it read
            check_unchanged(self.source, data, self.data.data, run=self.run, field="data",
                            allow_changed=allow_changed_data)
        config = self.data if data is None else Seq2SeqData(
            **{**vars(self.data), "data": data})
        everything = getattr(load_pairs(config, self.seed), split)
        pairs = known_pairs(everything, self.source_vocab, self.target_vocab)
        unknown = len(everything) - len(pairs)
        require_items(len(pairs), f"the {split} split of {config.data}"
                      + (f" ({unknown} pairs with symbols the model never saw)" if unknown else ""),
                      "evaluate another {split}, or data in the model's symbols", ("split",))
        sources = [join_tokens(s, config.source_tokens) for s in pairs.sources]
        start = time.perf_counter()
        outputs = [self.target_vocab.decode(ids) for ids in self.predict_ids(sources, beam)]
        seconds = time.perf_counter() - start
        errors = transduction_errors(outputs, pairs.targets)
        del errors["reference_tokens"]
        return {"split": split, "beam": beam, **errors, "seconds": round(seconds, 2),
                "skipped_unknown_symbols": unknown}
