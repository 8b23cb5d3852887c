"""One memory budget, checked before allocating anything that grows with a flag or an input.

Every allocation a user can scale (a sampling batch, a beam, a sequence length, a stack of
layers, a gradient study, an input file) is estimated first, from shapes alone, and refused
in one line that names the fields to change when the estimate is over the budget. The
estimates count only the largest allocations, so they err on the side of running: they stop
the absurd (a terabyte asked for by a typo) at once, and what passes is still limited by the
machine.

The budget is the memory the system says is available (MemAvailable, or less where a
container's limit or `ulimit -v` leaves less; for training on a GPU, its free memory), or
the environment's SEQRNN_MEMORY_LIMIT (bytes, or with a K, M, G or T suffix: 512M, 8G). An
input file may have a tenth of it (`input_limit`); seqrnn.data.files reads every input
within that bound.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from seqrnn.errors import UserError

MEMORY_LIMIT_ENV = "SEQRNN_MEMORY_LIMIT"
FLOAT_BYTES = 4
GIB = 2**30
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", re.IGNORECASE)


def parse_size(text: str, where: str) -> int:
    """Bytes of a size such as 1000000, 512M or 1.5GiB; UserError naming `where` otherwise."""
    match = _SIZE.fullmatch(text)
    if match is None or float(match.group(1)) <= 0:
        raise UserError(f"{where} must be a positive size such as 8G or 512M, got {text!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def available_memory() -> int | None:
    """Bytes a new allocation can have without swapping: MemAvailable (free memory plus the
    page cache the kernel can drop), else the free pages; None where the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_headroom() -> int | None:
    """Bytes this process's control group (a container's memory limit) may still use."""
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as f:
            limit = f.read().strip()
        if limit == "max":
            return None
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as f:
            return int(limit) - int(f.read())
    except (OSError, ValueError):
        return None


def _address_space_headroom() -> int | None:
    """Bytes of address space left under `ulimit -v` (RLIMIT_AS), None when unlimited."""
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        if limit == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/statm", encoding="ascii") as f:
            mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        return limit - mapped
    except (ImportError, OSError, ValueError, IndexError):
        return None


def _gpu_free(device) -> int | None:
    """Bytes free on a CUDA device, where torch can say."""
    import torch

    try:
        return torch.cuda.mem_get_info(device)[0]
    except (RuntimeError, AssertionError, ValueError):
        return None


def memory_limit(device=None) -> int | None:
    """The budget in bytes: SEQRNN_MEMORY_LIMIT if set; on a CUDA `device` (a torch.device)
    its free memory; else the least of the available memory, a container's remaining memory
    and the address space `ulimit -v` leaves."""
    given = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if given:
        return parse_size(given, MEMORY_LIMIT_ENV)
    if getattr(device, "type", None) == "cuda" and (free := _gpu_free(device)) is not None:
        return free
    known = [m for m in (available_memory(), _cgroup_headroom(), _address_space_headroom())
             if m is not None]
    return max(0, min(known)) if known else None


def describe_bytes(count: float) -> str:
    if count >= 1024 * GIB:
        return f"{count / (1024 * GIB):,.1f} TiB"
    if count >= GIB:
        return f"{count / GIB:,.1f} GiB"
    if count >= 2**20:
        return f"{count / 2**20:,.1f} MiB"
    return f"{count / 2**10:,.1f} KiB"


def check_memory(need: float, what: str, fix: str, *, fields: tuple[str, ...] = (),
                 device=None) -> None:
    """Refuse `what` (a phrase: "sampling 5 texts of 100 characters") when the estimate `need`
    (bytes) is over the budget of `device` (None: the host); `fix` says which fields to
    lower, as `{field}` placeholders."""
    limit = memory_limit(device)
    if limit is not None and need > limit:
        raise UserError(f"{what} would need at least {describe_bytes(need)} of memory, more "
                        f"than the {describe_bytes(limit)} available: {fix} (or raise "
                        f"{MEMORY_LIMIT_ENV})", fields=fields)


# Memory per byte of an input file: the bytes, the decoded text (up to 4 bytes a character),
# its lines or token ids. An input file may have the budget's share that this leaves.
INPUT_EXPANSION = 10


def input_limit() -> int | None:
    """The most bytes of one input file (or pipe) that are read, None where nothing bounds it."""
    limit = memory_limit()
    return None if limit is None else limit // INPUT_EXPANSION


def on_meta_device(build: Callable[[], Any]) -> Any:
    """`build()`'s model on torch's meta device: shapes without memory, so sizes too large to
    allocate are checked before anything is. None where an initialisation cannot run there;
    OverflowError where a weight has more bytes than torch counts (a size no machine has). A
    UserError of `build` (a size seqrnn does not build) passes."""
    import torch

    try:
        with torch.device("meta"):
            return build()
    except UserError:
        raise
    except RuntimeError as exc:
        if "overflow" in str(exc):
            raise OverflowError(str(exc)) from None
        return None
    except Exception:
        return None


GATES = {"rnn": 1, "gru": 3, "lstm": 4}
TRAINING_COPIES = 4  # float32 weights, their gradients and Adam's two moments
VOCABULARY_FIELDS = ("vocab_size", "source_vocab_size", "target_vocab_size")


def estimated_weights(config) -> float:
    """The largest weights a model config names, counted from its sizes alone: the recurrent
    layers' hidden-to-hidden matrices and the embedding tables (vocabulary x embedding_dim;
    before the data is read, the vocabularies' sizes are placeholders)."""
    recurrent = _stacked_layers(config) * _gates(config) * float(config.hidden_size) ** 2
    vocabulary = sum(getattr(config, name, 0) for name in VOCABULARY_FIELDS)
    return recurrent + float(vocabulary) * _embedding_dim(config)


