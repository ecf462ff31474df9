"""The batch API path end to end against the fake Files/Batches endpoints, compared with the online path.

The online side runs the real pipeline over :class:`khabar.testing.MockTransport`;
the batch side runs prepare -> submit -> collect over
:class:`khabar.testing.batch_api.FakeBatchAPI`, the real openai client on both.
The same scripted answers go to both, so every difference in requests or
records is a difference between the two paths.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from khabar.batch import run_batch
from khabar.batch.api import (
    BatchLimits,
    acollect,
    aprepare_batch,
    asubmit,
    collect,
    prepare_batch,
    status,
    submit,
)
from khabar.batch.inputs import iter_articles
from khabar.batch.runner import _prompt_title
from khabar.batch.store import JsonlStore, iter_records
from khabar.config import Settings
from khabar.errors import ConfigError
from khabar.pipeline import Summarizer
from khabar.testing import MockTransport, Reply
from khabar.testing.batch_api import FakeBatchAPI

from .conftest import ARTICLES, SENTINEL_KEY, seed
from .test_pipeline import (
    NUMBER_OK,
    NUMBER_WRONG,
    PERSON_INVENTED,
    PERSON_SHAPPS,
    good_answer,
)

# --- helpers shared by the test_batch_api_* modules -------------------------------------


def make_settings(api: Any, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "model": "fake-model",
        "provider": "openai",
        "base_url": api.base_url,
        "api_key": SENTINEL_KEY,
        "cache_dir": tmp_path / "cache",
        "retry_base_wait": 0.01,
        "retry_max_wait": 0.05,
        "timeout": 5.0,
    }
    values.update(overrides)
    return Settings(**values)


def one_article(tmp_path: Path, prefix: str = "003", name: str | None = None) -> Path:
    folder = tmp_path / f"in-{prefix}"
    folder.mkdir(exist_ok=True)
    (folder / (name or f"{prefix}.txt")).write_text(seed(prefix), encoding="utf-8")
    return folder


def run_job(
    paths: list[Path], job: Path, settings: Settings, api: FakeBatchAPI, **kwargs: Any
) -> Any:
    prepare_batch(paths, job, settings, output=job.parent / f"{job.name}.jsonl", **kwargs)
    submit(job, settings, transport=api)
    return collect(job, settings, wait=True, poll_interval=0, transport=api)


async def arun_job(
    paths: list[Path], job: Path, settings: Settings, api: FakeBatchAPI, **kwargs: Any
) -> Any:
    await aprepare_batch(paths, job, settings, output=job.parent / f"{job.name}.jsonl", **kwargs)
    await asubmit(job, settings, transport=api)
    return await acollect(job, settings, wait=True, poll_interval=0, transport=api)


def records(path: Path) -> list[dict[str, Any]]:
    return list(iter_records(path))


async def online(paths: list[Path], settings: Settings, output: Path, transport: Any) -> None:
    """``khabar summarize`` with a transport: the runner, the store, the pipeline, one at a time."""
    with JsonlStore(output) as store:
        async with Summarizer(settings, transport=transport) as summarizer:

            async def process(article: Any) -> Any:
                return await summarizer.asummarize(
                    article.text, article_id=article.id, title=_prompt_title(article)
                )

            await run_batch(iter_articles(paths), process, store=store, concurrency=1)


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A record without what differs by nature between two runs: how long the answer took."""
    record = json.loads(json.dumps(record))
    for holder in (record.get("digest"), record.get("draft")):
        if isinstance(holder, dict):
            holder["provenance"]["latency_s"] = 0.0
    return record


