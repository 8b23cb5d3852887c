"""`seqrnn serve`: the web page and JSON API over trained models, under uvicorn."""

from __future__ import annotations

import argparse
import errno
import ipaddress
import socket
import sys

from seqrnn import registry
from seqrnn.cli import options
from seqrnn.configs import ServeLimits
from seqrnn.errors import UserError


def register(subparsers) -> None:
    p = options.command(subparsers, "serve", _serve)
    m = p.add_argument_group("models (at least one)")
    m.add_argument("--model", type=options.path_arg, action="append", default=[],
                   metavar="RUN_DIR", help="a trained run folder of any kind, read from its "
                   "config.json; repeat it for several kinds, or for an ensemble of a kind that "
                   "has one")
    for kind in servable():
        m.add_argument(f"--{kind}", type=options.path_arg, action="append", metavar="RUN_DIR",
                       help=f"a `seqrnn {kind} train` run folder; repeat it for an ensemble, "
                       "where the kind has one (runs of the same data and split)")
    s = p.add_argument_group("server")
    s.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only; the "
                   "server has no authentication)")
    s.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    s.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads per computation (default: 1; concurrent requests "
                   "already run in parallel, and small models gain nothing from more)")
    limits = p.add_argument_group("limits per request")
    for name, help in REQUEST_LIMITS.items():
        options.add(limits, ServeLimits, name, help)
    load = p.add_argument_group("load")
    options.add(load, ServeLimits, "max_generation_work", "hypotheses generated or transduced "
                "at once, all requests together (a sample counts 1, a beam its width, a "
                "transduction its sources times its beam); more waits for none: it is "
                "answered 503 with Retry-After, and the classifier never waits behind it")


# The ServeLimits fields that bound one request, with their flags' help.
REQUEST_LIMITS = {
    "max_review_chars": "longest review, in characters",
    "max_generate_length": "most characters (or words, from a word model) one generation may "
                           "ask for",
    "max_prime_chars": "longest prime, in characters",
    "max_inspect_chars": "longest text to inspect, in characters",
    "max_source_chars": "longest source to transduce, in characters",
    "max_series_points": "longest series to forecast, in values",
    "max_tag_chars": "most characters of the sentences of one request to tag",
}


def servable() -> list[str]:
    """The kinds the server can load, each a --KIND flag (registry.Kind.serve)."""
    return [kind.name for kind in registry.kinds() if kind.serve is not None]


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _serve(args: argparse.Namespace) -> int:
    """a web page and JSON API for trained models

    Serve a page (review classification with the prediction after every word, streamed text
    generation, a look inside the language model, transduction) and its JSON API, for every kind
    of model: a word model's words are streamed at POST /api/wordlm. Models are loaded once,
    before the server starts. Needs the serve extra: pip install 'seqrnn[serve]'.
    """
    try:
        import uvicorn

        from seqrnn.serve.app import build_app, load_runs
    except ImportError as exc:
        raise UserError(f"seqrnn serve needs FastAPI and uvicorn ({exc}): "
                        "pip install 'seqrnn[serve]'") from None
    if not 0 < args.port < 65536:
        raise UserError(f"--port must be between 1 and 65535, got {args.port}")
    if args.threads < 1:
        raise UserError(f"--threads must be at least 1, got {args.threads}")
    import torch

    from seqrnn.trainer.process import check_threads

    check_threads(args.threads)
    torch.set_num_threads(args.threads)
    limits = ServeLimits(**options.chosen(args, ServeLimits))
    app = build_app(load_runs({kind: getattr(args, kind) for kind in servable()},
                              runs=args.model), limits)
    listening = _bind(args.host, args.port)
    if not _is_loopback(args.host):
        print(f"seqrnn: warning: listening on {args.host}, reachable from other machines; "
              "the server has no authentication", file=sys.stderr)
    server = uvicorn.Server(uvicorn.Config(app, log_level="info"))
    server.run(sockets=[listening])
    return 0


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that a taken port or a foreign address is one line
    (uvicorn would log several and exit with status 3)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise UserError(f"--host {host} is not an address or a name this machine can resolve "
                        f"({exc}): use 127.0.0.1, or an address of this machine") from None
    listening = socket.socket(family, kind, proto)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind(address)
        listening.listen(2048)
    except OSError as exc:
        listening.close()
        if exc.errno == errno.EADDRINUSE:
            raise UserError(f"port {port} on {host} is in use: stop the program using it, or "
                            "choose another --port") from None
        raise UserError(f"cannot listen on {host} port {port} ({exc.strerror}): use "
                        "127.0.0.1, or an address of this machine") from None
    return listening
