"""Issue #12: what the store writes (escaped names, drafts) and output paths checked before any work."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import sys
import types
from pathlib import Path

import pytest

from khabar.batch import run_batch
from khabar.batch.inputs import Article
from khabar.batch.store import (
    FINAL_REASONS,
    JsonlStore,
    check_output_paths,
    escape_surrogates,
    iter_records,
    make_record,
)
from khabar.core.digest import Digest
from khabar.errors import ConfigError, KhabarError

from .test_batch import StandInSummarizer
from .test_store import article, digest

# --- names that are not UTF-8 ------------------------------------------------------------------


def test_escape_surrogates_spells_out_bytes_and_lone_surrogates() -> None:
    name = b"\xd9\x85\xff\xfe.txt".decode("utf-8", "surrogateescape")
    assert escape_surrogates(name) == "م\\xff\\xfe.txt"
    assert escape_surrogates("a\ud800b") == "a\\ud800b"
    assert escape_surrogates("خبر\u200c") == "خبر\u200c"


def test_an_unescaped_article_is_escaped_by_the_store_the_same_way(tmp_path: Path) -> None:
    # A caller's own Article (not from iter_articles) with a raw undecodable name.
    raw = b"in/\xd9\x85\xff.txt".decode("utf-8", "surrogateescape")
    a = Article(id=raw, source=raw, text=None, error=KhabarError(f"{raw}: broken"))
    out = tmp_path / "o.jsonl"
    stream = io.StringIO()
    with JsonlStore(out) as store:
        store.append(make_record(a))
    JsonlStore("-", stream=stream).append(make_record(a))
    for line in (out.read_bytes().decode("utf-8"), stream.getvalue()):
        record = json.loads(line)
        assert record["id"] == record["source"] == "in/م\\xff.txt"
        assert "in/م\\xff.txt: broken" in record["error"]["message"]
    with JsonlStore(out) as store:
        assert store.done_ids(retry_errors=False) == {escape_surrogates(raw)}


def test_source_bytes_are_recorded_as_base64() -> None:
    a = Article(id="x", source="in/م\\xff.txt", text="نص", source_bytes=b"in/\xd9\x85\xff.txt")
    record = make_record(a, digest=digest("x"))
    assert list(record)[:3] == ["id", "source", "source_b64"]
    assert base64.b64decode(record["source_b64"]) == b"in/\xd9\x85\xff.txt"


# --- the rejected draft -----------------------------------------------------------------------


def test_an_error_with_a_draft_puts_it_in_the_record() -> None:
    draft = {"title_en": "Invented", "summary_en": "Nothing here was in the article.", "people": []}
    error = KhabarError("no sentence of the digest could be verified", draft=draft)
    record = make_record(article("u", text=None), error=error)
    assert record["status"] == "error" and record["draft"] == draft
    assert record["error"]["message"].startswith("no sentence")
    json.dumps(record, allow_nan=False)
    # Only a dict is a draft; anything else in the context is not written.
    assert "draft" not in make_record(article("v"), error=KhabarError("x", draft="text"))
    assert "draft" not in make_record(article("w"), error=KhabarError("x"))


def test_unsupported_is_retried_like_any_model_failure(tmp_path: Path) -> None:
    assert "unsupported" not in FINAL_REASONS
    error = KhabarError("unsupported", draft={"title_en": "t"})
    record = make_record(article("u", text=None), error=error)
    record["error"]["reason"] = "unsupported"  # what the lead's UnsupportedDigestError reports
    with JsonlStore(tmp_path / "o.jsonl") as store:
        store.append(record)
        assert store.done_ids() == set()


def test_a_record_that_is_not_json_costs_one_article_not_the_batch(tmp_path: Path) -> None:
    async def process(a: Article) -> Digest:
        d = digest(a.id)
        if a.id == "nan":
            d.provenance.latency_s = float("nan")  # NaN is not JSON
        return d

    items = [article("a"), article("nan", text="نص آخر"), article("b", text="نص ثالث")]
    with JsonlStore(tmp_path / "o.jsonl") as store:
        stats = asyncio.run(run_batch(items, process, store=store))
    by_id = {r["id"]: r for r in iter_records(tmp_path / "o.jsonl")}
    assert [by_id[i]["status"] for i in ("a", "nan", "b")] == ["ok", "error", "ok"]
    assert by_id["nan"]["error"]["reason"] == "internal"
    assert "cannot be written as JSON" in by_id["nan"]["error"]["message"]
    assert stats.failures_by_reason == {"internal": 1} and stats.succeeded == 2


# --- output paths -------------------------------------------------------------------------------


def test_output_paths_that_cannot_work_are_refused_with_the_path_and_a_remedy(
    tmp_path: Path,
) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    cases = [
        (dict(output=tmp_path), "is a directory", str(tmp_path / "digests.jsonl")),
        (dict(output=out, reports=[tmp_path]), "is a directory", str(tmp_path / "report.md")),
        (dict(output=out, reports=[a_file / "r.md"]), "is a file, not a directory", "report.md"),
        (dict(output=a_file / "o.jsonl"), "is a file, not a directory", "digests.jsonl"),
        (dict(output=out, reports=[out]), "is the JSONL output itself", "report.md"),
    ]
    for kwargs, problem, remedy in cases:
        with pytest.raises(ConfigError) as caught:
            check_output_paths(**kwargs)  # type: ignore[arg-type]
        message = str(caught.value)
        assert problem in message and remedy in message, message
    # Fine: stdout, new files in new directories, an existing report.
    check_output_paths("-", reports=[tmp_path / "new" / "r.md"])
    check_output_paths(out, reports=[a_file])
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_an_unwritable_directory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if os.geteuid() == 0:  # root writes anywhere: let access() answer as for anyone else
        monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked)
    try:
        with pytest.raises(ConfigError, match=r"permission denied on .*locked") as caught:
            check_output_paths(tmp_path / "out.jsonl", reports=[locked / "new" / "r.md"])
        assert "directory you can write to" in str(caught.value)
    finally:
        locked.chmod(0o700)


def test_summarize_paths_checks_reports_before_loading_a_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from khabar.batch import summarize_paths
    from khabar.config import Settings

    monkeypatch.setitem(
        sys.modules, "khabar.pipeline", types.SimpleNamespace(Summarizer=StandInSummarizer)
    )
    StandInSummarizer.instances.clear()
    feed = tmp_path / "a.txt"
    feed.write_text("نص الخبر", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    reports_dir = tmp_path / "reports"
    reports_dir.mkdir()
    with pytest.raises(ConfigError, match=r"Markdown report .* is a directory"):
        summarize_paths([feed], output=out, settings=Settings(model="m"), reports=[reports_dir])
    assert StandInSummarizer.instances == []  # no model was loaded, nothing was paid
    assert not out.exists()
    stats = summarize_paths(
        [feed], output=out, settings=Settings(model="m"), reports=[reports_dir / "r.md"]
    )
    assert stats.succeeded == 1


def test_a_json_title_with_lone_surrogates_reaches_the_prompt_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from khabar.batch import summarize_paths
    from khabar.config import Settings

    monkeypatch.setitem(
        sys.modules, "khabar.pipeline", types.SimpleNamespace(Summarizer=StandInSummarizer)
    )
    StandInSummarizer.instances.clear()
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"id": "t", "title": "عنوان \\ud800", "text": "نص"}\n', encoding="utf-8")
    summarize_paths([feed], output=tmp_path / "o.jsonl", settings=Settings(model="m"))
    ((_text, _id, title, _refresh),) = StandInSummarizer.instances[0].calls
    assert title == "عنوان \\ud800"
    title.encode("utf-8")
