"""Process-wide torch settings (train/process.py)."""

import os

import pytest
import torch

from seqrnn.errors import UserError, flag
from seqrnn.trainer import process
from seqrnn.trainer.process import has_bfloat16_units, resolve_amp


def test_denormals_are_flushed_to_zero():
    tiny = torch.tensor([1], dtype=torch.int32).view(torch.float32)  # a denormal, by its bits
    was_flushing = (tiny * 1.0).item() == 0.0  # other tests' loading may have set it
    try:
        torch.set_flush_denormal(False)
        assert (tiny * 1.0).item() != 0.0
        process.flush_denormals()
        assert (tiny * 1.0).item() == 0.0
    finally:
        torch.set_flush_denormal(was_flushing)


def test_more_threads_than_cpus_is_refused_naming_the_flag():
    cpus = os.cpu_count() or 1
    process.check_threads(None)
    process.check_threads(cpus)
    with pytest.raises(UserError) as caught:
        process.check_threads(cpus + 1)
    assert caught.value.field == "threads"
    assert caught.value.render(flag) == (f"--threads {cpus + 1} is more than the {cpus} CPUs "
                                         f"of this machine: use at most {cpus}")


def test_configure_sets_the_threads_or_one_per_rank(monkeypatch):
    calls = []
    monkeypatch.setattr(process, "keep_freed_memory", lambda: calls.append("malloc"))
    monkeypatch.setattr(torch, "set_num_threads", lambda n: calls.append(n))
    monkeypatch.setattr(torch, "set_flush_denormal", lambda on: calls.append(("flush", on)))
    process.configure(None)
    process.configure(None, distributed_cpu=True)
    process.configure(1)
    assert calls == [("flush", True), "malloc", ("flush", True), "malloc", 1,
                     ("flush", True), "malloc", 1]


def test_devices_resolve_and_a_missing_gpu_names_the_flag(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert process.resolve_device("auto") == torch.device("cpu")
    assert process.resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(UserError) as caught:
        process.resolve_device("cuda")
    assert caught.value.render(flag) == ("--device cuda asked for, but torch sees no CUDA GPU: "
                                         "use --device cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert process.resolve_device("auto") == torch.device("cuda")


def test_keeping_freed_memory_is_harmless_without_glibc(monkeypatch):
    monkeypatch.setattr(process.ctypes.util, "find_library", lambda name: "no-such-libc.so")
    process.keep_freed_memory()  # nothing to set: no error


CPU = torch.device("cpu")


def test_amp_on_and_off_are_kept_and_auto_follows_the_bfloat16_units(monkeypatch):
    assert resolve_amp("on", CPU) == "on" and resolve_amp("off", CPU) == "off"
    monkeypatch.setattr(process, "has_bfloat16_units", lambda device: True)
    assert resolve_amp("auto", CPU) == "on"
    monkeypatch.setattr(process, "has_bfloat16_units", lambda device: False)
    assert resolve_amp("auto", CPU) == "off"


@pytest.mark.parametrize(("avx512_bf16", "amx", "expected"), [
    (True, False, True), (False, True, True), (False, False, False)])
def test_a_cpu_has_bfloat16_units_with_avx512_bf16_or_amx(monkeypatch, avx512_bf16, amx,
                                                          expected):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    assert has_bfloat16_units(CPU) is expected


def test_the_flags_read_from_this_machine_agree_with_its_cpuinfo():
    try:
        with open("/proc/cpuinfo") as f:
            flags = set(f.read().split())
    except OSError:
        pytest.skip("no /proc/cpuinfo")
    assert has_bfloat16_units(CPU) == bool({"avx512_bf16", "amx_bf16"} & flags)
