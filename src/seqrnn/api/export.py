"""A trained model as ONNX graphs, for runtimes outside Python (onnxruntime, say).

    from seqrnn.api.export import export
    export("runs/hamlet", "hamlet.onnx")      # and hamlet.onnx.json beside it

The character language model is exported as one step of any length, with its state as input
and output, so a runtime can read a prime and then feed characters back one at a time:

    ids (B, T) int64, h (L, B, H) [, c (L, B, H) for an LSTM]
        -> logits (B, T, V), h_out [, c_out]

The word language model likewise, with each layer's state (their widths differ) and the
next word's log-probabilities (an adaptive softmax laid out over every word):

    ids (B, T) int64, h0, c0, h1, c1, ... (1, B, H_k) -> log_probs (B, T, V), h0_out, ...

The classifier reads a batch of right-padded token ids with their lengths:

    ids (B, T) int64, lengths (B,) int64 -> p_positive (B,), logits (B,)

The encoder-decoder is two graphs, X.onnx the encoder and X.decoder.onnx one decoder step:

    source (B, S) int64 -> memory (B, S, M), mask (B, S) bool, h (L, B, H) [, c]
    previous (B, T) int64, memory, mask, h [, c] -> logits (B, T, V), h_out [, c_out]
        [, attention (B, T, S)]

The JSON beside the graph (the graph's name with .json added, so that it cannot be a run
folder's own config.json) holds what a runtime needs around it: the vocabularies, the labels,
the model's configuration and the names and shapes of the inputs and outputs.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from seqrnn import registry
from seqrnn.api.loading import run_kind
from seqrnn.api.onnx_graphs import (
    CharLMStep,
    ClassifierGraph,
    Seq2SeqDecoderStep,
    Seq2SeqEncoder,
    WordLMStep,
    fused_copy,
)
from seqrnn.atomic import atomic_path, write_json
from seqrnn.errors import UserError, field_error
from seqrnn.outputs import check_file

FORMAT = "seqrnn-onnx"
FORMAT_VERSION = 1
OPSET = 17


@dataclass(frozen=True)
class Graph:
    """One graph to write: the module, an example input to trace it with, and its inputs' and
    outputs' names (in order) with their descriptions for the JSON."""

    module: nn.Module
    example: tuple
    inputs: dict[str, str]
    outputs: dict[str, str]
    dynamic: dict[str, dict[int, str]]


@dataclass(frozen=True)
class Exported:
    """A kind's graphs, by suffix of the file name ("": X.onnx; ".decoder": X.decoder.onnx),
    the first the main one, and the JSON fields that describe the model."""

    graphs: dict[str, Graph]
    meta: dict


def sidecar(out: str | Path) -> Path:
    """The JSON beside the graph `out`: X.onnx -> X.onnx.json."""
    out = Path(out)
    return out.with_name(out.name + ".json")


def graph_path(out: Path, suffix: str) -> Path:
    """Where the graph of `suffix` goes: X.onnx itself, or X<suffix>.onnx beside it."""
    return out.with_name(out.stem + suffix + out.suffix)


def export(run_dir: str | Path, out: str | Path, *, weights: str = "best",
           overwrite: bool = False) -> dict:
    """Write `out` (.onnx), the kind's other graphs beside it, and the JSON beside it
    (`sidecar(out)`); return that JSON.

    Existing files are replaced only with `overwrite`; a run folder's own files never.
    """
    if Path(out).suffix != ".onnx":
        raise field_error("out", f"{{}} {out} should end in .onnx; the JSON goes beside it")
    out = check_file(out, overwrite=overwrite)
    exporting = exporters()
    kind = run_kind(run_dir, exporting, "export")
    exported = exporting[kind](run_dir, weights)
    paths = {suffix: graph_path(out, suffix) for suffix in exported.graphs}
    for path in [*paths.values(), sidecar(out)]:
        check_file(path, overwrite=overwrite)
    with contextlib.ExitStack() as stack, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notes
        for suffix, graph in exported.graphs.items():  # each renamed into place at the end
            tmp = stack.enter_context(atomic_path(paths[suffix]))
            torch.onnx.export(graph.module.eval(), graph.example, str(tmp),
                              input_names=list(graph.inputs), output_names=list(graph.outputs),
                              dynamic_axes=graph.dynamic, opset_version=OPSET, dynamo=False)
    main, *others = exported.graphs.items()
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": kind,
            "onnx": out.name, **exported.meta, "inputs": main[1].inputs,
            "outputs": main[1].outputs,
            **{suffix.lstrip("."): {"onnx": paths[suffix].name, "inputs": graph.inputs,
                                    "outputs": graph.outputs} for suffix, graph in others}}
    write_json(sidecar(out), meta)
    return meta


