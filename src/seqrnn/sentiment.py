"""The sentiment classifier as a task: data, training, evaluation, prediction.

Two ways in, one machinery:

- `train(SentimentData(data="imdb"), {...}, TrainConfig(...), out)` reads a data
  set, trains into a run folder and is what `seqrnn sentiment train` runs;
- `SentimentClassifier(...).fit(texts, labels)` is the scikit-learn-style API
  for texts already in memory; `SentimentClassifier.load(run_dir)` opens either.

The vocabulary is counted on the training split only, validation is carved
from training data, and the test split is scored only by `evaluate`.
"""

from __future__ import annotations

import inspect
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, fields, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from seqrnn import checkpoint
from seqrnn.atomic import write_json
from seqrnn.configs import SentimentData, resumed_loop
from seqrnn.data.reviews import LabeledTexts, LabelMap, load_sentiment, split_balanced
from seqrnn.data.sequences import EncodedTexts, LengthBatches, encode_texts, fixed_length, pad_rows
from seqrnn.data.tokenize import iter_tokenized, tokenize
from seqrnn.data.vocab import UNK_ID, WordVocab
from seqrnn.errors import UserError
from seqrnn.metrics import binary_metrics
from seqrnn.models.sentiment import SentimentConfig, SentimentRNN
from seqrnn.train import Selection, TrainConfig, Trainer, TrainResult
from seqrnn.train.distributed import Group, join, launched
from seqrnn.train.loop import resolve_device

KIND = "sentiment"
LABELS_FILE = "labels.json"
BATCHINGS = ("bucket", "fixed")
SPLITS = ("train", "val", "test")


class ReviewBatches:
    """The batches of one encoded set: shuffled per epoch for training, in order for scoring.

    "bucket": reviews of similar length together, each batch padded on the
    right to its longest review (cut to seq_len, keeping the end).
    "fixed": the lecture's (N, seq_len) matrix, left-padded, in batches.
    """

    def __init__(self, encoded: EncodedTexts, data: SentimentData, *, shuffle: bool, seed: int):
        self.encoded = encoded
        self.data = data
        self.shuffle = shuffle
        self.seed = seed
        self._epoch, self._indices = -1, []
        if data.batching == "fixed":
            self._matrix = fixed_length(encoded, data.seq_len)  # (N, seq_len)
        else:
            self._buckets = LengthBatches(encoded, data.batch_size, shuffle=shuffle, seed=seed,
                                          max_len=data.seq_len)

    def indices(self, epoch: int) -> list[np.ndarray]:
        if epoch != self._epoch:
            self._epoch, self._indices = epoch, self._draw(epoch)
        return self._indices

    def _draw(self, epoch: int) -> list[np.ndarray]:
        if self.data.batching == "bucket":
            return self._buckets.batch_indices(epoch)
        n = len(self.encoded)
        order = np.random.default_rng([self.seed, epoch]).permutation(n) if self.shuffle \
            else np.arange(n)
        return [order[i : i + self.data.batch_size] for i in range(0, n, self.data.batch_size)]

    def tokens(self, rows: np.ndarray) -> torch.Tensor:
        """(B, T) int64 ids of the reviews `rows`."""
        if self.data.batching == "fixed":
            return self._matrix[torch.from_numpy(rows)]
        return pad_rows(self.encoded, rows, max_len=self.data.seq_len)[0]

    def __iter__(self):
        for rows in self.indices(0):
            yield rows, self.tokens(rows)


