"""Building and loading the compiled sampler (inference/native.py)."""

import pytest

from seqrnn.inference import native


@pytest.fixture
def fresh_load():
    """load() forgets its cached answer before and after the test."""
    native.load.cache_clear()
    yield native.load
    native.load.cache_clear()


def test_seqrnn_native_0_turns_the_compiled_sampler_off(monkeypatch, fresh_load):
    monkeypatch.setenv("SEQRNN_NATIVE", "0")
    assert fresh_load() is None


def test_the_library_is_built_once_into_the_cache_under_a_name_of_its_inputs(
        monkeypatch, tmp_path, fresh_load):
    monkeypatch.delenv("SEQRNN_NATIVE", raising=False)
    compiler = native.shutil.which("cc") or native.shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler")
    monkeypatch.setenv("CC", compiler)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = native._library_path(compiler)
    assert path.parent.parent.parent == tmp_path and path.name.startswith("sampler-")
    assert fresh_load() is not None and path.is_file()
    built = path.stat().st_mtime_ns
    native.load.cache_clear()
    assert fresh_load() is not None and path.stat().st_mtime_ns == built  # not built again
    monkeypatch.setattr(native, "FLAGS", (*native.FLAGS, "-g"))
    assert native._library_path(compiler) != path  # other flags, another build


def test_a_failing_compiler_means_torch_not_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # no build cached there
    monkeypatch.setenv("CC", "false")
    native.load.cache_clear()
    try:
        assert native.load() is None
        assert not list(tmp_path.rglob("*.so"))  # nothing half-written left behind
    finally:
        native.load.cache_clear()
