"""The GPU path: every kind trains, resumes, samples and predicts on CUDA, and a torchrun job
runs there (NCCL with more than one GPU). Skipped without CUDA.

`SEQRNN_TEST_DEVICE=cpu` runs the same tests on the CPU instead of skipping them, so their logic
is proven on any machine and only the device differs on a GPU one (the torchrun job then runs
2 gloo processes). `bench/gpu.py` runs this file and reads the properties the tests record
(e.g. the largest difference after an exact resume) from its JUnit XML.

Precision: `amp="on"` is bfloat16 autocast; seqrnn offers no float16 with a GradScaler
(bfloat16 keeps float32's range, so nothing to scale: seqrnn.trainer.loop.Trainer._autocast),
so none is tested. torch runs cuDNN's float32 RNNs in TF32 by default
(torch.backends.cudnn.rnn.fp32_precision == "tf32"): comparisons against the CPU switch it to
IEEE float32 (`ieee_float32`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# cuBLAS reads it when its first handle is made: deterministic matrix products (exact resume)
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import seqrnn  # noqa: E402
from seqrnn import registry  # noqa: E402
from seqrnn.run import LATEST_WEIGHTS, RunFolder  # noqa: E402

DEVICE = os.environ.get("SEQRNN_TEST_DEVICE", "cuda")
ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(DEVICE == "cuda" and not torch.cuda.is_available(),
                                 reason="needs CUDA (or SEQRNN_TEST_DEVICE=cpu)")]

KINDS = ("charlm", "wordlm", "sentiment", "seq2seq", "forecast", "tag")
TEXT = "".join(f"{w} the cat sat on the mat.\n" for w in ["one", "two", "three", "four"] * 40)
LOOP = {"lr": 1e-2, "lr_schedule": "constant", "progress": False, "seed": 3, "log_every": 1}
SMALL = {  # each kind's model and batches, tiny
    "charlm": {"batch_size": 4, "num_steps": 16, "eval_rows": 4, "hidden_size": 32,
               "dropout": 0.1},
    "wordlm": {"min_freq": 1, "max_vocab": None, "batch_size": 4, "num_steps": 8,
               "eval_rows": 4, "embedding_dim": 8, "hidden_size": 16, "num_layers": 2,
               "cutoffs": [4, 10]},
    "sentiment": {"batch_size": 20, "hidden_size": 12, "embedding_dim": 12, "dropout": 0.1},
    "seq2seq": {"batch_size": 8, "val_fraction": 0.2, "test_fraction": 0.1, "hidden_size": 12,
                "embedding_dim": 6, "dropout": 0.1},
    "forecast": {"horizon": 6, "frequency": "monthly", "input_length": 12, "batch_size": 16,
                 "batches_per_epoch": 4, "hidden_size": 32, "num_layers": 1, "dropout": 0.0},
    "tag": {"hidden_size": 16, "word_dim": 16, "char_hidden": 8, "char_dim": 8,
            "feature_dim": 4, "batch_size": 8, "feature_columns": [1]},
}


# -- tiny data of each kind, written where the test asks ------------------------------------


def write_data(kind: str, folder: Path) -> dict:
    """The data settings of a tiny `kind` run, its files written into `folder`."""
    from tests.forecast_data import seasonal_series, write_series
    from tests.tag_data import toy_sentences, write_conll
    from tests.test_distributed import write_corpus, write_pairs, write_reviews

    folder.mkdir(parents=True, exist_ok=True)
    if kind == "charlm":
        (folder / "text.txt").write_text(TEXT, encoding="utf-8")
        return {"text": str(folder / "text.txt")}
    if kind == "wordlm":
        write_corpus(folder / "corpus")
        return {"data": str(folder / "corpus")}
    if kind == "sentiment":
        write_reviews(folder / "reviews.csv")
        return {"data": str(folder / "reviews.csv")}
    if kind == "seq2seq":
        write_pairs(folder / "pairs.tsv")
        return {"data": str(folder / "pairs.tsv")}
    if kind == "forecast":
        return {"data": str(write_series(folder / "series.json", seasonal_series(10, 40)))}
    if kind == "tag":
        train = write_conll(folder / "train.txt", toy_sentences(60, 1))
        val = write_conll(folder / "val.txt", toy_sentences(20, 2))
        return {"data": str(train), "validation": str(val)}
    raise AssertionError(f"no tiny data for kind {kind}")


def use(kind: str, model) -> object:
    """What a user asks of a loaded `kind` model: a sample, labels, outputs, quantiles, tags."""
    if kind == "charlm":
        return model.sample("one the ", 30, seed=1)
    if kind == "wordlm":
        return model.sample("the movie", 8, seed=1)
    if kind == "sentiment":
        return model.predict_proba(["it was superb", "boring plot", "the movie"])
    if kind == "seq2seq":
        return model.predict(["abca", "dcb"])
    if kind == "forecast":
        from tests.forecast_data import seasonal_series

        return model.predict(seasonal_series(3, 30, seed=5)).values
    if kind == "tag":
        return model.predict([["John", "saw", "New", "York", "."]], features=[[["NNP", "NN",
                                                                                "NNP", "NNP",
                                                                                "."]]])
    raise AssertionError(kind)


def device_of(model) -> str:
    """Where a loaded model's weights are (its class's module, or its first member's)."""
    module = getattr(model, "model", None) or getattr(model, "model_", None) or model.models[0]
    return next(module.parameters()).device.type


