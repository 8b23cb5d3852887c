"""Training and sampling speed of the character language model, and where a training step goes.

    SEQRNN_DATA=/work/shared/data python bench/charlm_throughput.py [--threads 2] [--steps 30]
        [--warmup 5] [--text hamlet] [--configs lecture,h256,e512,l2h256,e256,e512amp]
        [--base lecture] [--parts peak,training,sampling,profile,variants]

Prints one JSON object (and each figure on stderr as soon as it is measured):

- `peak_gflops`: fp32 and bf16 GFLOP/s of a 4096 x 4096 torch.mm on `--threads` (and fp32
  on 1 thread).
- `training`: per configuration, milliseconds per step and characters per second of the real
  training loop (`Trainer.fit` with `max_steps`, a metrics record every step: the median step
  after `--warmup` steps), the FLOPs of a step, the GFLOP/s of the whole step, and the GFLOP/s
  of the recurrent layers alone (the model's LSTM, forward and backward on its own).
- `sampling`: for each of `--sampling-models` (the lecture's model, its GRU and RNN, and
  larger ones), characters per second of one stream on 1 thread (untrained weights: the speed
  does not depend on them), before (`CharLM.generate`, a torch call per character) and now
  (`LanguageModel.stream`, compiled), interleaved; their FLOPs per character and share of the
  1-thread fp32 peak; and characters per second of batches of 1 to 64 streams.
- `profile`: a step of `--base` (default: the lecture's configuration) cut into parts with
  torch.profiler (ms per step).
- `variants`: speed-ups tried on `--base` by patching this process only (src/ is untouched),
  interleaved step by step with the baseline.

FLOPs counted (matrix multiplies only; the element-wise gate math is left out):
  LSTM layer l, forward: 2·B·T·4H·(I_l + H), with I_0 = V for one-hot input (the kernel
  multiplies the dense one-hot matrix), E for an embedding, and I_l = H above the first layer;
  output layer, forward: 2·B·T·H·V;
  backward ≈ 2 × forward (gradients of the inputs and of the weights): a step is 3 × forward.

The machine is shared: each part records the load average before and after it and the share
of the CPUs other processes used while it ran (`others_cpu_share`); step times are medians,
which a short burst of someone else's work does not move. Rerun a disturbed part alone with
`--parts`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from machine import cpu_flags, cpu_model, load_average
from torch import nn
from torch.autograd.profiler import record_function

from seqrnn.api.charlm import LanguageModel
from seqrnn.configs import CharLMConfig, CharLMData, TrainConfig
from seqrnn.data.text import CharVocab
from seqrnn.kinds import VOCAB_FILE
from seqrnn.models.charlm import CharLM
from seqrnn.recipes.base import Prepared
from seqrnn.recipes.charlm import RECIPE, CharLMObjective
from seqrnn.run import RunFolder
from seqrnn.trainer import Trainer
from seqrnn.trainer.process import configure


@dataclass(frozen=True)
class Setup:
    """One training configuration: model options and the truncated-BPTT window."""

    name: str
    model: dict = field(default_factory=dict)
    batch_size: int = 64
    num_steps: int = 100
    threads: int | None = None  # None: the --threads of the command line
    amp: bool = False  # the loop's --amp: bfloat16 autocast


CONFIGS = {
    "lecture": Setup("lecture"),  # LSTM 1 x 128, one-hot, batch 64, 100 steps
    "lectureamp": Setup("lectureamp", amp=True),  # the same under --amp on (--amp auto's test)
    "h256": Setup("h256", {"hidden_size": 256}),
    "e512": Setup("e512", {"hidden_size": 512, "input": "embedding"}),
    "l2h256": Setup("l2h256", {"hidden_size": 256, "num_layers": 2}),
    # The race's kind of model: no dropout, embedding input.
    "e256": Setup("e256", {"hidden_size": 256, "input": "embedding", "dropout": 0.0}),
    "e512amp": Setup("e512amp", {"hidden_size": 512, "input": "embedding"}, amp=True),
}


def _busy_and_own_seconds() -> tuple[float, float]:
    """CPU seconds all processes have used (from /proc/stat), and those this process has."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = ticks
    busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    own = os.times()
    return busy, own.user + own.system


