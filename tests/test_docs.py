"""Every example in the documentation runs.

The pages are README.md (the site's front page) and docs/**/*.md; the tutorials are
docs/tutorials/*.py, notebooks in jupytext's percent format. Fences say what a block is:

- ```python: run, the page's blocks in order as one script, in an empty folder;
- ```bash: run, the page's blocks in order, in an empty folder (seconds, on small data);
- ```bash title="recipe": a long recipe (minutes to hours of training, a run folder one leaves, a
  server, several machines), not run: every `seqrnn` command in it is parsed by the command
  line's own parser, every `python bench/X.py` names a script that exists, every extra that
  `pip install` names is in pyproject.toml;
- ```text: output, not run.

Each tutorial runs top to bottom as a script, in an empty folder. Outputs are never
committed: a tutorial is a .py file, and no .ipynb lies in docs/.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from seqrnn.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
TUTORIALS = sorted((DOCS / "tutorials").glob("*.py"))
RECIPE = 'bash title="recipe"'  # the title shows on the site and on GitHub's page alike
# python and bash blocks run, recipes are parsed, text blocks are output
FENCES = ("python", "bash", RECIPE, "text")
FENCE = re.compile(r"^```(.*)$")
needs_data = pytest.mark.skipif(not os.environ.get("SEQRNN_DATA"),
                                reason="the examples read the datasets in $SEQRNN_DATA")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence
    info: str  # what follows the opening ```
    code: str

    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    found, opened, lines = [], None, []
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        fence = FENCE.match(line)
        if fence and opened is None:
            opened, lines = (number, fence.group(1).strip()), []
        elif fence:
            found.append(Block(page, opened[0], opened[1], "\n".join(lines) + "\n"))
            opened = None
        elif opened is not None:
            lines.append(line)
    assert opened is None, f"{page}: the fence opened on line {opened[0]} is never closed"
    return found


def every_block() -> list[Block]:
    return [block for page in PAGES for block in blocks(page)]


def pages_with(info: str) -> list[Path]:
    return [page for page in PAGES if any(b.info == info for b in blocks(page))]


def environment() -> dict[str, str]:
    """This checkout's seqrnn first, the interpreter's `seqrnn` on PATH, the data found."""
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT / "src"))
    if env.get("SEQRNN_DATA"):  # CI's is relative to the checkout; the examples run elsewhere
        env["SEQRNN_DATA"] = os.pathsep.join(
            str(Path(folder).resolve()) for folder in env["SEQRNN_DATA"].split(os.pathsep))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(command: list[str], folder: Path, what: str) -> None:
    done = subprocess.run(command, cwd=folder, env=environment(), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"{what} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


# -- what each block is ------------------------------------------------------------------


def test_every_fence_says_what_its_block_is():
    unknown = [f"{b.where()}: ```{b.info}" for b in every_block() if b.info not in FENCES]
    assert not unknown, f"fences must be one of {sorted(FENCES)}: {unknown}"


def test_the_pages_have_examples_of_each_kind():
    infos = {b.info for b in every_block()}
    assert {"python", "bash", RECIPE} <= infos


def test_outputs_are_never_committed():
    assert TUTORIALS, "no tutorial found"
    assert not list(DOCS.rglob("*.ipynb")), "notebooks are kept as jupytext .py files"
    for tutorial in TUTORIALS:
        text = tutorial.read_text(encoding="utf-8")
        assert "format_name: percent" in text and "\n# %%" in text, tutorial.name


def test_tutorial_links_name_pages_of_the_site():
    """A notebook's links are not rewritten by MkDocs: they are the site's own addresses
    (the page docs/guide/inspect.md is ../../guide/inspect/ from a tutorial's page)."""
    for tutorial in TUTORIALS:
        for target in re.findall(r"\]\(([^)]+)\)", tutorial.read_text(encoding="utf-8")):
            page = re.fullmatch(r"\.\./\.\./([a-z/_]+)/", target)
            assert page and (DOCS / f"{page.group(1)}.md").is_file(), \
                f"{tutorial.name}: link {target} names no page (write ../../PAGE/)"


# -- run: tutorials, Python and shell blocks --------------------------------------------


@needs_data
@pytest.mark.parametrize("tutorial", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs_top_to_bottom(tutorial, tmp_path):
    run([sys.executable, str(tutorial)], tmp_path, tutorial.name)


@needs_data
@pytest.mark.parametrize("page", pages_with("python"), ids=page_id)
def test_python_blocks_run(page, tmp_path):
    script = tmp_path / "blocks.py"
    script.write_text("".join(b.code for b in blocks(page) if b.info == "python"))
    run([sys.executable, str(script)], tmp_path, f"the Python blocks of {page_id(page)}")


@needs_data
@pytest.mark.parametrize("page", pages_with("bash"), ids=page_id)
def test_shell_blocks_run(page, tmp_path):
    script = tmp_path / "blocks.sh"
    script.write_text("set -euo pipefail\n"
                      + "".join(b.code for b in blocks(page) if b.info == "bash"))
    run(["bash", str(script)], tmp_path, f"the shell blocks of {page_id(page)}")


# -- recipes: parsed, not run ------------------------------------------------------------


def commands(code: str) -> list[list[str]]:
    """The simple commands of a shell block: continuations joined, comments dropped, split at
    pipes and lists; the environment assignments that lead a command are left out."""
    joined = code.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars="|&;")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        command: list[str] = []
        for token in [*lexer, ";"]:
            if set(token) <= set("|&;"):
                while command and re.match(r"^[A-Z_]+=", command[0]):
                    command.pop(0)
                if command:
                    found.append(command)
                command = []
            else:
                command.append(token)
    return found


def seqrnn_arguments(command: list[str]) -> list[str] | None:
    """The arguments a command gives seqrnn (also through torchrun), or None."""
    for i, token in enumerate(command):
        if token == "seqrnn" and i > 0 and command[i - 1] == "-m":
            return command[i + 1:]
        named = token == "seqrnn" or token.endswith("/seqrnn") or "command -v seqrnn" in token
        if named and (i == 0 or command[0] == "torchrun"):
            return command[i + 1:]
    return None


def recipe_commands() -> list[tuple[str, list[str]]]:
    return [(b.where(), c) for b in every_block() if b.info == RECIPE
            for c in commands(b.code)]


def test_commands_are_read_as_a_shell_reads_them():
    assert commands("A=1 seqrnn x --y 'a b' \\\n  --z 2  # note\necho hi | seqrnn p && ls") == [
        ["seqrnn", "x", "--y", "a b", "--z", "2"], ["echo", "hi"], ["seqrnn", "p"], ["ls"]]
    assert seqrnn_arguments(["torchrun", "--nproc_per_node=2", "-m", "seqrnn", "a"]) == ["a"]
    assert seqrnn_arguments([".venv/bin/seqrnn", "b"]) == ["b"]
    assert seqrnn_arguments(["echo", "seqrnn"]) is None


@pytest.mark.parametrize("where,command", [
    (where, command) for where, command in recipe_commands()
    if seqrnn_arguments(command) is not None
], ids=lambda value: value if isinstance(value, str) else None)
def test_recipe_commands_parse(where, command):
    """Each flag a recipe gives exists and takes the value given (`...` stands for more)."""
    arguments = [a for a in seqrnn_arguments(command) if a != "..."]
    parser = build_parser()
    try:
        parsed = parser.parse_args(arguments)
    except SystemExit as exc:
        pytest.fail(f"{where}: `seqrnn {shlex.join(arguments)}` does not parse (status {exc})")
    assert hasattr(parsed, "run"), f"{where}: `seqrnn {shlex.join(arguments)}` names no command"


def test_recipe_scripts_and_extras_exist():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = pyproject.split("[project.optional-dependencies]")[1].split("\n[")[0]
    extras = set(re.findall(r"^([a-z0-9]+) = \[", section, flags=re.M))
    for where, command in recipe_commands():
        if command[0] in ("python", "python3") and command[1:2] and command[1].startswith("bench/"):
            assert (ROOT / command[1]).is_file(), f"{where}: no {command[1]}"
        for token in command:
            named = re.fullmatch(r"(?:\.|seqrnn)\[([a-z0-9,]+)\]", token)
            if command[0].endswith("pip") and named:
                missing = set(named.group(1).split(",")) - set(extras)
                assert not missing, f"{where}: no extra {sorted(missing)} in pyproject.toml"
