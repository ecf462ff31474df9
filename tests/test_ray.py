"""khabar on Ray Data: a local cluster (2 CPUs) against the fake server; actors killed mid-batch.

The tests on a cluster need the ``ray`` extra (``pip install -e '.[ray]'``) and are
marked ``ray``: ``pytest -m ray`` runs them (CI does); without the extra they fail,
they are never skipped. The callable class's contract (what ``map_batches`` calls)
is tested without Ray, in-process, in the default run.
"""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from khabar.errors import ConfigError
from khabar.integrations.ray import SummarizeBatch, portable_settings
from khabar.testing import FakeOpenAI, Reply, echo_digest_responder

from .conftest import SENTINEL_KEY, corpus_sample, seed

MARKER = "XMARKERX"


def responder(body: dict[str, Any]) -> Reply:
    """The synthetic echo, but an HTTP 400 for an article carrying MARKER."""
    if MARKER in json.dumps(body.get("messages"), ensure_ascii=False):
        return Reply.status(400, body={"error": {"message": "Invalid request: refused"}})
    return echo_digest_responder(body)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(responder) as server:
        yield server


def settings_for(fake: FakeOpenAI, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "model": "fake-model",
        "base_url": fake.base_url,
        "cache_dir": str(tmp_path / "cache"),
        "retry_base_wait": 0.01,
        "timeout": 10.0,
        **extra,
    }


