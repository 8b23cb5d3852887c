"""The GPU path in one call: its tests, the README's training recipes for a minute or so each,
and the character model's training throughput at a few sizes, on CUDA.

    SEQRNN_DATA=/data PYTHONPATH=src python bench/gpu.py [--minutes-per-recipe 1]
        [--recipes race,hamlet,tag,sentiment] [--out runs/gpu] [--skip-tests] [--json FILE]

Parts, each printed as one JSON line as soon as it is done, then one JSON object of them all:

- `tests`: `pytest -q -m gpu tests/test_gpu.py` in a subprocess: passed, failed, skipped, the
  failures' first lines, and what the tests record (the largest weight difference after an
  exact resume on the device).
- `recipes`: the README's recipes (`--recipes`, of: race, hamlet, tag, sentiment, wordlm),
  each trained `--minutes-per-recipe` on `cuda` from its preset: steps, items per second (the
  median of the logged rates), peak GPU memory (torch.cuda.max_memory_allocated), the best
  validation metric, the time at which validation first reached each README figure, the test
  score where the README gives one, and the README's CPU figures beside. A recipe whose data
  is not in $SEQRNN_DATA is skipped with a note (nothing is downloaded); a recipe that fails
  is reported and the others still run.
- `throughput`: characters per second, ms per step, GFLOP/s and peak memory of the real
  training loop for bench/charlm_throughput.py's configurations and a larger one, on `cuda`.

With the defaults (4 recipes of 1 minute) the whole takes about 8 minutes. Exits 2 with one
line when torch sees no CUDA GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
TESTS_TIMEOUT_S = 360
DEVICE = "cuda"  # a dry run of the logic on the CPU sets "cpu" (and fakes the memory figures)

# The README's recipes: a preset, the data file it reads, the validation metric it is judged
# on, and the README's CPU figures (2 threads of an AMD EPYC) to set beside the GPU's.
RECIPES = {
    "race": {"kind": "charlm", "preset": "race", "needs": "tinyshakespeare.txt",
             "metric": "val_loss", "goal": "min", "items": "chars_per_s",
             "reach": {"target": 1.60, "readme_cpu": 1.514},
             "readme_cpu": {"val_loss": 1.514, "seconds": 135, "steps": 4279,
                            "chars_per_s": 50700}},
    "hamlet": {"kind": "charlm", "preset": "lecture", "needs": "pg2265.txt",
               "metric": "val_loss", "goal": "min", "items": "chars_per_s",
               "reach": {"readme_cpu": 1.961},
               "readme_cpu": {"val_loss": 1.961, "seconds": 159, "steps": 2200}},
    "tag": {"kind": "tag", "preset": "conll2000", "needs": "conll2000.zip", "metric": "val_f1",
            "goal": "max", "items": "sentences_per_s", "test": "f1",
            "readme_cpu": {"test_f1": 0.9445, "minutes": 12, "sentences_per_s": 440}},
    "sentiment": {"kind": "sentiment", "preset": "best-20min", "needs": "aclImdb_v1.tar.gz",
                  "metric": "val_accuracy", "goal": "max", "items": "reviews_per_s",
                  "test": "accuracy",
                  "readme_cpu": {"test_accuracy": 0.9005, "minutes": 20,
                                 "seconds_per_epoch": 137.6}},
    "wordlm": {"kind": "wordlm", "preset": "imdb", "needs": "aclImdb_v1.tar.gz",
               "metric": "val_perplexity", "goal": "min", "items": "words_per_s",
               "reach": {"readme_cpu_8min": 138.0},
               "readme_cpu": {"val_perplexity": 138, "minutes": 8, "steps": 1158}},
}
DEFAULT_RECIPES = "race,hamlet,tag,sentiment"  # the word model's hour-long recipe is optional


def emit(part: str, value) -> None:
    print(json.dumps({part: value}), flush=True)


def machine() -> dict:
    from machine import describe

    props = torch.cuda.get_device_properties(0)
    return {"gpu": torch.cuda.get_device_name(0), "gpus": torch.cuda.device_count(),
            "gpu_memory_gib": round(props.total_memory / 2**30, 1),
            "bf16_native": torch.cuda.is_bf16_supported(including_emulation=False),
            "host": describe(torch.get_num_threads()), "torch": torch.__version__,
            "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version()}


# -- the tests -------------------------------------------------------------------------------


def run_tests(work: Path) -> dict:
    """The gpu tests in a subprocess; counts, failures and recorded properties from JUnit XML."""
    report = work / "tests.xml"
    path = os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "gpu",
                               "tests/test_gpu.py", f"--junitxml={report}"],
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": path},
                              capture_output=True, text=True, timeout=TESTS_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"error": f"the tests ran past {TESTS_TIMEOUT_S} s"}
    out = {"returncode": done.returncode, "seconds": round(time.perf_counter() - started, 1)}
    if not report.exists():
        return {**out, "error": (done.stdout + done.stderr)[-2000:]}
    suite = ElementTree.parse(report).getroot()
    suite = suite.find("testsuite") if suite.tag == "testsuites" else suite
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    out["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    out.update({k: counts[k] for k in ("failures", "errors", "skipped")})
    out["failed"], out["recorded"] = {}, {}
    for case in suite.iter("testcase"):
        problem = case.find("failure")
        problem = case.find("error") if problem is None else problem
        if problem is not None:
            message = (problem.get("message") or problem.text or "").strip().splitlines()
            out["failed"][case.get("name")] = message[0][:300] if message else ""
        for prop in case.iter("property"):
            out["recorded"].setdefault(case.get("name"), {})[prop.get("name")] = prop.get("value")
    out["summary"] = (done.stdout.strip().splitlines() or [""])[-1]
    return out


# -- the README's recipes --------------------------------------------------------------------


def data_present(name: str) -> bool:
    from seqrnn.data.locate import search_dirs

    return any((folder / name).is_file() for folder in search_dirs())


def evals_of(run: Path) -> tuple[list[dict], list[dict]]:
    records = [json.loads(line) for line in (run / "metrics.jsonl").open(encoding="utf-8")]
    return ([r for r in records if r["kind"] == "eval"],
            [r for r in records if r["kind"] == "train"])


def first_reached(evals: list[dict], metric: str, goal: str, value: float) -> dict | None:
    """The first evaluation whose `metric` reached `value`: its step and seconds of training."""
    for record in evals:
        found = record.get(metric)
        if found is not None and (found <= value if goal == "min" else found >= value):
            return {"step": record["step"], "seconds": round(record["elapsed"], 1)}
    return None


def numbers(found: dict) -> dict:
    return {k: round(v, 4) for k, v in found.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def run_recipe(name: str, minutes: float, out: Path) -> dict:
    import seqrnn

    recipe = RECIPES[name]
    if not data_present(recipe["needs"]):
        return {"skipped": f"{recipe['needs']} is not in $SEQRNN_DATA"}
    run = out / name
    k = 2
    while run.exists():  # a rerun with the same --out keeps the earlier runs
        run, k = out / f"{name}-{k}", k + 1
    torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    trained = seqrnn.train(recipe["kind"], run, preset=recipe["preset"], minutes=minutes,
                           device=DEVICE, progress=False)
    wall = time.perf_counter() - started
    peak = torch.cuda.max_memory_allocated()
    evals, train = evals_of(run)
    metric, goal = recipe["metric"], recipe["goal"]
    scored = [r[metric] for r in evals if metric in r]
    rates = [r[recipe["items"]] for r in train if recipe["items"] in r]
    result = {
        "run": str(run), "preset": recipe["preset"], "minutes": minutes,
        "wall_seconds": round(wall, 1), "steps": trained.result.step,
        "epochs": trained.result.epoch, "amp": json.loads(
            (run / "config.json").read_text())["train"]["loop"]["amp"],
        recipe["items"]: round(statistics.median(rates), 1) if rates else None,
        "max_memory_allocated_mib": round(peak / 2**20, 1),
        f"best_{metric}": round(min(scored) if goal == "min" else max(scored), 4)
        if scored else None,
        "reached": {label: first_reached(evals, metric, goal, value)
                    for label, value in recipe.get("reach", {}).items()},
        "readme_cpu": recipe["readme_cpu"],
    }
    if "test" in recipe:
        model = seqrnn.load(run, device=DEVICE)
        test = model.evaluate(split="test") if name == "sentiment" else model.evaluate("test")
        result["test"] = numbers(test)
    return result


# -- throughput of the character model -------------------------------------------------------


def throughput(steps: int = 40, warmup: int = 10) -> dict:
    """The real loop's step on `cuda` for charlm_throughput's configurations and a larger one."""
    from charlm_throughput import CONFIGS, Setup, prepare, step_flops

    from seqrnn.configs import CharLMConfig, CharLMData, TrainConfig
    from seqrnn.recipes.charlm import RECIPE, CharLMObjective
    from seqrnn.run import RunFolder
    from seqrnn.trainer import Trainer

    setups = [CONFIGS[n] for n in ("lecture", "lectureamp", "h256", "e512", "e512amp")]
    setups.append(Setup("e1024b128amp", {"hidden_size": 1024, "input": "embedding"},
                        batch_size=128, amp=True))
    with tempfile.TemporaryDirectory() as tmp:
        text = "hamlet" if data_present("pg2265.txt") else _synthetic_text(Path(tmp))
        prep = prepare(text)
        out = {"text": "hamlet" if text == "hamlet" else "synthetic", "configs": []}
        for setup in setups:
            run = RunFolder(Path(tmp) / setup.name)
            data = CharLMData(batch_size=setup.batch_size, num_steps=setup.num_steps)
            loop = TrainConfig(max_steps=warmup + steps, eval_every=10**9, log_every=1,
                               progress=False, device=DEVICE, amp=setup.amp)
            torch.manual_seed(1)
            trainer = Trainer(RECIPE.build_model(prep, setup.model),
                              CharLMObjective(prep.sets.train, prep.sets.val, data), loop, run)
            torch.cuda.reset_peak_memory_stats()
            trainer.fit()
            records = [json.loads(line) for line in run.metrics_path.open(encoding="utf-8")]
            rates = [r["chars_per_s"] for r in records
                     if r["kind"] == "train" and r["step"] > warmup]
            chars = setup.batch_size * setup.num_steps
            ms = statistics.median(1000 * chars / r for r in rates)
            flops = step_flops(CharLMConfig(**prep.model_fields, **setup.model),
                               setup.batch_size, setup.num_steps)
            out["configs"].append({
                "name": setup.name, "model": setup.model, "amp": setup.amp,
                "batch_size": setup.batch_size, "num_steps": setup.num_steps,
                "ms_per_step": round(ms, 2), "chars_per_s": round(1000 * chars / ms),
                "step_gflops": round(flops["total"] / ms / 1e6, 1),
                "max_memory_allocated_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1)})
    return out


def _synthetic_text(folder: Path) -> str:
    """About 200 KB of varied characters when Hamlet is absent (speed does not depend on it)."""
    words = ["the", "king", "queen", "ghost", "to", "be", "or", "not", "that", "is", "question"]
    rng = torch.Generator().manual_seed(0)
    picks = torch.randint(len(words), (40000,), generator=rng).tolist()
    path = folder / "text.txt"
    path.write_text(" ".join(words[i] for i in picks), encoding="utf-8")
    return str(path)


# -- the command -----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes-per-recipe", type=float, default=1.0,
                        help="training time of each recipe (1.0: about 8 minutes in all)")
    parser.add_argument("--recipes", default=DEFAULT_RECIPES,
                        help=f"comma-separated, of: {', '.join(RECIPES)} ({DEFAULT_RECIPES})")
    parser.add_argument("--out", help="folder of the recipes' runs (default: a new temporary one)")
    parser.add_argument("--skip-tests", action="store_true", help="leave out the gpu tests")
    parser.add_argument("--skip-throughput", action="store_true",
                        help="leave out the character model's throughput")
    parser.add_argument("--json", help="also write the final JSON object to this file")
    args = parser.parse_args()
    names = [n for n in args.recipes.split(",") if n]
    if set(names) - set(RECIPES):
        parser.error(f"unknown recipes; use some of {', '.join(RECIPES)}")
    if not torch.cuda.is_available():
        print(f"bench/gpu.py needs a CUDA GPU: torch {torch.__version__} sees none",
              file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="seqrnn-gpu-"))
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result: dict = {"command": "python bench/gpu.py " + " ".join(sys.argv[1:]),
                    "machine": machine(), "out": str(out)}
    emit("machine", result["machine"])
    if not args.skip_tests:
        result["tests"] = run_tests(out)
        emit("tests", result["tests"])
    result["recipes"] = {}
    for name in names:
        try:
            result["recipes"][name] = run_recipe(name, args.minutes_per_recipe, out)
        except Exception as exc:  # one failed recipe is reported; the others still run
            traceback.print_exc()
            result["recipes"][name] = {"error": f"{type(exc).__name__}: "
                                                f"{(str(exc).splitlines() or [''])[0]}"}
        emit(name, result["recipes"][name])
    if not args.skip_throughput:
        try:
            result["throughput"] = throughput()
        except Exception as exc:
            traceback.print_exc()
            result["throughput"] = {"error": f"{type(exc).__name__}: {exc}"}
        emit("throughput", result["throughput"])
    result["seconds"] = round(time.perf_counter() - started, 1)
    text = json.dumps(result, indent=1)
    print(text, flush=True)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
