"""A trained classifier, or an ensemble, scored on a split of its data or on other data.

    from seqrnn.api.sentiment_evaluation import evaluate
    evaluate("runs/imdb", split="test")
    evaluate(["runs/imdb-ft", "runs/imdb-ft4"])      # an ensemble: the mean probability
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from seqrnn.api.protocol import check_same_split
from seqrnn.api.sentiment import SentimentClassifier, SentimentEnsemble, load_classifier
from seqrnn.configs import SentimentData
from seqrnn.data.identity import check_unchanged, same_data
from seqrnn.data.labels import mapped_labels
from seqrnn.data.sentiment_sets import load_all_rows
from seqrnn.errors import UserError, field_error
from seqrnn.metrics import binary_metrics, require_items
from seqrnn.recipes.sentiment import RECIPE, read_splits, table_options
from seqrnn.run import RunFolder

SPLITS = ("train", "val", "test", "all")


def evaluate(run_dir: str | Path | Sequence[str | Path], data_path: str | None = None,
             split: str | None = None,
             device: str = "cpu", *, labels: str | dict[str, str] | None = None,
             text_column: str | None = None, label_column: str | None = None,
             allow_changed_data: bool = False,
             model: SentimentClassifier | SentimentEnsemble | None = None) -> dict:
    """Accuracy, precision, recall, F1, ROC AUC and confusion matrix of a trained classifier.

    On the data the model trained on (the default), `split` is one of its splits, drawn as in
    training (same seed and fractions), "test" by default: never a review the model was trained
    or selected on. On other data, every row is scored ("all") unless `split` says otherwise.
    `labels` says which of the file's label values is which of the model's classes, as a
    mapping or as "0=neg,1=pos". Several run folders are scored as an ensemble (the mean of
    their probabilities); they must share their data and seed, hence their splits.
    Splits are drawn as in training only from the data the run read: a file whose content
    changed since (its fingerprint), a moved and edited copy, or other data split by the
    run's seed is refused, unless `allow_changed_data`. `model` is the classifier (or
    ensemble) already loaded from `run_dir`, not read again.
    """
    if split is not None and split not in SPLITS:
        raise field_error("split", f"unknown {{}} {split!r}: use one of {', '.join(SPLITS)}")
    run_dirs = [run_dir] if isinstance(run_dir, (str, Path)) else list(run_dir)
    if model is not None:  # loaded by the caller: its runs still share one data and split
        check_same_split(run_dirs, RECIPE.kind, RECIPE.data_field)
    clf = load_classifier(run_dirs, device=device) if model is None else model
    saved = RunFolder(run_dirs[0]).read_config(RECIPE.kind)
    data = SentimentData(**saved.data) if saved.data else SentimentData()
    recorded = [(RunFolder(path).read_config(RECIPE.kind).sources or {}).get("data")
                for path in run_dirs]
    own = same_data(data_path, data.data, recorded[0])
    if not own:
        data = replace(data, data=data_path, text_column=None, label_column=None, format=None)
        split = split or "all"
    split = split or "test"
    if own or split != "all":  # splits drawn as in training: only from the very data it read
        checked: list = []  # an ensemble's members read one file: hash it once per record
        for path, record in zip(run_dirs, recorded, strict=True):
            if record is not None and record in checked:
                continue
            checked.append(record)
            check_unchanged(record, data_path, data.data, run=Path(path), field="data",
                            allow_changed=allow_changed_data)
    if text_column is not None or label_column is not None:
        data = replace(data, text_column=text_column or data.text_column,
                       label_column=label_column or data.label_column)
    label_map = None if labels is None else mapped_labels(clf.label_mapping(labels),
                                                          clf.label_map_)
    if split == "all":
        chosen = load_all_rows(data.data, table_options(data, label_map))
    else:
        seed = saved.loop["seed"] if saved.loop else 1
        chosen = getattr(read_splits(data, seed, False, label_map), split)
    if label_map is None and chosen.label_map.names != clf.label_map_.names:
        file_labels, classes = chosen.label_map.names, clf.label_map_.names
        guess = ",".join(f"{value}={name}" for value, name in zip(file_labels, classes,
                                                                   strict=True))
        raise UserError(f"the labels of {data.data} ({', '.join(file_labels)}) are not the "
                        f"model's ({', '.join(classes)}): say which is which with {{labels}}, "
                        f"for example {{labels}} {guess}", fields=("labels",))
    require_items(len(chosen), f"the {split} split of {data.data}",
                  "evaluate another {split}, or data with rows in it", ("split",))
    probs = clf.predict_proba(chosen.texts)[:, 1]
    return {"split": split, "data": str(data.data), "rows": len(chosen),
            **binary_metrics(chosen.labels, probs)}


def evaluate_loaded(model: SentimentClassifier | SentimentEnsemble, data_path: str | None = None,
                    split: str | None = None, **options) -> dict:
    """`evaluate` of a classifier (or ensemble) loaded from its run folders, not read again."""
    runs = [getattr(member, "run_", None) for member in getattr(model, "members", [model])]
    if None in runs:
        raise UserError("this classifier has no run folder to evaluate on its splits: save() "
                        "it and load() it, or score(texts, labels) on data of your own")
    return evaluate(runs, data_path, split, model.device, model=model, **options)
