"""Issue #16: `-c N` puts N requests in flight, as the server sees them, well above httpx's 100.

This measures concurrency, not speed: the server holds each request for a
second, so every request the client sent while the first ones were still held
is counted by the server at once. Before the HTTP pool was sized from the
concurrency, httpx's default pool (100 connections) capped this at 100
whatever ``-c`` said; the server's listen backlog (1024, not the standard
library's 5) keeps the server from being the cap instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from khabar.batch import summarize_paths
from khabar.testing import FakeOpenAI

N = 150  # well above httpx's default pool of 100 connections


def test_concurrency_above_100_reaches_the_server(settings_for: Any, tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    # Short, distinct articles: duplicates would share a call, and long ones would
    # spend more CPU before the last request leaves than the server holds the first.
    lines = [
        json.dumps({"id": f"a{i:03d}", "text": f"قال الوزير إن الاجتماع رقم {i} انتهى أمس."})
        for i in range(N)
    ]
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with FakeOpenAI(latency=1.0) as server:
        settings = settings_for(server, concurrency=N, cache=False, timeout=30.0)
        stats = summarize_paths([feed], output=tmp_path / "out.jsonl", settings=settings)
        seen = server.max_in_flight
        requests = len(server.requests)
    assert stats.succeeded == N and stats.failed == 0, stats.failures_by_reason
    assert requests == N
    assert seen == N, f"the server saw at most {seen} requests in flight with -c {N}"
