"""A trained model as an ONNX graph, for runtimes outside Python (onnxruntime, say).

    from seqrnn.api.export import export
    export("runs/hamlet", "hamlet.onnx")      # and hamlet.onnx.json beside it

The language model is exported as one step of any length, with its state as input and output,
so a runtime can read a prime and then feed characters back one at a time:

    ids (B, T) int64, h (L, B, H) [, c (L, B, H) for an LSTM]
        -> logits (B, T, V), h_out [, c_out]

The classifier reads a batch of right-padded token ids with their lengths:

    ids (B, T) int64, lengths (B,) int64 -> p_positive (B,), logits (B,)

The JSON beside the graph (the graph's name with .json added, so that it cannot be a run
folder's own config.json) holds what a runtime needs around it: the vocabulary, the labels,
the model's configuration and the names and shapes of the inputs and outputs.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import asdict
from pathlib import Path

import torch
from torch import Tensor, nn

from seqrnn.atomic import atomic_path, write_json
from seqrnn.errors import UserError, field_error
from seqrnn.nn.convert import to_torch
from seqrnn.nn.layers import RecurrentStack
from seqrnn.outputs import check_file
from seqrnn.run import CONFIG_FILE, RunFolder

FORMAT = "seqrnn-onnx"
FORMAT_VERSION = 1
OPSET = 17
KINDS = ("charlm", "sentiment")


class CharLMStep(nn.Module):
    """The language model as a graph: tokens and a state in, logits and the state out."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, ids: Tensor, h: Tensor, c: Tensor | None = None):
        logits, state = self.model(ids, h if c is None else (h, c))
        return (logits, *state) if isinstance(state, tuple) else (logits, state)


class ClassifierGraph(nn.Module):
    """The classifier as a graph: right-padded ids and lengths in, P(positive) and logits out.

    With `fixed_len` (a model trained with --batching fixed), the graph lays the rows out as
    seqrnn reads them: each review's last `fixed_len` words at the right of a row of that
    width, padding on the left, which the model reads through as it did in training.
    """

    def __init__(self, model: nn.Module, fixed_len: int | None = None):
        super().__init__()
        self.model = model
        self.fixed_len = fixed_len

    def forward(self, ids: Tensor, lengths: Tensor):
        if self.fixed_len is not None:
            return self._scores(_left_padded(ids, lengths, self.fixed_len))
        real = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0) < lengths.unsqueeze(1)
        return self._scores(ids.masked_fill(~real, 0))  # 0 is padding

    def _scores(self, ids: Tensor):
        logits = self.model(ids)
        return torch.sigmoid(logits), logits


def _left_padded(ids: Tensor, lengths: Tensor, width: int) -> Tensor:
    """(B, width): each row's last `width` real ids, right-aligned after 0s (fixed_length's)."""
    source = lengths.unsqueeze(1) - width + torch.arange(width, device=ids.device).unsqueeze(0)
    taken = ids.gather(1, source.clamp(min=0))  # (B, width); a source below 0 is padding
    return taken.masked_fill(source < 0, 0)


def fused_copy(model: nn.Module) -> nn.Module:
    """A copy of `model` with every explicit cell stack replaced by torch's fused equivalent:
    a traced Python loop over time would fix the graph to one length."""
    model = copy.deepcopy(model)
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, RecurrentStack):
                setattr(parent, name, to_torch(child))
    return model.eval()


def run_kind(run_dir: str | Path) -> str:
    """What a run folder holds, among the kinds that can be exported."""
    config = RunFolder(run_dir).read_json(CONFIG_FILE)
    kind = config.get("kind") if isinstance(config, dict) else None
    if kind not in KINDS:
        raise UserError(f"{run_dir} holds a {kind or 'unknown'} model; export takes a character "
                        "language model (charlm) or a sentiment classifier (sentiment)")
    return kind


def sidecar(out: str | Path) -> Path:
    """The JSON beside the graph `out`: X.onnx -> X.onnx.json."""
    out = Path(out)
    return out.with_name(out.name + ".json")


