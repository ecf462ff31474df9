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


@pytest.mark.parametrize("command", ["summarize", "eval", "report", "schema", "info", "demo"])
def test_subcommand_help(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


# --- issue #12: settings on the command line, info --json, secrets, the cache -----------


def test_info_json_says_what_would_run_without_secrets(server: FakeOpenAI, tmp_path: Path) -> None:
    env = env_for(server, tmp_path) | {
        "KHABAR_BASE_URL": server.base_url.replace("//", "//alice:Pa55-w0rd-xyz@"),
    }
    result = CliRunner().invoke(
        cli,
        ["info", "--json", "--timeout", "7.5", "--mode", "json", "--max-tokens", "300"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)
    assert facts["provider"] == "vllm" and facts["mode"] == "JSON"
    assert facts["model"] == "fake-model"
    assert facts["timeout_s"] == 7.5 and facts["max_tokens"] == 300
    assert facts["endpoint"] == server.base_url.replace("//", "//alice:***@")
    assert facts["cache"]["dir"] == str(tmp_path / "cache")
    assert "Pa55-w0rd-xyz" not in result.output and SENTINEL_KEY not in result.output


def test_info_never_prints_a_password_in_the_base_url(tmp_path: Path) -> None:
    """Before: `khabar info` printed OPENAI_BASE_URL as it was, password included."""
    env = {"OPENAI_BASE_URL": "http://user:Pa55-w0rd-xyz@gpu.lan:8000/v1", "KHABAR_MODEL": "m"}
    result = CliRunner().invoke(cli, ["info"], env=env)
    assert result.exit_code == 0, result.output
    assert "Pa55-w0rd-xyz" not in result.output
    assert "endpoint: http://user:***@gpu.lan:8000/v1" in result.output


def test_verbose_logs_never_show_a_password_in_the_base_url(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    """-vv in a real process: openai's and httpx2's own log lines, through real handlers."""
    article = tmp_path / "a.txt"
    article.write_text((ARTICLES / sorted(p.name for p in ARTICLES.glob("*.txt"))[0]).read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KHABAR_", "OPENAI_"))}
    env |= env_for(server, tmp_path)
    env["OPENAI_BASE_URL"] = env.pop("KHABAR_BASE_URL").replace("//", "//alice:Pa55-w0rd-xyz@")
    done = subprocess.run(
        [sys.executable, "-m", "khabar", "summarize", str(article), "-vv", "--no-progress"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "alice:***@" in done.stderr  # the URL was logged, redacted
    assert "Pa55-w0rd-xyz" not in done.stderr + done.stdout


@pytest.mark.parametrize("how", ["env", "file"])
def test_the_key_comes_from_a_named_variable_or_file(
    server: FakeOpenAI, tmp_path: Path, how: str
) -> None:
    key = "sk-khabar-FROM-CLI-0123456789"
    env = env_for(server, tmp_path) | {"OPENAI_API_KEY": "sk-wrong-one-000000000"}
    if how == "env":
        args, env = ["--key-env", "MY_KHABAR_KEY"], env | {"MY_KHABAR_KEY": key}
    else:
        (tmp_path / "key.txt").write_text(key + "\n")
        args = ["--key-file", str(tmp_path / "key.txt")]
    out = tmp_path / "out.jsonl"
    first = sorted(ARTICLES.glob("*.txt"))[0]
    result = CliRunner().invoke(
        cli, ["summarize", str(first), "-o", str(out), "--no-progress", *args], env=env
    )
    assert result.exit_code == 0, result.output
    assert server.requests[0].headers["authorization"] == f"Bearer {key}"
    assert key not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key-env", "NO_SUCH_VARIABLE_KHABAR"], "NO_SUCH_VARIABLE_KHABAR"),
        (["--key-file", "EMPTY"], "is empty"),
        (["--key-env", "X", "--key-file", "EMPTY"], "exclude each other"),
    ],
    ids=["unset-variable", "empty-file", "both"],
)
def test_a_missing_key_source_is_a_usage_error(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "empty").write_text("\n")
    args = [str(tmp_path / "empty") if a == "EMPTY" else a for a in args]
    result = CliRunner().invoke(cli, ["info", "-m", "m", *args], env={"X": "v"})
    assert result.exit_code == 2 and message in result.output


def test_mode_and_max_tokens_reach_the_request(server: FakeOpenAI, tmp_path: Path) -> None:
    first = sorted(ARTICLES.glob("*.txt"))[0]
    result = CliRunner().invoke(
        cli,
        ["summarize", str(first), "--no-progress", "--mode", "json_schema", "--max-tokens", "999"],
        env=env_for(server, tmp_path),
    )
    assert result.exit_code == 0, result.output
    body = server.requests[0].body
    assert body["max_tokens"] == 999
    assert body["response_format"]["type"] == "json_schema" and "tools" not in body


def test_a_bad_setting_is_a_clean_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["info"], env={"KHABAR_TIMEOUT": "soon"})
    assert result.exit_code == 2
    assert "timeout" in result.output and "Traceback" not in result.output


def broken_cache(tmp_path: Path) -> Path:
    directory = tmp_path / "cache"
    directory.mkdir()
    (directory / "cache.db").write_bytes(b"not a database" * 100)
    return directory


def test_an_unusable_cache_is_named_once_and_every_article_runs(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    """Before: the first article failed with reason `cache` and the rest ran uncached silently."""
    out = tmp_path / "out.jsonl"
    directory = broken_cache(tmp_path)
    result = CliRunner().invoke(
        cli,
        ["summarize", str(ARTICLES), "-o", str(out), "--no-progress"],
        env=env_for(server, tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert [r["status"] for r in records(out)] == ["ok"] * 5
    stderr = result.stderr
    assert stderr.count(f"the digest cache at {directory} cannot be used") == 1
    assert "The digest cache was off for this run: DatabaseError" in stderr


def test_a_required_cache_stops_the_run_before_any_model_call(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    directory = broken_cache(tmp_path)
    env = env_for(server, tmp_path) | {"KHABAR_CACHE": "required"}
    result = CliRunner().invoke(
        cli, ["summarize", str(ARTICLES), "-o", str(out), "--no-progress"], env=env
    )
    assert result.exit_code == 1
    assert str(directory) in result.output and "required" in result.output
    assert server.requests == []
    assert not out.exists() or records(out) == []


def test_info_names_an_unusable_cache_and_creates_none(tmp_path: Path) -> None:
    env = {"KHABAR_MODEL": "m", "KHABAR_BASE_URL": "http://127.0.0.1:9/v1"}
    fresh = CliRunner().invoke(cli, ["info", "--cache-dir", str(tmp_path / "new")], env=env)
    assert fresh.exit_code == 0 and not (tmp_path / "new").exists()
    directory = broken_cache(tmp_path)
    result = CliRunner().invoke(
        cli, ["info", "--cache-dir", str(directory)], env=env | {"KHABAR_CACHE": "required"}
    )
    assert result.exit_code == 0, result.output
    assert f"cache:    off: DatabaseError: file is not a database ({directory})" in result.output


def test_a_report_path_that_is_a_directory_is_refused_before_any_model_call(
    tmp_path: Path,
) -> None:
    with FakeOpenAI() as server:
        result = CliRunner().invoke(
            cli,
            [
                "summarize",
                str(ARTICLES),
                "-o",
                str(tmp_path / "o.jsonl"),
                "--report",
                str(tmp_path),
            ],
            env=env_for(server, tmp_path),
        )
        assert server.requests == []
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert str(tmp_path) in result.output


def test_report_of_a_file_without_records_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", str(REPO / "README.md")])
    assert result.exit_code == 2
    assert "holds no khabar records" in result.output


# --- issue #13: the first ten minutes -------------------------------------------------------


def test_info_offers_only_options_that_do_something_there() -> None:
    help_text = CliRunner().invoke(cli, ["info", "--help"]).output
    for useless in ("--refresh", "--no-cache", "--concurrency"):
        assert useless not in help_text
    assert "--cache-dir" in help_text and "--model" in help_text  # info shows both
    eval_help = CliRunner().invoke(cli, ["eval", "--help"]).output
    for useless in ("--refresh", "--no-cache", "--cache-dir", "--concurrency"):
        assert useless not in eval_help  # eval never uses the cache
    summarize_help = CliRunner().invoke(cli, ["summarize", "--help"]).output
    for option in ("--refresh", "--no-cache", "--cache-dir", "--concurrency"):
        assert option in summarize_help


def test_info_calls_an_unknown_server_openai_compatible_and_a_missing_model_not_set() -> None:
    env = {"OPENAI_BASE_URL": "http://localhost:1234/v1"}
    result = CliRunner().invoke(cli, ["info"], env=env)
    assert result.exit_code == 0, result.output
    assert "provider: an OpenAI-compatible server (guessed from the URL" in result.output
    assert "vllm" not in result.output.split("\n")[0].split("(")[0]
    assert "model:    not set (KHABAR_MODEL or --model)" in result.output
    assert "None" not in result.output
    facts = json.loads(CliRunner().invoke(cli, ["info", "--json"], env=env).stdout)
    assert facts["provider_guessed"] is True and facts["model"] is None
    assert any("no model is named" in w for w in facts["warnings"])


def test_info_says_an_exported_key_is_ignored_without_a_model() -> None:
    """The embedded model runs when no model is named, whatever OPENAI_API_KEY says."""
    result = CliRunner().invoke(cli, ["info", "--json"], env={"OPENAI_API_KEY": SENTINEL_KEY})
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)
    assert facts["provider"] == "local" and facts["api_key"] == "set, not used"
    (warning,) = [w for w in facts["warnings"] if "OPENAI_API_KEY" in w]
    assert "not used" in warning and "KHABAR_MODEL" in warning
    assert SENTINEL_KEY not in result.output
    named = CliRunner().invoke(
        cli, ["info", "--json", "-m", "gpt-4o-mini"], env={"OPENAI_API_KEY": "k"}
    )
    assert json.loads(named.stdout)["api_key"] == "set"


def test_stray_files_in_a_folder_are_left_out_and_counted(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    """Before: a folder's images and PDFs were error records and the batch exited 1."""
    folder = tmp_path / "in"
    shutil.copytree(ARTICLES, folder)
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    (folder / "page.pdf").write_bytes(b"%PDF-1.7\n" + bytes(64))
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        cli,
        ["summarize", str(folder), "-o", str(out), "--no-progress"],
        env=env_for(server, tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert len(records(out)) == 5
    assert "Left out 2 files that are not text (.pdf 1, .png 1)" in result.stderr


def test_demo_shows_a_synthetic_run_and_the_human_written_gold(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    got = records(tmp_path / "demo.jsonl")
    assert len(got) == 5 and {r["status"] for r in got} == {"ok"}
    for record in got:
        prov = record["digest"]["provenance"]  # type: ignore[index]
        assert prov["model"].startswith("SYNTHETIC") and prov["provider"] == "synthetic"
        assert prov["plumbing"] is True and any("SYNTHETIC" in w for w in prov["warnings"])
        assert prov["endpoint"] == "in-process khabar.testing.MockTransport"
    html = (tmp_path / "demo.html").read_text(encoding="utf-8")
    assert "SYNTHETIC" in html
    out = " ".join(result.output.split())
    assert "SYNTHETIC: no model wrote these digests" in out
    assert "human-written" in out and "Stoltenberg" in out  # the gold, labelled as such
    assert "For real digests" in out and "khabar info" in out
    again = CliRunner().invoke(cli, ["demo", "-o", str(tmp_path)])  # replaces its own output
    assert again.exit_code == 0 and len(records(tmp_path / "demo.jsonl")) == 5


def test_demo_leaves_a_file_it_did_not_write_alone(tmp_path: Path) -> None:
    mine = tmp_path / "demo.jsonl"
    mine.write_text('{"id": "x", "status": "ok"}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["demo", "-o", str(tmp_path)])
    assert result.exit_code == 1
    assert "is not the output of an earlier khabar demo" in result.output
    assert mine.read_text(encoding="utf-8") == '{"id": "x", "status": "ok"}\n'


def test_retry_failed_and_min_support_reach_the_settings() -> None:
    from khabar.cli.options import settings_from

    settings = settings_from(retry_failed=True, min_support=0.8)
    assert settings.retry_failed is True and settings.min_support == 0.8
    result = CliRunner().invoke(cli, ["summarize", "x", "--min-support", "1.5"])
    assert result.exit_code == 2 and "min-support" in result.output


def test_eval_writes_an_html_view_of_digests_beside_gold(tmp_path: Path) -> None:
    page = tmp_path / "eval.html"
    cassettes = REPO / "evals" / "cassettes"
    current = (cassettes / "CURRENT").read_text().strip()
    result = CliRunner().invoke(
        cli, ["eval", "--replay", str(cassettes / current), "--html", str(page)]
    )
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert "written by hand" in html.lower() and "<script" not in html.lower()
    assert html.count("<section") >= 32