def write_inputs(tmp_path: Path, n: int = 20) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    rows = [{"id": a["id"], "text": a["text"]} for a in corpus_sample()[:n]]
    # Inside a sentence: a line of its own at the end would be stripped as page boilerplate.
    rows.append(
        {"id": "refused", "text": seed("003").replace("ستولتنبرغ", f"ستولتنبرغ {MARKER}", 1)}
    )
    rows.append({"id": "dup", "text": rows[0]["text"]})
    (src / "articles.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    (src / "empty.txt").write_text("   \n", encoding="utf-8")
    return src


def ids_of(path: Path) -> Counter[str]:
    return Counter(json.loads(line)["id"] for line in path.read_text("utf-8").splitlines())


# --- the callable-class contract, without Ray -------------------------------------------------------


def test_the_callable_class_contract_in_process(fake: FakeOpenAI, tmp_path: Path) -> None:
    """What map_batches does with the class: construct once, call with batches, read 3 columns."""
    udf = SummarizeBatch(settings_for(fake, tmp_path), cache="off")
    try:
        out = udf({"id": ["a", "b", "c"], "text": [seed("003"), None, seed("001")]})
        assert out["id"] == ["a", "b", "c"]
        assert out["status"] == ["ok", "error", "ok"]
        records = [json.loads(line) for line in out["record"]]
        assert records[1]["error"]["reason"] == "bad_input"
        assert records[0]["digest"]["article_id"] == "a"
        assert list(records[0]) == [
            "id",
            "source",
            "status",
            "digest",
            "error",
            "warnings",
            "duplicate_of",
        ]
    finally:
        udf.close()


@pytest.mark.ray
def test_the_callable_class_takes_a_pandas_batch(fake: FakeOpenAI, tmp_path: Path) -> None:
    """Ray Data hands pandas batches when asked to (``batch_format="pandas"``)."""
    import pandas

    udf = SummarizeBatch(settings_for(fake, tmp_path), cache="off")
    try:
        again = udf(pandas.DataFrame({"id": ["d"], "text": [seed("002")]}))
        assert list(again["status"]) == ["ok"]
    finally:
        udf.close()


def test_settings_for_actors_carry_no_secret(fake: FakeOpenAI, tmp_path: Path) -> None:
    from khabar.config import Settings

    with pytest.raises(ConfigError, match="may not hold api_key"):
        portable_settings({"model": "m", "api_key": SENTINEL_KEY})
    with pytest.raises(ConfigError, match="password"):
        portable_settings({"model": "m", "base_url": f"http://u:{SENTINEL_KEY}@h/v1"})
    dumped = portable_settings(Settings(model="m", base_url=fake.base_url, api_key=SENTINEL_KEY))
    assert SENTINEL_KEY not in json.dumps(dumped) and dumped["model"] == "m"


# --- a local Ray cluster ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import ray

    # The workers inherit the environment of ray.init: make it the tests' isolated one.
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.startswith(("KHABAR_", "OPENAI_", "AZURE_OPENAI")):
                env.delenv(name)
        env.setenv("KHABAR_HOME", str(tmp_path_factory.mktemp("ray-home")))
        env.setenv("HF_HUB_OFFLINE", "1")
        env.setenv("RAY_AUTH_MODE", "disabled")
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            yield ray
        finally:
            ray.shutdown()


def pytestmark_ray(test: Any) -> Any:
    """On a local cluster: marked ``ray`` (run by ``pytest -m ray``), Ray's deprecations quiet."""
    return pytest.mark.ray(pytest.mark.filterwarnings("ignore::DeprecationWarning")(test))


@pytestmark_ray
def test_every_article_once_errors_as_records(
    cluster: Any, fake: FakeOpenAI, tmp_path: Path
) -> None:
    from khabar.integrations.ray import summarize_paths_ray

    src = write_inputs(tmp_path)
    out = tmp_path / "out.jsonl"
    stats = summarize_paths_ray([src], out, settings_for(fake, tmp_path), actors=2, batch_size=4)
    ids = ids_of(out)
    assert len(ids) == 23 and max(ids.values()) == 1
    assert (stats.total, stats.succeeded, stats.failed) == (23, 21, 2)
    assert stats.failures_by_reason == {"empty": 1, "provider": 1}
    records = {
        json.loads(line)["id"]: json.loads(line) for line in out.read_text("utf-8").splitlines()
    }
    assert records["refused"]["error"]["reason"] == "provider"
    assert records["dup"]["status"] == "ok"
    # The report and a rerun read it as they read `khabar summarize` output.
    again = summarize_paths_ray([src], out, settings_for(fake, tmp_path), actors=2)
    # Done: the 21 digests and the final input error; the provider's refusal is asked again.
    assert (again.skipped, again.total - again.skipped, again.failed) == (22, 1, 1)


@pytestmark_ray
def test_a_killed_actor_loses_no_row(cluster: Any, fake: FakeOpenAI, tmp_path: Path) -> None:
    import ray.data

    from khabar.integrations.ray import summarize_dataset, write_records

    flag = tmp_path / "killed-once"

    class Dying(SummarizeBatch):
        """Dies (SIGKILL, no clean-up) in the middle of the first batch that holds row 7."""

        def __call__(self, batch: Any) -> dict[str, list[Any]]:
            if "row-07" in list(batch["id"]) and not flag.exists():
                flag.write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)
            return super().__call__(batch)

    rows = [{"id": f"row-{i:02d}", "text": a["text"]} for i, a in enumerate(corpus_sample()[:24])]
    before = len(fake.requests)
    out = summarize_dataset(
        ray.data.from_items(rows), settings_for(fake, tmp_path), actors=2, batch_size=4, udf=Dying
    )
    stats = write_records(out, tmp_path / "out.jsonl")
    assert flag.exists(), "the actor was not killed: the test proves nothing"
    ids = ids_of(tmp_path / "out.jsonl")
    assert set(ids) == {r["id"] for r in rows} and max(ids.values()) == 1
    assert stats.succeeded == 24
    assert len(fake.requests) - before >= 24


@pytestmark_ray
def test_node_cache_is_shared_by_the_actors(cluster: Any, fake: FakeOpenAI, tmp_path: Path) -> None:
    from khabar.integrations.ray import summarize_paths_ray

    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": a["id"], "text": a["text"]}, ensure_ascii=False) + "\n"
            for a in corpus_sample()[:12]
        ),
        encoding="utf-8",
    )
    settings = settings_for(fake, tmp_path)
    summarize_paths_ray([src], tmp_path / "a.jsonl", settings, actors=2, batch_size=3)
    before = len(fake.requests)
    stats = summarize_paths_ray([src], tmp_path / "b.jsonl", settings, actors=2, batch_size=3)
    assert stats.succeeded == 12 and len(fake.requests) == before  # all from the cache
    per_worker = summarize_paths_ray(
        [src],
        tmp_path / "c.jsonl",
        settings_for(fake, tmp_path / "w"),
        actors=2,
        batch_size=3,
        cache="worker",
    )
    assert per_worker.succeeded == 12
    # Each actor that worked has a cache of its own; none writes the shared directory.
    root = tmp_path / "w" / "cache"
    workers = list(root.glob("worker-*"))
    assert 1 <= len(workers) <= 2 and all((w / "cache.db").exists() for w in workers)
    assert not (root / "cache.db").exists()
