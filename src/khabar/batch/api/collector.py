"""``collect``: download what the batches answered, verify it, write the records, send the follow-ups.

A job advances in rounds. Round 0 holds one request per article; every
answer is verified exactly as online (:func:`~khabar.batch.api.conversation.advance`).
An answer that ends the article (a Digest, or an error) becomes its record
in the output and its entry in the cache. An answer that needs another call
(instructor's structural re-ask, a re-ask with the verification problems, or
the same request again because the provider did not answer it: an expired
or failed batch, a 5xx or 429 line in the error file) becomes a request of
the next round, which is submitted once every part of this round is in.

Killed at any point, collect picks up where it was, and no record is written
twice: the output itself is the journal (an article with a record after the
job's offset is finished; :func:`~khabar.batch.api.job.written_ids`), every
other file is written whole or not at all, and everything else is computed
again from them. Run it as often as you like: it is idempotent.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from khabar.errors import ConfigError, InvalidRequestError, KhabarError, TransportError
from khabar.llm.errors import map_api_error

from .conversation import (
    Carry,
    Final,
    Prepared,
    advance,
    fail,
    prepare,
    request_body_for,
    resend,
)
from .job import (
    JobStatus,
    check_settings,
    job_status,
    submit_parts,
    update_part,
    write_atomic_json,
    written_ids,
)
from .requests import BatchLimits, PartWriter, iter_jsonl, request_line
from .state import MANIFEST_NAME, JobState, JsonlIndex, Part, job_lock, load_state, save_state

if TYPE_CHECKING:
    import httpx2

    from khabar.batch.store import JsonlStore
    from khabar.config import Settings
    from khabar.pipeline import Summarizer

__all__ = ["acollect", "collect"]

logger = logging.getLogger("khabar")

# HTTP statuses of a failed line that another submission may cure (the SDK's retry rules).
_RETRYABLE = frozenset({408, 409, 429})
# A batch refused because the organization's queue is full (OpenAI: "Enqueued token limit
# reached"); sent again as it is, at most this many times per job.
_QUOTA_CODE = "token_limit_exceeded"
MAX_QUOTA_FAILURES = 5


async def acollect(
    job_dir: str | Path,
    settings: Settings | None = None,
    *,
    wait: bool = False,
    from_file: str | Path | Sequence[str | Path] = (),
    poll_interval: float = 30.0,
    max_poll_interval: float = 600.0,
    timeout: float | None = None,
    max_resends: int | None = None,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> JobStatus:
    """Collect a batch job (``khabar batch collect``): records for every answer that is in.

    ``wait`` follows the job until it is finished (polling every
    ``poll_interval`` seconds, growing to ``max_poll_interval``; ``timeout``
    stops waiting, the job goes on), submitting each follow-up round.
    ``from_file`` reads the answers of the current round from OpenAI-format
    output files instead of the provider (e.g. vLLM's ``run_batch -o``); the
    follow-up round, if any, is then written for you to run the same way.
    A request the provider did not answer (a 5xx or 429 line, an expired or
    failed batch) is sent again at most ``max_resends`` times (default
    ``KHABAR_MAX_TRANSPORT_RETRIES``, the online path's retry budget), then
    recorded as a ``transport`` error.
    """
    from khabar.config import Settings

    files = [from_file] if isinstance(from_file, (str, Path)) else list(from_file)
    return await _collect(
        Path(job_dir),
        settings or Settings(),
        wait=wait,
        files=[Path(f) for f in files],
        poll_interval=poll_interval,
        max_poll_interval=max_poll_interval,
        timeout=timeout,
        max_resends=max_resends,
        transport=transport,
    )


def collect(job_dir: str | Path, settings: Settings | None = None, **options: Any) -> JobStatus:
    """Synchronous :func:`acollect` (same options)."""
    from .job import run_sync

    return run_sync(acollect(job_dir, settings, **options), "collect")


async def _collect(
    job: Path,
    settings: Settings,
    *,
    wait: bool,
    files: list[Path],
    poll_interval: float,
    max_poll_interval: float,
    timeout: float | None,
    max_resends: int | None,
    transport: httpx2.AsyncBaseTransport | None,
) -> JobStatus:
    from khabar.batch.store import JsonlStore
    from khabar.pipeline import Summarizer

    from .provider import BatchEndpoint

    started = time.monotonic()
    interval = poll_interval
    with job_lock(job):
        state = load_state(job)
        async with Summarizer(settings, transport=transport) as summarizer:
            check_settings(summarizer, state, job)
            with JsonlStore(state.output_path(job)) as store:
                resends = settings.max_transport_retries if max_resends is None else max_resends
                collector = _Collector(job, state, summarizer, store, resends)
                if files:
                    collector.answer_from(files)
                endpoint: BatchEndpoint | None = None
                while True:
                    unsent = [p for p in state.current if p.status == "prepared" and p.round > 0]
                    if unsent and not files and not state.cancelled:
                        # Follow-ups that a killed collect wrote but did not send (round 0 is
                        # sent by `submit`, so that collect never starts a job on its own).
                        endpoint = endpoint or BatchEndpoint(summarizer)
                        await submit_parts(endpoint, job, state)
                    if not files and any(p.batch_id and not p.processed for p in state.current):
                        endpoint = endpoint or BatchEndpoint(summarizer)
                        await collector.refresh(endpoint)
                    collector.process_ready()
                    if collector.next_round():
                        if not files and not state.cancelled:
                            endpoint = endpoint or BatchEndpoint(summarizer)
                            await submit_parts(endpoint, job, state)
                        continue
                    running = [p for p in state.current if p.batch_id and not p.terminal]
                    if state.finished(job) or not wait or not running:
                        break
                    if timeout is not None and time.monotonic() - started >= timeout:
                        logger.warning("stopped waiting after %gs; the job goes on", timeout)
                        break
                    await asyncio.sleep(interval)
                    interval = min(interval * 1.5, max_poll_interval)
            return job_status(job, state, settings)


class _Answers:
    """Answer lines by ``custom_id`` across output and error files (a 200 line wins)."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.indexes = [JsonlIndex(p, "custom_id") for p in paths if p.exists()]

    def get(self, custom_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = None
        for index in self.indexes:
            for line in index.get(custom_id):
                response = line.get("response")
                if isinstance(response, dict) and response.get("status_code") == 200:
                    return line
                found = line
        return found

    def __contains__(self, custom_id: str) -> bool:
        return any(custom_id in index for index in self.indexes)


class _Collector:
    def __init__(
        self,
        job: Path,
        state: JobState,
        summarizer: Summarizer,
        store: JsonlStore,
        max_resends: int,
    ) -> None:
        self.job = job
        self.state = state
        self.summarizer = summarizer
        self.store = store
        self.max_resends = max_resends
        self.manifest = JsonlIndex(job / MANIFEST_NAME, "custom_id")
        self.written = written_ids(state.output_path(job), state.offset)
        self.budget = summarizer.effective_max_reasks()

    # --- the provider ------------------------------------------------------------------
    async def refresh(self, endpoint: Any) -> None:
        """Ask after every running batch of this round; download the files of finished ones."""
        for part in self.state.current:
            if part.batch_id and not part.terminal:
                update_part(part, await endpoint.retrieve(part.batch_id))
                save_state(self.job, self.state)
        for part in self.state.current:
            if not part.terminal or part.processed:
                continue
            for file_id, prefix in (
                (part.output_file_id, "output"),
                (part.error_file_id, "errors"),
            ):
                dest = self.job / f"{prefix}-{part.name}.jsonl"
                if file_id and not dest.exists():
                    await endpoint.download(file_id, dest)

    def answer_from(self, files: Sequence[Path]) -> None:
        """Take the current round's answers from output files (``--from-file``)."""
        missing = [f for f in files if not f.is_file()]
        if missing:
            raise ConfigError(f"no such output file: {missing[0]}")
        todo = [p for p in self.state.current if not p.processed]
        if not todo:
            logger.warning("round %d of %s is collected already", self.state.round, self.job)
            return
        answers = _Answers(files)
        ids = [r["custom_id"] for p in todo for r in iter_jsonl(self.job / p.file)]
        if not any(custom_id in answers for custom_id in ids):
            names = ", ".join(p.file for p in todo)
            raise ConfigError(
                f"{', '.join(map(str, files))} answer none of the {len(ids)} requests of round "
                f"{self.state.round} ({names})",
                hint="Give the output of running exactly these request files.",
            )
        for part in todo:
            part.status = "answered"
            self._process(part, answers)

    # --- answers -> records and follow-ups ----------------------------------------------
    def process_ready(self) -> None:
        for part in self.state.current:
            if part.terminal and not part.processed:
                names = (f"output-{part.name}.jsonl", f"errors-{part.name}.jsonl")
                self._process(part, _Answers([self.job / n for n in names]))

    def _process(self, part: Part, answers: _Answers) -> None:
        if part.status == "failed" and any(e.startswith(_QUOTA_CODE) for e in part.errors):
            self.state.quota_failures += 1
        carries = JsonlIndex(self.job / f"carry-r{part.round}.jsonl", "custom_id")
        follow: list[dict[str, Any]] = []
        prompt = completion = 0
        for request in iter_jsonl(self.job / part.file):
            custom_id = str(request["custom_id"])
            entries = self.manifest.get(custom_id)
            if not entries:
                raise ConfigError(
                    f"{self.job}: {custom_id} is in {part.file} but not in the manifest"
                )
            answer = answers.get(custom_id)
            p, c = _usage(answer)
            prompt, completion = prompt + p, completion + c
            if all(e["id"] in self.written for e in entries):
                continue  # finished by an earlier, interrupted collect
            prepared = self._prepared(entries[0], custom_id)
            kept = carries.get(custom_id)
            carry = (
                Carry.from_json(kept[-1]) if kept else Carry.start(custom_id, prepared, self.budget)
            )
            outcome = self._answer(part, carry, prepared, answer, str(entries[0]["id"]))
            if isinstance(outcome, Final):
                self._write(entries, outcome)
            else:
                follow.append(carry.to_json())
        write_atomic_json(self.job / f"next-{part.name}.jsonl", follow)
        part.processed = True
        part.prompt_tokens, part.completion_tokens = prompt, completion
        save_state(self.job, self.state)

    def _prepared(self, entry: dict[str, Any], custom_id: str) -> Prepared:
        prepared = prepare(
            self.summarizer,
            str(entry["text"]),
            article_id=str(entry["id"]),
            title=entry.get("title"),
            refresh=True,  # the cache was asked at prepare time; this only rebuilds the prompt
        )
        if not isinstance(prepared, Prepared) or prepared.key != custom_id:
            raise ConfigError(
                f"the settings or prompts differ from those {self.job} was prepared with "
                f"(article {entry['id']} no longer has the same request)",
                hint="Collect with the settings the job was prepared with (KHABAR_* and prompts).",
            )
        return prepared

    def _answer(
        self,
        part: Part,
        carry: Carry,
        prepared: Prepared,
        line: dict[str, Any] | None,
        article_id: str,
    ) -> Final | list[dict[str, Any]]:
        cancelled = self.state.cancelled and part.status == "cancelled"
        if line is None:
            why = f"the batch ended {part.status}" + (f": {part.errors[0]}" if part.errors else "")
            if cancelled:  # the user's cancel: sent again by the next submit, nothing counted
                return carry.request
            if self._quota(part):
                # The organization's enqueued-token limit: no fault of this request.
                carry.resends += 1
                return carry.request
            return self._again(carry, why, article_id, counted=True)
        response, error = line.get("response"), line.get("error")
        if isinstance(response, dict) and response.get("status_code") == 200:
            if part.created_at and part.ended_at:
                carry.latency_s += max(0, part.ended_at - part.created_at)
            try:
                return advance(
                    self.summarizer,
                    prepared,
                    carry,
                    dict(response.get("body") or {}),
                    article_id=article_id,
                )
            except (
                ValueError
            ) as exc:  # not a chat completion: a broken line, as a truncated body online
                return self._again(carry, str(exc)[:200], article_id, counted=True)
        if isinstance(response, dict):
            from .provider import make_status_error

            status = int(response.get("status_code") or 0)
            body = response.get("body") if isinstance(response.get("body"), dict) else {}
            # The URL the online request would have had: error messages name its host.
            url = (self.state.endpoint or "").rstrip("/") + "/chat/completions"
            failure = make_status_error(status, body, url)
            if status in _RETRYABLE or status >= 500:
                return self._again(carry, f"HTTP {status}: {failure}", article_id, counted=True)
            return fail(self.summarizer, prepared, map_api_error(failure, article_id))
        code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        counted = not (cancelled and code == "batch_cancelled")
        return self._again(carry, f"{code}: {message}", article_id, counted=counted)

    def _quota(self, part: Part) -> bool:
        """Whether ``part`` failed on the provider's enqueued-token limit, within the job's patience.

        Such a batch is sent again without counting against its requests'
        resends, up to :data:`MAX_QUOTA_FAILURES` times in a job; after that
        it counts as any failure, so that a limit that never clears ends the
        job with errors that say so instead of looping.
        """
        return (
            part.status == "failed"
            and any(e.startswith(_QUOTA_CODE) for e in part.errors)
            and self.state.quota_failures <= MAX_QUOTA_FAILURES
        )

    def _again(
        self, carry: Carry, why: str, article_id: str, *, counted: bool
    ) -> Final | list[dict[str, Any]]:
        """The same request in the next round, or a transport error once resends are spent."""
        if not counted:
            return carry.request
        if carry.sends >= self.max_resends:
            return Final(
                error=TransportError(
                    f"the batch API did not answer this request in {carry.sends + 1} "
                    f"submissions; the last time: {why}",
                    article_id=article_id,
                )
            )
        return resend(carry)

    def _write(self, entries: list[dict[str, Any]], final: Final) -> None:
        from khabar.batch.inputs import Article
        from khabar.batch.store import make_record

        for entry in entries:
            article_id = str(entry["id"])
            if article_id in self.written:
                continue
            raw = entry.get("source_b64")
            article = Article(
                id=article_id,
                source=str(entry["source"]),
                text=None,
                warnings=list(entry.get("warnings") or []),
                source_bytes=base64.b64decode(raw) if raw else None,
            )
            duplicate_of = entry.get("duplicate_of")
            record = make_record(
                article, digest=final.digest, error=final.error, duplicate_of=duplicate_of
            )
            try:
                self.store.append(record)
            except (TypeError, ValueError) as exc:
                # As the online runner: a record that is not JSON costs one article, not the job.
                logger.error("%s: the record cannot be written as JSON: %s", article_id, exc)
                error = ValueError(f"the record cannot be written as JSON: {exc}")
                record = make_record(article, error=error, duplicate_of=duplicate_of)
                self.store.append(record)
            self.written[article_id] = str(record["status"])

    # --- rounds -------------------------------------------------------------------------
    def next_round(self) -> bool:
        """Turn this round's follow-ups into the next round's request files; False when none."""
        state = self.state
        parts = state.current
        if not parts or not all(p.processed for p in parts):
            return False
        follow = [c for p in parts for c in iter_jsonl(self.job / f"next-{p.name}.jsonl")]
        if not follow:
            return False
        nxt = state.round + 1
        limits = BatchLimits(state.max_requests, state.max_bytes)
        writer = PartWriter(self.job, f"requests-r{nxt}", limits)
        carries: list[dict[str, Any]] = []
        try:
            for data in follow:
                carry = Carry.from_json(data)
                body = request_body_for(self.summarizer, carry)
                line = request_line(carry.custom_id, state.url, body)
                if writer.fits(line):
                    writer.add(line)
                    carries.append(carry.to_json())
                    continue
                entries = self.manifest.get(carry.custom_id)
                error: KhabarError = InvalidRequestError(
                    f"the follow-up request is {len(line):,} bytes, more than a batch file "
                    f"holds ({limits.max_bytes:,})",
                    article_id=str(entries[0]["id"]),
                    hint="Lower KHABAR_MAX_ARTICLE_CHARS or KHABAR_MAX_REASKS.",
                )
                self._write(entries, Final(error=error))
        except BaseException:
            writer.abort()
            raise
        written = writer.close()
        write_atomic_json(self.job / f"carry-r{nxt}.jsonl", carries)
        state.parts += [
            Part(
                name=name[len("requests-") : -len(".jsonl")],
                round=nxt,
                file=name,
                requests=n,
                bytes=b,
            )
            for name, n, b in written
        ]
        state.round = nxt
        save_state(self.job, state)
        return bool(written)


def _usage(line: dict[str, Any] | None) -> tuple[int, int]:
    """Tokens an answer line reports (0, 0 for a failed one): what the provider charged."""
    response = line.get("response") if line else None
    if not isinstance(response, dict) or response.get("status_code") != 200:
        return 0, 0
    body = response.get("body")
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return 0, 0
    return int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
