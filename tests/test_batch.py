"""The batch runner with a fake ``process``: bounded concurrency, duplicates, failures, resume, kills."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from khabar.batch import BatchEvent, BatchStats, run_batch
from khabar.batch.inputs import Article
from khabar.batch.store import JsonlStore, iter_records
from khabar.core.digest import Digest
from khabar.errors import EmptyArticleError, RateLimitError, TransportError

from .test_store import article, digest

REPO = Path(__file__).resolve().parent.parent


class FakeProcess:
    """An async ``process``: sleeps, counts calls and calls in flight, fails on demand."""

    def __init__(
        self, delay: float = 0.01, failures: dict[str, BaseException] | None = None
    ) -> None:
        self.delay = delay
        self.failures = failures or {}
        self.calls: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def __call__(self, a: Article) -> Digest:
        self.calls.append(a.id)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if a.id in self.failures:
                raise self.failures[a.id]
            return digest(
                a.id,
                cache_hit=a.id.startswith("cached"),
                prompt_tokens=100,
                completion_tokens=20,
                transport_retries=1,
            )
        finally:
            self.in_flight -= 1


def articles(n: int, prefix: str = "a") -> list[Article]:
    return [article(f"{prefix}{i:03d}", text=f"نص الخبر رقم {i}") for i in range(n)]


def records(path: Path, latest_only: bool = False) -> list[dict[str, Any]]:
    return list(iter_records(path, latest_only=latest_only))


async def test_concurrency_bound_is_respected_and_reached(tmp_path: Path) -> None:
    process = FakeProcess(delay=0.01)
    with JsonlStore(tmp_path / "o.jsonl") as store:
        stats = await run_batch(articles(40), process, store=store, concurrency=4)
    assert process.max_in_flight == 4
    assert stats.total == stats.succeeded == 40 and stats.failed == 0
    assert (
        stats.prompt_tokens == 4000
        and stats.completion_tokens == 800
        and stats.transport_retries == 40
    )
    assert stats.wall_s > 0
    assert sorted(r["id"] for r in records(tmp_path / "o.jsonl")) == [
        f"a{i:03d}" for i in range(40)
    ]


async def test_input_is_streamed_not_materialized() -> None:
    pulled = 0

    def endless() -> Iterator[Article]:
        nonlocal pulled
        for i in itertools.count():
            pulled += 1
            yield article(f"n{i}", text=f"text {i}")

    process = FakeProcess(delay=0)
    stats = await run_batch(endless(), process, concurrency=2, limit=5)
    assert stats.total == stats.succeeded == 5 and len(process.calls) == 5
    assert pulled < 100


async def test_duplicates_cost_one_call_and_each_gets_its_record(tmp_path: Path) -> None:
    items = [
        article("first", text="خبر واحد\nمكرر"),
        article("other", text="خبر آخر"),
        article("second", text="  خبر واحد   مكرر \n"),
        article("third", text="خبر واحد مكرر"),
    ]
    process = FakeProcess(delay=0.02)
    with JsonlStore(tmp_path / "o.jsonl") as store:
        stats = await run_batch(items, process, store=store, concurrency=4)
    assert sorted(process.calls) == ["first", "other"]
    got = {r["id"]: r for r in records(tmp_path / "o.jsonl")}
    assert set(got) == {"first", "other", "second", "third"}
    for dup in ("second", "third"):
        assert got[dup]["duplicate_of"] == "first" and got[dup]["status"] == "ok"
        assert got[dup]["digest"]["article_id"] == dup
        assert got[dup]["digest"]["summary_en"] == got["first"]["digest"]["summary_en"]
    assert got["first"]["duplicate_of"] is None
    assert stats.duplicates == 2 and stats.succeeded == 4
    assert stats.prompt_tokens == 200  # duplicates cost nothing


async def test_a_duplicate_of_a_failed_article_gets_the_same_error(tmp_path: Path) -> None:
    items = [article("a", text="same"), article("b", text="same")]
    process = FakeProcess(failures={"a": RateLimitError("429 forever")})
    with JsonlStore(tmp_path / "o.jsonl") as store:
        stats = await run_batch(items, process, store=store)
    got = {r["id"]: r for r in records(tmp_path / "o.jsonl")}
    assert got["b"]["duplicate_of"] == "a" and got["b"]["error"]["reason"] == "rate_limit"
    assert stats.failures_by_reason == {"rate_limit": 2} and process.calls == ["a"]


async def test_errors_become_records_and_the_batch_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    items = [
        *articles(3),
        article(
            "bad-input",
            text=None,
            error=EmptyArticleError("bad-input.txt: empty", article_id="bad-input"),
        ),
        article("transport", text="t"),
        article("bug", text="b"),
        *articles(3, prefix="z"),
    ]
    process = FakeProcess(
        failures={"transport": TransportError("5xx forever"), "bug": KeyError("oops")}
    )
    with JsonlStore(tmp_path / "o.jsonl") as store:
        stats = await run_batch(items, process, store=store, concurrency=3)
    assert "bad-input" not in process.calls
    assert stats.total == 9 and stats.succeeded == 6 and stats.failed == 3
    assert stats.failures_by_reason == {"empty": 1, "transport": 1, "internal": 1}
    got = {r["id"]: r for r in records(tmp_path / "o.jsonl")}
    assert got["bug"]["error"]["type"] == "KeyError" and "oops" in got["bug"]["error"]["message"]
    assert "[transport]" in got["transport"]["error"]["message"]  # the article id was filled in
    assert "bug: internal error" in caplog.text


async def test_resume_skips_done_ids_and_retries_only_retryable_errors(tmp_path: Path) -> None:
    path = tmp_path / "o.jsonl"

    def inputs() -> list[Article]:
        return [
            *articles(4),
            article(
                "empty", text=None, error=EmptyArticleError("empty.txt: empty", article_id="empty")
            ),
        ]

    first = FakeProcess(failures={"a001": TransportError("down"), "a002": ValueError("bug")})
    with JsonlStore(path) as store:
        stats = await run_batch(inputs(), first, store=store)
    assert stats.failed == 3

    second = FakeProcess()
    events: list[BatchEvent] = []
    with JsonlStore(path) as store:
        stats = await run_batch(inputs(), second, store=store, on_event=events.append)
    assert sorted(second.calls) == ["a001", "a002"]
    assert stats.skipped == 3 and stats.succeeded == 2 and stats.failed == 0 and stats.total == 5
    assert sorted(e.article_id for e in events if e.kind == "skipped") == ["a000", "a003", "empty"]
    latest = {r["id"]: r["status"] for r in records(path, latest_only=True)}
    assert latest == {"a000": "ok", "a001": "ok", "a002": "ok", "a003": "ok", "empty": "error"}

    third = FakeProcess()
    with JsonlStore(path) as store:
        stats = await run_batch(inputs(), third, store=store, resume=False)
    assert len(third.calls) == 4 and stats.skipped == 0


async def test_limit_counts_records_written_not_skipped(tmp_path: Path) -> None:
    path = tmp_path / "o.jsonl"
    for expected in (["a000", "a001"], ["a002", "a003"], ["a004"]):
        process = FakeProcess()
        with JsonlStore(path) as store:
            await run_batch(articles(5), process, store=store, limit=2, concurrency=1)
        assert process.calls == expected
    assert len(records(path)) == 5


async def test_events_and_cache_hits(tmp_path: Path) -> None:
    events: list[BatchEvent] = []
    items = [article("cached-1", text="x"), article("fresh", text="y")]
    stats = await run_batch(items, FakeProcess(), on_event=events.append)
    assert stats.from_cache == 1
    finished = {e.article_id: e for e in events if e.kind == "finished"}
    assert finished["cached-1"].cache_hit and not finished["fresh"].cache_hit
    assert {e.article_id for e in events if e.kind == "started"} == {"cached-1", "fresh"}


async def test_a_broken_progress_callback_does_not_stop_the_batch() -> None:
    def explode(event: BatchEvent) -> None:
        raise RuntimeError("progress bar bug")

    stats = await run_batch(articles(3), FakeProcess(), on_event=explode)
    assert stats.succeeded == 3


async def test_cancel_leaves_a_valid_file_and_no_record_for_work_in_flight(tmp_path: Path) -> None:
    path = tmp_path / "o.jsonl"
    process = FakeProcess(delay=0.05)
    with JsonlStore(path) as store:
        task = asyncio.create_task(run_batch(articles(100), process, store=store, concurrency=4))
        while len(path.read_bytes().splitlines()) < 8:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert process.in_flight == 0
        written = len(records(path))
        await asyncio.sleep(0.1)
        assert len(records(path)) == written < 100
    assert all(
        json.loads(line)["status"] == "ok" for line in path.read_text(encoding="utf-8").splitlines()
    )


def test_batch_stats_adds_up() -> None:
    stats = BatchStats(total=3, succeeded=1, failed=1, skipped=1)
    assert stats.succeeded + stats.failed + stats.skipped == stats.total


# --- a real kill -----------------------------------------------------------------------------

KILL_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from khabar.batch import run_batch
    from khabar.batch.inputs import Article
    from khabar.core.digest import Digest, Provenance
    from khabar.batch.store import JsonlStore

    N = int(sys.argv[2])

    async def process(article):
        await asyncio.sleep(0.01)
        return Digest(
            article_id=article.id, language="ar", title_en="t", title_src="ع",
            summary_en="s" * 4000, summary_src="ملخص " * 2000,
            provenance=Provenance(model="fake", provider="fake", mode="tools", prompt_version="p",
                                  schema_version="s", khabar_version="0"),
        )

    async def main():
        items = (Article(id=f"k{i:04d}", source="gen", text=f"text {i}") for i in range(N))
        with JsonlStore(sys.argv[1]) as store:
            stats = await run_batch(items, process, store=store, concurrency=8)
        print(stats.succeeded, stats.skipped)

    asyncio.run(main())
    """
)