class SentimentTask:
    """Training-loop task: shuffled review batches, binary cross-entropy, no carried state.

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
        self.group = group or Group()
        self.group.split(data.batch_size, "--batch-size")
        self.train = ReviewBatches(train, data, shuffle=True, seed=seed)
        self.val = ReviewBatches(val, data, shuffle=False, seed=seed)
        self.labels = torch.from_numpy(train.labels).float()
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

    def train_loss(self, model: SentimentRNN, batch, index: int) -> tuple[torch.Tensor, int]:
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
        nats, correct, count = self.group.sum(
            [float(-log_likelihood.sum()), float(np.sum((probs >= 0.5) == labels)), len(rows)])
        return {"loss": nats / count, "accuracy": correct / count}

    def carried_state(self) -> dict[str, torch.Tensor]:
        return {}  # reviews are independent: nothing carries from one batch to the next

    def load_carried_state(self, state: dict[str, torch.Tensor]) -> None:
        pass


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


# -- training from a data set --------------------------------------------------


def _read(data: SentimentData, seed: int, progress: bool):
    splits = load_sentiment(
        data.data, val_fraction=data.val_fraction, test_fraction=data.test_fraction, seed=seed,
        text_column=data.text_column, label_column=data.label_column, file_format=data.format,
        encoding=data.encoding, on_empty=data.on_empty, progress=progress,
    )
    if splits.skipped_empty and progress:
        print(f"skipped {splits.skipped_empty} rows with empty text", file=sys.stderr)
    return splits


def _build_vocab(texts: Sequence[str], data: SentimentData, progress: bool) -> WordVocab:
    return WordVocab.build(iter_tokenized(texts, progress=progress, desc="counting words"),
                           min_freq=data.min_freq, max_vocab=data.max_vocab)


def _check_new_run(out: Path, model_options: dict) -> None:
    """Refuse a used --out or a bad model option before any data is read or encoded."""
    checkpoint.check_new_run_dir(out)
    SentimentConfig(vocab_size=1, **model_options)


def _fit(train_set: LabeledTexts, val_set: LabeledTexts, data: SentimentData,
         model_options: dict, loop: TrainConfig, out: Path) -> TrainResult:
    """Count the vocabulary on train, write the run folder's JSON, train (checked by the caller)."""
    group = join(resolve_device(loop.device))
    progress = loop.progress and group.is_main
    vocab = _build_vocab(train_set.texts, data, progress)
    train_enc = encode_texts(train_set.texts, vocab, train_set.labels, progress=progress)
    val_enc = encode_texts(val_set.texts, vocab, val_set.labels)
    task = SentimentTask(train_enc, val_enc, data, loop.seed, group)
    torch.manual_seed(loop.seed)  # the initial weights depend on it
    model = SentimentRNN(SentimentConfig(vocab_size=len(vocab), **model_options))
    group.barrier()  # every rank has checked --out before rank 0 fills it
    if group.is_main:
        out.mkdir(parents=True, exist_ok=True)
        vocab.save(out / checkpoint.VOCAB_FILE)
        write_json(out / LABELS_FILE, train_set.label_map.to_dict())
        checkpoint.write_config(out, KIND, asdict(model.config),
                                {"data": asdict(data), "loop": asdict(loop)})
    return Trainer(model, task, loop, out, group).fit()


def train(data: SentimentData, model_options: dict, loop: TrainConfig,
          out: str | Path) -> TrainResult:
    """Read `data.data`, train on its training split, select on validation."""
    _check_new_run(Path(out), model_options)
    group = join(resolve_device(loop.device))
    splits = _read(data, loop.seed, loop.progress and group.is_main)
    return _fit(splits.train, splits.val, data, model_options, loop, Path(out))


