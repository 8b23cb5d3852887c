"""Build sampler.c with the machine's C compiler, once, and load it.

The library is compiled for this CPU (-march=native) into seqrnn's cache folder, under a name
that hashes the source, the flags and the CPU's features, so a changed file or another machine
gets its own build. Without a compiler, or with SEQRNN_NATIVE=0, `load()` returns None and
callers step through torch instead: slower, the same text.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
from pathlib import Path

from seqrnn.atomic import atomic_path
from seqrnn.data.locate import cache_dir

SOURCE = Path(__file__).with_name("sampler.c")
FLAGS = ("-O3", "-march=native", "-std=c11", "-fPIC", "-shared")


class Model(ctypes.Structure):
    _fields_ = [
        ("cell", ctypes.c_int32), ("layers", ctypes.c_int32), ("hidden", ctypes.c_int32),
        ("vocab", ctypes.c_int32), ("batch", ctypes.c_int32),
        ("x_table", ctypes.c_void_p), ("w_ih", ctypes.c_void_p), ("b_ih", ctypes.c_void_p),
        ("w_hh", ctypes.c_void_p), ("b_hh", ctypes.c_void_p),
        ("w_out", ctypes.c_void_p), ("b_out", ctypes.c_void_p),
    ]


class Choice(ctypes.Structure):
    _fields_ = [("greedy", ctypes.c_int32), ("top_k", ctypes.c_int32),
                ("temperature", ctypes.c_float), ("top_p", ctypes.c_float)]


def _cpu_features() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return platform.processor()


def _library_path(compiler: str) -> Path:
    digest = hashlib.sha256()
    for part in (SOURCE.read_bytes(), " ".join(FLAGS).encode(), compiler.encode(),
                 platform.machine().encode(), _cpu_features().encode()):
        digest.update(part)
    return cache_dir() / "native" / f"sampler-{digest.hexdigest()[:16]}.so"


def _build(compiler: str, target: Path) -> None:
    with atomic_path(target) as tmp:
        subprocess.run([compiler, *FLAGS, "-o", str(tmp), str(SOURCE), "-lm"], check=True,
                       capture_output=True, timeout=120)


@functools.cache
def load() -> ctypes.CDLL | None:
    """The compiled sampler, built on first use; None where it cannot be had."""
    if os.environ.get("SEQRNN_NATIVE", "1") == "0":
        return None
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    target = _library_path(compiler)
    try:
        if not target.exists():
            _build(compiler, target)
        library = ctypes.CDLL(str(target))
    except (OSError, subprocess.SubprocessError):
        return None
    library.seqrnn_generate.restype = ctypes.c_int
    library.seqrnn_generate.argtypes = [
        ctypes.POINTER(Model), ctypes.POINTER(Choice), ctypes.c_void_p, ctypes.c_void_p,
        ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p,
    ]
    return library
