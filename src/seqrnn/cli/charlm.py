"""`seqrnn charlm train|sample|evaluate`: the character language model."""

from __future__ import annotations

import argparse
import sys

from seqrnn import jsontext
from seqrnn.cli import conditioned, kind_commands, options
from seqrnn.errors import UserError


def register(subparsers) -> None:
    from seqrnn.cli.charlm_inspect import register_inspect

    kind_commands.kind_group(
        subparsers, "charlm", help="character-level language model: train, sample, evaluate",
        description="A character-level recurrent language model trained with truncated BPTT.",
        commands=[_register_train, _register_sample, _register_evaluate, register_inspect])


def _register_train(commands) -> None:
    kind_commands.train_command(
        commands, "charlm", "Train a character language model.", _train_flags,
        lambda best: f"loss {best['loss']:.4f} nats/char ({best['bits_per_char']:.4f} bits/char)",
        then=kind_commands.print_sample)


def _train_flags(p: argparse.ArgumentParser) -> None:
    from seqrnn.configs import CharLMConfig, CharLMData

    kind_commands.add_sample_length_flag(p, "characters", 300)

    d = p.add_argument_group("data")
    options.add(d, CharLMData, "text", "a UTF-8 text file, a folder of *.txt files, a quoted "
                "glob ('books/**/*.md'), or a dataset name: hamlet, tinyshakespeare; with "
                "--condition, imdb or a table (CSV, TSV, JSON lines) whose rows are the documents")
    options.add(d, CharLMData, "encoding", "encoding of the text file")
    options.add(d, CharLMData, "val_fraction", "last fraction of the text held out for validation")
    options.add(d, CharLMData, "test_fraction", "fraction at the very end held out for a test "
                "(never used in training)")
    options.add(d, CharLMData, "batch_size", "rows the text stream is cut into")
    options.add(d, CharLMData, "num_steps", "window length: steps of truncated BPTT")
    options.add(d, CharLMData, "eval_rows", "rows the validation text is cut into for evaluation")
    options.add(d, CharLMData, "eval_tokens", "characters each evaluation during training scores: "
                "a fixed, seeded sample of the validation text (0: all of it; default: all up "
                "to 2 million, a sample of 2 million beyond)")
    options.add(d, CharLMData, "reverse", "train on the text read back to front (after the "
                "split): the backward model of a tagger's --char-lm-backward", action="store_true")

    m = p.add_argument_group("model")
    options.add_recurrent_flags(m, CharLMConfig, "units per recurrent layer")
    options.add(m, CharLMConfig, "dropout", "dropout between layers and before the output layer "
                "(the lecture's keep probability 0.5 is dropout 0.5)")
    options.add(m, CharLMConfig, "input", "character input: one-hot vectors (the lecture) or a "
                "learned embedding", choices=["onehot", "embedding"])
    options.add(m, CharLMConfig, "embedding_dim", "embedding size with --input embedding")
    options.add_impl_flag(m, CharLMConfig)
    conditioned.add_train_flags(d, m, CharLMData, CharLMConfig, "charlm")


def _register_sample(commands) -> None:
    p = kind_commands.model_command(commands, "sample", _sample)
    p.add_argument("--prime", default="The ", help="text the sample starts from (default: 'The ')")
    p.add_argument("--length", type=int, default=500,
                   help="characters to generate (default: 500)")
    options.add_sampling_flags(p, "character")
    p.add_argument("--num-samples", type=int, default=1,
                   help="how many samples, generated as one batch; sample i is the one --seed "
                   "SEED+i gives alone (default: 1)")
    p.add_argument("--quiet", action="store_true", help="print only the generated text")
    kind_commands.add_checkpoint_flags(p)


def _register_evaluate(commands) -> None:
    p = kind_commands.model_command(commands, "evaluate", _evaluate)
    p.add_argument("--text", type=options.path_arg, metavar="FILE_OR_NAME",
                   help="a text file of any size (read a chunk at a time), a folder of .txt "
                   "files, a quoted glob, or a dataset name (hamlet, tinyshakespeare); "
                   "default: the run's whole validation split")
    p.add_argument("--encoding", default="utf-8", help="encoding of the text (default: utf-8)")
    p.add_argument("--num-steps", type=int, default=100, help="window length (default: 100)")
    p.add_argument("--rows", type=int, default=32,
                   help="rows the text is cut into, each starting from a zero state (default: 32)")
    conditioned.add_evaluate_flags(p, "character")
    kind_commands.add_checkpoint_flags(p)


def _sample(args: argparse.Namespace) -> int:
    """generate text from a trained model

    Generate text, streamed as it is produced.
    """
    from seqrnn.api.charlm import LanguageModel

    if args.num_samples < 1:
        raise UserError(f"--num-samples must be at least 1, got {args.num_samples}")
    lm = LanguageModel.load(args.model, weights=args.weights, device=args.device)
    sampling = options.sampling_options(args)
    if args.num_samples == 1 and not lm.reverse:  # streamed as it is generated
        stream = lm.stream(args.prime, args.length, seed=args.seed, **sampling)
        first = next(stream, "")  # validates the options before anything is printed
        if not args.quiet:
            print("--- sample 1 of 1 ---", flush=True)
        sys.stdout.write(args.prime + first)
        for piece in stream:
            sys.stdout.write(piece)
            sys.stdout.flush()
        sys.stdout.write("\n")
        return 0
    texts = lm.samples(args.prime, args.length, args.num_samples, seed=args.seed, **sampling)
    for i, text in enumerate(texts):
        if not args.quiet:
            print(f"--- sample {i + 1} of {args.num_samples} ---")
        print(text)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    """loss and bits per character of a text; a conditioned model's condition gap and control

    Print one JSON object: loss (nats per character), bits per character, perplexity and the
    characters scored. Without --text, of the run's whole validation split (training scores a
    fixed sample of a large one: --eval-tokens); with --condition-gap and --classifier, those
    evaluations.
    """
    from seqrnn.api.charlm import LanguageModel

    if args.num_steps < 1 or args.rows < 1:
        raise UserError("--num-steps and --rows must be positive")
    lm = LanguageModel.load(args.model, weights=args.weights, device=args.device)
    progress = sys.stderr.isatty()
    print(jsontext.dumps(conditioned.evaluation(
        args, lm,
        lambda: lm.evaluate_file(args.text, encoding=args.encoding, num_steps=args.num_steps,
                                 rows=args.rows, progress=progress, condition=args.condition),
        lambda: lm.evaluate_validation(progress=progress,
                                       allow_changed_data=args.allow_changed_data))))
    return 0