def resume(run_dir: str | Path, data_path: str | None = None, **loop_overrides) -> TrainResult:
    """Continue a run where it stopped; its saved configuration and vocabulary win.

    Under torchrun the number of processes may differ from the run's: it goes on
    from the saved step, with the same batches.
    """
    run_dir = Path(run_dir)
    saved = checkpoint.read_config(run_dir, KIND)
    data = SentimentData(**saved["train"]["data"])
    if data_path is not None:
        data = replace(data, data=data_path)
    loop = resumed_loop(saved["train"]["loop"], **loop_overrides)
    vocab = WordVocab.from_dict(checkpoint.read_json(run_dir, checkpoint.VOCAB_FILE))
    labels = LabelMap.from_dict(checkpoint.read_json(run_dir, LABELS_FILE))
    group = join(resolve_device(loop.device))
    splits = _read(data, loop.seed, loop.progress and group.is_main)
    if splits.label_map != labels:
        raise UserError(f"the labels of {data.data} differ from those of the run in "
                        f"{run_dir}: resume with the data it was trained on (--data)")
    if _build_vocab(splits.train.texts, data, False) != vocab:
        raise UserError(f"{data.data} gives a different vocabulary than the run in "
                        f"{run_dir}: resume with the data it was trained on (--data)")
    model = SentimentRNN(SentimentConfig(**saved["model"]))
    task = SentimentTask(encode_texts(splits.train.texts, vocab, splits.train.labels),
                         encode_texts(splits.val.texts, vocab, splits.val.labels), data,
                         loop.seed, group)
    group.barrier()  # every rank has read config.json before rank 0 rewrites it
    if group.is_main:
        checkpoint.write_config(run_dir, KIND, saved["model"],
                                {"data": asdict(data), "loop": asdict(loop)})
    return Trainer(model, task, loop, run_dir, group).fit(resume=True)


def evaluate(run_dir: str | Path, data_path: str | None = None, split: str = "test",
             device: str = "cpu") -> dict:
    """Accuracy, precision, recall, F1, ROC AUC and confusion matrix on a split of a data set.

    The split is drawn as in training (same seed and fractions), so "test" is
    never a review the model was trained or selected on.
    """
    if split not in SPLITS:
        raise UserError(f"unknown --split {split!r}: use one of {', '.join(SPLITS)}")
    clf = SentimentClassifier.load(run_dir, device=device)
    saved = checkpoint.read_config(Path(run_dir), KIND)["train"]
    data = SentimentData(**saved["data"]) if saved else SentimentData()
    if data_path is not None:
        data = replace(data, data=data_path)
    seed = saved["loop"]["seed"] if saved else 1
    chosen = getattr(_read(data, seed, False), split)
    if chosen.label_map != clf.label_map_:
        raise UserError(f"the labels of {data.data} ({', '.join(chosen.label_map.names)}) are not "
                        f"the model's ({', '.join(clf.classes_)})")
    probs = clf.predict_proba(chosen.texts)[:, 1]
    return {"split": split, **binary_metrics(chosen.labels, probs)}


# -- the scikit-learn-style estimator -----------------------------------------

MODEL_PARAMS = tuple(f.name for f in fields(SentimentConfig) if f.name != "vocab_size")
DATA_PARAMS = ("min_freq", "max_vocab", "batching", "seq_len", "batch_size", "val_fraction")
LOOP_PARAMS = ("epochs", "minutes", "lr", "lr_schedule", "clip", "ema_decay", "eval_every",
               "patience", "seed", "device", "threads", "progress")


