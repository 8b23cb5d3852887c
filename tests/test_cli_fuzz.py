"""The command line, fuzzed from its own parser.

For every subcommand the parser defines (found by walking it, never listed by hand),
Hypothesis draws command lines from that subcommand's own actions: its flags, their types,
choices and nargs, with plausible and hostile values (negative, zero, huge, NaN, empty,
missing paths, /dev/zero, a folder where a file belongs, a run of another kind). Each command
runs in-process in a forked child under a memory limit and a time limit, and must end in
status 0, or in status 2 with one line on stderr: never a traceback, never killed.

The child starts in a private copy of small fixtures (texts, tables, pairs, a trained run of
each kind, tiny stand-ins for the named datasets), so argv holds relative paths and a failure
reads as a command line to replay in such a folder. SEQRNN_FUZZ_EXAMPLES raises the number of
command lines per subcommand (default 5, what CI affords) for a deeper search.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import re
import resource
import select
import shlex
import shutil
import signal
import sys
import tarfile
import tempfile
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from seqrnn.cli import build_parser, main
from tests.forecast_data import seasonal_series, write_series
from tests.tag_data import toy_sentences, write_conll
from tests.test_api_sentiment import reviews
from tests.test_cli import walk
from tests.test_recipes_seq2seq import WORDS

forks = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs Linux (fork, pidfd)")

EXAMPLES = int(os.environ.get("SEQRNN_FUZZ_EXAMPLES", "5"))
TIME_LIMIT_S = 60  # CPU and wall-clock seconds of one command; the fixtures' commands take ~1 s
MEMORY_HEADROOM = 2 << 30  # address space a command may add to what the test process maps


# -- the parser, walked ---------------------------------------------------------------------

def is_command(parser: argparse.ArgumentParser) -> bool:
    return not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)


PARSERS = dict(walk(build_parser()))
COMMANDS = [path for path, parser in PARSERS.items() if path and is_command(parser)]


# -- the fixtures every command starts among ------------------------------------------------

RUN_OF = {"charlm": "charlm_run", "wordlm": "wordlm_run", "sentiment": "sentiment_run",
          "seq2seq": "seq2seq_run", "forecast": "forecast_run", "tag": "tag_run"}
FINETUNED = "finetuned_run"  # a classifier fine-tuned from wordlm_run

TEXT = "".join(f"The {w} cat sat on the mat, said {w}: the quick brown fox jumps over the "
               "lazy dog.\n" for w in ["one", "two", "three", "four", "five"] * 40)
# sources of the pairs: every letter, and every word of the text and of the drawn phrases
PAIR_WORDS = sorted(set(re.findall("[a-z]+", TEXT.lower() + " great movie")) | set(WORDS))


def write_fixtures(root: Path) -> None:
    """The files the drawn command lines name, and stand-ins for the named datasets."""
    (root / "text.txt").write_text(TEXT)
    (root / "empty.txt").write_text("")
    (root / "binary.bin").write_bytes(bytes(range(256)) * 8)
    (root / "folder").mkdir()
    (root / "loop").symlink_to("loop")  # a link to itself: opening it fails with ELOOP
    (root / "docs").mkdir()
    for i in range(3):
        (root / "docs" / f"{i}.txt").write_text(TEXT[i * 500:(i + 1) * 2000])
    texts, labels = reviews(120)
    (root / "reviews.txt").write_text("\n".join(texts) + "\n")
    rows = "".join(f'"{t}",{label}\n' for t, label in zip(texts, labels, strict=True))
    (root / "table.csv").write_text("text,label\n" + rows)
    pairs = "".join(f"{w}\t{' '.join(reversed(w))}\n" for w in PAIR_WORDS)
    (root / "pairs.tsv").write_text("source\ttarget\n" + pairs)
    datasets = root / "datasets"  # $SEQRNN_DATA of every command: nothing is downloaded
    datasets.mkdir()
    (datasets / "pg2265.txt").write_text("Gutenberg header\n\nThe Tragedie of Hamlet\n\n"
                                         "Actus Primus.\n" + TEXT)
    (datasets / "tinyshakespeare.txt").write_text(TEXT)
    write_imdb(datasets / "aclImdb_v1.tar.gz")
    series = seasonal_series(8, 40)
    write_series(root / "series.json", series)
    (root / "series.csv").write_text("id,time,value\n" + "".join(
        f"s{i},{2000 + t // 12}-{t % 12 + 1:02d},{v}\n"
        for i, values in enumerate(series) for t, v in enumerate(values)))
    write_conll(root / "tagged.txt", toy_sentences(40, 1))
    with zipfile.ZipFile(datasets / "conll2000.zip", "w") as archive:  # NLTK's layout
        for split, seed in (("train", 2), ("test", 3)):
            archive.writestr(f"conll2000/{split}.txt",
                             write_conll(root / f"{split}.conll", toy_sentences(30, seed))
                             .read_text())
    (datasets / "cmudict.dict").write_text("".join(
        f"{w} {' '.join(c.upper() + '1' for c in w)}\n" for w in PAIR_WORDS))


def write_imdb(archive: Path) -> None:
    """A miniature aclImdb_v1.tar.gz with the official layout and the lists of movies."""
    texts, labels = reviews(200)
    by_label = {"neg": [t for t, lab in zip(texts, labels, strict=True) if lab == "neg"],
                "pos": [t for t, lab in zip(texts, labels, strict=True) if lab == "pos"]}
    by_label["unsup"] = by_label["neg"][:20] + by_label["pos"][:20]

    def add(tar: tarfile.TarFile, name: str, text: str) -> None:
        data = text.encode()
        info = tarfile.TarInfo(f"aclImdb/{name}")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))

    with tarfile.open(archive, "w:gz") as tar:
        for split, labels_of_split, first in (("train", ("neg", "pos", "unsup"), 0),
                                              ("test", ("neg", "pos"), 50)):
            for label in labels_of_split:
                items = by_label[label][first:first + 40]
                rating = {"neg": 2, "pos": 9, "unsup": 0}[label]
                for i, text in enumerate(items):
                    add(tar, f"{split}/{label}/{i}_{rating}.txt", text)
                add(tar, f"{split}/urls_{label}.txt", "".join(
                    f"http://www.imdb.com/title/tt{split}{i // 2}/usercomments\n"
                    for i in range(len(items))))


def train_fixture_runs(root: Path) -> None:
    """One small trained run of each kind, by the command line itself."""
    small = ["--max-steps", "2", "--quiet", "--seed", "0"]
    commands = [
        ["charlm", "train", "--text", "text.txt", "--out", RUN_OF["charlm"], "--hidden-size",
         "16", "--batch-size", "4", "--num-steps", "16", "--eval-rows", "2",
         "--sample-length", "0"],
        ["wordlm", "train", "--data", "reviews.txt", "--out", RUN_OF["wordlm"], "--hidden-size",
         "16", "--embedding-dim", "8", "--batch-size", "4", "--num-steps", "8",
         "--sample-length", "0"],
        ["sentiment", "train", "--data", "table.csv", "--out", RUN_OF["sentiment"],
         "--hidden-size", "8", "--embedding-dim", "8", "--batch-size", "16"],
        ["sentiment", "train", "--data", "table.csv", "--out", FINETUNED, "--pretrained",
         RUN_OF["wordlm"], "--batch-size", "16"],
        ["seq2seq", "train", "--data", "pairs.tsv", "--out", RUN_OF["seq2seq"],
         "--hidden-size", "16", "--embedding-dim", "8", "--batch-size", "16"],
        ["forecast", "train", "--data", "series.json", "--out", RUN_OF["forecast"],
         "--horizon", "6", "--frequency", "monthly", "--input-length", "12",
         "--hidden-size", "8", "--num-layers", "1", "--batch-size", "16"],
        ["tag", "train", "--data", "tagged.txt", "--out", RUN_OF["tag"], "--hidden-size", "8",
         "--word-dim", "8", "--char-hidden", "4", "--batch-size", "8"],
    ]
    for argv in commands:
        outcome = run_cli([*argv, *small], root)
        assert outcome.status == 0, outcome.report()
        import_here(outcome.imported)


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fuzz") / "fixtures"
    root.mkdir()
    write_fixtures(root)
    train_fixture_runs(root)
    return root


# -- one command in a forked child ----------------------------------------------------------

@dataclass
class Outcome:
    argv: list[str]
    status: int | None  # the exit status; None when a signal ended the child
    signal: int | None
    timed_out: bool
    stdout: str
    stderr: str
    imported: list[str]  # modules the command imported that the test process had not

    def report(self) -> str:
        if self.timed_out:
            ending = f"still running after {TIME_LIMIT_S} s: killed"
        elif self.signal is not None:
            ending = f"killed by {signal.Signals(self.signal).name}"
        else:
            ending = f"exit status {self.status}"
        return (f"seqrnn {shlex.join(self.argv)}\n  {ending}; stderr ends:\n"
                f"{self.stderr[-3000:]}")


def run_cli(argv: list[str], work: Path) -> Outcome:
    """`seqrnn ARGV` run in the folder `work`, in a forked child, within the limits."""
    logs = Path(tempfile.mkdtemp(prefix="logs-", dir=work.parent))
    try:
        status, killed_by, timed_out = run_in_child(lambda: _cli_child(argv, work, logs), logs)
        imported = logs / "imported"
        return Outcome(argv, status, killed_by, timed_out,
                       (logs / "stdout").read_text(errors="replace"),
                       (logs / "stderr").read_text(errors="replace"),
                       imported.read_text().split() if imported.exists() else [])
    finally:
        shutil.rmtree(logs, ignore_errors=True)


def run_in_copy(argv: list[str], fixtures: Path) -> Outcome:
    """`seqrnn ARGV` in a fresh copy of `fixtures`, so that no command sees another's traces."""
    work = Path(tempfile.mkdtemp(prefix="work-", dir=fixtures.parent)) / "work"
    try:
        shutil.copytree(fixtures, work, symlinks=True)
        return run_cli(argv, work)
    finally:
        shutil.rmtree(work.parent, ignore_errors=True)


