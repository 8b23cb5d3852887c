import hashlib
import http.server
import threading
from functools import partial

import pytest

from seqrnn.data import locate as loc
from seqrnn.errors import UserError


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No $SEQRNN_DATA and an empty cache under tmp_path."""
    monkeypatch.delenv("SEQRNN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture
def http_server(tmp_path):
    """Serve tmp_path/www on a free loopback port."""
    root = tmp_path / "www"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_explicit_path_wins(isolated):
    f = isolated / "hamlet"
    f.write_text("x")
    assert loc.locate(str(f)) == f


def test_name_found_in_seqrnn_data_before_cache(isolated, monkeypatch):
    data, cache = isolated / "data", isolated / "cache" / "seqrnn"
    data.mkdir()
    cache.mkdir(parents=True)
    (data / "pg2265.txt").write_text("from data")
    (cache / "pg2265.txt").write_text("from cache")
    monkeypatch.setenv("SEQRNN_DATA", str(data))
    assert loc.locate("hamlet").read_text() == "from data"
    monkeypatch.delenv("SEQRNN_DATA")
    assert loc.locate("hamlet").read_text() == "from cache"


def test_unknown_name_lists_known_datasets(isolated):
    with pytest.raises(UserError, match="hamlet, imdb, tinyshakespeare"):
        loc.locate("no-such-thing")


def test_download_verifies_and_renames_into_cache(isolated, http_server, monkeypatch):
    root, base = http_server
    payload = b"To be, or not to be\n" * 100
    (root / "t.txt").write_bytes(payload)
    spec = loc.DatasetSpec("t.txt", f"{base}/t.txt", hashlib.sha256(payload).hexdigest(), "test")
    monkeypatch.setitem(loc.DATASETS, "tiny", spec)
    path = loc.locate("tiny")
    assert path == loc.cache_dir() / "t.txt"
    assert path.read_bytes() == payload
    assert [p.name for p in path.parent.iterdir()] == ["t.txt"]  # no temporary left behind


def test_corrupt_download_leaves_nothing(isolated, http_server, monkeypatch):
    root, base = http_server
    (root / "t.txt").write_bytes(b"tampered")
    spec = loc.DatasetSpec("t.txt", f"{base}/t.txt", "0" * 64, "test")
    monkeypatch.setitem(loc.DATASETS, "tiny", spec)
    with pytest.raises(UserError, match="corrupt"):
        loc.locate("tiny")
    assert not any(loc.cache_dir().iterdir())


def test_file_url_download(isolated, monkeypatch):
    src = isolated / "src.txt"
    src.write_bytes(b"abc")
    spec = loc.DatasetSpec("t.txt", src.as_uri(), hashlib.sha256(b"abc").hexdigest(), "test")
    monkeypatch.setitem(loc.DATASETS, "tiny", spec)
    assert loc.locate("tiny").read_bytes() == b"abc"


def test_unreachable_says_which_file_to_put_where(isolated, monkeypatch):
    spec = loc.DatasetSpec("t.txt", "http://127.0.0.1:9/t.txt", "0" * 64, "test")
    monkeypatch.setitem(loc.DATASETS, "tiny", spec)
    with pytest.raises(UserError, match=r"put t\.txt in a folder named by \$SEQRNN_DATA"):
        loc.locate("tiny")


def test_no_download_mode(isolated):
    with pytest.raises(UserError, match="pg2265.txt"):
        loc.locate("hamlet", download=False)


def test_real_data_dir_has_the_named_datasets(real_data_dir, monkeypatch):
    monkeypatch.setenv("SEQRNN_DATA", str(real_data_dir))
    for name, spec in loc.DATASETS.items():
        assert loc.locate(name, download=False).name == spec.filename


def test_a_task_names_only_the_datasets_it_accepts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no file named hamlet here
    with pytest.raises(UserError, match=r"^no such file or dataset: hamlet \(give a path, or one "
                                        r"of: cmudict\)$"):
        loc.locate("hamlet", datasets=("cmudict",))  # never looked up, never downloaded
