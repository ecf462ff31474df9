"""A batch job after ``prepare_batch``: :func:`submit`, :func:`status`, :func:`cancel`.

``submit`` uploads the request files and creates one batch per file;
``status`` asks how they are doing; ``cancel`` stops them;
:func:`~khabar.batch.api.collector.collect` downloads what came back, verifies
it, writes the records and sends the follow-ups.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from khabar.core.cost import estimate_cost, format_cost, load_prices
from khabar.errors import ConfigError

from .requests import atomic_write, json_line
from .state import (
    MANIFEST_NAME,
    JobState,
    Part,
    job_lock,
    load_state,
    save_state,
)

if TYPE_CHECKING:
    import httpx2

    from khabar.config import Settings
    from khabar.pipeline import Summarizer

__all__ = [
    "JobStatus",
    "acancel",
    "astatus",
    "asubmit",
    "cancel",
    "job_status",
    "status",
    "submit",
    "written_ids",
]

logger = logging.getLogger("khabar")

T = TypeVar("T")


@dataclass
class JobStatus:
    """Where a job stands (``khabar batch status``)."""

    job_dir: Path
    output: Path
    model: str
    provider: str
    round: int
    articles: int
    done: int
    parts: list[Part]
    cancelled: bool
    prompt_tokens: int
    completion_tokens: int
    cost: float | None  # of the answers so far, at batch prices
    estimated_cost: float | None  # of the whole job, estimated at prepare
    finished: bool = False
    failed: int = 0  # of ``done``, articles whose record is an error
    currency: str = "USD"

    @property
    def next_step(self) -> str:
        d = self.job_dir
        if self.finished:
            return f"finished: the records are in {self.output}"
        waiting = [p for p in self.parts if p.status == "prepared" and not p.processed]
        if waiting:
            files = ", ".join(p.file for p in waiting)
            return (
                f"{len(waiting)} file(s) not sent ({files}): `khabar batch submit {d}`, or run "
                f"them through vLLM's run_batch and `khabar batch collect {d} --from-file OUT.jsonl`"
            )
        return f"waiting for the provider: `khabar batch collect {d} --wait` follows the job"

    def lines(self) -> list[str]:
        out = [
            f"job {self.job_dir} -> {self.output} ({self.model} via {self.provider})",
            f"articles: {self.done} of {self.articles} done ({self.failed} failed); "
            f"round {self.round}" + (" (cancelled)" if self.cancelled else ""),
        ]
        for p in self.parts:
            line = f"  {p.name}: {p.status}"
            if p.batch_id:
                line += f" {p.batch_id}"
            line += f", {p.requests} requests"
            if p.completed or p.failed:
                line += f" ({p.completed} answered, {p.failed} failed)"
            if p.processed:
                line += ", collected"
            out.append(line)
            out.extend(f"    {error}" for error in p.errors[:3])
        out.append(
            f"tokens so far: {self.prompt_tokens:,} in / {self.completion_tokens:,} out, "
            f"{format_cost(self.cost, self.currency)} at batch prices; whole job estimated at "
            f"{format_cost(self.estimated_cost, self.currency)}"
        )
        out.append(self.next_step)
        return out


# --- submit, status, cancel ----------------------------------------------------------------


def check_settings(summarizer: Summarizer, state: JobState, job: Path) -> None:
    """Refuse settings that would send or read the job's requests differently."""
    plan = summarizer.plan
    theirs = (state.model, state.provider, state.mode)
    ours = (plan.model, plan.provider, plan.mode)
    if theirs != ours:
        raise ConfigError(
            f"{job} was prepared for {theirs[0]} via {theirs[1]} ({theirs[2]}); these settings "
            f"say {ours[0]} via {ours[1]} ({ours[2]})",
            hint="Use the settings the job was prepared with (KHABAR_MODEL, KHABAR_PROVIDER...).",
        )


def update_part(part: Part, batch: Any) -> None:
    """Copy what a Batch object says into ``part`` (ids, status, counts, errors)."""
    from khabar.errors import redact

    part.batch_id = str(batch.id)
    part.status = str(batch.status)
    part.output_file_id = batch.output_file_id
    part.error_file_id = batch.error_file_id
    part.created_at = batch.created_at
    part.ended_at = (
        batch.completed_at or batch.failed_at or batch.expired_at or batch.cancelled_at or None
    )
    counts = batch.request_counts
    if counts is not None:
        part.completed, part.failed = int(counts.completed), int(counts.failed)
    errors = getattr(batch.errors, "data", None) or []
    part.errors = [
        redact(f"{e.code}: {e.message}" + (f" (line {e.line})" if e.line else "")) for e in errors
    ]


async def submit_parts(endpoint: Any, job: Path, state: JobState) -> int:
    """Upload and create a batch for every part of the current round not yet sent; how many."""
    sent = 0
    for part in state.current:
        if part.status != "prepared" or part.processed:
            continue
        metadata = {"khabar_job": state.job_id, "khabar_part": part.name}
        if part.input_file_id is None:
            part.input_file_id = await endpoint.upload(job / part.file)
            save_state(job, state)
            batch = None
        else:
            batch = await endpoint.find(part.input_file_id, metadata)
        if batch is None:
            batch = await endpoint.create(part.input_file_id, state.url, metadata)
        update_part(part, batch)
        save_state(job, state)
        sent += 1
    return sent


