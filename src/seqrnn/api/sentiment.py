"""A trained sentiment classifier, with scikit-learn's estimator API, and ensembles of them.

    from seqrnn.api.sentiment import SentimentClassifier
    clf = SentimentClassifier(hidden_size=128, epochs=3).fit(texts, labels)
    clf.predict(["A wonderful film."])
    clf = SentimentClassifier.load("runs/imdb")      # or a run folder from the CLI

Scoring a run on a split is seqrnn.api.sentiment_evaluation.evaluate.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch

from seqrnn import presets
from seqrnn.api.loading import load_trained
from seqrnn.api.protocol import load_members
from seqrnn.configs import SentimentConfig, SentimentData, TrainConfig
from seqrnn.data.batches import ReviewBatches
from seqrnn.data.identity import IN_MEMORY
from seqrnn.data.labels import (
    LabeledTexts,
    LabelMap,
    mapped_labels,
    parse_label_mapping,
    split_balanced,
)
from seqrnn.data.sequences import EncodedTexts, encode_texts
from seqrnn.data.tokenize import tokenize
from seqrnn.data.vocab import UNK_ID
from seqrnn.errors import UserError, field_error
from seqrnn.kinds import LABELS_FILE, VOCAB_FILE
from seqrnn.metrics import DECISION_THRESHOLD, NO_EVIDENCE, require_items
from seqrnn.outputs import check_model_folder
from seqrnn.recipes import base
from seqrnn.recipes.chance import near_chance
from seqrnn.recipes.sentiment import RECIPE, predict_probabilities
from seqrnn.run import BEST_WEIGHTS, SAVED_STEP, RunConfig, RunFolder
from seqrnn.trainer.process import resolve_device

# SentimentData fields about reading a data set from disk: fit() is given texts instead.
_READING = frozenset({"data", "text_column", "label_column", "format", "encoding",
                      "test_fraction", "on_empty"})
# Where the estimator deliberately differs from the dataclasses' defaults.
_ESTIMATOR_DEFAULTS = {"epochs": 5, "progress": False}
_SOURCES = ((SentimentConfig, frozenset({"vocab_size"})), (SentimentData, _READING),
            (TrainConfig, frozenset()))
# Parameter name -> the config class it belongs to, in signature order.
PARAMS = {f.name: cls for cls, skipped in _SOURCES for f in fields(cls) if f.name not in skipped}
_BASE_DEFAULTS = {f.name: _ESTIMATOR_DEFAULTS.get(f.name, f.default)
                  for cls, skipped in _SOURCES for f in fields(cls) if f.name not in skipped}
# Parameters whose default another implies (presets.implied_fields: a pretrained encoder brings
# the fine-tuning recipe) default to None, "not chosen", so a value given equal to the lecture's
# default stays the caller's choice.
_DEPENDENT = frozenset(presets.implied_fields(RECIPE.kind))
_DEFAULTS = {name: None if name in _DEPENDENT else default
             for name, default in _BASE_DEFAULTS.items()}


PREFIX_BUDGET = 64  # prefixes scored one by one at most, where one pass cannot score them


def as_texts(texts: Iterable, method: str) -> list[str]:
    """The texts of any iterable (a list, an array, a generator, a pandas column) as strings:
    None as the empty text, anything else as its str. One string is refused: it would read as
    one text per character."""
    if isinstance(texts, str) or not isinstance(texts, Iterable):
        raise UserError(f"{method} takes a list (or any iterable) of texts, not "
                        f"{type(texts).__name__}: wrap one text in a list")
    return ["" if t is None else str(t) for t in texts]


@dataclass(frozen=True, eq=False)  # arrays have no single truth value
class PrefixCurve:
    tokens: list[str]
    probabilities: np.ndarray  # (T,) P(positive) after each prefix, held after `scored` ones
    scored: np.ndarray  # (K,) the prefixes (indices of their last token) scored exactly
    method: str  # how, in words


class SentimentClassifier:
    """A recurrent sentiment classifier with scikit-learn's estimator API.

    Its parameters are the fields of SentimentConfig (the model), SentimentData
    (the vocabulary and batching) and TrainConfig (the training loop), with their
    defaults, but for two: `epochs=5` (an estimator is fitted many times, in
    cross-validation and grid searches) and `progress=False` (a library is
    quiet). The data fields about reading files are left out: `fit` takes texts.
    The parameters of the fine-tuning recipe (`lr`, `lr_schedule`, `epochs`, ...) default to
    None: the lecture's values, or with `pretrained` the recipe's (seqrnn.kinds.FINETUNE_RECIPE).

    `__init__` only stores hyperparameters; `fit` learns `vocab_`,
    `label_map_`, `classes_` and `model_`. Works with scikit-learn's tools
    (cross-validation, grid search) where scikit-learn is installed.
    """

    def __init__(self, **params):
        unknown = set(params) - set(PARAMS)
        if unknown:
            raise TypeError(f"unknown parameters {sorted(unknown)} for SentimentClassifier")
        for name, default in _DEFAULTS.items():
            setattr(self, name, params.get(name, default))

    # scikit-learn reads the parameters from the signature of __init__.
    __init__.__signature__ = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
           for name, default in _DEFAULTS.items()])

    def get_params(self, deep: bool = True) -> dict:
        return {name: getattr(self, name) for name in PARAMS}

    def set_params(self, **params) -> SentimentClassifier:
        unknown = set(params) - set(PARAMS)
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)} for SentimentClassifier")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items() if v != _DEFAULTS[k]}
        return f"SentimentClassifier({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    def _configs(self) -> tuple[dict, SentimentData, TrainConfig]:
        """The model options, the data config and the loop config these parameters make."""
        params = self.get_params()
        implied = presets.implied_defaults(RECIPE.kind, params)
        params.update((k, implied.get(k, _BASE_DEFAULTS[k])) for k in _DEPENDENT
                      if params[k] is None)
        model = {k: v for k, v in params.items() if PARAMS[k] is SentimentConfig}
        if params["pretrained"] is not None:  # the encoder decides the fields left at default
            model = {k: v for k, v in model.items() if v != _DEFAULTS[k]}
        data = SentimentData(**{k: v for k, v in params.items() if PARAMS[k] is SentimentData})
        train_config = TrainConfig(**{k: v for k, v in params.items() if PARAMS[k] is TrainConfig})
        return model, data, train_config

    def fit(self, texts: Iterable[str], labels: Iterable, *, out: str | Path | None = None):
        """Train on `texts` with two distinct `labels`; validation is carved from them.

        With `out`, the run folder (checkpoints, metrics, curve) is kept there.
        The best weights (by validation accuracy) are kept either way.
        """
        texts = as_texts(texts, "fit")
        originals = list(labels)
        if len(texts) != len(originals):
            raise UserError(f"{len(texts)} texts but {len(originals)} labels")
        by_name = {str(v): v for v in originals}
        label_map = LabelMap.infer(by_name, where="the labels given to fit")
        encoded = np.array([label_map.encode(str(v)) for v in originals], dtype=np.int64)
        data_all = LabeledTexts(texts=texts, labels=encoded, label_map=label_map)
        model_options, data, train_config = self._configs()
        raw = split_balanced(data_all, data.val_fraction, seed=train_config.seed)
        started = base.start(RECIPE, data, model_options, train_config, out, raw=raw)
        stuck = near_chance(started.result.best_eval)
        if stuck:
            warnings.warn(stuck, stacklevel=2)
        model = started.trainer.model
        model.load_state_dict(started.trainer.best_weights)
        self.vocab_ = started.prepared.files[VOCAB_FILE]
        self.sources_ = {RECIPE.data_field: IN_MEMORY}  # `evaluate` has no data to draw from
        self.label_map_ = label_map
        self.model_ = model.to(resolve_device(self.device)).eval()
        self.classes_ = np.array([by_name[name] for name in label_map.names], dtype=object)
        return self

    @classmethod
    def load(cls, path: str | Path, *, weights: str = "best",
             device: str = "cpu") -> SentimentClassifier:
        """A classifier from a run folder (written by `save`, `fit(out=...)` or the CLI): its
        "best" (default) or "latest" weights."""
        loaded = load_trained(path, RECIPE, weights=weights, device=device)
        model, vocab, config = loaded.model, loaded.vocabularies[VOCAB_FILE], loaded.config
        params = {**config.model, **(config.data or {}), **(config.loop or {})}
        clf = cls(**{k: v for k, v in params.items() if k in PARAMS})
        clf.device = device
        clf.vocab_, clf.model_, clf.sources_ = vocab, model, config.sources
        clf.config_, clf.run_ = config, Path(path)
        clf.label_map_ = LabelMap.from_dict(RunFolder(path).read_json(LABELS_FILE))
        clf.classes_ = np.array(clf.label_map_.names, dtype=object)
        return clf

    @property
    def config(self) -> RunConfig | None:
        """config.json of the run it was loaded from; None when fitted in memory."""
        return getattr(self, "config_", None)

    def evaluate(self, data_path: str | None = None, split: str | None = None,
                 **options) -> dict:
        """Scores on a split of its run's data, or on other data (sentiment_evaluation)."""
        from seqrnn.api.sentiment_evaluation import evaluate_loaded  # it imports this module

        return evaluate_loaded(self, data_path, split, **options)

    def save(self, path: str | Path, *, overwrite: bool = False) -> None:
        """Write the learned model as a run folder (safetensors + JSON).

        `path` must be new or empty; a folder that holds anything (another saved model, a
        training run, files of your own) is replaced only with `overwrite=True`, and then
        only the run files in it. A failed write leaves the folder as it was.
        """
        self._check_fitted()
        check_model_folder(path, overwrite=overwrite)
        _, data, train_config = self._configs()
        with RunFolder(path).replacing() as run:
            run.write_json(VOCAB_FILE, self.vocab_.to_dict())
            run.write_json(LABELS_FILE, self.label_map_.to_dict())
            run.save_weights(BEST_WEIGHTS, self.model_.state_dict(), step=SAVED_STEP)
            run.write_config(RECIPE.kind, asdict(self.model_.config), asdict(data),
                             asdict(train_config), sources=getattr(self, "sources_", None))

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise UserError("this SentimentClassifier is not fitted yet: call fit() or load()")

    def _batches(self, encoded: EncodedTexts) -> ReviewBatches:
        _, data, train_config = self._configs()
        return ReviewBatches(encoded, data, shuffle=False, seed=train_config.seed)

    def predict_proba(self, texts: Iterable[str]) -> np.ndarray:
        """(N, 2): the probability of each class, negative first (scikit-learn's layout)."""
        self._check_fitted()
        texts = as_texts(texts, "predict_proba")
        if len(texts) == 0:
            return np.zeros((0, 2))
        positive = predict_probabilities(self.model_, self._batches(encode_texts(texts,
                                                                                 self.vocab_)))
        return np.stack([1 - positive, positive], axis=1)

    def predict(self, texts: Iterable[str]) -> np.ndarray:
        """The predicted label of each text, as given to fit (or as named in the data)."""
        self._check_fitted()
        positive = self.predict_proba(texts)[:, 1] >= DECISION_THRESHOLD
        return self.classes_[positive.astype(int)]

    def score(self, texts: Iterable[str], labels: Iterable, *,
              label_map: str | dict[str, str] | None = None) -> float:
        """Accuracy. With `label_map` (each label value mapped to one of the model's classes,
        or "0=neg,1=pos"), `labels` may spell the classes in the data's own words."""
        texts, labels = as_texts(texts, "score"), list(labels)
        if len(texts) != len(labels):
            raise UserError(f"{len(texts)} texts but {len(labels)} labels: give one label each")
        require_items(len(texts), "the list of texts given to score", "give at least one text")
        if label_map is None:  # a loaded model knows its classes as strings: compare as such
            predicted = [str(label) for label in self.predict(texts)]
            return float(np.mean([p == str(t) for p, t in zip(predicted, labels, strict=True)]))
        to_class = self.label_mapping(label_map)
        unknown = sorted({str(label) for label in labels} - set(to_class))
        if unknown:
            raise field_error("label_map", f"labels {unknown[:5]} are not in {{}} "
                              f"({', '.join(to_class)})")
        truth = np.array([self.label_map_.encode(to_class[str(label)]) for label in labels])
        predicted = self.predict_proba(texts)[:, 1] >= DECISION_THRESHOLD
        return float(np.mean(predicted.astype(int) == truth))

    def label_mapping(self, label_map: str | dict[str, str]) -> dict[str, str]:
        """{data's label value: model class name}, checked to cover both classes once."""
        mapping = parse_label_mapping(label_map) if isinstance(label_map, str) else {
            str(value): str(name) for value, name in label_map.items()}
        mapped_labels(mapping, self.label_map_)
        return mapping

    def prefix_probabilities(self, text: str) -> tuple[list[str], np.ndarray]:
        """The tokens of `text` and P(positive) after each prefix of them (see prefix_curve)."""
        curve = self.prefix_curve(text)
        return curve.tokens, curve.probabilities

    @torch.no_grad()
    def prefix_curve(self, text: str, *, budget: int = PREFIX_BUDGET) -> PrefixCurve:
        """P(positive) after each prefix of the review: the many-to-one reading made visible.

        A unidirectional model scores every prefix in one pass, up to the words it reads at
        once (seq_len). A longer review is read as its last seq_len words, a window no
        running value follows; a bidirectional model reads each prefix whole. Those prefixes
        are scored one by one, but at most `budget` of them, evenly spaced and ending with
        the whole review, each value held until the next: time linear in the review's length.
        """
        self._check_fitted()
        tokens = tokenize(text)
        ids = self.vocab_.encode(tokens) or [UNK_ID]
        total = len(ids)
        one_pass = 0
        data = self._configs()[1]
        if data.batching == "bucket" and self.model_.reads_prefixes_in_one_pass:
            one_pass = min(total, data.seq_len)
        probs = np.full(total, np.nan)
        if one_pass:
            x = torch.tensor([ids[:one_pass]], device=next(self.model_.parameters()).device)
            probs[:one_pass] = torch.sigmoid(self.model_.prefix_logits(x)).double().cpu()
        rest = total - one_pass
        ends = np.arange(one_pass + 1, total + 1) if rest <= budget else np.unique(
            np.linspace(one_pass, total, budget + 1)[1:].round().astype(int))
        if len(ends):
            probs[ends - 1] = predict_probabilities(
                self.model_, self._batches(_ragged([ids[:end] for end in ends])))
        scored = np.concatenate([np.arange(one_pass), ends - 1]).astype(int)
        known = np.full(total, -1)
        known[scored] = scored
        latest = np.maximum.accumulate(known)  # the latest scored prefix at or before each
        probs = np.where(latest >= 0, probs[np.maximum(latest, 0)], NO_EVIDENCE)
        return PrefixCurve(tokens=tokens or ["<empty>"], probabilities=probs,
                           scored=scored, method=_describe_curve(one_pass, len(ends), total))


