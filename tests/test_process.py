import pytest
import torch

from seqrnn.train import process
from seqrnn.train.process import has_bfloat16_units, resolve_amp

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
