"""Running commands where a big allocation cannot happen: a child process under an address
space limit (RLIMIT_AS), so a test of a refusal proves it came before the allocation."""

import json
import subprocess
import sys

ADDRESS_SPACE = 4 * 2**30  # torch and a small model fit; any of the refused allocations not

_CHILD = """
import contextlib, io, json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from seqrnn.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            status = main(argv)
    except BaseException as exc:  # a traceback: what these tests forbid
        status, err = -1, io.StringIO(repr(exc))
    results.append([status, err.getvalue().strip()])
print(json.dumps(results))
"""


def run_limited(*argvs: list[str], timeout: float = 120) -> list[tuple[int, str]]:
    """(status, stderr) of `seqrnn ARGV` for each of `argvs`, all in one limited child."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD.format(limit=ADDRESS_SPACE), json.dumps(argvs)],
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-2000:]
    return [tuple(result) for result in json.loads(done.stdout)]


def assert_refused(results: list[tuple[int, str]], *fragments: str) -> None:
    """Each result is status 2 with one line holding its fragment."""
    assert len(results) == len(fragments)
    for (status, err), fragment in zip(results, fragments, strict=True):
        assert status == 2 and len(err.splitlines()) == 1, err
        assert fragment in err, err
