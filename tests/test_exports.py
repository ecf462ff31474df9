"""The public API is what khabar/__init__.py exports, and the docs/help are there."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import click
import pytest

import khabar
from khabar.cli import cli
from khabar.core.schemas import export_schemas

from .conftest import REPO


@pytest.mark.parametrize("name", [n for n in khabar.__all__ if n != "__version__"])
def test_every_exported_name_resolves_and_is_documented(name: str) -> None:
    value = getattr(khabar, name)
    assert inspect.getdoc(value), f"khabar.{name} has no docstring"


def test_summarize_docstring_has_an_example() -> None:
    doc = inspect.getdoc(khabar.summarize) or ""
    assert "Example" in doc and "khabar.summarize(" in doc


def test_import_is_light() -> None:
    # `khabar --help` must not pay for openai/instructor/llama.cpp.
    code = "import sys, khabar.cli; print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('openai','instructor','llama_cpp','pydantic'))))"
    out = subprocess.run(
        [sys.executable, "-c", "import json;" + code], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


def _commands(group: click.Group):  # type: ignore[no-untyped-def]
    yield from group.commands.items()


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_and_option_has_help(name: str) -> None:
    command = cli.commands[name]
    assert command.help, f"khabar {name} has no help"
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"khabar {name} {param.opts} has no help"


def test_committed_schemas_match_the_models() -> None:
    for name, text in export_schemas().items():
        committed = (REPO / "schemas" / name).read_text(encoding="utf-8")
        assert committed == text, f"schemas/{name} is stale: run `khabar schema --write schemas`"


def test_py_typed_is_shipped() -> None:
    assert (REPO / "src" / "khabar" / "py.typed").exists()


def test_all_is_the_export_table() -> None:
    assert sorted(khabar.__all__) == sorted(["__version__", *khabar._EXPORTS])
