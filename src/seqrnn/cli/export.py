"""`seqrnn export`: a trained model as an ONNX graph, with its vocabulary and labels as JSON."""

from __future__ import annotations

import argparse
import sys

from seqrnn.cli import kind_commands, options
from seqrnn.errors import UserError


def register(subparsers) -> None:
    p = kind_commands.model_command(subparsers, "export", _export)
    p.add_argument("--out", type=options.path_arg, required=True, metavar="FILE.onnx",
                   help="the graph to write; FILE.onnx.json goes beside it")
    kind_commands.add_weights_flag(
        p, help="which checkpoint (default: best; a classifier keeps only its best)")
    options.add_overwrite_flag(p, "FILE.onnx and FILE.onnx.json")


def _export(args: argparse.Namespace) -> int:
    """write a trained model as ONNX, for runtimes outside Python

    Write a trained model as ONNX: a character or word language model (one step of any length,
    its state in and out), a sentiment classifier (right-padded ids and lengths in, P(positive)
    out) or an encoder-decoder (FILE.onnx the encoder, FILE.decoder.onnx one decoder step), and
    a JSON file beside it with the vocabularies, the labels, the configuration and the inputs
    and outputs. Needs the export extra: pip install 'seqrnn[export]'.
    """
    try:
        import onnx  # noqa: F401 - torch's exporter writes the graph with it
    except ImportError:
        raise UserError("exporting needs the onnx package: pip install 'seqrnn[export]'") \
            from None
    from seqrnn.api.export import export, sidecar

    meta = export(args.model, args.out, weights=args.weights, overwrite=args.overwrite)
    others = "".join(f", {meta[name]['onnx']}" for name in ("decoder",) if name in meta)
    print(f"wrote {args.out}{others} and {sidecar(args.out)} ({meta['kind']}; "
          f"inputs {', '.join(meta['inputs'])}; outputs {', '.join(meta['outputs'])})",
          file=sys.stderr)
    return 0
