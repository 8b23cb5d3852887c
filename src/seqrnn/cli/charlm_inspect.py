"""`seqrnn charlm inspect`: a page of the text coloured by the model's most readable cells."""

from __future__ import annotations

import argparse
import sys

from seqrnn.cli import kind_commands, options
from seqrnn.errors import UserError


def register_inspect(commands) -> None:
    """Add `inspect` to the subcommands of `seqrnn charlm`."""
    p = kind_commands.model_command(commands, "inspect", _inspect)
    p.add_argument("--text", type=options.path_arg, required=True, metavar="FILE_OR_NAME",
                   help="a text file or dataset name (hamlet, tinyshakespeare)")
    p.add_argument("--out", type=options.path_arg, required=True, metavar="DIR",
                   help="folder for index.html and cells.json")
    options.add_overwrite_flag(p, "index.html and cells.json")
    p.add_argument("--encoding", default="utf-8", help="encoding of the text (default: utf-8)")
    p.add_argument("--start", type=int, default=0,
                   help="skip this many characters of the text first (default: 0)")
    p.add_argument("--max-chars", type=int, default=3000,
                   help="read at most this many characters (default: 3000)")
    p.add_argument("--cells", type=int, default=8, help="how many cells to show (default: 8)")
    p.add_argument("--state", choices=["c", "h"],
                   help="colour by the cell state c (LSTM only) or the hidden state h "
                   "(default: c for an LSTM, h otherwise)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default: 1: the model reads one character at a time, "
                   "too little work to share)")


def _inspect(args: argparse.Namespace) -> int:
    """an HTML page of a text coloured by chosen cell activations

    Read a text with a trained model, pick the cells that correlate best with simple features of
    the text (position in the line, inside brackets or quotes, a speaker's name, ...) and write
    DIR/index.html with the text coloured by each of them, and DIR/cells.json with the same
    data. Prints one line per chosen cell.
    """
    from seqrnn.analysis.inspect_cells import inspect
    from seqrnn.analysis.inspect_page import OUTPUT_FILES, write_page
    from seqrnn.api.charlm import LanguageModel
    from seqrnn.data.text import load_text
    from seqrnn.outputs import check_folder_files

    if args.start < 0 or args.max_chars < 2:
        raise UserError("--start must be zero or positive and --max-chars at least 2")
    if args.threads < 1:
        raise UserError(f"--threads must be at least 1, got {args.threads}")
    import torch

    from seqrnn.trainer.process import check_threads

    check_threads(args.threads)
    check_folder_files(args.out, OUTPUT_FILES, overwrite=args.overwrite)  # before the work
    torch.set_num_threads(args.threads)
    lm = LanguageModel.load(args.model)
    text = load_text(args.text, args.encoding)[args.start : args.start + args.max_chars]
    inspection = inspect(lm, text, cells=args.cells, state=args.state)
    page = write_page(inspection, args.out, title=f"Cells of {args.model} reading {args.text}",
                      overwrite=args.overwrite)
    if inspection.dropped_chars:
        print(f"left out {len(text) - len(inspection.text)} characters the model never saw: "
              f"{''.join(inspection.dropped_chars)!r}", file=sys.stderr)
    for cell in inspection.chosen:
        print(f"layer {cell.layer + 1} cell {cell.unit:4d}  {cell.feature:<17} "
              f"r = {cell.correlation:+.3f}")
    print(f"wrote {page}", file=sys.stderr)
    return 0