class SentimentClassifier:
    """A recurrent sentiment classifier with scikit-learn's estimator API.

    `__init__` only stores hyperparameters; `fit` learns `vocab_`,
    `label_map_`, `classes_` and `model_`. Works with scikit-learn's tools
    (cross-validation, grid search) where scikit-learn is installed.
    """

    def __init__(
        self,
        *,
        embedding_dim: int = 256,
        cell: str = "lstm",
        hidden_size: int = 128,
        num_layers: int = 1,
        dropout: float = 0.5,
        word_dropout: float = 0.0,
        bidirectional: bool = False,
        head: str = "last",
        uniform_init: bool = False,
        sparse_embedding: bool = True,
        min_freq: int = 1,
        max_vocab: int | None = None,
        batching: str = "bucket",
        seq_len: int = 200,
        batch_size: int = 100,
        val_fraction: float = 0.1,
        epochs: int = 5,
        minutes: float | None = None,
        lr: float = 1e-3,
        lr_schedule: str = "constant",
        clip: float = 5.0,
        ema_decay: float | None = None,
        eval_every: int = 0,
        patience: int | None = None,
        seed: int = 1,
        device: str = "auto",
        threads: int | None = None,
        progress: bool = False,
    ):
        self.embedding_dim = embedding_dim
        self.cell = cell
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.word_dropout = word_dropout
        self.bidirectional = bidirectional
        self.head = head
        self.uniform_init = uniform_init
        self.sparse_embedding = sparse_embedding
        self.min_freq = min_freq
        self.max_vocab = max_vocab
        self.batching = batching
        self.seq_len = seq_len
        self.batch_size = batch_size
        self.val_fraction = val_fraction
        self.epochs = epochs
        self.minutes = minutes
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.clip = clip
        self.ema_decay = ema_decay
        self.eval_every = eval_every
        self.patience = patience
        self.seed = seed
        self.device = device
        self.threads = threads
        self.progress = progress

    # scikit-learn's parameter protocol
    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> SentimentClassifier:
        unknown = set(params) - set(self._param_names())
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)} for SentimentClassifier")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = SentimentClassifier().get_params()
        changed = {k: v for k, v in self.get_params().items() if v != defaults[k]}
        return f"SentimentClassifier({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    def _configs(self) -> tuple[dict, SentimentData, TrainConfig]:
        params = self.get_params()
        model = {k: params[k] for k in MODEL_PARAMS}
        data = SentimentData(**{k: params[k] for k in DATA_PARAMS})
        loop = TrainConfig(**{k: params[k] for k in LOOP_PARAMS})
        return model, data, loop

    def fit(self, texts: Sequence[str], labels: Sequence, *, out: str | Path | None = None):
        """Train on `texts` with two distinct `labels`; validation is carved from them.

        With `out`, the run folder (checkpoints, metrics, curve) is kept there;
        under torchrun `out` is required, a folder every process can read.
        """
        if out is None and launched():
            raise UserError("under torchrun, fit() needs out=: a run folder every process can "
                            "read the trained model back from")
        texts = list(texts)
        originals = list(labels)
        if len(texts) != len(originals):
            raise UserError(f"{len(texts)} texts but {len(originals)} labels")
        by_name = {str(v): v for v in originals}
        label_map = LabelMap.infer(by_name, where="the labels given to fit")
        encoded = np.array([label_map.encode(str(v)) for v in originals], dtype=np.int64)
        data_all = LabeledTexts(texts=texts, labels=encoded, label_map=label_map)
        model_options, data, loop = self._configs()
        train_set, val_set = split_balanced(data_all, data.val_fraction, seed=loop.seed)
        with tempfile.TemporaryDirectory() as scratch:
            run_dir = Path(out) if out is not None else Path(scratch) / "run"
            _check_new_run(run_dir, model_options)
            _fit(train_set, val_set, data, model_options, loop, run_dir)
            self._load_learned(run_dir, self.device)
        self.classes_ = np.array([by_name[name] for name in label_map.names], dtype=object)
        return self

    def _load_learned(self, run_dir: Path, device: str) -> None:
        config = checkpoint.read_config(run_dir, KIND)
        self.vocab_ = WordVocab.from_dict(checkpoint.read_json(run_dir, checkpoint.VOCAB_FILE))
        self.label_map_ = LabelMap.from_dict(checkpoint.read_json(run_dir, LABELS_FILE))
        self.classes_ = np.array(self.label_map_.names, dtype=object)
        try:
            model_config = SentimentConfig(**config["model"])
        except TypeError as exc:
            raise UserError(f"{run_dir}/config.json does not describe a model ({exc})") from exc
        if model_config.vocab_size != len(self.vocab_):
            raise UserError(f"{run_dir}: config.json says {model_config.vocab_size} words but "
                            f"vocab.json has {len(self.vocab_)}; the folder is mixed up")
        model = SentimentRNN(model_config)
        weights, _ = checkpoint.load_weights(run_dir)
        checkpoint.check_strict_load(model, weights, run_dir)
        self.model_ = model.to(resolve_device(device)).eval()

    @classmethod
    def load(cls, path: str | Path, *, device: str = "cpu") -> SentimentClassifier:
        """A classifier from a run folder (written by `save`, `fit(out=...)` or the CLI)."""
        path = Path(path)
        config = checkpoint.read_config(path, KIND)
        params = {**config["model"], **((config["train"] or {}).get("data", {})),
                  **((config["train"] or {}).get("loop", {}))}
        clf = cls(**{k: v for k, v in params.items() if k in cls._param_names()})
        clf.device = device
        clf._load_learned(path, device)
        return clf

    def save(self, path: str | Path) -> None:
        """Write the learned model as a run folder (safetensors + JSON)."""
        self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        model_options, data, loop = self._configs()
        self.vocab_.save(path / checkpoint.VOCAB_FILE)
        write_json(path / LABELS_FILE, self.label_map_.to_dict())
        checkpoint.save_weights(path / checkpoint.BEST_WEIGHTS, self.model_.state_dict(), step=-1)
        checkpoint.write_config(path, KIND, asdict(self.model_.config),
                                {"data": asdict(data), "loop": asdict(loop)})

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise UserError("this SentimentClassifier is not fitted yet: call fit() or load()")

    def _encode(self, texts: Sequence[str]) -> ReviewBatches:
        texts = ["" if t is None else str(t) for t in texts]
        _, data, loop = self._configs()
        encoded = encode_texts(texts, self.vocab_)
        return ReviewBatches(encoded, data, shuffle=False, seed=loop.seed)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(N, 2): the probability of each class, negative first (scikit-learn's layout)."""
        self._check_fitted()
        if isinstance(texts, str):
            raise UserError("predict_proba takes a list of texts, not one string")
        if len(texts) == 0:
            return np.zeros((0, 2))
        positive = predict_probabilities(self.model_, self._encode(texts))
        return np.stack([1 - positive, positive], axis=1)

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """The predicted label of each text, as given to fit (or as named in the data)."""
        self._check_fitted()
        return self.classes_[(self.predict_proba(texts)[:, 1] >= 0.5).astype(int)]

    def score(self, texts: Sequence[str], labels: Sequence) -> float:
        """Accuracy."""
        return float(np.mean(np.asarray(self.predict(texts)) == np.asarray(labels, dtype=object)))

    @torch.no_grad()
    def prefix_probabilities(self, text: str) -> tuple[list[str], np.ndarray]:
        """The tokens of `text` and P(positive) after reading each prefix of them.

        The many-to-one reading made visible: how the prediction moved, word by word.
        """
        self._check_fitted()
        tokens = tokenize(text)
        ids = self.vocab_.encode(tokens) or [UNK_ID]
        model = self.model_
        running = (model.config.head == "last" and not model.config.bidirectional
                   and self.batching == "bucket" and len(ids) <= self.seq_len)
        if running:
            x = torch.tensor([ids], device=next(model.parameters()).device)  # (1, T)
            states = model.states(x)  # (1, T, H): the state after each prefix
            probs = torch.sigmoid(model.head(states)).view(-1).double().cpu().numpy()
        else:
            # Pooled, bidirectional, left-padded or truncated summaries are not
            # running values: score each prefix as a review of its own.
            probs = self._score_ids([ids[: t + 1] for t in range(len(ids))])
        return tokens or ["<empty>"], probs

    def _score_ids(self, sequences: list[list[int]]) -> np.ndarray:
        lengths = np.array([len(seq) for seq in sequences], dtype=np.int64)
        offsets = np.zeros(len(sequences) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        encoded = EncodedTexts(ids=np.concatenate(sequences).astype(np.int64), offsets=offsets)
        _, data, loop = self._configs()
        batches = ReviewBatches(encoded, data, shuffle=False, seed=loop.seed)
        return predict_probabilities(self.model_, batches)