def _state_names(lstm: bool) -> list[str]:
    return ["h", "c"] if lstm else ["h"]


def _refuse_conditioned(lm, run_dir) -> None:
    if lm.conditions is not None:
        raise UserError(f"{run_dir} holds a conditioned language model (--condition), which "
                        "export does not write yet: sample it with seqrnn or its Python API")


def charlm_graphs(run_dir, weights) -> Exported:
    from seqrnn.api.charlm import LanguageModel

    lm = LanguageModel.load(run_dir, weights=weights)
    _refuse_conditioned(lm, run_dir)
    config = lm.model.config
    state = _state_names(config.cell == "lstm")
    batch, steps = 2, 3
    h = torch.zeros(config.num_layers, batch, config.hidden_size)
    example = (torch.zeros(batch, steps, dtype=torch.int64), *(h.clone() for _ in state))
    outputs = ["logits", *(f"{name}_out" for name in state)]
    dynamic = {"ids": {0: "batch", 1: "time"}, "logits": {0: "batch", 1: "time"},
               **{name: {1: "batch"} for name in (*state, *outputs[1:])}}
    inputs = {"ids": "(batch, time) int64 character ids",
              **{name: f"({config.num_layers}, batch, {config.hidden_size}) float32, zeros "
                 "to start" for name in state}}
    graph = Graph(CharLMStep(fused_copy(lm.model)), example, inputs, {
        "logits": f"(batch, time, {config.vocab_size}) float32: the next character's scores "
        "after each position", **{f"{name}_out": "the state after the last position"
                                   for name in state}}, dynamic)
    # A model trained with --reverse reads text back to front: feed it reversed ids.
    return Exported({"": graph}, {"config": asdict(config), "vocab": lm.vocab.to_dict(),
                                  "reverse": lm.reverse})


