"""`seqrnn wordlm train|sample|evaluate`: the word language model (AWD-LSTM)."""

from __future__ import annotations

import argparse
import sys
from functools import partial

from seqrnn import jsontext
from seqrnn.cli import conditioned, kind_commands, options

add = partial(options.add, kind="wordlm")  # flags whose defaults are wordlm's own


def register(subparsers) -> None:
    kind_commands.kind_group(
        subparsers, "wordlm", help="word-level language model (AWD-LSTM): train, sample, evaluate",
        description="A word-level AWD-LSTM language model trained with truncated BPTT; "
        "`seqrnn sentiment train --pretrained RUN_DIR` fine-tunes it into a classifier.",
        commands=[_register_train, _register_sample, _register_evaluate])


def _register_train(commands) -> None:
    kind_commands.train_command(commands, "wordlm", "Train a word language model (ULMFiT's "
                                "AWD-LSTM).", _train_flags,
                                lambda best: f"loss {best['loss']:.4f} nats/word "
                                f"(perplexity {best['perplexity']:.1f})",
                                then=kind_commands.print_sample)


def _train_flags(p: argparse.ArgumentParser) -> None:
    from seqrnn.configs import WordLMConfig, WordLMData

    kind_commands.add_sample_length_flag(p, "words", 40)

    d = p.add_argument_group("data")
    add(d, WordLMData, "data", "imdb (its training and unlabelled reviews, without the "
                "classifier's validation movies and never its test reviews), a .txt file, a "
                "folder of .txt files or a quoted glob (each file a document), or a table "
                "(CSV, TSV, JSON lines) with a text column")
    add(d, WordLMData, "text_column", "the table's text column")
    add(d, WordLMData, "encoding", "encoding of the files")
    add(d, WordLMData, "val_fraction", "fraction held out for validation (IMDb: the "
                "classifier's validation movies, drawn with --seed)")
    add(d, WordLMData, "min_freq", "words seen fewer times in training are unknown")
    add(d, WordLMData, "max_vocab", "keep at most this many words", type=int)
    add(d, WordLMData, "batch_size", "rows the token stream is cut into")
    add(d, WordLMData, "num_steps", "window length: steps of truncated BPTT")
    add(d, WordLMData, "eval_rows", "rows the validation stream is cut into")
    add(d, WordLMData, "eval_tokens", "tokens each evaluation during training scores: a fixed, "
        "seeded sample of the validation stream (0: all of it; default: all up to 2 million, "
        "a sample of 2 million beyond)")

    m = p.add_argument_group("model")
    add(m, WordLMConfig, "embedding_dim", "word vector size (the last layer's size "
                "when the weights are tied)")
    add(m, WordLMConfig, "hidden_size", "units of the inner LSTM layers")
    add(m, WordLMConfig, "num_layers", "stacked LSTM layers")
    add(m, WordLMConfig, "embedding_dropout", "drop whole words from the embedding")
    add(m, WordLMConfig, "input_dropout", "locked dropout on the word vectors")
    add(m, WordLMConfig, "hidden_dropout", "locked dropout between layers")
    add(m, WordLMConfig, "output_dropout", "locked dropout before the decoder")
    add(m, WordLMConfig, "weight_dropout", "DropConnect on the hidden-to-hidden weights")
    m.add_argument("--untied", dest="tie_weights", action="store_false", default=None,
                   help="a decoder of its own instead of the embedding matrix")
    m.add_argument("--cutoffs", type=int, nargs="*", metavar="ID",
                   help="adaptive softmax: the ids where each tail cluster starts; --cutoffs "
                   "alone: a full softmax (default: those of 2000 10000 below the vocabulary's "
                   "size)")
    conditioned.add_train_flags(d, m, WordLMData, WordLMConfig, "wordlm")


def _register_sample(commands) -> None:
    p = kind_commands.model_command(commands, "sample", _sample)
    kind_commands.add_checkpoint_flags(p)
    p.add_argument("--prime", default="", help="words the sample starts from (default: a new "
                   "document)")
    p.add_argument("--length", type=int, default=50, help="words to generate (default: 50)")
    options.add_sampling_flags(p, "word")


def _register_evaluate(commands) -> None:
    p = kind_commands.model_command(commands, "evaluate", _evaluate)
    kind_commands.add_checkpoint_flags(p)
    p.add_argument("--text", type=options.path_arg, metavar="FILE",
                   help="a text file of any size (read a chunk at a time), as one document; "
                   "default: the run's whole validation split")
    p.add_argument("--encoding", default="utf-8", help="encoding of the text (default: utf-8)")
    conditioned.add_evaluate_flags(p, "word")


def _sample(args: argparse.Namespace) -> int:
    """generate words from a trained model

    Generate words, streamed as they are produced; a sample ends at the end of a document, after
    --length words, after the word that completes a --stop string, or at --time-limit.
    """
    from seqrnn.api.wordlm import WordLanguageModel

    lm = WordLanguageModel.load(args.model, weights=args.weights, device=args.device)
    words = lm.stream(args.prime, args.length, seed=args.seed, **options.sampling_options(args))
    first = next(words, None)  # checks the options before anything is printed
    shown = [*args.prime.split(), *([] if first is None else [first])]
    sys.stdout.write(" ".join(shown))
    for word in words:
        sys.stdout.write(" " + word)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    """loss and perplexity of a text; a conditioned model's condition gap and control

    Print one JSON object: loss (nats per word), perplexity, the words scored and how many were
    unknown. Without --text, of the run's whole validation split (training scores a fixed sample
    of a large one: --eval-tokens); with --condition-gap and --classifier, those evaluations.
    """
    from seqrnn.api.wordlm import WordLanguageModel

    lm = WordLanguageModel.load(args.model, weights=args.weights, device=args.device)
    progress = sys.stderr.isatty()
    print(jsontext.dumps(conditioned.evaluation(
        args, lm,
        lambda: lm.evaluate_file(args.text, encoding=args.encoding, progress=progress,
                                 condition=args.condition),
        lambda: lm.evaluate_validation(progress=progress,
                                       allow_changed_data=args.allow_changed_data))))
    return 0
