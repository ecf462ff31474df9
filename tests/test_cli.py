"""The CLI end to end against the fake server: a folder in, JSONL and a report out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from khabar.cli import cli
from khabar.testing import FakeOpenAI, FaultPlan

from .conftest import ARTICLES, REPO, SENTINEL_KEY


def env_for(server: FakeOpenAI, tmp_path: Path) -> dict[str, str]:
    return {
        "KHABAR_MODEL": "fake-model",
        "KHABAR_BASE_URL": server.base_url,
        "OPENAI_API_KEY": SENTINEL_KEY,
        "KHABAR_CACHE_DIR": str(tmp_path / "cache"),
        "KHABAR_RETRY_BASE_WAIT": "0.01",
        "KHABAR_TIMEOUT": "5",
    }


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_folder_to_jsonl_and_report(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(ARTICLES, folder)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    out, report = tmp_path / "out.jsonl", tmp_path / "report.md"
    with FakeOpenAI() as server:
        result = CliRunner().invoke(
            cli,
            ["summarize", str(folder), "-o", str(out), "--report", str(report), "--no-progress"],
            env=env_for(server, tmp_path),
        )
    assert result.exit_code == 1, result.output  # two inputs failed
    got = {r["id"]: r for r in records(out)}
    assert len(got) == 7
    assert sorted(r["status"] for r in got.values()) == ["error", "error"] + ["ok"] * 5
    assert got["in/empty.txt"]["error"]["reason"] == "empty"  # type: ignore[index]
    assert got["in/photo.txt"]["error"]["reason"] == "binary"  # type: ignore[index]
    text = report.read_text(encoding="utf-8")
    assert text.count("\n## ") >= 5 and "photo.txt" in text
    everything = out.read_text(encoding="utf-8") + text + result.output
    assert SENTINEL_KEY not in everything


def test_rate_limits_slow_the_run_down_instead_of_failing_it(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    plan = FaultPlan(rate_429=0.3, rate_429_no_retry_after=0.2, retry_after=0.05, seed=3)
    with FakeOpenAI(faults=plan) as server:
        result = CliRunner().invoke(
            cli,
            ["summarize", str(ARTICLES), "-o", str(out), "--no-progress", "-c", "4"],
            env=env_for(server, tmp_path) | {"KHABAR_MAX_TRANSPORT_RETRIES": "8"},
        )
        kinds = server.calls_by_kind()
    assert result.exit_code == 0, result.output
    assert kinds["429"] + kinds["429_no_retry_after"] > 0  # the faults did happen
    assert [r["status"] for r in records(out)] == ["ok"] * 5


def test_rerun_resumes_and_duplicates_cost_one_call(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(ARTICLES, folder)
    first = sorted(folder.glob("*.txt"))[0]
    shutil.copy(first, folder / "copy-of-first.txt")
    out = tmp_path / "out.jsonl"
    with FakeOpenAI() as server:
        env = env_for(server, tmp_path) | {"KHABAR_CACHE": "false"}
        args = ["summarize", str(folder), "-o", str(out), "--no-progress"]
        assert CliRunner().invoke(cli, args, env=env).exit_code == 0
        assert len(server.requests) == 5  # six files, five distinct articles
        assert len(records(out)) == 6
        assert CliRunner().invoke(cli, args, env=env).exit_code == 0
        assert len(server.requests) == 5  # everything was done: nothing asked again
    assert len(records(out)) == 6


def test_report_command_rebuilds_the_markdown(tmp_path: Path) -> None:
    out, md = tmp_path / "out.jsonl", tmp_path / "r.md"
    with FakeOpenAI() as server:
        env = env_for(server, tmp_path)
        CliRunner().invoke(
            cli, ["summarize", str(ARTICLES), "-o", str(out), "--no-progress"], env=env
        )
    result = CliRunner().invoke(cli, ["report", str(out), "-o", str(md)])
    assert result.exit_code == 0, result.output
    assert "Synthetic digest" in md.read_text(encoding="utf-8")


def test_help_is_fast_and_python_m_works() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KHABAR_", "OPENAI_"))}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "khabar", "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=True,
    )
    assert "summarize" in done.stdout
    # --help must not import the heavy stack (measured in bench/, asserted here by imports)
    for heavy in ("instructor", "openai", "llama_cpp", "trafilatura"):
        assert f" {heavy}\n" not in done.stderr and f"| {heavy}" not in done.stderr


@pytest.mark.parametrize("command", ["summarize", "eval", "report", "schema", "info"])
def test_subcommand_help(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output
