"""`seqrnn charlm train|sample|evaluate`: the character language model."""

from __future__ import annotations

import argparse
import sys

from seqrnn import jsontext
from seqrnn.cli import options
from seqrnn.errors import UserError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "charlm", help="character-level language model: train, sample, evaluate",
        description="A character-level recurrent language model trained with truncated BPTT.",
    )
    commands = parser.add_subparsers(dest="charlm_command", metavar="COMMAND", required=True)
    _register_train(commands)
    _register_sample(commands)
    _register_evaluate(commands)
    from seqrnn.cli.charlm_inspect import register_inspect

    register_inspect(commands)


def _register_train(commands) -> None:
    from seqrnn.configs import CharLMConfig, CharLMData

    p = commands.add_parser("train", help="train a model into a run folder",
                            description="Train a character language model. "
                            + options.defaults_sentence("charlm"))
    options.add_run_flags(p, "charlm")
    p.add_argument("--sample-length", type=int, default=300,
                   help="print a sample of this many characters from the best model at the end "
                   "(0: none; default: 300)")

    d = p.add_argument_group("data")
    options.add(d, CharLMData, "text", "a UTF-8 text file, or a dataset name: hamlet, "
                "tinyshakespeare")
    options.add(d, CharLMData, "encoding", "encoding of the text file")
    options.add(d, CharLMData, "val_fraction", "last fraction of the text held out for validation")
    options.add(d, CharLMData, "test_fraction", "fraction at the very end held out for a test "
                "(never used in training)")
    options.add(d, CharLMData, "batch_size", "rows the text stream is cut into")
    options.add(d, CharLMData, "num_steps", "window length: steps of truncated BPTT")
    options.add(d, CharLMData, "eval_rows", "rows the validation text is cut into for evaluation")

    m = p.add_argument_group("model")
    options.add(m, CharLMConfig, "cell", "recurrent cell", choices=["lstm", "gru", "rnn"])
    options.add(m, CharLMConfig, "hidden_size", "units per recurrent layer")
    options.add(m, CharLMConfig, "num_layers", "stacked recurrent layers")
    options.add(m, CharLMConfig, "dropout", "dropout between layers and before the output layer "
                "(the lecture's keep probability 0.5 is dropout 0.5)")
    options.add(m, CharLMConfig, "input", "character input: one-hot vectors (the lecture) or a "
                "learned embedding", choices=["onehot", "embedding"])
    options.add(m, CharLMConfig, "embedding_dim", "embedding size with --input embedding")
    options.add(m, CharLMConfig, "impl", "torch's fused layers (fast) or seqrnn's explicit cells "
                "(for teaching)", choices=["fused", "explicit"])

    options.add_train_loop_flags(p, "charlm")
    p.set_defaults(run=_train)


def _register_sample(commands) -> None:
    p = commands.add_parser("sample", help="generate text from a trained model",
                            description="Generate text, streamed as it is produced.")
    p.add_argument("--model", type=options.path_arg, required=True, metavar="RUN_DIR",
                   help="a trained run folder")
    p.add_argument("--prime", default="The ", help="text the sample starts from (default: 'The ')")
    p.add_argument("--length", type=int, default=500,
                   help="characters to generate (default: 500)")
    options.add_sampling_flags(p, "character")
    p.add_argument("--num-samples", type=int, default=1,
                   help="how many samples, generated as one batch; sample i is the one --seed "
                   "SEED+i gives alone (default: 1)")
    p.add_argument("--quiet", action="store_true", help="print only the generated text")
    p.add_argument("--weights", choices=["best", "latest"], default="best",
                   help="which checkpoint of the run (default: best)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"],
                   help="where to run (default: cpu)")
    p.set_defaults(run=_sample)


def _register_evaluate(commands) -> None:
    p = commands.add_parser("evaluate", help="loss and bits per character of a text",
                            description="Print one JSON object: loss (nats per character), bits "
                            "per character, perplexity and the characters scored.")
    p.add_argument("--model", type=options.path_arg, required=True, metavar="RUN_DIR",
                   help="a trained run folder")
    p.add_argument("--text", type=options.path_arg, required=True, metavar="FILE_OR_NAME",
                   help="a text file or dataset name (hamlet, tinyshakespeare)")
    p.add_argument("--encoding", default="utf-8", help="encoding of the text (default: utf-8)")
    p.add_argument("--num-steps", type=int, default=100, help="window length (default: 100)")
    p.add_argument("--rows", type=int, default=32,
                   help="rows the text is cut into, each starting from a zero state (default: 32)")
    p.add_argument("--weights", choices=["best", "latest"], default="best",
                   help="which checkpoint of the run (default: best)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"],
                   help="where to run (default: cpu)")
    p.set_defaults(run=_evaluate)


def _train(args: argparse.Namespace) -> int:
    from seqrnn.api.charlm import LanguageModel

    result, run_dir = options.train_or_resume(args, "charlm")
    if not result.is_main:  # another process of a torchrun job: rank 0 reports for all
        return 130 if result.stopped == "interrupted" else 0
    print(f"stopped ({result.stopped}) at step {result.step}, epoch {result.epoch}; "
          f"best validation loss {result.best_eval['loss']:.4f} nats/char "
          f"({result.best_eval['bits_per_char']:.4f} bits/char); run folder {run_dir}",
          file=sys.stderr)
    status = options.training_status(result, run_dir, "charlm")
    if args.sample_length > 0 and status == 0:
        lm = LanguageModel.load(run_dir)
        print(lm.sample(lm.default_prime(), args.sample_length, seed=args.seed))
    return status


def _sample(args: argparse.Namespace) -> int:
    from seqrnn.api.charlm import LanguageModel

    if args.num_samples < 1:
        raise UserError(f"--num-samples must be at least 1, got {args.num_samples}")
    lm = LanguageModel.load(args.model, weights=args.weights, device=args.device)
    sampling = options.sampling_options(args)
    if args.num_samples == 1:  # streamed as it is generated
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
    from seqrnn.api.charlm import LanguageModel
    from seqrnn.data.text import load_text

    if args.num_steps < 1 or args.rows < 1:
        raise UserError("--num-steps and --rows must be positive")
    lm = LanguageModel.load(args.model, weights=args.weights, device=args.device)
    metrics = lm.evaluate(load_text(args.text, args.encoding), num_steps=args.num_steps,
                          rows=args.rows)
    print(jsontext.dumps(metrics))
    return 0