def train(kind: str, data: dict, out: Path, **settings) -> seqrnn.training.Trained:
    return seqrnn.train(kind, out, device=DEVICE, **data, **SMALL[kind],
                        **{**LOOP, "amp": "off", **settings})


def records(run: Path, kind: str) -> list[dict]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


# -- torch settings for comparisons ----------------------------------------------------------


@contextmanager
def ieee_float32() -> Iterator[None]:
    """cuDNN's RNNs and cuBLAS's products in IEEE float32, not TF32 (for comparing with the
    CPU); torch's per-backend settings of 2.9 and later, the older flags before."""
    rnn = getattr(getattr(torch.backends.cudnn, "rnn", None), "fp32_precision", None)
    if rnn is not None:
        saved = (torch.backends.cudnn.rnn.fp32_precision,
                 torch.backends.cuda.matmul.fp32_precision)
        torch.backends.cudnn.rnn.fp32_precision = "ieee"
        torch.backends.cuda.matmul.fp32_precision = "ieee"
        try:
            yield
        finally:
            (torch.backends.cudnn.rnn.fp32_precision,
             torch.backends.cuda.matmul.fp32_precision) = saved
        return
    saved = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


@contextmanager
def deterministic() -> Iterator[None]:
    """cuDNN and torch's deterministic kernels (a warning, not an error, where one has none)."""
    saved = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark,
             torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled())
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved[:2]
        torch.use_deterministic_algorithms(saved[2], warn_only=saved[3])


# -- every kind trains on the device, in float32 and bfloat16 --------------------------------


def test_every_registered_kind_is_tested():
    assert {kind.name for kind in registry.kinds()} == set(KINDS)


@pytest.mark.parametrize("amp", ["off", "on"])
@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_trains_on_the_device_and_its_model_runs_there(kind, amp, tmp_path):
    data = write_data(kind, tmp_path / "data")
    trained = train(kind, data, tmp_path / "run", amp=amp, max_steps=4, epochs=2)
    assert trained.result.step == 4
    losses = [r["loss"] for r in records(tmp_path / "run", "train")]
    assert len(losses) == 4 and all(np.isfinite(losses))
    assert np.isfinite(trained.result.best_eval["loss"])
    loop = json.loads((tmp_path / "run" / "config.json").read_text())["train"]["loop"]
    assert (loop["device"], loop["amp"]) == (DEVICE, amp)
    weights, _ = RunFolder(tmp_path / "run").load_weights(LATEST_WEIGHTS)
    assert all(w.dtype == torch.float32 for w in weights.values() if w.is_floating_point())
    model = seqrnn.load(tmp_path / "run", device=DEVICE)
    assert device_of(model) == DEVICE
    assert use(kind, model) is not None


# -- exact resume ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["charlm", "tag", "sentiment"])
def test_a_run_resumed_on_the_device_reaches_the_weights_of_one_straight_through(
        kind, tmp_path, record_property):
    """10 steps in one go against 5, then resumed to 10, with dropout (the device's random
    stream is in the checkpoint). Deterministic kernels make them bitwise equal where every
    op has one; the bound admits float32 sums reordered (test_distributed's), and the largest
    difference is recorded for bench/gpu.py."""
    data = write_data(kind, tmp_path / "data")
    settings = {"epochs": 3, "eval_every": 5}
    with deterministic():
        train(kind, data, tmp_path / "whole", max_steps=10, **settings)
        train(kind, data, tmp_path / "half", max_steps=5, **settings)
        resumed = train(kind, data, tmp_path / "half", resume="auto", max_steps=10,
                        **settings)
    assert resumed.result.step == 10
    one, _ = RunFolder(tmp_path / "whole").load_weights(LATEST_WEIGHTS)
    two, _ = RunFolder(tmp_path / "half").load_weights(LATEST_WEIGHTS)
    assert one.keys() == two.keys()
    largest = max(float((one[k].double() - two[k].double()).abs().max()) for k in one)
    record_property("resume_max_abs_difference", largest)
    record_property("resume_bitwise", all(torch.equal(one[k], two[k]) for k in one))
    for name in one:
        torch.testing.assert_close(two[name], one[name], atol=2e-5, rtol=1e-4, msg=name)


# -- sampling and prediction against the CPU -------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A trained tiny run of each kind that predicts (trained on the device, float32)."""
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for kind, steps in (("charlm", 40), ("wordlm", 20), ("forecast", 12), ("tag", 30),
                        ("seq2seq", 20), ("sentiment", 20)):
        data = write_data(kind, root / f"{kind}-data")
        train(kind, data, root / kind, max_steps=steps, epochs=50)
        out[kind] = root / kind
    return out