def wordlm_graphs(run_dir, weights) -> Exported:
    from seqrnn.api.wordlm import WordLanguageModel
    from seqrnn.data.documents import EOS

    lm = WordLanguageModel.load(run_dir, weights=weights)
    _refuse_conditioned(lm, run_dir)
    model = fused_copy(lm.model)
    widths = [layer.lstm.hidden_size for layer in model.encoder.layers]
    batch, steps = 2, 3
    state = [f"{part}{k}" for k in range(len(widths)) for part in ("h", "c")]
    example = (torch.zeros(batch, steps, dtype=torch.int64),
               *(torch.zeros(1, batch, widths[k // 2]) for k in range(len(state))))
    outputs = {"log_probs": f"(batch, time, {model.config.vocab_size}) float32: the next "
               "word's log-probabilities after each position",
               **{f"{name}_out": "the state after the last position" for name in state}}
    dynamic = {"ids": {0: "batch", 1: "time"}, "log_probs": {0: "batch", 1: "time"},
               **{name: {1: "batch"} for name in (*state, *list(outputs)[1:])}}
    inputs = {"ids": f"(batch, time) int64 word ids; a document starts after {EOS}, the "
              "lowercased words of seqrnn.data.tokenize.tokenize follow",
              **{name: f"(1, batch, {widths[int(name[1:])]}) float32: layer {name[1:]}'s "
                 f"{'hidden' if name[0] == 'h' else 'cell'} state, zeros to start"
                 for name in state}}
    return Exported({"": Graph(WordLMStep(model), example, inputs, outputs, dynamic)},
                    {"config": {**asdict(model.config), "cutoffs": list(model.config.cutoffs)},
                     "vocab": lm.vocab.to_dict(),
                     "tokenizer": "seqrnn.data.tokenize.tokenize", "end_of_document": EOS})


def seq2seq_graphs(run_dir, weights) -> Exported:
    from seqrnn.api.seq2seq import Transducer
    from seqrnn.data.symbols import BOS_ID, EOS_ID, PAD_ID

    transducer = Transducer.load(run_dir, weights=weights)
    model = fused_copy(transducer.model)
    config = model.config
    memory_size = config.hidden_size * (2 if config.bidirectional else 1)
    state = _state_names(config.cell == "lstm")
    source = torch.tensor([[4, 5, 6], [5, 4, PAD_ID]])
    with torch.no_grad():
        memory, mask, start = model.encode(source)
    start = start if isinstance(start, tuple) else (start,)
    state_shape = f"({config.num_layers}, batch, {config.hidden_size}) float32"
    encoder = Graph(Seq2SeqEncoder(model), (source,), {
        "source": f"(batch, source) int64 source ids, right-padded with {PAD_ID}"}, {
        "memory": f"(batch, source, {memory_size}) float32: what the decoder attends to",
        "mask": "(batch, source) bool: true on real source tokens",
        **{name: f"{state_shape}: the decoder's starting state" for name in state}},
        {"source": {0: "batch", 1: "source"}, "memory": {0: "batch", 1: "source"},
         "mask": {0: "batch", 1: "source"}, **{name: {1: "batch"} for name in state}})
    outputs = {"logits": f"(batch, time, {config.target_vocab_size}) float32: the next target "
               "token's scores after each position",
               **{f"{name}_out": "the state after the last position" for name in state}}
    if config.attention != "none":  # else the decoder never reads the memory
        outputs["attention"] = "(batch, time, source) float32: where the decoder looked"
    attends = config.attention != "none"
    sources = {"memory": "the encoder's", "mask": "the encoder's"} if attends else {}
    decoder = Graph(Seq2SeqDecoderStep(model), (torch.tensor([[BOS_ID], [BOS_ID]]),
                                                 *((memory, mask) if attends else ()), *start),
                    {"previous": f"(batch, time) int64 target ids: {BOS_ID} (<s>) first, then "
                     "each token written", **sources,
                     **{name: f"{state_shape}: the encoder's at first, then the step's"
                        for name in state}}, outputs,
                    {"previous": {0: "batch", 1: "time"}, "logits": {0: "batch", 1: "time"},
                     **{name: {0: "batch", 1: "source"} for name in sources},
                     **{name: {1: "batch"} for name in (*state, *(f"{s}_out" for s in state))},
                     **({"attention": {0: "batch", 1: "time", 2: "source"}} if attends else {})})
    data = transducer.data
    return Exported({"": encoder, ".decoder": decoder}, {
        "config": asdict(config), "source_vocab": transducer.source_vocab.to_dict(),
        "target_vocab": transducer.target_vocab.to_dict(),
        "tokens": {"source": data.source_tokens, "target": data.target_tokens,
                   "lowercase_source": data.data == "cmudict", "max_length": data.max_length},
        "special_ids": {"padding": PAD_ID, "start": BOS_ID, "end": EOS_ID}})


def sentiment_graphs(run_dir, weights) -> Exported:
    from seqrnn.api.sentiment import SentimentClassifier

    if weights != "best":
        raise UserError("a classifier keeps its best weights only: drop --weights")
    clf = SentimentClassifier.load(run_dir)
    example = (torch.ones(2, 3, dtype=torch.int64), torch.tensor([3, 2]))
    dynamic = {"ids": {0: "batch", 1: "time"}, "lengths": {0: "batch"},
               "p_positive": {0: "batch"}, "logits": {0: "batch"}}
    inputs = {"ids": "(batch, time) int64 word ids, right-padded with 0; a review longer than "
              f"{clf.seq_len} words is cut to its last {clf.seq_len}, as seqrnn reads it"
              + (" (the graph does so itself)" if clf.batching == "fixed" else ""),
              "lengths": "(batch,) int64: the real words of each row, at least 1"}
    outputs = {"p_positive": "(batch,) float32: P(labels.positive)",
               "logits": "(batch,) float32"}
    graph = ClassifierGraph(fused_copy(clf.model_),
                            clf.seq_len if clf.batching == "fixed" else None)
    return Exported({"": Graph(graph, example, inputs, outputs, dynamic)}, {
        "config": asdict(clf.model_.config), "vocab": clf.vocab_.to_dict(),
        "labels": clf.label_map_.to_dict(), "tokenizer": "seqrnn.data.tokenize.tokenize",
        "max_words": clf.seq_len, "batching": clf.batching})


def forecast_graphs(run_dir, weights) -> Exported:
    from seqrnn.api.forecast import Forecaster

    model = Forecaster.load(run_dir, weights=weights).models[0]
    c = model.config
    steps = c.input_length
    example = (torch.ones(2, steps), torch.ones(2, steps), torch.zeros(2, dtype=torch.int64),
               torch.ones(2, steps), torch.ones(2, c.horizon))
    inputs = {"values": f"(batch, time) float32: the last values of each series, oldest first "
              f"(seqrnn reads {steps}; left-pad a shorter one with 0)",
              "observed": "(batch, time) float32: 1 where a value is real, 0 where padded",
              "frequency": "(batch,) int64: the index of each series' frequency in "
              "config.frequencies",
              "season_in": "(batch, time) float32: the seasonal index of each value (1 where "
              "there is none: config.deseasonalise false, or no season found)",
              "season_out": f"(batch, {c.horizon}) float32: the seasonal index of each step "
              "forecast"}
    outputs = {"quantiles": f"(batch, {c.horizon}, {len(c.quantiles)}) float32: each quantile "
               "(config.quantiles) of each step, in the series' units"}
    dynamic = {"values": {0: "batch", 1: "time"}, "observed": {0: "batch", 1: "time"},
               "frequency": {0: "batch"}, "season_in": {0: "batch", 1: "time"},
               "season_out": {0: "batch"}, "quantiles": {0: "batch"}}
    return Exported({"": Graph(fused_copy(model), example, inputs, outputs, dynamic)},
                    {"config": asdict(c),
                     "seasonal_indices": "seqrnn.forecast_metrics.seasonal_indices"})


def tagger_graphs(run_dir, weights) -> Exported:
    from seqrnn.api.tagger import Tagger

    tagger = Tagger.load(run_dir, weights=weights)
    model, c = tagger.models[0], tagger.models[0].config
    example = (torch.ones(2, 5, dtype=torch.int64), torch.ones(2, 5, 4, dtype=torch.int64),
               torch.ones(2, 5, len(c.feature_vocab_sizes), dtype=torch.int64),
               torch.ones(2, 5, dtype=torch.bool))
    inputs = {"words": "(batch, time) int64: word ids (vocab.json; lowercased, digits as 0 "
              "where data.lowercase), right-padded with 0",
              "chars": "(batch, time, chars) int64: each word's character ids (chars.json), "
              "from position 0, padded with 0",
              "features": f"(batch, time, {len(c.feature_vocab_sizes)}) int64: each feature "
              "column's ids (features.json); absent from a graph that reads none",
              "mask": "(batch, time) bool: true at real words, each row's first"}
    outputs = {"emissions": f"(batch, time, {c.num_tags}) float32: each word's tag scores"}
    dynamic = {"words": {0: "batch", 1: "time"}, "chars": {0: "batch", 1: "time", 2: "chars"},
               "features": {0: "batch", 1: "time"}, "mask": {0: "batch", 1: "time"},
               "emissions": {0: "batch", 1: "time"}}
    meta = {}
    if c.char_lm_dim:  # the sentence as the character language models read it
        example += (torch.zeros(2, 12, dtype=torch.int64),
                    torch.tensor([[1, 3, 5, 7, 9]] * 2), torch.tensor([[1, 3, 5, 7, 9]] * 2))
        inputs.update({
            "lm_chars": "(batch, length) int64: ids (lm_chars) of \" \" + the words joined "
            "by spaces + \" \", a character not in lm_chars read as a space; padded with any",
            "lm_first": "(batch, time) int64: each word's first character's position there",
            "lm_last": "(batch, time) int64: each word's last character's position there"})
        dynamic.update({"lm_chars": {0: "batch", 1: "length"},
                        "lm_first": {0: "batch", 1: "time"}, "lm_last": {0: "batch", 1: "time"}})
        meta["lm_chars"] = c.lm_chars
    decoder = model.decoder
    decoding = {"decoder": c.decoder,
                "allowed_start": decoder.constraint.start_allowed.bool().tolist(),
                "allowed": decoder.constraint.allowed.bool().tolist(),
                "allowed_end": decoder.constraint.end_allowed.bool().tolist()}
    if c.decoder == "crf":  # Viterbi beside the graph: emissions plus these scores
        decoding.update({name: getattr(decoder, name).detach().tolist()
                         for name in ("start", "transitions", "end")})
    return Exported({"": Graph(fused_copy(model), example, inputs, outputs, dynamic)},
                    {"config": asdict(c), "vocab": tagger.vocab.words.to_dict(),
                     "chars": tagger.vocab.chars.to_dict(), "tags": tagger.tags.to_dict(),
                     "features": tagger.vocab.features.to_dict(), "decoding": decoding,
                     "lowercase": tagger.data.lowercase,
                     "max_word_length": tagger.data.max_word_length, **meta})


def exporters() -> dict[str, Callable[[str | Path, str], Exported]]:
    """The kinds that export, and how (each registry.Kind's `export`): kind -> (run folder,
    weights) -> its graphs."""
    return {kind.name: registry.resolve(kind.export) for kind in registry.kinds()
            if kind.export is not None}