def test_sigkill_mid_run_leaves_a_resumable_file(tmp_path: Path) -> None:
    path = tmp_path / "killed.jsonl"
    n = 400
    cmd = [sys.executable, "-c", KILL_SCRIPT, str(path), str(n)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])
        ),
    }
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if path.exists() and path.read_bytes().count(b"\n") >= 40:
                break
            if proc.poll() is not None:
                pytest.fail(f"the batch ended before it was killed: {proc.communicate()}")
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    before = path.read_bytes().count(b"\n")
    assert 40 <= before < n

    with JsonlStore(path) as store:
        done = store.done_ids()
    data = path.read_text(encoding="utf-8")
    assert data.endswith("\n")
    ids_before = [json.loads(line)["id"] for line in data.splitlines()]  # every line parses
    assert set(ids_before) == done and len(ids_before) == len(done)

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=True)
    succeeded, skipped = map(int, rerun.stdout.split())
    assert skipped == len(done) and succeeded == n - len(done)
    ids = [r["id"] for r in records(path)]
    assert len(ids) == len(set(ids)) == n  # nothing done twice
    latest = records(path, latest_only=True)
    assert {r["id"] for r in latest if r["status"] == "ok"} == {f"k{i:04d}" for i in range(n)}


# --- the bulk job wiring (the pipeline replaced by a stand-in) ---------------------------------


