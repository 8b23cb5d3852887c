"""Corpora of growing size, prepared and trained on: preparation speed and memory, training
throughput, evaluation time (issue: corpora of any size in bounded memory).

For each size (MB), a text is made by concatenating real text (tiny shakespeare and Hamlet,
repeated) and then, each in its own process:

1. prepared: `seqrnn.data.char_corpus.prepare_text`, timed (MB/s of text);
2. trained: `seqrnn charlm train --text FILE --max-steps S` with the lecture's model, which
   reuses the prepared corpus (so its time is training's), evaluating once at the end on the
   seeded validation sample (`--eval-tokens`, 2M characters by default for a large corpus).

Memory is polled from /proc every 50 ms: anonymous memory (RssAnon: what the process holds,
the figure that must stay flat) and file pages mapped in (RssFile: the memory-mapped
corpus's pages read so far, which the kernel may drop at any time), and the process's peak
resident set (VmHWM: both). A last run trains on tiny shakespeare itself for the baseline
throughput. Prints JSON.

    python bench/corpus_scale.py --sizes 10,100,1000,4000 --work runs/corpus-scale
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import torch
from machine import describe

DATA = Path(os.environ.get("SEQRNN_DATA", Path(__file__).resolve().parents[2] / "shared/data"))
SEQRNN = [sys.executable, "-m", "seqrnn"]
PREPARE = """
import json, sys, time
from pathlib import Path
from seqrnn.data.char_corpus import prepare_text
start = time.perf_counter()
prepared = prepare_text([Path(sys.argv[1])])
print(json.dumps({"seconds": time.perf_counter() - start, "reused": prepared.reused,
                  "train_ids": len(prepared.train), "val_ids": len(prepared.val),
                  "vocab": len(prepared.vocab), "dtype": prepared.train.dtype.name}))
"""


def make_text(path: Path, megabytes: int, sources: list[Path]) -> int:
    """Real text repeated up to `megabytes` MB; its size in bytes."""
    text = b"".join(s.read_bytes() for s in sources)
    target, written = megabytes * 10**6, 0
    with open(path, "wb") as f:
        while written < target:
            piece = text[: target - written]
            f.write(piece)
            written += len(piece)
    return written


def busy_seconds() -> float:
    """CPU seconds all processes have used, from /proc/stat."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_measured(command: list[str], env: dict[str, str]) -> tuple[str, dict[str, float]]:
    """Run `command`; its stdout, the peaks of its memory (MB) polled from /proc, and the
    share of the CPUs other processes used meanwhile (`others_cpu_share`: 0 is a clean
    figure; with 2 torch threads, another busy process slows training ten times or more)."""
    busy, own, start = busy_seconds(), children_seconds(), time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                               text=True)
    peaks = {"rss_anon_mb": 0.0, "rss_file_mb": 0.0, "vm_hwm_mb": 0.0}
    fields = {"RssAnon:": "rss_anon_mb", "RssFile:": "rss_file_mb", "VmHWM:": "vm_hwm_mb"}

    def poll() -> None:
        while process.poll() is None:
            try:
                for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                    name, *value = line.split()
                    if name in fields:
                        peaks[fields[name]] = max(peaks[fields[name]], int(value[0]) / 1024)
            except (OSError, ValueError, IndexError):
                pass
            time.sleep(0.05)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    out, err = process.communicate()
    watcher.join()
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{err[-2000:]}")
    others = (busy_seconds() - busy) - (children_seconds() - own)
    share = max(0.0, others) / ((time.monotonic() - start) * (os.cpu_count() or 1))
    return out, {**{k: round(v, 1) for k, v in peaks.items()},
                 "others_cpu_share": round(share, 3)}


def train(text: Path, out: Path, steps: int, env: dict[str, str], threads: int) -> dict:
    start = time.perf_counter()
    _, memory = run_measured([*SEQRNN, "charlm", "train", "--text", str(text), "--out", str(out),
                              "--max-steps", str(steps), "--eval-every", str(steps),
                              "--log-every", str(steps // 2), "--threads", str(threads),
                              "--quiet"], env)
    seconds = time.perf_counter() - start
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    last_train = [r for r in records if r["kind"] == "train"][-1]
    last_eval = [r for r in records if r["kind"] == "eval"][-1]
    return {"seconds": round(seconds, 1), "chars_per_s": last_train["chars_per_s"],
            "eval_seconds": last_eval["eval_seconds"], "val_loss": round(last_eval["val_loss"], 4),
            **memory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000,4000", help="corpus sizes in MB")
    parser.add_argument("--work", type=Path, default=Path("runs/corpus-scale"))
    parser.add_argument("--steps", type=int, default=40, help="training steps on each corpus")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the texts and runs")
    args = parser.parse_args()

    sources = [DATA / "tinyshakespeare.txt", DATA / "pg2265.txt"]
    args.work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SEQRNN_CACHE": str(args.work / "cache"), "PYTHONUNBUFFERED": "1"}
    results = []
    for megabytes in (int(s) for s in args.sizes.split(",")):
        text = args.work / f"corpus-{megabytes}MB.txt"
        size = make_text(text, megabytes, sources)
        out, prep_memory = run_measured([sys.executable, "-c", PREPARE, str(text)], env)
        prepared = json.loads(out)
        run = args.work / f"run-{megabytes}MB"
        shutil.rmtree(run, ignore_errors=True)
        trained = train(text, run, args.steps, env, args.threads)
        results.append({"megabytes": size / 1e6, "prepare_seconds": round(prepared["seconds"], 1),
                        "prepare_mb_per_s": round(size / 1e6 / prepared["seconds"], 1),
                        "prepare_memory": prep_memory, "train": trained,
                        "ids": prepared["train_ids"] + prepared["val_ids"],
                        "dtype": prepared["dtype"]})
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
        if not args.keep:
            text.unlink()
            shutil.rmtree(run, ignore_errors=True)
            shutil.rmtree(args.work / "cache", ignore_errors=True)
    baseline_run = args.work / "run-tinyshakespeare"
    shutil.rmtree(baseline_run, ignore_errors=True)
    baseline = train(DATA / "tinyshakespeare.txt", baseline_run, args.steps, env, args.threads)
    print(json.dumps({"benchmark": "corpus_scale", "command": " ".join(sys.argv),
                      "machine": describe(args.threads), "torch": torch.__version__,
                      "steps": args.steps, "corpora": results,
                      "tinyshakespeare_baseline": baseline}, indent=2))


if __name__ == "__main__":
    main()
