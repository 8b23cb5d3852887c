import contextlib
import shutil
import threading

import pytest
import torch

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")
import uvicorn  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from seqrnn.cli import main, serve  # noqa: E402
from seqrnn.serve.app import create_app  # noqa: E402
from tests.test_serve import tiny_runs  # noqa: E402


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return tiny_runs(tmp_path_factory)


@pytest.fixture
def started(monkeypatch):
    """Record the app and address `seqrnn serve` would serve, instead of serving forever."""
    calls, bound = [], []
    monkeypatch.setattr(serve, "_bind", lambda host, port: bound.append((host, port)))
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, sockets: calls.append(
        (server.config.app, dict(zip(("host", "port"), bound[-1], strict=True)))))
    return calls


class _SignallingServer(uvicorn.Server):
    """uvicorn's server, setting `ready` once it listens (or once its startup fails)."""

    def __init__(self, config: uvicorn.Config):
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets=None) -> None:
        try:
            await super().startup(sockets)
        finally:
            self.ready.set()


@contextlib.contextmanager
def running_server(runs: dict):
    """The app with every model under uvicorn, in a thread, on a free loopback port."""
    app = create_app(runs["sentiment"], runs["charlm"], runs["seq2seq"], wordlm_dir=runs["wordlm"],
                     runs=[runs["forecast"], runs["tag"]])
    server = _SignallingServer(uvicorn.Config(app, host="127.0.0.1", port=0,
                                              log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        if not server.ready.wait(timeout=60) or not server.started:
            raise RuntimeError("the server did not start")
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_serve_loads_both_models_and_binds_to_loopback_by_default(runs, started):
    assert main(["serve", "--sentiment", str(runs["sentiment"]), "--charlm",
                 str(runs["charlm"]), "--max-review-chars", "10", "--threads", "1"]) == 0
    (app, options), = started
    assert torch.get_num_threads() == 1
    assert options["host"] == "127.0.0.1" and options["port"] == 8000
    health = TestClient(app).get("/api/health").json()
    assert health["models"] == {"sentiment": True, "charlm": True, "wordlm": False,
                                "seq2seq": False, "forecast": False, "tag": False}
    assert health["limits"]["max_review_chars"] == 10
    assert health["limits"]["max_generate_length"] == 2000  # the default


def test_serve_mounts_run_folders_of_any_kind_and_ensembles(runs, started):
    assert main(["serve", "--model", str(runs["wordlm"]), "--model", str(runs["seq2seq"]),
                 "--seq2seq", str(runs["seq2seq"])]) == 0
    (app, _), = started
    client = TestClient(app)
    assert client.get("/api/health").json()["models"] == {
        "sentiment": False, "charlm": False, "wordlm": True, "seq2seq": True,
        "forecast": False, "tag": False}
    assert client.post("/api/wordlm", json={"prime": "the", "length": 3}).status_code == 200
    shown = client.post("/api/seq2seq", json={"sources": ["ab"], "attention": True})
    assert shown.status_code == 422 and "ensemble" in shown.json()["error"]


def test_serve_with_one_model_warns_when_reachable_from_elsewhere(runs, started, capsys):
    assert main(["serve", "--charlm", str(runs["charlm"]), "--host", "0.0.0.0",
                 "--port", "8123"]) == 0
    (app, options), = started
    assert (options["host"], options["port"]) == ("0.0.0.0", 8123)
    assert "reachable from other machines" in capsys.readouterr().err
    assert TestClient(app).get("/api/health").json()["models"]["sentiment"] is False


def corrupt_copy(run_dir, tmp_path):
    copy = tmp_path / "corrupt"
    shutil.copytree(run_dir, copy)
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:50])
    return copy


@pytest.mark.parametrize(("arguments", "message"), [
    ([], "at least one model"),
    (["--charlm", "{tmp}/missing"], "not found"),
    (["--sentiment", "{charlm}"], "not a sentiment model"),
    (["--charlm", "{corrupt}"], "corrupt or truncated"),
    (["--charlm", "{charlm}", "--port", "70000"], "--port"),
    (["--model", "{charlm}", "--charlm", "{charlm}"], "served alone (no ensemble)"),
    (["--model", "{tmp}"], "config.json"),
    (["--charlm", "{charlm}", "--max-generate-length", "0"], "--max-generate-length"),
    (["--charlm", "{charlm}", "--threads", "0"], "--threads"),
])
def test_serve_refuses_before_starting_with_one_line_and_status_2(
        runs, started, capsys, tmp_path, arguments, message):
    names = {"tmp": tmp_path, "charlm": runs["charlm"],
             "corrupt": corrupt_copy(runs["charlm"], tmp_path)}
    assert main(["serve", *(a.format(**names) for a in arguments)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seqrnn: error: ") and message in err and err.count("\n") == 1
    assert started == []  # the server never started


def test_the_real_server_streams_generated_text_over_http(runs):
    with running_server(runs) as url:
        assert httpx.get(url + "/").headers["content-type"].startswith("text/html")
        review = httpx.post(url + "/api/sentiment", json={"text": "great fun"}).json()
        assert review["label"] == "pos"
        request = {"prime": "  Ham", "length": 300, "seed": 1}
        with httpx.stream("POST", url + "/api/generate", json=request) as response:
            assert response.headers["transfer-encoding"] == "chunked"
            chunks = list(response.iter_text())
        assert len("".join(chunks)) == 300 and len(chunks) > 1
        error = httpx.post(url + "/api/generate", json={"prime": "@"})
        assert error.status_code == 422 and "never saw" in error.json()["error"]
        assert error.json()["field"] == "prime"


def test_a_port_in_use_or_a_foreign_host_is_one_line(runs, capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--charlm", str(runs["charlm"]), "--port", str(port)]) == 2
    assert capsys.readouterr().err == (f"seqrnn: error: port {port} on 127.0.0.1 is in use: stop "
                                       "the program using it, or choose another --port\n")
    assert main(["serve", "--charlm", str(runs["charlm"]), "--host", "256.256.256.256"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seqrnn: error: --host 256.256.256.256 is not an address")
    assert err.count("\n") == 1


def raw_request(url: str, request: bytes) -> bytes:
    """Send `request` as it is over a socket; the status line of the answer (b"" if none)."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)
        try:
            answer = conn.recv(4096)
        except (ConnectionResetError, TimeoutError):
            answer = b""
    return answer.split(b"\r\n", 1)[0]


def test_lying_or_malformed_requests_on_the_wire_get_no_5xx(runs):
    body = b'{"text": "a fine film"}'
    cases = [
        b"POST /api/sentiment HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 500\r\n\r\n" + body,  # promises more than it sends
        b"POST /api/sentiment HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 5\r\n\r\n" + body,  # sends more than it promised
        b"POST /api/sentiment HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: abc\r\n\r\n" + body,
        b"POST /api/sentiment HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"tex\r\nzz\r\n",  # a broken chunk
    ]
    nan = b'{"prime": "the ", "seed": NaN}'
    cases.append(b"POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(nan), nan))
    statuses = []
    with running_server(runs) as url:
        for request in cases:
            status = raw_request(url, request)
            assert not status.startswith(b"HTTP/1.1 5"), (request, status)
            statuses.append(status)
        assert httpx.post(url + "/api/sentiment", json={"text": "fine"}).status_code == 200
    # No answer to a body that never comes; 400 for what HTTP cannot parse; 422 for NaN.
    assert statuses == [b""] + [b"HTTP/1.1 400 Bad Request"] * 3 + [
        b"HTTP/1.1 422 Unprocessable Entity"]