def shape(value: Any) -> Any:
    """The keys and value types of a record, recursively (lists by their first item)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


# --- the request is the online request ------------------------------------------------------


@pytest.mark.parametrize("mode", ["tools", "json_schema", "json"])
async def test_request_lines_are_the_online_requests_and_keys(tmp_path: Path, mode: str) -> None:
    mock = MockTransport()
    api = FakeBatchAPI()
    src = one_article(tmp_path)
    s_online = make_settings(mock, tmp_path, mode=mode, cache_dir=tmp_path / "c1")
    await online([src], s_online, tmp_path / "online.jsonl", mock)
    s_batch = make_settings(mock, tmp_path, mode=mode, cache_dir=tmp_path / "c2")
    # Same settings (endpoint included): the batch path prepares against the same backend.
    result = await aprepare_batch([src], tmp_path / "job", s_batch, output=tmp_path / "b.jsonl")
    (line,) = [json.loads(x) for x in result.files[0].read_text(encoding="utf-8").splitlines()]
    assert line["method"] == "POST" and line["url"] == "/v1/chat/completions"
    assert line["body"] == mock.requests[0].body
    # The custom_id is the online path's cache key: the online run stored its digest under it.
    from khabar.cache import DigestCache

    cache = DigestCache(tmp_path / "c1")
    try:
        assert cache.get(line["custom_id"]) is not None
    finally:
        cache.close()
    del api


async def test_batch_records_equal_online_records(tmp_path: Path) -> None:
    """All five seed articles: the same records, field for field, but for latency."""
    mock, api = MockTransport(), FakeBatchAPI()
    await online(
        [ARTICLES],
        make_settings(mock, tmp_path, cache_dir=tmp_path / "c1"),
        tmp_path / "on.jsonl",
        mock,
    )
    await arun_job(
        [ARTICLES], tmp_path / "job", make_settings(api, tmp_path, cache_dir=tmp_path / "c2"), api
    )
    on = [comparable(r) for r in records(tmp_path / "on.jsonl")]
    off = [comparable(r) for r in records(tmp_path / "job.jsonl")]
    assert len(on) == len(off) == 5
    assert [shape(r) for r in off] == [shape(r) for r in on]
    for a, b in zip(on, off, strict=True):
        # The endpoint differs (two fakes); everything the model and khabar decided is equal.
        a["digest"]["provenance"].pop("endpoint")
        b["digest"]["provenance"].pop("endpoint")
        assert a == b


SCENARIOS: dict[str, tuple[list[Reply], dict[str, Any]]] = {
    "verified at once": ([Reply.digest(good_answer())], {}),
    "re-asked with the problems, then accepted": (
        [
            Reply.digest(good_answer(people=[PERSON_INVENTED, PERSON_SHAPPS])),
            Reply.digest(good_answer()),
        ],
        {},
    ),
    "still wrong after the re-ask: dropped and counted": (
        [Reply.digest(good_answer(numbers=[NUMBER_WRONG, NUMBER_OK]))] * 2,
        {},
    ),
    "malformed JSON: instructor's re-ask": (
        [Reply.text('{"title_en": "NATO", "summary_en": '), Reply.digest(good_answer())],
        {},
    ),
    "never parses: invalid_output, remembered": (
        [Reply.text('{"title_en": "cut')] * 2,
        {},
    ),
    "a re-ask that does not parse keeps the previous answer": (
        [Reply.digest(good_answer(people=[PERSON_INVENTED])), Reply.text("{ not json")],
        {},
    ),
    "two re-asks: the budget is shared": (
        [
            Reply.text("{ broken"),
            Reply.digest(good_answer(people=[PERSON_INVENTED])),
            Reply.digest(good_answer()),
        ],
        {"max_reasks": 2},
    ),
    "unsupported: an error record with its draft": (
        [
            Reply.digest(
                good_answer(
                    summary_en=[],
                    summary_src=[],
                    people=[PERSON_INVENTED],
                    numbers=[],
                    dates=[],
                    quotes=[],
                    sources=[],
                    organizations=[],
                    locations=[],
                )
            )
        ]
        * 2,
        {},
    ),
    "min_support refuses a partial digest": (
        [Reply.digest(good_answer(numbers=[NUMBER_WRONG]))] * 2,
        {"min_support": 1.0},
    ),
    "a 400 context-length line is final": (
        [
            Reply.status(
                400,
                body={
                    "error": {
                        "message": "This model's maximum context length is 8192 tokens. However, "
                        "your messages resulted in 9000 tokens.",
                        "code": "context_length_exceeded",
                    }
                },
            )
        ],
        {"max_transport_retries": 0},
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_every_outcome_is_the_online_outcome(tmp_path: Path, name: str) -> None:
    replies, overrides = SCENARIOS[name]
    mock, api = MockTransport(), FakeBatchAPI()
    mock.script(*replies)
    api.script(*replies)
    src = one_article(tmp_path)
    on_settings = make_settings(mock, tmp_path, cache_dir=tmp_path / "c1", **overrides)
    await online([src], on_settings, tmp_path / "on.jsonl", mock)
    job = tmp_path / "job"
    await arun_job(
        [src], job, make_settings(api, tmp_path, cache_dir=tmp_path / "c2", **overrides), api
    )
    (on,) = [comparable(r) for r in records(tmp_path / "on.jsonl")]
    (off,) = [comparable(r) for r in records(tmp_path / "job.jsonl")]
    for record in (on, off):
        for holder in (record.get("digest"), record.get("draft")):
            if isinstance(holder, dict):
                holder["provenance"].pop("endpoint")
    if off.get("error"):  # an HTTP error names the endpoint's host: two fakes, two hosts
        off["error"]["message"] = off["error"]["message"].replace("batch.khabar", "mock.khabar")
    assert off == on
    # Every request the batch path sent is the request the online path sent, in order.
    assert [r.body for r in api.requests] == [r.body for r in mock.requests]


async def test_a_rerun_after_the_batch_is_served_from_the_cache(tmp_path: Path) -> None:
    api, mock = FakeBatchAPI(), MockTransport()
    settings = make_settings(api, tmp_path)
    await arun_job([ARTICLES], tmp_path / "job", settings, api)
    # The online path with the same settings (and the same endpoint: the cache key holds it).
    await online([ARTICLES], settings, tmp_path / "again.jsonl", mock)
    assert mock.requests == []
    again = records(tmp_path / "again.jsonl")
    assert len(again) == 5 and all(r["digest"]["provenance"]["cache_hit"] for r in again)


def test_khabar_report_reads_a_batch_output(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from khabar.cli import cli

    api = FakeBatchAPI()
    run_job([ARTICLES], tmp_path / "job", make_settings(api, tmp_path), api)
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "job.jsonl")])
    assert result.exit_code == 0, result.output
    assert "**5 articles**: 5 summarized, 0 failed" in result.output


# --- providers and limits --------------------------------------------------------------------


def test_azure_openai_paths_and_request_url(tmp_path: Path) -> None:
    api = FakeBatchAPI()
    settings = make_settings(
        api, tmp_path, provider="azure", base_url=api.azure_endpoint, model="my-batch-deployment"
    )
    final = run_job([ARTICLES], tmp_path / "job", settings, api)
    assert final.finished and final.done == 5
    paths = {path for _, path in api.calls}
    assert "/openai/files" in paths and "/openai/batches" in paths
    assert all(path.startswith("/openai/") for path in paths)
    (batch,) = api.batches.values()
    assert batch.data["endpoint"] == "/chat/completions"
    line = json.loads(
        (tmp_path / "job" / "requests-r0-000.jsonl").read_text("utf-8").splitlines()[0]
    )
    assert line["url"] == "/chat/completions" and line["body"]["model"] == "my-batch-deployment"
    # Azure's key header, and the API version on every call.
    assert all(h.get("api-key") == SENTINEL_KEY for h in api.headers)


def test_requests_split_at_the_limits_and_every_file_is_accepted(tmp_path: Path) -> None:
    api = FakeBatchAPI(max_requests=2, max_bytes=40_000)
    settings = make_settings(api, tmp_path)
    job = tmp_path / "job"
    result = prepare_batch(
        [ARTICLES], job, settings, output=tmp_path / "o.jsonl", limits=BatchLimits(2, 40_000)
    )
    sizes = [(len(f.read_text("utf-8").splitlines()), f.stat().st_size) for f in result.files]
    assert sum(n for n, _ in sizes) == 5 and len(sizes) >= 3
    assert all(n <= 2 and size <= 40_000 for n, size in sizes)
    submit(job, settings, transport=api)
    final = collect(job, settings, wait=True, poll_interval=0, transport=api)
    assert final.done == 5 and all(p.status == "completed" for p in final.parts)


def test_the_fake_enforces_the_provider_limits(tmp_path: Path) -> None:
    """Were the splitting wrong, the fake would refuse: an upload too large, a file too long."""
    from khabar.errors import ProviderError

    api = FakeBatchAPI(max_bytes=10_000)
    settings = make_settings(api, tmp_path)
    prepare_batch([ARTICLES], tmp_path / "job", settings, output=tmp_path / "o.jsonl")
    with pytest.raises(ProviderError, match="too large"):
        submit(tmp_path / "job", settings, transport=api)
    api2 = FakeBatchAPI(max_requests=3)
    prepare_batch([ARTICLES], tmp_path / "job2", settings, output=tmp_path / "o2.jsonl")
    submit(tmp_path / "job2", settings, transport=api2)
    st = status(tmp_path / "job2", settings, transport=api2)
    (part,) = st.parts
    assert part.status == "failed" and "too_many_requests" in part.errors[0]


def test_a_request_larger_than_a_batch_file_is_an_error_record(tmp_path: Path) -> None:
    api = FakeBatchAPI()
    settings = make_settings(api, tmp_path)
    first = prepare_batch([ARTICLES], tmp_path / "job", settings, output=tmp_path / "o.jsonl")
    sizes = sorted(len(line) for line in first.files[0].read_bytes().splitlines(keepends=True))
    assert len(sizes) == 5 and sizes[1] < sizes[3]
    limit = sizes[2]  # two requests are larger than a whole file may be
    result = prepare_batch(
        [ARTICLES],
        tmp_path / "job2",
        settings,
        output=tmp_path / "o2.jsonl",
        limits=BatchLimits(10, limit),
    )
    errors = [r for r in records(tmp_path / "o2.jsonl") if r["status"] == "error"]
    assert len(errors) == sum(size > limit for size in sizes) == 2
    assert all(r["error"]["reason"] == "invalid_request" for r in errors)
    assert "more than a whole batch file" in errors[0]["error"]["message"]
    assert result.requests == 3 and all(f.stat().st_size <= limit for f in result.files)


# --- what prepare decides without a model ---------------------------------------------------------


async def test_prepare_records_input_errors_cache_hits_and_duplicates_at_once(
    tmp_path: Path,
) -> None:
    mock, api = MockTransport(), FakeBatchAPI()
    settings = make_settings(api, tmp_path)
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(seed("003"), encoding="utf-8")
    (src / "b.txt").write_text(seed("003"), encoding="utf-8")  # same text: one request
    (src / "c.txt").write_text(seed("001"), encoding="utf-8")
    (src / "empty.txt").write_text("  ", encoding="utf-8")
    # 001 is in the cache already (an online run with the same settings).
    warm = tmp_path / "warm"
    warm.mkdir()
    (warm / "c.txt").write_text(seed("001"), encoding="utf-8")
    await online([warm], settings, tmp_path / "warm.jsonl", mock)
    result = await aprepare_batch([src], tmp_path / "job", settings, output=tmp_path / "o.jsonl")
    assert (result.requests, result.articles, result.from_cache, result.errors) == (1, 2, 1, 1)
    now = {r["id"]: r for r in records(tmp_path / "o.jsonl")}
    assert now["in/c.txt"]["digest"]["provenance"]["cache_hit"] is True
    assert now["in/empty.txt"]["error"]["reason"] == "empty"
    await asubmit(tmp_path / "job", settings, transport=api)
    await acollect(tmp_path / "job", settings, wait=True, poll_interval=0, transport=api)
    after = {r["id"]: r for r in records(tmp_path / "o.jsonl")}
    assert set(after) == {"in/a.txt", "in/b.txt", "in/c.txt", "in/empty.txt"}
    assert after["in/b.txt"]["duplicate_of"] == "in/a.txt" and after["in/b.txt"]["status"] == "ok"
    assert after["in/b.txt"]["digest"]["article_id"] == "in/b.txt"
    assert len(api.requests) == 1


def test_prepare_skips_what_the_output_has_and_refuses_an_unfinished_job(tmp_path: Path) -> None:
    api = FakeBatchAPI()
    settings = make_settings(api, tmp_path)
    run_job([ARTICLES], tmp_path / "job", settings, api)
    again = prepare_batch([ARTICLES], tmp_path / "job", settings, output=tmp_path / "job.jsonl")
    assert (again.skipped, again.requests) == (5, 0)
    src = one_article(tmp_path)
    uncached = make_settings(api, tmp_path, cache=False)  # 003 is in the cache since the job
    first = prepare_batch([src], tmp_path / "job2", uncached, output=tmp_path / "job2.jsonl")
    assert first.requests == 1
    with pytest.raises(ConfigError, match="not finished"):
        prepare_batch([src], tmp_path / "job2", uncached, output=tmp_path / "job2.jsonl")


def test_other_settings_are_refused(tmp_path: Path) -> None:
    api = FakeBatchAPI()
    settings = make_settings(api, tmp_path)
    prepare_batch([one_article(tmp_path)], tmp_path / "job", settings, output=tmp_path / "o.jsonl")
    with pytest.raises(ConfigError, match="prepared for fake-model"):
        submit(tmp_path / "job", make_settings(api, tmp_path, model="other"), transport=api)
    submit(tmp_path / "job", settings, transport=api)
    # A prompt or decoding change keeps model and provider but changes every request.
    with pytest.raises(ConfigError, match="settings or prompts differ"):
        collect(
            tmp_path / "job",
            make_settings(api, tmp_path, max_tokens=99),
            wait=True,
            poll_interval=0,
            transport=api,
        )


def test_the_job_moves_to_another_machine_with_its_output(tmp_path: Path) -> None:
    api = FakeBatchAPI()
    settings = make_settings(api, tmp_path)
    first = tmp_path / "here"
    first.mkdir()
    prepare_batch([ARTICLES], first / "job", settings, output=first / "out.jsonl")
    submit(first / "job", settings, transport=api)
    there = tmp_path / "there"
    shutil.copytree(first, there)
    shutil.rmtree(first)
    # Another machine: another cache, the same settings and key; nothing of the first process.
    elsewhere = make_settings(api, tmp_path, cache_dir=tmp_path / "other-cache")
    final = collect(there / "job", elsewhere, wait=True, poll_interval=0, transport=api)
    assert final.finished and final.output == there / "out.jsonl"
    assert len(records(there / "out.jsonl")) == 5


def test_no_secret_in_any_file_of_the_job(tmp_path: Path) -> None:
    api = FakeBatchAPI()
    settings = make_settings(
        api, tmp_path, base_url=f"http://user:{SENTINEL_KEY}@batch.khabar/v1", api_key=SENTINEL_KEY
    )
    run_job([ARTICLES], tmp_path / "job", settings, api)
    for path in [*sorted((tmp_path / "job").iterdir()), tmp_path / "job.jsonl"]:
        assert SENTINEL_KEY not in path.read_text("utf-8", errors="replace"), path.name
    state = json.loads((tmp_path / "job" / "state.json").read_text("utf-8"))
    assert state["endpoint"] == "http://batch.khabar/v1"
