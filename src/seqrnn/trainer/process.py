"""Process-wide torch settings, made by the entry points (the task recipe, the estimator,
model loaders), never by the training loop."""

from __future__ import annotations

import ctypes
import ctypes.util
import os

import torch

from seqrnn.errors import UserError, field_error


def flush_denormals() -> None:
    """Treat denormal floats as zero, on this thread and on threads created after it.

    Gradients flowing back through hundreds of steps decay into denormal floats,
    which x86 CPUs process up to 100x slower: an IMDb training step took 4.3 s
    instead of 0.3 s. Flushing them changes nothing a float32 model can feel. The
    flag is per thread and new threads inherit it, so it should be set before the
    first parallel operation creates torch's thread pool.
    """
    torch.set_flush_denormal(True)


M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's mallopt parameters (malloc.h)


def keep_freed_memory() -> None:
    """Have glibc's malloc keep freed memory for the next step instead of unmapping it.

    Every training step allocates and frees the same large tensors (the softmax's logits and
    their gradient are tens of MB). glibc serves blocks above its mmap threshold (32 MB at
    most) from fresh pages and unmaps them on free, so each step faults them in again: the
    word language model's step spent over a quarter of its time zero-filling new pages (6,500
    words/s against 9,000 kept). Off glibc, nothing changes.
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):  # no C library by that name, or not glibc
        return
    mallopt(M_MMAP_MAX, 0)  # every block from the heap, reused once freed
    mallopt(M_TRIM_THRESHOLD, 2**31 - 1)  # and the heap's top is never handed back


def configure(threads: int | None, *, distributed_cpu: bool = False) -> None:
    """Process settings for training: flushed denormals, malloc that keeps freed memory, and
    the CPU threads: `threads`, or 1 per rank sharing a machine."""
    check_threads(threads)
    flush_denormals()
    keep_freed_memory()
    threads = threads or (1 if distributed_cpu else None)
    if threads:
        torch.set_num_threads(threads)


def check_threads(threads: int | None) -> None:
    """More threads than CPUs only slows torch down, and tens of thousands crash it."""
    cpus = os.cpu_count() or 1
    if threads is not None and threads > cpus:
        raise field_error("threads", f"{{}} {threads} is more than the {cpus} CPUs of this "
                          f"machine: use at most {cpus}")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("{device} cuda asked for, but torch sees no CUDA GPU: use {device} cpu",
                        fields=("device",))
    return torch.device(name)


def has_bfloat16_units(device: torch.device) -> bool:
    """Whether `device` multiplies bfloat16 in hardware: a GPU that supports it natively, or a
    CPU with AVX512-BF16 or AMX. Elsewhere bfloat16 is emulated, slower than float32."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # torch's own CPU probes
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def resolve_amp(setting: str, device: torch.device) -> str:
    """--amp auto, on or off as the run uses it: auto turns bfloat16 autocast on where the
    device has bfloat16 units (measured about 2x faster there, as accurate; README)."""
    if setting != "auto":
        return setting
    return "on" if has_bfloat16_units(device) else "off"