def kept_per_step(config) -> float:
    """Floats backpropagation keeps for each step of each row: every layer's gate activations
    and state, and the step's embedded input with its gradient."""
    layers = _stacked_layers(config) * (_gates(config) + 2) * config.hidden_size
    return float(layers + 2 * _embedding_dim(config))


def training_bytes(weights: float, rows: int, steps: int, per_step: float) -> float:
    """A lower bound on the memory to train `weights` parameters on (rows, steps) batches: the
    weights in float32 with their gradients and Adam's two moments (TRAINING_COPIES), and what
    backpropagation keeps, `per_step` floats for each step of each row."""
    return FLOAT_BYTES * (TRAINING_COPIES * weights + float(rows) * steps * per_step)


def _gates(config) -> int:
    return GATES.get(getattr(config, "cell", "lstm"), 1)


def _stacked_layers(config) -> int:
    return getattr(config, "num_layers", 1) * (2 if getattr(config, "bidirectional", False) else 1)


def _embedding_dim(config) -> int:
    """The width of the model's embedding; 0 for a character model reading one-hot rows."""
    embedded = getattr(config, "input", "embedding") == "embedding"
    return getattr(config, "embedding_dim", 0) if embedded else 0


def check_training(config, batch: tuple[int, int, str] | None, device=None, *,
                   build: Callable[[], Any] | None = None) -> None:
    """Refuse training a model config (any task's) on `device` (None: the host) when it cannot
    fit: its weights with their gradients and Adam's moments, and what backpropagation keeps
    of the largest batch, `batch` (rows, steps, the field that sets the steps; None: the
    weights alone). Checked before the data is read, the weights estimated from the config;
    and once the data has decided the rest, with `build` (a function making the model): its
    weights are then counted exactly, on the meta device, before one is allocated."""
    from seqrnn.nn.layers import check_layers

    layers = getattr(config, "num_layers", 1)
    check_layers(layers)  # a deep stack is refused before anything is estimated or built
    hidden = getattr(config, "hidden_size", None)
    weights = None if hidden is None else estimated_weights(config)
    if build is not None:
        try:
            model = on_meta_device(build)
        except OverflowError:
            raise UserError("the model is far too large for any machine (a weight tensor's size "
                            "overflows): choose smaller sizes") from None
        if model is not None:
            weights = float(sum(p.numel() for p in model.parameters()))
    if weights is None:
        return
    if hidden is None:  # a model of the user's own task: its weights alone
        check_memory(training_bytes(weights, 0, 0, 0), f"training a model of {weights:,.0f} "
                     "weights", "choose smaller sizes", device=device)
        return
    rows, steps, steps_field = batch or (0, 0, None)
    need = training_bytes(weights, rows, steps, kept_per_step(config))
    what = f"training a {layers}-layer model of {hidden:,} units"
    fields = ("hidden_size", "num_layers")
    if batch is not None:
        what += f" on batches of {rows:,} x {steps:,} steps"
        fields = ("batch_size", steps_field, *fields)
    fix = "choose a smaller " + ", ".join(f"{{{name}}}" for name in fields[:-1])
    check_memory(need, what, f"{fix} or {{{fields[-1]}}}", fields=fields, device=device)


TEXT_BYTES = 16  # per generated token: its id in a Python list, its character, the copies


def check_generation_memory(config, prime_length: int, length: int, streams: int,
                            beam: int = 1) -> None:
    """Refuse generating `streams` texts (or one with a `beam`) of `length` tokens from a
    prime of `prime_length`, when it cannot fit: the prime's scores, each chunk's random
    draws (streams x steps x vocabulary) or the beam's scores, every row's recurrent state,
    and the texts themselves."""
    from seqrnn.inference.generation import LAST_CHUNK  # the most steps drawn for at once

    rows = streams * beam
    vocab, hidden = config.vocab_size, config.hidden_size
    state = getattr(config, "num_layers", 1) * 2 * hidden
    need = (float(streams) * FLOAT_BYTES * prime_length * vocab
            + float(rows) * (FLOAT_BYTES * state + TEXT_BYTES * length))
    if beam > 1:
        need += rows * 4 * FLOAT_BYTES * vocab  # scores, their log-softmax, in float64
        what = f"a beam of {beam} hypotheses of {length:,} tokens"
        fix, fields = "lower {beam} or {length}", ("beam", "length")
    else:
        need += float(streams) * FLOAT_BYTES * min(length, LAST_CHUNK) * vocab
        what = f"generating {streams:,} texts of {length:,} tokens"
        fix, fields = "lower {length}", ("length",)
        if streams > 1:
            fix, fields = "lower {num_samples} or {length}", ("num_samples", "length")
    check_memory(need, what, fix, fields=fields)


def check_gradient_study(hidden_size: int, steps: int, curves: int) -> None:
    """Refuse a gradient study (seqrnn.analysis.gradients) that cannot fit, in float64: ten
    (H, H) weight matrices, the LSTM's (2H, 2H) Jacobian, running product and temporaries,
    and both models' (steps, H) inputs."""
    size = float(hidden_size)
    need = 8 * (10 * size * size + 4 * (2 * size) ** 2 + 2 * steps * size + steps * curves)
    check_memory(need, f"a gradient study of {hidden_size:,} units over {steps:,} steps",
                 "lower {hidden_size} or {steps}", fields=("hidden_size", "steps"))