class SentimentEnsemble:
    """Several trained classifiers answering as one: the mean of their probabilities.

    ULMFiT averages a forward and a backward model so; two fine-tunings of one language model
    also disagree enough to gain. The members must know the same classes.
    """

    def __init__(self, members: Sequence[SentimentClassifier]):
        names = [list(m.label_map_.names) for m in members]
        if any(n != names[0] for n in names):
            raise UserError(f"the models of an ensemble must know the same classes: got "
                            f"{' and '.join(map(str, names))}")
        self.members = list(members)
        self.label_map_, self.classes_ = members[0].label_map_, members[0].classes_

    @classmethod
    def load(cls, paths: Sequence[str | Path], *, weights: str = "best",
             device: str = "cpu") -> SentimentEnsemble:
        return cls(load_members(paths, RECIPE.kind, lambda path: SentimentClassifier.load(
            path, weights=weights, device=device), RECIPE.data_field))

    @property
    def config(self) -> RunConfig | None:
        return self.members[0].config

    @property
    def device(self) -> str:
        return self.members[0].device

    def evaluate(self, data_path: str | None = None, split: str | None = None,
                 **options) -> dict:
        """The scores of its members' mean probability (SentimentClassifier.evaluate)."""
        from seqrnn.api.sentiment_evaluation import evaluate_loaded  # it imports this module

        return evaluate_loaded(self, data_path, split, **options)

    def predict_proba(self, texts: Iterable[str]) -> np.ndarray:
        texts = as_texts(texts, "predict_proba")  # read once: a generator serves one member
        return np.mean([m.predict_proba(texts) for m in self.members], axis=0)

    def predict(self, texts: Iterable[str]) -> np.ndarray:
        positive = self.predict_proba(texts)[:, 1] >= DECISION_THRESHOLD
        return self.classes_[positive.astype(int)]

    def label_mapping(self, label_map: str | dict[str, str]) -> dict[str, str]:
        return self.members[0].label_mapping(label_map)

    def prefix_curve(self, text: str, *, budget: int = PREFIX_BUDGET) -> PrefixCurve:
        """The mean of the members' curves (SentimentClassifier.prefix_curve): exact at the
        prefixes every member scored exactly."""
        curves = [m.prefix_curve(text, budget=budget) for m in self.members]
        scored = functools.reduce(np.intersect1d, [curve.scored for curve in curves])
        return PrefixCurve(tokens=curves[0].tokens,
                           probabilities=np.mean([c.probabilities for c in curves], axis=0),
                           scored=scored, method=f"the mean of {len(curves)} models' curves; "
                           f"the first's: {curves[0].method}")


def load_classifier(paths: str | Path | Sequence[str | Path], *,
                    device: str = "cpu") -> SentimentClassifier | SentimentEnsemble:
    """One run folder's classifier, or an ensemble of several."""
    members = load_members(paths, RECIPE.kind,
                           lambda path: SentimentClassifier.load(path, device=device),
                           RECIPE.data_field)
    return members[0] if len(members) == 1 else SentimentEnsemble(members)


def _describe_curve(one_pass: int, one_by_one: int, total: int) -> str:
    if one_pass == total:
        return "every prefix, in one pass"
    spaced = (f"{one_by_one} evenly spaced prefixes, each value held until the next"
              if one_by_one < total - one_pass else "every prefix, each as a review of its own")
    if one_pass:
        return f"every prefix up to word {one_pass}, in one pass; after it, {spaced}"
    return spaced


def _ragged(sequences: list[list[int]]) -> EncodedTexts:
    lengths = np.array([len(seq) for seq in sequences], dtype=np.int64)
    offsets = np.zeros(len(sequences) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return EncodedTexts(ids=np.concatenate(sequences).astype(np.int64), offsets=offsets)
