"""A collect (or submit) killed anywhere resumes: nothing lost, nothing written or paid twice."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from khabar.batch.api import BatchLimits, collect, prepare_batch, submit
from khabar.batch.api import collector as collect_module
from khabar.batch.api import job as job_module
from khabar.batch.api.provider import BatchEndpoint
from khabar.batch.store import JsonlStore
from khabar.testing import Reply
from khabar.testing.batch_api import FakeBatchAPI

from .conftest import corpus_sample
from .test_batch_api import comparable, make_settings, records, run_job
from .test_pipeline import PERSON_INVENTED, good_answer


class Killed(Exception):
    """Stands for the process dying at this point."""


def articles(tmp_path: Path, n: int = 12) -> Path:
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": a["id"], "text": a["text"]}, ensure_ascii=False) + "\n"
            for a in corpus_sample()[:n]
        ),
        encoding="utf-8",
    )
    return src


def scripted(api: FakeBatchAPI) -> FakeBatchAPI:
    """Two re-asks and a failed line in round 0, so that the job needs a second round."""
    api.script(
        Reply.digest(good_answer(people=[PERSON_INVENTED])),
        Reply.status(500),
        Reply.text("{ broken"),
    )
    return api


def start(tmp_path: Path, name: str) -> tuple[FakeBatchAPI, Any, Path]:
    api = scripted(FakeBatchAPI())
    settings = make_settings(api, tmp_path, cache_dir=tmp_path / f"cache-{name}")
    job = tmp_path / name
    prepare_batch(
        [articles(tmp_path)],
        job,
        settings,
        output=tmp_path / f"{name}.jsonl",
        limits=BatchLimits(5),
    )
    submit(job, settings, transport=api)
    return api, settings, job


def finish(api: FakeBatchAPI, settings: Any, job: Path) -> Any:
    return collect(job, settings, wait=True, poll_interval=0, transport=api)


def clean_run(tmp_path: Path) -> tuple[list[dict[str, Any]], FakeBatchAPI]:
    api, settings, job = start(tmp_path, "clean")
    final = finish(api, settings, job)
    assert final.finished and final.round == 1
    return [comparable(r) for r in records(tmp_path / "clean.jsonl")], api


def same_as_clean(tmp_path: Path, name: str, clean: list[dict[str, Any]]) -> None:
    got = [comparable(r) for r in records(tmp_path / f"{name}.jsonl")]
    assert max(Counter(r["id"] for r in got).values()) == 1, "an article written twice"
    assert sorted(got, key=lambda r: r["id"]) == sorted(clean, key=lambda r: r["id"])


@pytest.mark.parametrize("after", [0, 1, 6, 11])
def test_collect_killed_after_some_records_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, after: int
) -> None:
    clean, _ = clean_run(tmp_path)
    api, settings, job = start(tmp_path, "job")
    real = JsonlStore.append
    written = 0

    def append(self: JsonlStore, record: dict[str, Any]) -> None:
        nonlocal written
        if written >= after:
            raise Killed(f"killed after {after} records")
        real(self, record)
        written += 1

    monkeypatch.setattr(JsonlStore, "append", append)
    with pytest.raises(Killed):
        finish(api, settings, job)
    monkeypatch.setattr(JsonlStore, "append", real)
    assert len(records(tmp_path / "job.jsonl")) == after
    final = finish(api, settings, job)
    assert final.finished and final.done == 12
    same_as_clean(tmp_path, "job", clean)


def test_collect_killed_at_every_save_of_its_state_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kill at the 1st, 2nd, ... state save of a collect, resume; until a collect runs through."""
    clean, clean_api = clean_run(tmp_path)
    real = job_module.save_state
    for kill_at in range(1, 60):
        name = f"job{kill_at}"
        api, settings, job = start(tmp_path, name)
        saves = 0

        def save(job_dir: Path, state: Any, kill_at: int = kill_at) -> None:
            nonlocal saves
            saves += 1
            if saves == kill_at:
                raise Killed(f"killed at save {kill_at}")
            real(job_dir, state)

        monkeypatch.setattr(job_module, "save_state", save)
        monkeypatch.setattr(collect_module, "save_state", save)
        try:
            finish(api, settings, job)
            completed = True
        except Killed:
            completed = False
        monkeypatch.setattr(job_module, "save_state", real)
        monkeypatch.setattr(collect_module, "save_state", real)
        final = finish(api, settings, job)
        assert final.finished
        same_as_clean(tmp_path, name, clean)
        # No request was paid for twice: as many batches and answered lines as the clean run.
        assert len(api.batches) == len(clean_api.batches)
        assert len(api.requests) == len(clean_api.requests)
        if completed:
            break
    else:
        pytest.fail("collect never ran through")
    assert kill_at > 5, "the kill points covered too little of collect"


def test_submit_killed_after_creating_a_batch_adopts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = FakeBatchAPI()
    settings = make_settings(api, tmp_path)
    job = tmp_path / "job"
    prepare_batch(
        [articles(tmp_path)], job, settings, output=tmp_path / "o.jsonl", limits=BatchLimits(5)
    )
    real = job_module.save_state

    def save(job_dir: Path, state: Any) -> None:
        # Die right after the first batch is created, before its id is saved.
        if any(p.batch_id for p in state.parts):
            raise Killed("killed after batches.create")
        real(job_dir, state)

    monkeypatch.setattr(job_module, "save_state", save)
    with pytest.raises(Killed):
        submit(job, settings, transport=api)
    monkeypatch.setattr(job_module, "save_state", real)
    assert len(api.batches) == 1
    submit(job, settings, transport=api)
    assert len(api.batches) == 3  # three files, three batches: the first one adopted
    assert sum(1 for method, path in api.calls if method == "POST" and path == "/v1/batches") == 3
    final = finish(api, settings, job)
    assert final.finished and final.done == 12
    assert len(api.requests) == 12


def test_a_download_killed_midway_is_done_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean, _ = clean_run(tmp_path)
    api, settings, job = start(tmp_path, "job")
    real = BatchEndpoint.download

    async def download(self: BatchEndpoint, file_id: str, dest: Path) -> None:
        dest.with_name(dest.name + ".tmp").write_bytes(b'{"custom_id": "half a li')
        raise Killed("killed while downloading")

    monkeypatch.setattr(BatchEndpoint, "download", download)
    with pytest.raises(Killed):
        finish(api, settings, job)
    monkeypatch.setattr(BatchEndpoint, "download", real)
    assert not list(job.glob("output-*.jsonl"))
    finish(api, settings, job)
    same_as_clean(tmp_path, "job", clean)


def test_collect_again_changes_nothing(tmp_path: Path) -> None:
    api = FakeBatchAPI()
    settings = make_settings(api, tmp_path)
    run_job([articles(tmp_path, 6)], tmp_path / "job", settings, api)
    before = (tmp_path / "job.jsonl").read_bytes()
    calls = len(api.calls)
    for _ in range(2):
        final = collect(tmp_path / "job", settings, wait=True, poll_interval=0, transport=api)
        assert final.finished and final.done == 6
    assert (tmp_path / "job.jsonl").read_bytes() == before
    assert len(api.calls) == calls  # nothing asked of the provider: all of it is on disk