@contextmanager
def conditions(into: dict) -> Iterator[None]:
    """Record the load average around a block and the share of the CPUs others used during it.

    The load average lags by a minute; `others_cpu_share` (0: the machine was ours, 0.5: other
    processes kept one of two cores busy) is what tells a clean figure from a disturbed one.
    """
    into["load_before"] = load_average()
    busy, own = _busy_and_own_seconds()
    start = time.monotonic()
    try:
        yield
    finally:
        wall = time.monotonic() - start
        busy_end, own_end = _busy_and_own_seconds()
        others = max(0.0, (busy_end - busy) - (own_end - own))
        into["load_after"] = load_average()
        into["others_cpu_share"] = round(others / (wall * (os.cpu_count() or 1)), 3)


# -- peak ------------------------------------------------------------------------------------


def matmul_gflops(n: int = 4096, dtype: torch.dtype = torch.float32,
                  seconds: float = 3.0) -> dict[str, float]:
    """GFLOP/s of an n x n torch.mm, best and median of repeated runs: the practical peak."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b  # warm-up: thread pool and packing buffers
    times = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    flop = 2 * n**3
    return {"best": round(flop / min(times) / 1e9, 1),
            "median": round(flop / statistics.median(times) / 1e9, 1)}


# -- FLOPs -----------------------------------------------------------------------------------


def step_flops(config: CharLMConfig, batch_size: int, num_steps: int) -> dict[str, float]:
    """Matrix-multiply FLOPs of one training step (forward + backward), by part."""
    if config.cell != "lstm":
        raise ValueError("the FLOP count is written for LSTM cells")
    bt, h, v = batch_size * num_steps, config.hidden_size, config.vocab_size
    first_input = v if config.input == "onehot" else config.embedding_dim
    lstm_forward = sum(2 * bt * 4 * h * ((first_input if layer == 0 else h) + h)
                       for layer in range(config.num_layers))
    head_forward = 2 * bt * h * v
    return {"lstm": 3 * lstm_forward, "head": 3 * head_forward,
            "total": 3 * (lstm_forward + head_forward)}


# -- the training loop, timed ----------------------------------------------------------------


def prepare(text: str) -> Prepared:
    """The text split and encoded as `seqrnn charlm train` does it (last 10% validation)."""
    data = CharLMData(text=text)
    return RECIPE.prepare(RECIPE.read(data, seed=1, progress=False), data, False, saved=None)


def vocab_of(prep: Prepared) -> CharVocab:
    return prep.files[VOCAB_FILE]


def train_ids_of(prep: Prepared) -> np.ndarray:
    return prep.sets.train


def build_trainer(prep: Prepared, setup: Setup, threads: int, max_steps: int,
                  run: RunFolder) -> Trainer:
    data = CharLMData(batch_size=setup.batch_size, num_steps=setup.num_steps)
    # Evaluate only once, after the timed steps; a record every step gives per-step timings.
    loop = TrainConfig(max_steps=max_steps, eval_every=10**9, log_every=1, progress=False,
                       device="cpu", threads=setup.threads or threads, amp=setup.amp)
    configure(loop.threads)  # what the task recipe does before training: threads, denormals
    task = CharLMObjective(prep.sets.train, prep.sets.val, data)
    torch.manual_seed(1)
    model = RECIPE.build_model(prep, setup.model)
    return Trainer(model, task, loop, run)


def time_training(prep: Prepared, setup: Setup, threads: int, steps: int, warmup: int) -> dict:
    """Median step of the real loop (`Trainer.fit`), from its per-step metrics records."""
    machine: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        run = RunFolder(tmp)
        trainer = build_trainer(prep, setup, threads, warmup + steps, run)
        with conditions(machine):
            trainer.fit()
        records = [json.loads(line) for line in run.metrics_path.open()]
    rates = [r["chars_per_s"] for r in records if r["kind"] == "train" and r["step"] > warmup]
    chars = setup.batch_size * setup.num_steps
    ms = sorted(1000 * chars / rate for rate in rates)
    median_ms = statistics.median(ms)
    return {"ms_per_step": round(median_ms, 2), "ms_per_step_mean": round(statistics.mean(ms), 2),
            "ms_per_step_min": round(ms[0], 2), "chars_per_s": round(1000 * chars / median_ms),
            "steps_timed": len(ms), **machine}


def time_lstm(model: CharLM, batch_size: int, num_steps: int, amp: bool,
              repeats: int = 15) -> float:
    """Median seconds of the recurrent layers alone, forward and backward, on random input."""
    rnn = model.rnn
    width = model.config.vocab_size if model.embedding is None else model.config.embedding_dim
    x = torch.randn(batch_size, num_steps, width)
    rnn.train()

    def once() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
            out, _ = rnn(x)
        out.float().sum().backward()

    for _ in range(3):
        once()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        once()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def training_figures(prep: Prepared, setup: Setup, threads: int, steps: int, warmup: int) -> dict:
    timing = time_training(prep, setup, threads, steps, warmup)
    config = CharLMConfig(**prep.model_fields, **setup.model)
    flops = step_flops(config, setup.batch_size, setup.num_steps)
    lstm_seconds = time_lstm(CharLM(config), setup.batch_size, setup.num_steps, setup.amp)
    return {
        "name": setup.name, "model": setup.model, "amp": setup.amp,
        "batch_size": setup.batch_size,
        "num_steps": setup.num_steps, **timing,
        "gflop_per_step": {k: round(v / 1e9, 3) for k, v in flops.items()},
        "step_gflops": round(flops["total"] / timing["ms_per_step"] / 1e6, 1),
        "lstm_alone_ms": round(1000 * lstm_seconds, 2),
        "lstm_alone_gflops": round(flops["lstm"] / lstm_seconds / 1e9, 1),
    }


# -- sampling --------------------------------------------------------------------------------


def reference_stream(lm: LanguageModel, length: int, seed: int) -> int:
    """Characters made by CharLM.generate, one torch call per character (the path before)."""
    generator = torch.Generator().manual_seed(seed)
    prime = torch.tensor(lm.vocab.encode("The "))
    return sum(1 for _ in lm.model.generate(prime, length, generator=generator))


def compiled_stream(lm: LanguageModel, length: int, seed: int) -> int:
    """Characters made by LanguageModel.stream (compiled where the machine has a C compiler)."""
    return len("".join(lm.stream("The ", length, seed=seed)))


SAMPLERS: dict[str, Callable[[LanguageModel, int, int], int]] = {
    "before: CharLM.generate, one torch call per character": reference_stream,
    "LanguageModel.stream": compiled_stream,
}


def sampling_flops(config: CharLMConfig) -> int:
    """Multiply-add FLOPs per character of the compiled path: the first layer's input is a row
    lookup (its product with every character is tabulated), then 2·G·H per recurrent matrix."""
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[config.cell] * config.hidden_size
    h = config.hidden_size
    recurrent = 2 * gates * h * (2 * config.num_layers - 1)
    return recurrent + 2 * h * config.vocab_size


# Models the sampling part times, as changes to the lecture's: every cell type, and larger.
SAMPLING_MODELS = {"lecture": {}, "gru": {"cell": "gru"}, "rnn": {"cell": "rnn"},
                   "l2h256": {"hidden_size": 256, "num_layers": 2},
                   "e512": {"hidden_size": 512, "input": "embedding"}}


def sampling_speed(prep: Prepared, length: int, threads: int, peak_1_thread: float,
                   model: str = "lecture", repeats: int = 5) -> dict:
    """Characters per second of one stream by each sampler, interleaved run by run, and of
    batches of streams (`LanguageModel.samples`)."""
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    config = CharLMConfig(**{**prep.model_fields, **SAMPLING_MODELS[model]})
    lm = LanguageModel(CharLM(config), vocab_of(prep))
    flops = sampling_flops(config)
    for run in SAMPLERS.values():
        run(lm, 50, 0)  # warm-up (and the compiler's one build)
    machine: dict = {}
    seconds: dict[str, list[float]] = {name: [] for name in SAMPLERS}
    batches = []
    with conditions(machine):
        for seed in range(repeats):
            for name, run in SAMPLERS.items():
                start = time.perf_counter()
                produced = run(lm, length, seed)
                seconds[name].append((time.perf_counter() - start) / produced)
        for streams in (1, 4, 16, 64):
            start = time.perf_counter()
            texts = lm.samples("The ", length, streams, seed=0)
            elapsed = time.perf_counter() - start
            chars = sum(len(text) - 4 for text in texts)
            batches.append({"streams": streams, "chars_per_s": round(chars / elapsed),
                            "gflops": round(chars * flops / elapsed / 1e9, 2)})
    streams = []
    for name, per_char in seconds.items():
        median = statistics.median(per_char)
        streams.append({"sampler": name, "chars_per_s": round(1 / median),
                        "us_per_char": round(1e6 * median, 1),
                        "us_per_char_all": [round(1e6 * t, 1) for t in per_char],
                        "gflops": round(flops / median / 1e9, 3),
                        "share_of_1_thread_fp32_peak": round(flops / median / 1e9
                                                             / peak_1_thread, 4)})
    before, after = (entry["us_per_char"] for entry in streams)
    return {"model": model, **SAMPLING_MODELS[model], "threads": threads, "chars": length,
            "repeats": repeats, "compiled": lm.compiled,
            "flops_per_char": flops, "fp32_peak_1_thread_gflops": peak_1_thread,
            "one_stream": streams, "speedup": round(before / after, 1), "batched": batches,
            **machine}


# -- profile ---------------------------------------------------------------------------------

# Autograd nodes of the backward pass, by the part of the model they belong to.
_BACKWARD_PARTS = (
    ("MkldnnRnn", "lstm backward"), ("Lstm", "lstm backward"), ("Rnn", "lstm backward"),
    ("Dropout", "dropout backward"), ("MulBackward", "dropout backward"),
    ("NllLoss", "cross-entropy backward"), ("LogSoftmax", "cross-entropy backward"),
    ("Embedding", "input backward"), ("AccumulateGrad", "accumulate gradients"),
    ("Mm", "head backward"), ("Addmm", "head backward"), ("AddBackward", "head backward"),
)


def _part_of(name: str) -> str:
    if name.startswith("part:"):
        return name.removeprefix("part:")
    if name.startswith("autograd::engine::evaluate_function: "):
        node = name.split(": ", 1)[1]
        return next((part for key, part in _BACKWARD_PARTS if key in node), "other backward")
    if name == "aten::cross_entropy_loss":
        return "cross-entropy forward"
    if name.startswith("Optimizer.step"):
        return "adam step"
    if name.startswith("Optimizer.zero_grad"):
        return "zero_grad"
    if name in ("aten::item", "aten::_local_scalar_dense"):
        return "float(loss), float(norm)"
    return "small ops (indexing, detach, views)"


@contextmanager
def _labelled_model(model: CharLM) -> Iterator[None]:
    """Name the forward parts in the profile: hooks open a record_function per submodule."""
    open_labels: list[AbstractContextManager] = []

    def opener(label: str):
        def hook(module, args):
            region = record_function(label)
            region.__enter__()
            open_labels.append(region)
        return hook

    def closer(module, args, output):
        open_labels.pop().__exit__(None, None, None)

    handles = [model.register_forward_pre_hook(opener("part:model")),
               model.register_forward_hook(closer)]
    parts = {"rnn": "lstm forward", "dropout": "dropout forward", "head": "head forward",
             "embedding": "input forward"}
    for attr, label in parts.items():
        module = getattr(model, attr)
        if module is not None:
            handles += [module.register_forward_pre_hook(opener(f"part:{label}")),
                        module.register_forward_hook(closer)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def _labelled_clipping() -> Iterator[None]:
    original = nn.utils.clip_grad_norm_

    def clip(*args, **kwargs):
        with record_function("part:clip_grad_norm"):
            return original(*args, **kwargs)

    nn.utils.clip_grad_norm_ = clip
    try:
        yield
    finally:
        nn.utils.clip_grad_norm_ = original


def _account(event, parts: dict[str, float]) -> None:
    """Add a top-level event's time to its part; split the model's forward into its parts."""
    if event.name != "part:model":
        part = _part_of(event.name)
        parts[part] = parts.get(part, 0.0) + event.cpu_time_total / 1000
        return
    for child in event.cpu_children:
        # The model's own code between its submodules is the input encoding (one-hot).
        part = child.name.removeprefix("part:") if child.name.startswith("part:") \
            else "input forward (one-hot)"
        parts[part] = parts.get(part, 0.0) + child.cpu_time_total / 1000


def profile_step(prep: Prepared, setup: Setup, threads: int, steps: int, warmup: int) -> dict:
    """Milliseconds per step by part, from the top-level events of torch.profiler.

    Forward hooks label the model and its submodules; backward parts are named by their
    autograd nodes; the time no operator accounts for is the Python of the loop.
    """
    from torch.profiler import ProfilerActivity, profile

    with tempfile.TemporaryDirectory() as tmp:
        trainer = build_trainer(prep, setup, threads, warmup, RunFolder(tmp))
        trainer.fit()  # warm-up through the real loop; then single steps, as the loop takes them
        machine: dict = {}
        with conditions(machine), _labelled_model(trainer.model), _labelled_clipping(), \
                profile(activities=[ProfilerActivity.CPU]) as prof:
            start = time.perf_counter()
            for _ in range(steps):
                trainer.step()
            wall = time.perf_counter() - start
    parts: dict[str, float] = {}
    top_level = [e for e in prof.events() if e.cpu_parent is None]
    main_thread = top_level[0].thread
    for event in top_level:
        if event.thread == main_thread:
            _account(event, parts)
    wall_ms = 1000 * wall / steps
    ms = {part: value / steps for part, value in parts.items()}
    ms["python and loop overhead"] = wall_ms - sum(ms.values())
    ordered = sorted(ms.items(), key=lambda kv: -kv[1])
    return {"config": setup.name, "steps": steps, "ms_per_step_profiled": round(wall_ms, 2),
            "parts_ms": {k: round(v, 2) for k, v in ordered},
            "parts_share": {k: round(v / wall_ms, 3) for k, v in ordered},
            **machine}


# -- variants --------------------------------------------------------------------------------


class MaskDropout(nn.Module):
    """Inverted dropout whose mask comes from rand_like, not bernoulli_ (same distribution).

    On this CPU, torch's dropout spends most of its time in bernoulli_; one uniform draw per
    element and a comparison is several times cheaper.
    """

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.rand_like(x).ge_(self.p).mul_(1 / (1 - self.p))  # 0 or 1/(1-p)
        return x * keep


def fast_dropout(trainer: Trainer) -> None:
    trainer.model.dropout = MaskDropout(trainer.model.config.dropout)


def adam_with(**options) -> Callable[[Trainer], None]:
    def prepare(trainer: Trainer) -> None:
        trainer.optimizers = [torch.optim.Adam(trainer.model.parameters(), lr=trainer.config.lr,
                                               **options)]
    return prepare


def both(*prepares: Callable[[Trainer], None]) -> Callable[[Trainer], None]:
    def prepare(trainer: Trainer) -> None:
        for each in prepares:
            each(trainer)
    return prepare


def _unchanged(trainer: Trainer) -> None:
    pass


@dataclass(frozen=True)
class Variant:
    """A change to the lecture configuration's training: made once (`prepare`) or around
    each step (`around`, for process-wide switches)."""

    name: str
    setup: Setup
    prepare: Callable[[Trainer], None] = _unchanged
    around: Callable[[], AbstractContextManager] = nullcontext


def variants(base: Setup) -> list[Variant]:
    """Speed-ups to try on `base`; the first is the baseline itself."""
    def with_(name: str, **changes) -> Setup:
        fields = {"model": base.model, "batch_size": base.batch_size,
                  "num_steps": base.num_steps, "threads": base.threads, "amp": base.amp}
        return Setup(name, **{**fields, **changes})

    return [
        Variant("baseline", base),
        Variant("1 thread", with_("1 thread", threads=1)),
        Variant("dropout mask from rand_like", base, fast_dropout),
        Variant("no dropout (bound)", with_("no dropout", model={**base.model, "dropout": 0.0})),
        Variant("Adam foreach=True", base, adam_with(foreach=True)),
        Variant("Adam fused=True", base, adam_with(fused=True)),
        Variant("embedding 64 instead of one-hot",
                with_("embedding", model={**base.model, "input": "embedding"})),
        Variant("native LSTM kernel (oneDNN off)", base,
                around=lambda: torch.backends.mkldnn.flags(enabled=False)),
        Variant("--amp (bf16 autocast)", with_("amp", amp=True)),
        Variant("rand_like dropout + fused Adam", base,
                both(fast_dropout, adam_with(fused=True))),
        Variant("batch 128", with_("batch 128", batch_size=128)),
        Variant("batch 256", with_("batch 256", batch_size=256)),
    ]


def variant_figures(prep: Prepared, base: Setup, threads: int, steps: int, warmup: int) -> dict:
    """Step times of every variant, interleaved step by step, so all see the same machine.

    Each variant has its own model and trainer and takes the loop's own steps in turn; a burst
    of other work slows all of them alike. `paired_ratio` is the median over steps of the
    variant's step time over the baseline's step time of the same round.
    """
    tried = variants(base)
    with tempfile.TemporaryDirectory() as tmp:
        trainers = []
        for i, variant in enumerate(tried):
            trainer = build_trainer(prep, variant.setup, threads, 10**6,
                                    RunFolder(Path(tmp) / str(i)))
            variant.prepare(trainer)
            trainers.append(trainer)
        times: list[list[float]] = [[] for _ in tried]
        machine: dict = {}
        with conditions(machine):
            for round_ in range(warmup + steps):
                for variant, trainer, own in zip(tried, trainers, times, strict=True):
                    torch.set_num_threads(variant.setup.threads or threads)
                    with variant.around():
                        start = time.perf_counter()
                        trainer.step()
                        seconds = time.perf_counter() - start
                    if round_ >= warmup:
                        own.append(1000 * seconds)
    torch.set_num_threads(threads)
    base_chars = base.batch_size * base.num_steps
    results = []
    for variant, own in zip(tried, times, strict=True):
        chars = variant.setup.batch_size * variant.setup.num_steps
        # Per character, so that larger batches compare with the baseline.
        ratios = [(t / chars) / (b / base_chars) for t, b in zip(own, times[0], strict=True)]
        median_ms = statistics.median(own)
        results.append({"variant": variant.name, "batch_size": variant.setup.batch_size,
                        "ms_per_step": round(median_ms, 2),
                        "chars_per_s": round(1000 * chars / median_ms),
                        "paired_time_per_char_ratio": round(statistics.median(ratios), 3),
                        "speedup": round(1 / statistics.median(ratios), 3)})
    return {"steps": steps, "warmup": warmup, **machine, "results": results}


# -- main ------------------------------------------------------------------------------------


PARTS = ("peak", "training", "sampling", "profile", "variants")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--text", default="hamlet", help="text or dataset name (default: hamlet)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default: 2)")
    p.add_argument("--steps", type=int, default=30, help="timed steps per figure (default: 30)")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (default: 5)")
    p.add_argument("--configs", default=",".join(CONFIGS),
                   help=f"comma-separated training configurations among {', '.join(CONFIGS)}")
    p.add_argument("--sample-length", type=int, default=2000,
                   help="characters generated for the sampling speed (default: 2000)")
    p.add_argument("--sampling-models", default=",".join(SAMPLING_MODELS),
                   help=f"comma-separated models the sampling part times, among "
                   f"{', '.join(SAMPLING_MODELS)} (default: all)")
    p.add_argument("--base", default="lecture",
                   help="configuration the profile and the variants start from (default: lecture)")
    p.add_argument("--parts", default=",".join(PARTS),
                   help=f"comma-separated parts to run among {', '.join(PARTS)} (default: all)")
    args = p.parse_args(argv)
    for option, allowed in (("configs", CONFIGS), ("parts", PARTS), ("base", CONFIGS),
                            ("sampling_models", SAMPLING_MODELS)):
        unknown = set(getattr(args, option).split(",")) - set(allowed)
        if unknown:
            p.error(f"unknown --{option.replace('_', '-')} {sorted(unknown)}: use "
                    f"{', '.join(allowed)}")
    return args


def _done(name: str, figures) -> None:
    """Show each figure on stderr as it comes: a disturbed part can be rerun alone."""
    print(json.dumps({name: figures}), file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    parts = args.parts.split(",")
    configure(args.threads)  # denormals flushed before torch's thread pool starts
    started = time.perf_counter()
    report: dict = {
        "command": " ".join(["python bench/charlm_throughput.py",
                             *(sys.argv[1:] if argv is None else argv)]),
        "machine": {"cpu": cpu_model(), "cpu_flags": cpu_flags(),
                    "cores": os.cpu_count(), "torch": torch.__version__,
                    "threads": args.threads, "load_at_start": load_average()},
    }
    if "peak" in parts:
        report["peak_gflops"] = {"fp32_mm_4096": matmul_gflops(),
                                 "bf16_mm_4096": matmul_gflops(dtype=torch.bfloat16)}
        torch.set_num_threads(1)
        report["peak_gflops"]["fp32_mm_4096_1_thread"] = matmul_gflops()
        torch.set_num_threads(args.threads)
        _done("peak_gflops", report["peak_gflops"])
    prep = prepare(args.text)
    report["text"] = {"name": args.text, "train_chars": len(train_ids_of(prep)),
                      "vocab": len(vocab_of(prep))}
    if "training" in parts:
        report["training"] = []
        for name in args.configs.split(","):
            figures = training_figures(prep, CONFIGS[name], args.threads, args.steps, args.warmup)
            report["training"].append(figures)
            _done("training", figures)
    if "sampling" in parts:
        torch.set_num_threads(1)
        peak_1_thread = matmul_gflops()["median"]
        report["sampling"] = [sampling_speed(prep, args.sample_length, 1, peak_1_thread, model)
                              for model in args.sampling_models.split(",")]
        _done("sampling", report["sampling"])
    if "profile" in parts:
        report["profile"] = profile_step(prep, CONFIGS[args.base], args.threads, args.steps,
                                         args.warmup)
        _done("profile", report["profile"])
    if "variants" in parts:
        report["variants"] = variant_figures(prep, CONFIGS[args.base], args.threads,
                                             args.steps, args.warmup)
        _done("variants", report["variants"])
    torch.set_num_threads(args.threads)
    report["machine"]["load_at_end"] = load_average()
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