class StandInSummarizer:
    """Quacks like khabar.pipeline.Summarizer for summarize_paths."""

    instances: ClassVar[list[StandInSummarizer]] = []

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.plan = type(
            "Plan",
            (),
            {
                "model": "m",
                "provider": "p",
                "mode": "tools",
                "endpoint": None,
                "warnings": ("plumbing model: test",),
            },
        )()
        self.calls: list[tuple[str, str | None, str | None, bool]] = []
        self.closed = False
        StandInSummarizer.instances.append(self)

    @property
    def backend(self) -> Any:
        # The runner must show the plan and leave building the client to the first
        # model call (Summarizer.asummarize): touching this is a regression (#16).
        raise AssertionError("the runner touched summarizer.backend")

    async def __aenter__(self) -> StandInSummarizer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.closed = True

    async def asummarize(
        self,
        text: str,
        *,
        article_id: str | None = None,
        title: str | None = None,
        refresh: bool = False,
    ) -> Digest:
        self.calls.append((text, article_id, title, refresh))
        if not text.strip():
            raise EmptyArticleError("nothing left", article_id=article_id)
        return digest(article_id or "?")


def test_summarize_paths_wires_inputs_pipeline_and_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    from khabar.batch import summarize_paths
    from khabar.config import Settings

    monkeypatch.setitem(
        sys.modules, "khabar.pipeline", types.SimpleNamespace(Summarizer=StandInSummarizer)
    )
    StandInSummarizer.instances.clear()
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "\n".join(
            json.dumps(r, ensure_ascii=False)
            for r in [
                {"id": "t1", "title": "عنوان", "text": "عنوان\nنص الخبر"},
                {"id": "t2", "title": "عنوان آخر", "text": "نص آخر"},
                {"id": "t3", "text": ""},
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    started: list[dict[str, Any]] = []
    stats = summarize_paths(
        [feed],
        output=out,
        settings=Settings(model="m", concurrency=2),
        refresh=True,
        on_start=started.append,
    )
    assert stats.succeeded == 2 and stats.failures_by_reason == {"empty": 1}
    assert started == [
        {
            "model": "m",
            "provider": "p",
            "mode": "tools",
            "endpoint": None,
            "warnings": ["plumbing model: test"],
            "total": None,
            "workers": 1,
        }
    ]
    (summarizer,) = StandInSummarizer.instances
    assert summarizer.closed
    # The title goes to the prompt only when the text does not already start with it.
    assert sorted(summarizer.calls) == [
        ("عنوان\nنص الخبر", "t1", None, True),
        ("نص آخر", "t2", "عنوان آخر", True),
    ]
    assert {r["id"]: r["status"] for r in iter_records(out)} == {
        "t1": "ok",
        "t2": "ok",
        "t3": "error",
    }
    stats = summarize_paths([feed], output=out, settings=Settings(model="m"))
    assert stats.skipped == 3 and stats.total == 3


# --- re-asks accounted (#16) ------------------------------------------------------------------

REASKED = {
    "reasks": 2,
    "reask_prompt_tokens": 300,
    "reask_completion_tokens": 40,
    "reask_gain_facts": 3,
    "reask_gain_sentences": 1,
}


def reask_inputs() -> tuple[list[Article], Any]:
    """Six articles: two re-asked, one cached, one rejected as unsupported after a re-ask,
    one duplicate of a re-asked one, one transport failure."""
    from khabar.errors import UnsupportedDigestError

    provenance = {
        "r1": dict(REASKED),
        "r2": {**REASKED, "reasks": 1, "reask_gain_facts": -1},
        "cached": {**REASKED, "cache_hit": True},  # paid by an earlier run, not this one
        "plain": {},
    }

    async def process(a: Article) -> Digest:
        if a.id == "rejected":
            draft = digest(a.id, prompt_tokens=1000, completion_tokens=200, **REASKED)
            raise UnsupportedDigestError("nothing held", draft=draft.model_dump(mode="json"))
        if a.id == "down":
            raise TransportError("5xx forever")
        return digest(a.id, prompt_tokens=1000, completion_tokens=200, **provenance[a.id])

    items = [
        article("r1", text="one"),
        article("r2", text="two"),
        article("cached", text="three"),
        article("plain", text="four"),
        article("rejected", text="five"),
        article("dup-of-r1", text="one"),
        article("down", text="six"),
    ]
    return items, process


async def test_batch_stats_count_what_reasks_cost_and_won(tmp_path: Path) -> None:
    items, process = reask_inputs()
    with JsonlStore(tmp_path / "o.jsonl") as store:
        stats = await run_batch(items, process, store=store, concurrency=1)
    # Called the model in this run: r1, r2, plain and the rejected draft (not the cache
    # hit, not the duplicate, and the transport failure has no answer to count).
    assert stats.called == 4 and stats.from_cache == 1 and stats.duplicates == 1
    assert stats.reasked == 3 and stats.reasks == 5 and stats.reask_rate == 0.75
    assert stats.reask_prompt_tokens == 900 and stats.reask_completion_tokens == 120
    assert stats.reask_gain_facts == 3 + -1 + 3 and stats.reask_gain_sentences == 3
    assert stats.prompt_tokens == 4000 and stats.completion_tokens == 800
    assert stats.failures_by_reason == {"unsupported": 1, "transport": 1}


async def test_the_report_header_shows_the_reasks(tmp_path: Path) -> None:
    from khabar.batch.report import render_markdown

    items, process = reask_inputs()
    with JsonlStore(tmp_path / "o.jsonl") as store:
        await run_batch(items, process, store=store, concurrency=1)
    head = render_markdown(records(tmp_path / "o.jsonl", latest_only=True)).split("\n## ", 1)[0]
    assert "Tokens: 4,000 in / 800 out." in head
    assert (
        "Re-asks: 3 of the 4 articles that called the model (75%) were re-asked, 5 re-asks "
        "in all; net gain +5 facts and +3 sentences, for 900 prompt + 120 completion tokens "
        "(21% of all tokens)." in head
    ), head


def test_the_report_says_when_nothing_was_reasked() -> None:
    from khabar.batch.report import render_markdown
    from khabar.batch.store import make_record

    md = render_markdown([make_record(article("a"), digest=digest("a", prompt_tokens=10))])
    assert "Re-asks: none of the 1 articles that called the model was re-asked." in md


# --- no client before a model call (#16) ----------------------------------------------------

NO_OPENAI_SCRIPT = textwrap.dedent(
    """
    import sys
    from khabar.batch import summarize_paths
    from khabar.config import Settings

    settings = Settings(model="fake-model", base_url=sys.argv[3], cache_dir=sys.argv[4])
    stats = summarize_paths([sys.argv[1]], output=sys.argv[2], settings=settings)
    print(stats.succeeded, stats.skipped, stats.from_cache, "openai" in sys.modules)
    """
)


def test_a_resume_with_nothing_to_do_and_a_warm_rerun_never_import_openai(
    tmp_path: Path, server: Any
) -> None:
    from .conftest import SENTINEL_KEY

    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "".join(
            json.dumps({"id": f"w{i}", "text": f"قال الوزير إن الاجتماع رقم {i} انتهى."}) + "\n"
            for i in range(3)
        ),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KHABAR_", "OPENAI_"))}
    env.update(
        OPENAI_API_KEY=SENTINEL_KEY,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")])),
    )

    def run(output: str) -> list[str]:
        cmd = [sys.executable, "-c", NO_OPENAI_SCRIPT, str(feed), str(tmp_path / output)]
        cmd += [server.base_url, str(tmp_path / "cache")]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert run("first.jsonl") == ["3", "0", "0", "True"]  # the model was called: openai loaded
    assert run("first.jsonl") == ["0", "3", "0", "False"]  # resume, nothing left to do
    assert run("second.jsonl") == ["3", "0", "3", "False"]  # every digest from the cache
    assert len(server.requests) == 3