def run_sync(coro: Coroutine[Any, Any, T], name: str) -> T:
    """``asyncio.run(coro)``, or a clear error inside a running event loop (await ``a<name>``)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise RuntimeError(
        f"khabar.batch.api.{name}() was called inside an event loop; await a{name}() instead"
    )


async def asubmit(
    job_dir: str | Path,
    settings: Settings | None = None,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> JobStatus:
    """Upload the job's unsent request files and create their batches (``khabar batch submit``).

    Safe to run again: a part already sent is left alone, and a batch created
    by a submit that was killed before saving its id is found and adopted.
    """
    from khabar.config import Settings
    from khabar.pipeline import Summarizer

    from .provider import BatchEndpoint

    job = Path(job_dir)
    with job_lock(job):
        state = load_state(job)
        async with Summarizer(settings or Settings(), transport=transport) as summarizer:
            check_settings(summarizer, state, job)
            state.cancelled = False
            save_state(job, state)
            await submit_parts(BatchEndpoint(summarizer), job, state)
            return job_status(job, state, summarizer.settings)


def submit(
    job_dir: str | Path,
    settings: Settings | None = None,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> JobStatus:
    """Synchronous :func:`asubmit`."""
    return run_sync(asubmit(job_dir, settings, transport=transport), "submit")


async def astatus(
    job_dir: str | Path,
    settings: Settings | None = None,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    refresh: bool = True,
) -> JobStatus:
    """Where the job stands; with ``refresh``, each running batch is asked (nothing is saved)."""
    from khabar.config import Settings
    from khabar.pipeline import Summarizer

    from .provider import BatchEndpoint

    job = Path(job_dir)
    state = load_state(job)
    resolved = settings or Settings()
    running = [p for p in state.parts if p.batch_id and not p.terminal]
    if refresh and running:
        async with Summarizer(resolved, transport=transport) as summarizer:
            endpoint = BatchEndpoint(summarizer)
            for part in running:
                update_part(part, await endpoint.retrieve(str(part.batch_id)))
    return job_status(job, state, resolved)


def status(
    job_dir: str | Path,
    settings: Settings | None = None,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
    refresh: bool = True,
) -> JobStatus:
    """Synchronous :func:`astatus`."""
    return run_sync(astatus(job_dir, settings, transport=transport, refresh=refresh), "status")


async def acancel(
    job_dir: str | Path,
    settings: Settings | None = None,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> JobStatus:
    """Cancel the job's running batches. ``collect`` still gathers what they answered;
    the rest waits until ``submit`` sends it again."""
    from khabar.config import Settings
    from khabar.pipeline import Summarizer

    from .provider import BatchEndpoint

    job = Path(job_dir)
    with job_lock(job):
        state = load_state(job)
        async with Summarizer(settings or Settings(), transport=transport) as summarizer:
            endpoint = BatchEndpoint(summarizer)
            state.cancelled = True
            for part in state.parts:
                if part.batch_id and not part.terminal:
                    update_part(part, await endpoint.cancel(part.batch_id))
            save_state(job, state)
            return job_status(job, state, summarizer.settings)


def cancel(
    job_dir: str | Path,
    settings: Settings | None = None,
    *,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> JobStatus:
    """Synchronous :func:`acancel`."""
    return run_sync(acancel(job_dir, settings, transport=transport), "cancel")


def written_ids(output: Path, offset: int) -> dict[str, str]:
    """Ids with a record in ``output`` after ``offset`` (with its status): what this job finished.

    The output is the job's journal: a record is written once, with one
    ``write``, so its presence alone says that the article is done, and a
    process killed between writing a record and anything else cannot make it
    written twice.
    """
    if not output.is_file():
        return {}
    size = output.stat().st_size
    if size < offset:
        logger.warning(
            "%s is shorter than when this batch job was prepared; reading all of it", output
        )
        offset = 0
    ids: dict[str, str] = {}
    with open(output, "rb") as f:
        f.seek(offset)
        for raw in f:
            if not raw.endswith(b"\n"):
                break  # a torn last line: not a record (the store cuts it on open)
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("id"), str):
                ids[record["id"]] = str(record.get("status"))
    return ids


def job_status(job: Path, state: JobState, settings: Settings) -> JobStatus:
    from .state import JsonlIndex

    manifest = JsonlIndex(job / MANIFEST_NAME, "id")
    written = written_ids(state.output_path(job), state.offset)
    done = sum(1 for article_id in manifest if article_id in written)
    failed = sum(1 for article_id in manifest if written.get(article_id) == "error")
    prompt = sum(p.prompt_tokens for p in state.parts)
    completion = sum(p.completion_tokens for p in state.parts)
    prices = load_prices(getattr(settings, "prices", None))
    return JobStatus(
        job_dir=job,
        output=state.output_path(job),
        model=state.model,
        provider=state.provider,
        round=state.round,
        articles=state.articles,
        done=done,
        parts=list(state.parts),
        cancelled=state.cancelled,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost=estimate_cost(prompt, completion, state.model, prices, batch=True),
        estimated_cost=estimate_cost(
            state.estimate.get("prompt_tokens"),
            state.estimate.get("completion_tokens"),
            state.model,
            prices,
            batch=True,
        ),
        finished=state.finished(job),
        failed=failed,
        currency=prices.currency,
    )


def write_atomic_json(path: Path, lines: Sequence[dict[str, Any]]) -> None:
    atomic_write(path, b"".join(json_line(line) for line in lines))
