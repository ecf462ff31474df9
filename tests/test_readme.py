"""Every code block of README.md runs as written, against the fake endpoint (issue #13).

The rules, which the README follows:

* A ```python block runs as a script (``python block.py``).
* A ```bash (```sh, ```shell, ```console) block runs in bash with ``set -e``, after
  this test has checked that each of its commands is a ``khabar`` command
  (``VAR=value khabar ...`` included): anything else (``pip install``, ``pytest``,
  a venv) would change this environment, so it must be marked (below).
* Both run in a fresh temporary directory holding a copy of ``evals/`` (the seed
  articles, gold, cassettes, baseline), as a checkout does, with ``khabar`` from
  this environment on the PATH and ``KHABAR_MODEL``, ``KHABAR_BASE_URL`` and
  ``OPENAI_API_KEY`` pointing at the session's fake server
  (:class:`khabar.testing.FakeOpenAI`, a synthetic responder, not a model); a
  private ``KHABAR_HOME``; no network (``HF_HUB_OFFLINE=1``). Each must exit 0.
* A block right after the line ``<!-- not run in tests: REASON -->`` is not run;
  ``test_every_block_not_run_says_why_and_is_only_setup`` checks that it gives its
  REASON and holds a set-up command (an install), so nothing else can hide there
  silently. That is for what needs the embedded model, the network or a key: the
  quick start's install and its run on the local model, ``khabar eval --record``,
  the test suite itself.
* An untagged block is a synopsis or a layout: not run, but each line of it that
  starts with ``khabar CMD`` must name a real command, and every ``--option`` or
  ``-o`` it shows must be in that command's ``--help``.
* A ```json block must parse.
* Any other tag fails: a new kind of block needs a rule here first.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from khabar.cli import cli
from khabar.testing import FakeOpenAI

from .conftest import REPO, SENTINEL_KEY

README = REPO / "README.md"
MARKER = re.compile(r"<!--\s*not run in tests:\s*(?P<why>.+?)\s*-->")
FENCE = re.compile(r"^```(?P<tag>[\w-]*)\s*$")
SHELL_TAGS = {"bash", "sh", "shell", "console"}


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line of the opening fence
    tag: str
    text: str
    skip: str | None  # the marker's reason, when the block is not run

    @property
    def name(self) -> str:
        return f"README.md:{self.line} ({self.tag or 'untagged'})"


def blocks(text: str) -> list[Block]:
    """The fenced blocks of ``text``, each with the marker before it (if any)."""
    found: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = MARKER.search(before)
        found.append(
            Block(
                i + 1,
                opening["tag"],
                "\n".join(lines[i + 1 : end]) + "\n",
                marker["why"] if marker else None,
            )
        )
        i = end + 1
    return found


ALL = blocks(README.read_text(encoding="utf-8"))
RUN = [b for b in ALL if b.tag in SHELL_TAGS | {"python"}]


def shell_commands(script: str) -> list[str]:
    """The commands of a shell block: continuations joined, split at && ; and |."""
    joined = re.sub(r"\\\n\s*", " ", script)
    commands = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = re.split(r"\s#\s", line, maxsplit=1)[0]  # a trailing comment
        commands += [" ".join(c.split()) for c in re.split(r"&&|\|\||;|\|", line) if c.strip()]
    return commands


def is_khabar(command: str) -> bool:
    words = command.split()
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
        words.pop(0)  # VAR=value before the command
    return bool(words) and words[0] == "khabar"


@pytest.fixture
def workdir(tmp_path: Path, server: FakeOpenAI) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "checkout"
    root.mkdir()
    shutil.copytree(REPO / "evals", root / "evals")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("KHABAR_", "OPENAI_", "AZURE_"))
    }
    env.update(
        KHABAR_MODEL="fake-model",
        KHABAR_BASE_URL=server.base_url,
        OPENAI_API_KEY=SENTINEL_KEY,
        KHABAR_HOME=str(tmp_path / "home"),
        KHABAR_RETRY_BASE_WAIT="0.01",
        KHABAR_TIMEOUT="30",
        HF_HUB_OFFLINE="1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    return root, env


def test_the_readme_has_runnable_blocks_and_every_tag_has_a_rule() -> None:
    tags = {b.tag for b in ALL}
    assert tags <= SHELL_TAGS | {"python", "json", ""}, f"no rule for {tags}: add one here"
    assert any(b.tag == "python" and b.skip is None for b in ALL), "the Python block must run"


def test_every_block_not_run_says_why_and_is_only_setup() -> None:
    """Blocks marked not run are listed here with their reasons, not skipped as tests."""
    marked = [b for b in RUN if b.skip is not None]
    for block in marked:
        assert len(block.skip or "") >= 10, f"{block.name}: say why it is not run"
        # Only set-up commands may go unrun: installs and the embedded model's first run.
        assert "pip install" in block.text, f"{block.name} runs no install; run it in the test"


@pytest.mark.parametrize(
    "block", [b for b in RUN if b.skip is None], ids=[b.name for b in RUN if b.skip is None]
)
def test_block_runs(block: Block, workdir: tuple[Path, dict[str, str]]) -> None:
    root, env = workdir
    if block.tag == "python":
        script = root / "block.py"
        script.write_text(block.text, encoding="utf-8")
        argv = [sys.executable, str(script)]
    else:
        others = [c for c in shell_commands(block.text) if not is_khabar(c)]
        assert not others, (
            f"{block.name} runs {others}, which would change this environment: mark the "
            "block with <!-- not run in tests: why --> or keep only khabar commands in it"
        )
        argv = ["bash", "-euo", "pipefail", "-c", block.text]
    done = subprocess.run(
        argv, cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, (
        f"{block.name} exited {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    )
    assert SENTINEL_KEY not in done.stdout + done.stderr


SYNOPSES = [b for b in ALL if b.tag == "" and re.search(r"^khabar ", b.text, re.M)]


@pytest.mark.parametrize("block", SYNOPSES, ids=[b.name for b in SYNOPSES])
def test_a_synopsis_names_real_commands_and_options(block: Block) -> None:
    entries: list[tuple[list[str], str]] = []  # (command path, its synopsis text)
    for line in block.text.splitlines():
        if line.startswith("khabar "):
            words = line.split()
            path = [words[1]]
            # A subcommand of a group: "khabar eval check-gold", "khabar batch prepare".
            if len(words) > 2 and re.fullmatch(r"[a-z][a-z-]+", words[2]):
                path.append(words[2])
            entries.append((path, line))
        elif line.startswith(" ") and entries:  # a continuation of the last command
            entries[-1] = (entries[-1][0], entries[-1][1] + " " + line)
    assert entries
    for path, text in entries:
        # "prepare ... | submit JOB | ...": each alternative of a group names its own subcommand.
        for part in text.split(" | ") if len(path) > 1 else [text]:
            words = part.split()
            sub = path if part is text else [path[0], words[0] if words[0] != "khabar" else path[1]]
            if part is not text and words[0] == "khabar":
                sub = path
            help_text = CliRunner().invoke(cli, [*sub, "--help"])
            assert help_text.exit_code == 0, f"`khabar {' '.join(sub)}` is not a command"
            options = set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", part))
            missing = sorted(
                o for o in options if not re.search(rf"(?<![\w-]){o}\b", help_text.output)
            )
            assert not missing, f"`khabar {' '.join(sub)}` has no {missing}"


@pytest.mark.parametrize("block", [b for b in ALL if b.tag == "json"], ids=lambda b: b.name)
def test_a_json_block_parses(block: Block) -> None:
    json.loads(block.text)


def test_the_rules_read_the_readme_as_intended() -> None:
    """The extraction itself, on a README of every kind of block."""
    sample = (
        "text\n<!-- not run in tests: builds llama.cpp -->\n```bash\npip install x\n```\n"
        "```bash\nKHABAR_MODEL=m khabar summarize a \\\n  -o b  # note\n```\n"
        '```python\nprint("hi")\n```\n```\nkhabar info\n```\n'
    )
    got = blocks(sample)
    assert [(b.tag, b.skip) for b in got] == [
        ("bash", "builds llama.cpp"),
        ("bash", None),
        ("python", None),
        ("", None),
    ]
    assert shell_commands(got[1].text) == ["KHABAR_MODEL=m khabar summarize a -o b"]
    assert is_khabar("KHABAR_MODEL=m khabar summarize a") and not is_khabar("pip install x")
    assert shell_commands("a && b | c; d\n") == ["a", "b", "c", "d"]
