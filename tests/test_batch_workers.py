"""`summarize_paths(..., workers=N)`: several processes summarize, one writes.

Against the fake server (a real socket, the real openai + instructor stack in
each worker). The parent keeps reading, resume, duplicates and writing, so the
output must be what one process writes; a 429 seen by one worker must hold the
others back; a worker that dies costs error records for what it held, never a
lost or doubled article; Ctrl-C on the whole process group ends the run cleanly.
"""

from __future__ import annotations

import collections
import itertools
import json
import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from khabar.batch import BatchEvent, summarize_paths
from khabar.batch.store import iter_records
from khabar.testing import FakeOpenAI, Reply, echo_digest_responder

from .conftest import REPO, SEEDS, SENTINEL_KEY


def feed(tmp_path: Path, n: int, *, duplicates: int = 0) -> Path:
    """``n`` distinct seed-based articles, then ``duplicates`` copies of earlier ones and one empty."""
    seeds = [p.read_text(encoding="utf-8") for p in SEEDS.values()]
    rows = [{"id": f"a{i:03d}", "text": f"{seeds[i % len(seeds)]}\n\n[{i}]"} for i in range(n)]
    rows += [
        # Whitespace differs: still the same article, so one call for both.
        {"id": f"dup{i}", "text": "  " + rows[i]["text"].replace("\n\n", "\n") + "\n"}
        for i in range(duplicates)
    ]
    if duplicates:
        rows.append({"id": "empty", "text": "   "})
    path = tmp_path / "feed.jsonl"
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def comparable(path: Path) -> dict[str, Any]:
    """Records by id, without what differs from run to run (timings)."""
    out = {}
    for record in iter_records(path):
        if record.get("digest"):
            record["digest"]["provenance"].pop("latency_s")
        out[record["id"]] = record
    return out


def test_two_workers_write_what_one_process_writes(
    server: FakeOpenAI, settings_for: Any, tmp_path: Path
) -> None:
    data = feed(tmp_path, 10, duplicates=3)
    settings = settings_for(server, concurrency=4, cache=False)
    one = summarize_paths([data], output=tmp_path / "one.jsonl", settings=settings)
    calls_one = len(server.requests)
    server.reset()
    two = summarize_paths([data], output=tmp_path / "two.jsonl", settings=settings, workers=2)
    calls_two = len(server.requests)

    # Duplicates cost one call, whichever worker made it: 10 distinct texts, 10 calls.
    assert calls_one == calls_two == 10
    assert comparable(tmp_path / "one.jsonl") == comparable(tmp_path / "two.jsonl")
    records = comparable(tmp_path / "two.jsonl")
    assert len(records) == 14 and records["dup1"]["duplicate_of"] == "a001"
    assert records["empty"]["error"]["reason"] == "empty"
    one.wall_s = two.wall_s = 0.0
    assert one == two
    assert two.succeeded == 13 and two.duplicates == 3 and two.called == 10
    assert multiprocessing.active_children() == []  # every worker stopped and reaped


def test_a_rate_limit_in_one_worker_holds_back_the_others(
    settings_for: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="khabar")
    data = feed(tmp_path, 12)
    served = itertools.count(1)

    def responder(body: dict[str, Any]) -> Reply:
        # The 5th request: both workers are up and have each answered something by then.
        if next(served) == 5:
            return Reply.status(429, retry_after=2.5)
        return echo_digest_responder(body)

    with FakeOpenAI(responder, latency=0.2) as server:
        settings = settings_for(server, concurrency=2, cache=False, retry_max_wait=5.0)
        stats = summarize_paths([data], output=tmp_path / "o.jsonl", settings=settings, workers=2)
        timeline = list(server.timeline)
    assert stats.succeeded == 12 and stats.transport_retries == 1
    (limited,) = [t for t, kind in timeline if kind == "429"]
    # Requests sent before the gate's news reached a worker (half a second is ample
    # for two pipe hops, even on a loaded machine) may still arrive; after that,
    # nothing from either worker until Retry-After is over.
    early = [t - limited for t, _ in timeline if limited + 0.5 < t < limited + 2.3]
    assert early == [], f"requests {early} s after a 429 asking for 2.5 s"
    # The worker's retry log line reached the parent's logger.
    assert "retrying request" in caplog.text