def run_in_child(work: Callable[[], int], case: Path,
                 seconds: int = TIME_LIMIT_S) -> tuple[int | None, int | None, bool]:
    """Run `work` in a forked child with its output in case/stdout and case/stderr.

    Returns (exit status, killing signal, timed out). The child limits itself (address
    space, CPU seconds, an alarm for a child that waits); the parent kills it if it outlives
    those, so nothing a command does can hang or exhaust the test run.
    """
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 70
        try:
            _limit_and_redirect(case, seconds)
            status = work()
        finally:
            os._exit(status)
    pidfd = os.pidfd_open(pid)
    try:
        ended, _, _ = select.select([pidfd], [], [], seconds + 15)
    finally:
        os.close(pidfd)
    if not ended:
        os.kill(pid, signal.SIGKILL)
    _, wait_status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(wait_status):
        killed_by = os.WTERMSIG(wait_status)
        timed_out = not ended or killed_by in (signal.SIGALRM, signal.SIGXCPU)
        return None, killed_by, timed_out
    return os.WEXITSTATUS(wait_status), None, False


def _limit_and_redirect(case: Path, seconds: int) -> None:
    space = _mapped_bytes() + MEMORY_HEADROOM
    for limit, value in ((resource.RLIMIT_AS, space), (resource.RLIMIT_CPU, seconds),
                         (resource.RLIMIT_CORE, 0)):
        hard = resource.getrlimit(limit)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (value, hard))
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(seconds)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # no input: a command that reads it sees EOF
    for fd, name in ((1, "stdout"), (2, "stderr")):
        os.dup2(os.open(case / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - lives with the child
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115


def _mapped_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def _cli_child(argv: list[str], work: Path, logs: Path) -> int:
    """In the child: what `seqrnn ARGV` does, run in `work`; a traceback goes to stderr."""
    import torch

    loaded = set(sys.modules)
    os.chdir(work)
    os.environ["SEQRNN_DATA"] = str(work / "datasets")
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")
    torch.set_num_threads(1)
    try:
        import uvicorn
    except ImportError:
        pass
    else:  # `seqrnn serve` would serve until stopped: return where it would start serving
        uvicorn.Server.run = lambda self, sockets=None: None
    try:
        status = main(argv)
    except SystemExit as exc:  # main returns statuses; an escaped exit is still an ending
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        status = 1
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    (logs / "imported").write_text("\n".join(sorted(set(sys.modules) - loaded)))
    return status


def import_here(names: list[str]) -> None:
    """Import in the test process what a command imported, so that every command forked later
    starts with it loaded: a cold command spends seconds importing, a warm one none."""
    for name in names:
        if name not in sys.modules:
            # a module that only its package can load comes with the package
            with contextlib.suppress(Exception):
                importlib.import_module(name)


PROGRESS_BAR = re.compile(r"\d+%\|")  # tqdm's "reading:  42%|####      | 42/100 [...]"


def messages(stderr: str) -> list[str]:
    """The lines of stderr that say something: not the progress bars (a trainer without
    --quiet draws them), nor the blanks that erase them."""
    shown = (line.rsplit("\r", 1)[-1].strip() for line in stderr.split("\n"))
    return [line for line in shown if line and not PROGRESS_BAR.search(line)]


ONE_LINE_ERROR = re.compile(r"seqrnn( [\w-]+)*: error: \S")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
ALL_FLAGS = {option for parser in PARSERS.values() for action in parser._actions
             for option in action.option_strings}


def problem_with(outcome: Outcome) -> str | None:
    """What breaks the rule (status 0, or status 2 with one error line), or None."""
    if outcome.timed_out:
        return "over the time limit"
    if outcome.signal is not None:
        return "killed"
    if "Traceback (most recent call last)" in outcome.stderr:
        return "a traceback"
    if outcome.status == 0:
        return None
    if outcome.status != 2:
        return f"exit status {outcome.status}"
    lines = messages(outcome.stderr)
    if len(lines) != 1 or not ONE_LINE_ERROR.match(lines[0]):
        return "status 2 without exactly one 'seqrnn ...: error: ...' line on stderr"
    unknown = sorted(set(FLAG.findall(lines[0])) - ALL_FLAGS)
    if unknown:
        return f"the error names {', '.join(unknown)}, which no seqrnn command has"
    return None


# -- command lines drawn from a parser ------------------------------------------------------

@dataclass(frozen=True)
class Pool:
    """Values worth trying for a flag: plausible ones, and hostile ones a command must refuse
    in one line (or survive). A drawn value is hostile one time in three, so that most
    command lines get past their first check."""

    plausible: tuple[str, ...]
    hostile: tuple[str, ...] = ()

    def strategy(self) -> st.SearchStrategy[str]:
        plausible = st.sampled_from(self.plausible)
        if not self.hostile:
            return plausible
        return st.one_of(plausible, plausible, st.sampled_from(self.hostile))


def pool(plausible: list[str], hostile: list[str] = ()) -> Pool:
    return Pool(tuple(plausible), tuple(hostile))


NOT_A_FILE = ["", "folder", "loop", "/dev/zero", "empty.txt", "binary.bin", "missing.txt",
              "missing_dir/missing.txt"]
NOT_A_RUN = ["", "folder", "loop", "text.txt", "missing_run", "/dev/zero"]
# Outputs stay inside the command's folder, or cannot be created: a device such as /dev/full
# is no output to draw, since a writer running as root may rename a file over it.
NOT_A_FOLDER = ["", "text.txt", "text.txt/under_a_file", "loop", "/proc/seqrnn-out",
                "x" * 300]
PHRASES = pool(["great movie", "cat", "the lazy dog"], ["", " ", "é中\u200b", "the " * 3000])
SOURCES = pool(["cat", "great", "dog"], ["", " ", "great movie", "é中\u200b", "x" * 3000])
PRIMES = pool(["The ", "the cat", "e"], ["", "ee", "é中\u200b", "x" * 5000])
TEXT_INPUTS = pool(["text.txt", "hamlet", "tinyshakespeare"], ["table.csv", *NOT_A_FILE])

INTS = pool(["1", "2", "3", "8"], ["-1", "0", "100000", "1000000000000", str(2**64)])
FLOATS = pool(["0", "0.1", "0.5"], ["-1", "1", "2", "1e-12", "1e+30", "1e+300", "nan", "inf",
                                      "-inf"])
STEPS = pool(["1", "2", "3"], ["-1", "0"])  # amounts of work: a large one is slow by request

TAGGED = pool(["tagged.txt"], ["table.csv", "series.json", *NOT_A_FILE])

POOLS: dict[str, Pool] = {
    "series": pool(["series.json", "series.csv"], ["table.csv", "text.txt", *NOT_A_FILE]),
    "validation": TAGGED, "test": TAGGED,
    "ids": pool(["s0", "s3"], ["nope", ""]),
    "epochs": STEPS, "max_steps": STEPS, "sample_length": STEPS,
    "length": pool(["1", "2", "50"], ["-1", "0"]),
    "minutes": pool(["0.01", "1"], ["-1", "0", "nan", "inf"]),
    "time_limit": pool(["0.5", "10"], ["-1", "0", "nan", "inf"]),
    "num_samples": pool(["1", "3"], ["-1", "0", "1000000000"]),
    "seed": pool(["0", "1", "7"], ["-1", str(2**32), str(2**63), str(2**64)]),
    "beam": pool(["1", "2", "5"], ["-1", "0", "64", "65", "1000000000"]),
    "port": pool(["8765", "65535"], ["-1", "0", "80", "65536"]),
    "threads": pool(["1"], ["-1", "0", "2", "100000"]),
    "text": TEXT_INPUTS,
    "file": pool(["text.txt", "reviews.txt"], NOT_A_FILE),
    "pretrained": pool(["wordlm_run"], ["charlm_run", "sentiment_run", *NOT_A_RUN]),
    "run_dir": pool([*RUN_OF.values(), FINETUNED], NOT_A_RUN),
    "encoding": pool(["utf-8", "latin-1"], ["utf-16", "ascii", "no-such-codec", ""]),
    "text_column": pool(["text"], ["review", "label", "", "nope"]),
    "label_column": pool(["label"], ["sentiment", "text", "", "nope"]),
    "source_column": pool(["source"], ["target", "", "nope"]),
    "target_column": pool(["target"], ["source", "", "nope"]),
    "labels": pool(["neg=neg,pos=pos", "0=neg,1=pos"], ["pos=neg", "x", "", "=,=",
                                                        "a=neg,a=pos"]),
    "lr_schedule": pool(["constant", "cosine", "slanted"], ["", "bogus"]),
    "host": pool(["127.0.0.1", "localhost"], ["::1", "", "0.0.0.0", "192.0.2.1"]),
    "prime": PRIMES, "stop": PRIMES, "texts": PHRASES, "sources": SOURCES,
    "sentences": PHRASES,
}
DATA = {  # --data of each kind
    "wordlm": pool(["reviews.txt", "docs", "imdb"], ["table.csv", *NOT_A_FILE]),
    "sentiment": pool(["table.csv", "imdb"], ["pairs.tsv", "text.txt", *NOT_A_FILE]),
    "seq2seq": pool(["pairs.tsv", "cmudict"], ["table.csv", "text.txt", *NOT_A_FILE]),
    "forecast": pool(["series.json", "series.csv", "m3-other"],
                     ["table.csv", "text.txt", *NOT_A_FILE]),
    "tag": pool(["tagged.txt", "conll2000"], ["table.csv", "conll2002-es", *NOT_A_FILE]),
}
OUTS = {  # --out of the commands that write one file
    "export": pool(["model.onnx", "new/nested/model.onnx"],
                   ["model", "charlm_run/config.onnx", "folder", *NOT_A_FOLDER]),
    "plot": pool(["curve.png", "new/nested/curve.png"], ["curve.svg", "folder", *NOT_A_FOLDER]),
}
OUT_FOLDERS = pool(["out", "new/nested/out"], ["folder", *RUN_OF.values(), *NOT_A_FOLDER])

# Flags every command line of a kind gets unless it draws them itself: a trainer stops after
# a step (a long training is asked for, not a fault), a word model is small.
ANCHORS: dict[tuple[str, ...], dict[str, str]] = {
    ("charlm", "train"): {"max_steps": "1"},
    ("wordlm", "train"): {"max_steps": "1", "hidden_size": "16", "embedding_dim": "8",
                          "batch_size": "4", "num_steps": "8"},
    ("charlm", "evaluate"): {"text": "text.txt"},  # or --condition-gap, for conditioned runs
    ("wordlm", "evaluate"): {"text": "reviews.txt"},
    ("sentiment", "train"): {"max_steps": "1"},
    ("seq2seq", "train"): {"max_steps": "1"},
    ("forecast", "train"): {"max_steps": "1", "horizon": "6", "frequency": "monthly",
                            "hidden_size": "8", "num_layers": "1", "batch_size": "16"},
    ("forecast", "evaluate"): {"backtest": "1"},  # its series hold no held-out future
    ("forecast", "predict"): {"series": "series.json"},  # the fuzzer's standard input is empty
    ("tag", "train"): {"max_steps": "1", "hidden_size": "8", "word_dim": "8",
                       "char_hidden": "4"},
    ("tag", "evaluate"): {"split": "validation"},  # its data names no test file
    ("serve",): {"charlm": RUN_OF["charlm"]},  # it needs a model to serve
}


def pool_for(action: argparse.Action, path: tuple[str, ...]) -> Pool:
    """The values worth trying for one action of the command `path`."""
    kind, command, dest = path[0], path[-1], action.dest
    if action.choices:  # argparse refuses the others before any seqrnn code runs
        return pool(list(map(str, action.choices)))
    if dest == "model" or dest in RUN_OF:  # a run folder to read
        own = RUN_OF.get(kind if dest == "model" else dest, RUN_OF["charlm"])
        others = [run for run in (*RUN_OF.values(), FINETUNED) if run != own]
        return pool([own], [*others, *NOT_A_RUN])
    if dest == "resume":
        return pool(["auto", RUN_OF[kind]], ["", FINETUNED, "charlm_run", *NOT_A_RUN])
    if dest == "out":
        return OUTS.get(command, OUT_FOLDERS)
    if dest == "data":
        return DATA.get(kind, TEXT_INPUTS)
    if dest in POOLS:
        return POOLS[dest]
    if action.type is float:
        return FLOATS
    if action.type is int:
        return INTS
    return PHRASES


Pick = Callable[[Pool, int, int], list[str]]  # (pool, fewest, most) -> values


def tokens(action: argparse.Action, path: tuple[str, ...], pick: Pick) -> list[str]:
    """argv words for one action: its flag and its values (a value may start with '-')."""
    if action.nargs == 0:  # store_true, store_false
        return [action.option_strings[-1]]
    values = pool_for(action, path)
    option = action.option_strings[-1] if action.option_strings else None
    if action.nargs in ("+", "*"):
        many = pick(values, 1 if action.nargs == "+" else 0, 3)
        return [option, *many] if option else many
    if isinstance(action, argparse._AppendAction):
        return [f"{option}={value}" for value in pick(values, 1, 2)]
    (value,) = pick(values, 1, 1)
    return [f"{option}={value}"] if option else [value]


def flags_of(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if a.option_strings
            and not isinstance(a, (argparse._HelpAction, argparse._VersionAction))]


def command_line(path: tuple[str, ...], chosen: list[argparse.Action], pick: Pick) -> list[str]:
    """argv for `seqrnn PATH ...`: the positionals, the chosen and the required flags, then
    the command's anchors that were not chosen."""
    parser = PARSERS[path]
    flags = flags_of(parser)
    argv = list(path)
    for action in parser._actions:
        if not action.option_strings:
            argv += tokens(action, path, pick)
    for action in [*chosen, *(a for a in flags if a.required and a not in chosen)]:
        argv += tokens(action, path, pick)
    by_dest = {a.dest: a for a in flags}
    for dest, value in ANCHORS.get(path, {}).items():
        if all(a.dest != dest for a in chosen):
            argv.append(f"{by_dest[dest].option_strings[-1]}={value}")
    return argv


@st.composite
def command_lines(draw, path: tuple[str, ...]) -> list[str]:
    flags = flags_of(PARSERS[path])
    chosen = draw(st.lists(st.sampled_from(flags), unique_by=lambda a: a.dest, max_size=8))
    return command_line(path, chosen, lambda values, fewest, most: draw(
        st.lists(values.strategy(), min_size=fewest, max_size=most)))


def plainest_command_line(path: tuple[str, ...]) -> list[str]:
    """Only what the command needs, each value the first plausible one."""
    return command_line(path, [], lambda values, fewest, most: [values.plausible[0]] * fewest)


# -- the tests ------------------------------------------------------------------------------

@forks
@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_any_command_line_succeeds_or_fails_in_one_line(path, fixtures):
    plainest = run_in_copy(plainest_command_line(path), fixtures)
    assert plainest.status == 0, f"the fixtures no longer serve this command: {plainest.report()}"

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.generate],  # no shrinking: every try may take seconds
              suppress_health_check=[HealthCheck.too_slow])
    @given(argv=command_lines(path))
    def fuzz(argv):
        outcome = run_in_copy(argv, fixtures)
        problem = problem_with(outcome)
        assert problem is None, f"{problem}: {outcome.report()}"

    fuzz()


@forks
def test_a_child_that_runs_too_long_is_killed_and_reported(tmp_path):
    def spin() -> int:
        while True:
            pass

    status, killed_by, timed_out = run_in_child(spin, tmp_path, seconds=1)
    assert (status, timed_out) == (None, True) and killed_by is not None
