"""What a benchmark ran on, for its JSON: the CPU's model name, its matrix flags, the load.

`platform.processor()` is empty on Linux, so the model name comes from /proc/cpuinfo.
"""

from __future__ import annotations

import os
import platform

MATRIX_FLAGS = {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"}


def _cpuinfo_field(name: str) -> str | None:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(name):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_model() -> str:
    return _cpuinfo_field("model name") or platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """The flags that decide matrix speed (bfloat16 units above all)."""
    return sorted(set((_cpuinfo_field("flags") or "").split()) & MATRIX_FLAGS)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def describe(threads: int) -> str:
    """One line: the CPU, its matrix flags, cores and the threads the benchmark used."""
    flags = ", ".join(cpu_flags()) or "no matrix flags read"
    return f"{cpu_model()} ({flags}), {os.cpu_count()} cores, {threads} torch threads"