def export(run_dir: str | Path, out: str | Path, *, weights: str = "best",
           overwrite: bool = False) -> dict:
    """Write `out` (.onnx) and its JSON beside it (`sidecar(out)`); return that JSON.

    Existing files are replaced only with `overwrite`; a run folder's own files never.
    """
    if Path(out).suffix != ".onnx":
        raise field_error("out", f"{{}} {out} should end in .onnx; the JSON goes beside it")
    out = check_file(out, overwrite=overwrite)
    check_file(sidecar(out), overwrite=overwrite)
    kind = run_kind(run_dir)
    if kind == "charlm":
        graph, example, names, meta = _charlm(run_dir, weights)
    else:
        graph, example, names, meta = _sentiment(run_dir, weights)
    inputs, outputs, dynamic = names
    with atomic_path(out) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notes
        torch.onnx.export(graph.eval(), example, str(tmp), input_names=inputs,
                          output_names=outputs, dynamic_axes=dynamic, opset_version=OPSET,
                          dynamo=False)
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": kind,
            "onnx": out.name, **meta}
    write_json(sidecar(out), meta)
    return meta


def _charlm(run_dir, weights):
    from seqrnn.api.charlm import LanguageModel

    lm = LanguageModel.load(run_dir, weights=weights)
    config = lm.model.config
    lstm = config.cell == "lstm"
    batch, steps = 2, 3
    h = torch.zeros(config.num_layers, batch, config.hidden_size)
    example = (torch.zeros(batch, steps, dtype=torch.int64), h, *((h.clone(),) if lstm else ()))
    state = ["h", "c"] if lstm else ["h"]
    inputs, outputs = ["ids", *state], ["logits", *(f"{name}_out" for name in state)]
    dynamic = {"ids": {0: "batch", 1: "time"}, "logits": {0: "batch", 1: "time"},
               **{name: {1: "batch"} for name in (*state, *outputs[1:])}}
    shapes = {"ids": "(batch, time) int64 character ids",
              **{name: f"({config.num_layers}, batch, {config.hidden_size}) float32, zeros "
                 "to start" for name in state}}
    meta = {"config": asdict(config), "vocab": lm.vocab.to_dict(), "inputs": shapes,
            "outputs": {"logits": f"(batch, time, {config.vocab_size}) float32: the next "
                        "character's scores after each position",
                        **{f"{name}_out": "the state after the last position"
                           for name in state}}}
    return CharLMStep(fused_copy(lm.model)), example, (inputs, outputs, dynamic), meta


def _sentiment(run_dir, weights):
    from seqrnn.api.sentiment import SentimentClassifier

    if weights != "best":
        raise UserError("a classifier keeps its best weights only: drop --weights")
    clf = SentimentClassifier.load(run_dir)
    example = (torch.ones(2, 3, dtype=torch.int64), torch.tensor([3, 2]))
    dynamic = {"ids": {0: "batch", 1: "time"}, "lengths": {0: "batch"},
               "p_positive": {0: "batch"}, "logits": {0: "batch"}}
    meta = {"config": asdict(clf.model_.config), "vocab": clf.vocab_.to_dict(),
            "labels": clf.label_map_.to_dict(), "tokenizer": "seqrnn.data.tokenize.tokenize",
            "max_words": clf.seq_len,
            "batching": clf.batching,
            "inputs": {"ids": "(batch, time) int64 word ids, right-padded with 0; a review "
                       f"longer than {clf.seq_len} words is cut to its last {clf.seq_len}, as "
                       "seqrnn reads it" + (" (the graph does so itself)"
                                            if clf.batching == "fixed" else ""),
                       "lengths": "(batch,) int64: the real words of each row, at least 1"},
            "outputs": {"p_positive": "(batch,) float32: P(labels.positive)",
                        "logits": "(batch,) float32"}}
    graph = ClassifierGraph(fused_copy(clf.model_),
                            clf.seq_len if clf.batching == "fixed" else None)
    return graph, example, (["ids", "lengths"], ["p_positive", "logits"], dynamic), meta