def test_a_seeded_character_sample_repeats_and_is_the_cpus(runs):
    from seqrnn.api.charlm import LanguageModel

    with ieee_float32():
        here = LanguageModel.load(runs["charlm"], device=DEVICE)
        cpu = LanguageModel.load(runs["charlm"], device="cpu")
        # The compiled sampler steps float32 models on the CPU only; on CUDA torch steps.
        assert here.compiled == (DEVICE == "cpu" and cpu.compiled)
        first = here.sample("one the ", 60, seed=7)
        assert here.sample("one the ", 60, seed=7) == first
        assert len(first) == 68 and set(first) <= set(TEXT)
        # The same draws (each stream's CPU generator): only a probability differing in its
        # last bits right at a draw's boundary could choose otherwise.
        assert first == cpu.sample("one the ", 60, seed=7)
        assert here.samples("one the ", 40, 3, seed=7) == cpu.samples("one the ", 40, 3, seed=7)
        assert here.sample("one ", 40, greedy=True) == cpu.sample("one ", 40, greedy=True)
        assert here.sample("one ", 20, beam=3) == cpu.sample("one ", 20, beam=3)
        assert here.evaluate(TEXT[:800])["loss"] == pytest.approx(
            cpu.evaluate(TEXT[:800])["loss"], rel=1e-4)


def test_the_word_model_samples_on_the_device_as_on_the_cpu(runs):
    from seqrnn.api.wordlm import WordLanguageModel

    with ieee_float32():
        here = WordLanguageModel.load(runs["wordlm"], device=DEVICE)
        cpu = WordLanguageModel.load(runs["wordlm"], device="cpu")
        first = here.sample("the movie", 12, seed=3)
        assert here.sample("the movie", 12, seed=3) == first == cpu.sample("the movie", 12,
                                                                           seed=3)
        assert here.sample("the", 6, beam=3) == cpu.sample("the", 6, beam=3)
        assert here.evaluate("the movie was great")["loss"] == pytest.approx(
            cpu.evaluate("the movie was great")["loss"], rel=1e-4)


@pytest.mark.parametrize("kind", ["tag", "forecast", "seq2seq", "sentiment"])
def test_predictions_on_the_device_equal_the_cpus(runs, kind):
    with ieee_float32():
        here = use(kind, seqrnn.load(runs[kind], device=DEVICE))
        cpu = use(kind, seqrnn.load(runs[kind], device="cpu"))
    if kind == "forecast":
        np.testing.assert_allclose(here, cpu, rtol=1e-4)
    elif kind == "sentiment":
        np.testing.assert_allclose(here, cpu, rtol=1e-4, atol=1e-6)
    else:
        assert here == cpu
    if kind == "seq2seq":
        model = seqrnn.load(runs[kind], device=DEVICE)
        assert model.predict(["abca"], beam=3) == seqrnn.load(runs[kind]).predict(["abca"],
                                                                                 beam=3)


# -- a torchrun job on the device ------------------------------------------------------------


def processes() -> int:
    """One process per GPU (NCCL); 2 gloo processes on the CPU."""
    return torch.cuda.device_count() if DEVICE == "cuda" else 2


def ddp_job(work: Path, device: str) -> None:
    """What each torchrun process runs: a language model and a classifier, a few steps."""
    for kind, out in (("charlm", "lm"), ("sentiment", "clf")):
        settings = {**SMALL[kind], "batch_size": 24, "dropout": 0.0}  # 24 splits over 1-4
        seqrnn.train(kind, work / out, device=device, **json.loads(
            (work / f"{kind}.json").read_text()), **settings,
            **{**LOOP, "amp": "off", "max_steps": 6, "epochs": 2})


def test_a_torchrun_job_trains_on_the_device_and_its_runs_load(tmp_path):
    if not torch.distributed.is_available():
        pytest.skip("this torch build has no torch.distributed")
    n = processes()
    for kind in ("charlm", "sentiment"):
        (tmp_path / f"{kind}.json").write_text(json.dumps(write_data(kind, tmp_path / kind)))
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])  # `tests.` imports
    env = {**os.environ, "PYTHONPATH": path, "SEQRNN_DIST_TIMEOUT": "60",
           "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={n}", __file__, str(tmp_path), DEVICE]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    for out in ("lm", "clf"):
        assert [r["step"] for r in records(tmp_path / out, "eval")][-1] == 6
        config = json.loads((tmp_path / out / "config.json").read_text())
        assert config["train"]["loop"]["device"] == DEVICE
    lm = seqrnn.load(tmp_path / "lm", device=DEVICE)
    assert lm.sample("one the ", 20, seed=1).startswith("one the ")
    probabilities = seqrnn.load(tmp_path / "clf", device=DEVICE).predict_proba(["superb"])
    assert probabilities.shape == (1, 2) and np.allclose(probabilities.sum(axis=1), 1)


if __name__ == "__main__":  # one torchrun process of the job above
    ddp_job(Path(sys.argv[1]), sys.argv[2])