def test_a_worker_crash_becomes_error_records_and_a_rerun_finishes(
    settings_for: Any, tmp_path: Path
) -> None:
    data = feed(tmp_path, 24)
    out = tmp_path / "o.jsonl"
    killed: list[int] = []
    started = itertools.count(1)

    def on_event(event: BatchEvent) -> None:
        # At the 6th start the workers hold several articles each at the server.
        if event.kind == "started" and next(started) == 6:
            victim = multiprocessing.active_children()[0]
            assert victim.pid is not None
            os.kill(victim.pid, signal.SIGKILL)
            killed.append(victim.pid)

    with FakeOpenAI(latency=0.3) as server:
        settings = settings_for(server, concurrency=6, cache=False)
        stats = summarize_paths([data], output=out, settings=settings, workers=2, on_event=on_event)
        assert killed
        crashed = stats.failures_by_reason.get("worker_crashed", 0)
        assert crashed >= 1 and stats.failed == crashed and stats.succeeded == 24 - crashed
        counts = collections.Counter(r["id"] for r in iter_records(out))
        assert set(counts) == {f"a{i:03d}" for i in range(24)} and max(counts.values()) == 1
        errors = [r["error"] for r in iter_records(out) if r["status"] == "error"]
        assert all("was killed by SIGKILL" in e["message"] for e in errors), errors

        rerun = summarize_paths([data], output=out, settings=settings, workers=2)
    assert rerun.skipped == 24 - crashed and rerun.succeeded == crashed and rerun.failed == 0
    latest = list(iter_records(out, latest_only=True))
    assert len(latest) == 24 and all(r["status"] == "ok" for r in latest)
    assert multiprocessing.active_children() == []


def alive_in_group(pgid: int, wait: float = 3.0) -> list[str]:
    """Processes of group ``pgid`` still running (zombies are dead), after up to ``wait`` s."""
    deadline = time.monotonic() + wait
    while True:
        alive = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # "pid (comm) state ppid pgrp ...": comm may hold spaces, split after it.
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                alive.append(stat.parent.name)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


SIGINT_SCRIPT = textwrap.dedent(
    """
    import logging, sys
    from khabar.batch import summarize_paths
    from khabar.config import Settings

    if __name__ == "__main__":
        logging.basicConfig(format="warning: %(message)s", level=logging.WARNING)
        settings = Settings(model="fake-model", base_url=sys.argv[3], concurrency=4, cache=False)
        try:
            summarize_paths([sys.argv[1]], output=sys.argv[2], settings=settings, workers=2)
        except KeyboardInterrupt:
            sys.exit(130)
    """
)


def test_ctrl_c_on_the_process_group_stops_parent_and_workers_cleanly(tmp_path: Path) -> None:
    data = feed(tmp_path, 30)
    out = tmp_path / "o.jsonl"
    script = tmp_path / "run.py"
    script.write_text(SIGINT_SCRIPT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KHABAR_", "OPENAI_"))}
    env.update(
        OPENAI_API_KEY=SENTINEL_KEY,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")])),
    )
    with FakeOpenAI(latency=0.3) as server:
        cmd = [sys.executable, str(script), str(data), str(out), server.base_url]
        # Its own process group, like a shell job: Ctrl-C reaches the parent and its workers.
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
        deadline = time.monotonic() + 30
        while not (out.exists() and out.read_bytes().count(b"\n") >= 4):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"no 4 records before the signal: {proc.communicate()}")
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGINT)
        try:
            _, err_bytes = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"SIGINT did not stop the run: {proc.communicate()}")
        err = err_bytes.decode("utf-8", "replace")
        assert proc.returncode == 130, err
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
        data_bytes = out.read_bytes()
        assert data_bytes.endswith(b"\n")
        first = [json.loads(line) for line in data_bytes.splitlines()]
        assert f"stopped by SIGINT after writing {len(first)} records" in err, err
        assert 4 <= len(first) < 30 and all(r["status"] == "ok" for r in first)
        # Nobody is left running in the group: the workers were stopped, not orphaned.
        assert alive_in_group(proc.pid) == []
    # That a rerun resumes from here is the parent's business, as in one process:
    # see test_a_worker_crash_becomes_error_records_and_a_rerun_finishes.


def test_the_embedded_model_runs_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import types

    from khabar.config import Settings

    from .test_batch import StandInSummarizer

    class Local(StandInSummarizer):
        def __init__(self, settings: Any) -> None:
            super().__init__(settings)
            self.plan.provider = "local"

    monkeypatch.setitem(sys.modules, "khabar.pipeline", types.SimpleNamespace(Summarizer=Local))
    data = feed(tmp_path, 3)
    started: list[dict[str, Any]] = []
    stats = summarize_paths(
        [data], output=tmp_path / "o.jsonl", settings=Settings(), workers=2, on_start=started.append
    )
    assert stats.succeeded == 3 and started[0]["workers"] == 1
    assert "--workers 2 ignored" in caplog.text
    assert multiprocessing.active_children() == []
