"""Running `seqrnn` as a user would, for the benchmarks of the shortest commands."""

from __future__ import annotations

import subprocess
import sys
import time


def seqrnn(*argv: str) -> tuple[str, float]:
    """Run `seqrnn ARGV` in a fresh process; its standard output and wall seconds."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "seqrnn", *argv], check=True,
                          stdout=subprocess.PIPE, text=True)
    return done.stdout, time.perf_counter() - started
