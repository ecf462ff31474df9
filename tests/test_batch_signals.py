"""Issue #12: SIGINT and SIGTERM end a `khabar summarize` run cleanly, with what finished written.

The CLI runs in a subprocess against the fake server (a real socket, with
latency, so that calls are in flight when the signal lands).
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from khabar.testing import FakeOpenAI

from .conftest import REPO, SEEDS, SENTINEL_KEY

N_ARTICLES = 16


def cli_env(server: FakeOpenAI, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KHABAR_", "OPENAI_"))}
    env.update(
        KHABAR_MODEL="fake-model",
        KHABAR_BASE_URL=server.base_url,
        OPENAI_API_KEY=SENTINEL_KEY,
        KHABAR_CACHE_DIR=str(tmp_path / "cache"),
        KHABAR_RETRY_BASE_WAIT="0.01",
        KHABAR_TIMEOUT="10",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])),
    )
    return env


def folder_of_articles(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    seeds = [p.read_text(encoding="utf-8") for p in SEEDS.values()]
    for i in range(N_ARTICLES):
        # Distinct texts: duplicates would share one call and blur the count.
        text = f"{seeds[i % len(seeds)]}\n\n[{i}]"
        (folder / f"{i:03d}.txt").write_text(text, encoding="utf-8")
    return folder


def summarize(folder: Path | str, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "khabar",
        "summarize",
        str(folder),
        "-o",
        str(out),
        "-c",
        "2",
        "--no-progress",
        "--no-cache",
    ]


def wait_for_lines(proc: subprocess.Popen[bytes], out: Path, n: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if out.exists() and out.read_bytes().count(b"\n") >= n:
            return
        if proc.poll() is not None:
            pytest.fail(f"the run ended before the signal: {proc.communicate()}")
        time.sleep(0.01)
    proc.kill()
    pytest.fail(f"no {n} records within {timeout} s: {proc.communicate()}")


def stop(proc: subprocess.Popen[bytes], sig: signal.Signals, timeout: float = 15) -> str:
    """Send ``sig``; the run must end by itself within ``timeout``. Its stderr."""
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"{sig.name} did not stop the run within {timeout} s: {err.decode()[-2000:]}")
    return err.decode("utf-8", "replace")


def parsed(out: Path) -> list[dict[str, object]]:
    data = out.read_bytes()
    assert data == b"" or data.endswith(b"\n"), "a torn last line"
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_run_cleanly_and_a_rerun_finishes_it(
    tmp_path: Path, sig: signal.Signals
) -> None:
    folder = folder_of_articles(tmp_path)
    out = tmp_path / "out.jsonl"
    with FakeOpenAI(latency=0.1) as server:
        env = cli_env(server, tmp_path)
        proc = subprocess.Popen(
            summarize(folder, out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        wait_for_lines(proc, out, 3)
        err = stop(proc, sig)
        # Handled, not killed by the signal: a clean message, no traceback.
        assert proc.returncode == 1, (proc.returncode, err)
        assert "Traceback" not in err, err
        first = parsed(out)
        assert 3 <= len(first) < N_ARTICLES
        assert f"stopped by {sig.name} after writing {len(first)} records to {out}" in err, err
        assert "run the same command again to resume" in err
        assert len({r["id"] for r in first}) == len(first)  # nothing twice
        assert all(r["status"] == "ok" for r in first)  # no call in flight became an error

        rerun = subprocess.run(summarize(folder, out), env=env, capture_output=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr.decode()
    records = parsed(out)
    counts = collections.Counter(r["id"] for r in records)
    assert set(counts) == {f"in/{i:03d}.txt" for i in range(N_ARTICLES)}  # nothing lost
    assert max(counts.values()) == 1  # nothing done twice
    assert all(r["status"] == "ok" for r in records)


def test_ctrl_c_stops_a_run_waiting_on_stdin(tmp_path: Path) -> None:
    """A read that never returns (stdin nobody writes to) must not keep Ctrl-C from working."""
    out = tmp_path / "out.jsonl"
    # A pipe whose write end stays open here: the run's read of stdin blocks
    # (Popen's own stdin=PIPE would be closed by communicate(), ending the read).
    read_end, write_end = os.pipe()
    try:
        with FakeOpenAI() as server:
            proc = subprocess.Popen(
                summarize("-", out),
                env=cli_env(server, tmp_path),
                stdin=read_end,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            # The model line is printed once the run is ready; then it reads stdin.
            assert proc.stderr is not None
            line = proc.stderr.readline()
            assert b"model" in line, line
            time.sleep(0.5)
            err = stop(proc, signal.SIGINT)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert proc.returncode == 1 and "Traceback" not in err, err
    assert "stopped by SIGINT after writing 0 records" in err, err
    assert parsed(out) == []
