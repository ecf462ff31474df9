"""``prepare_batch``: the request files of a batch job, and every record that needs no model.

It reads the inputs and does everything that needs no model: input errors,
cache hits and remembered failures become records in the output at once (as
``khabar summarize`` writes them); every other article becomes one request
line (articles with the same text share one, as the online runner's
duplicates share one call). Nothing is sent: :func:`~khabar.batch.api.job.submit`
does that, or vLLM's ``run_batch`` reads the same files.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from khabar.core.cost import APPROX_METHOD, PriceTable, load_prices
from khabar.core.digest import Digest
from khabar.errors import ConfigError, InvalidRequestError, KhabarError

from .conversation import prepare
from .estimate import ASSUMED_COMPLETION_TOKENS, Counter, Estimate
from .requests import BatchLimits, PartWriter, chat_url, json_line, request_line
from .state import MANIFEST_NAME, STATE_NAME, JobState, Part, job_lock, load_state, save_state

if TYPE_CHECKING:
    from khabar.config import Settings
    from khabar.pipeline import Summarizer

__all__ = ["PrepareResult", "aprepare_batch", "prepare_batch"]

# Files of an earlier, finished job in the same directory: replaced by a new prepare.
_JOB_FILES = ("requests-*", "carry-*", "output-*", "errors-*", "next-*", MANIFEST_NAME)


@dataclass
class PrepareResult:
    """What :func:`prepare_batch` did."""

    job_dir: Path
    output: Path
    requests: int = 0
    articles: int = 0  # articles waiting for an answer (sharing requests included)
    from_cache: int = 0
    errors: int = 0  # error records written now (input errors, remembered failures)
    skipped: int = 0  # done in the output already
    files: list[Path] = field(default_factory=list)
    estimate: Estimate | None = None

    def lines(self) -> list[str]:
        out = [
            f"{self.requests} requests for {self.articles} articles in {len(self.files)} "
            f"file(s) under {self.job_dir}",
            f"written now to {self.output}: {self.from_cache} from the cache, {self.errors} "
            f"errors; {self.skipped} already done",
        ]
        if self.estimate is not None:
            out += self.estimate.lines()[2:]
        return out


async def aprepare_batch(
    paths: Sequence[str | Path],
    job_dir: str | Path,
    settings: Settings | None = None,
    *,
    output: str | Path | None = None,
    limit: int | None = None,
    resume: bool = True,
    refresh: bool = False,
    text_field: str = "text",
    id_field: str = "id",
    limits: BatchLimits | None = None,
    prices: PriceTable | None = None,
    stdin: BinaryIO | None = None,
) -> PrepareResult:
    """Write the request files of a batch job for the articles under ``paths``.

    ``job_dir`` is the job's directory (created); ``output`` the JSONL output
    (default ``job_dir/digests.jsonl``), where records land as for
    ``khabar summarize -o``: articles done there are skipped (``resume``).
    ``limits`` splits the requests into files the provider accepts. The same
    files run unchanged under vLLM's ``run_batch``.
    """
    from khabar.batch.store import JsonlStore, check_output_paths
    from khabar.config import Settings
    from khabar.pipeline import Summarizer

    job = Path(job_dir)
    out = Path(output) if output is not None else job / "digests.jsonl"
    check_output_paths(out)
    resolved = settings or Settings()
    table = prices or load_prices(getattr(resolved, "prices", None))

    async with Summarizer(resolved) as summarizer:
        with job_lock(job), JsonlStore(out) as store:
            _refuse_unfinished(job)
            _clear(job)
            return _prepare(
                summarizer,
                paths,
                job,
                store,
                limits or BatchLimits.for_provider(summarizer.plan.provider),
                table,
                limit=limit,
                resume=resume,
                refresh=refresh,
                text_field=text_field,
                id_field=id_field,
                stdin=stdin,
            )


def prepare_batch(
    paths: Sequence[str | Path],
    job_dir: str | Path,
    settings: Settings | None = None,
    **options: Any,
) -> PrepareResult:
    """Synchronous :func:`aprepare_batch` (same options)."""
    from .job import run_sync

    return run_sync(aprepare_batch(paths, job_dir, settings, **options), "prepare_batch")


def _refuse_unfinished(job: Path) -> None:
    if not (job / STATE_NAME).exists():
        return
    state = load_state(job)
    if not state.finished(job):
        raise ConfigError(
            f"{job} holds a batch job that is not finished (round {state.round})",
            hint=f"Collect it (`khabar batch collect {job}`), or prepare in another directory.",
        )


def _clear(job: Path) -> None:
    for pattern in _JOB_FILES:
        for path in job.glob(pattern):
            path.unlink()
    (job / STATE_NAME).unlink(missing_ok=True)


def _text_key(text: str) -> bytes:
    # The online runner's duplicate key (runner._text_key): same text up to whitespace.
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).digest()


def _prepare(
    summarizer: Summarizer,
    paths: Sequence[str | Path],
    job: Path,
    store: Any,
    limits: BatchLimits,
    prices: PriceTable,
    *,
    limit: int | None,
    resume: bool,
    refresh: bool,
    text_field: str,
    id_field: str,
    stdin: BinaryIO | None,
) -> PrepareResult:
    from khabar.batch.inputs import iter_articles
    from khabar.batch.runner import _prompt_title
    from khabar.batch.store import make_record

    plan = summarizer.plan
    settings = summarizer.settings
    # Opened (and its torn tail cut) by the caller: every record from here on is this job's.
    offset = Path(store.path).stat().st_size
    done = store.done_ids() if resume else set()
    url = chat_url(plan.provider)
    result = PrepareResult(job, Path(store.path).absolute())
    estimate = Estimate(model=plan.model, provider=plan.provider, method=APPROX_METHOD, batch=True)
    counter = Counter(summarizer, count=None)
    writer = PartWriter(job, "requests-r0", limits)
    # text key -> (first id, custom_id or None, immediate outcome or None)
    firsts: dict[bytes, tuple[str, str | None, dict[str, Any] | None]] = {}
    sent: set[str] = set()
    handled = 0
    manifest_tmp = job / (MANIFEST_NAME + ".tmp")
    try:
        with open(manifest_tmp, "wb") as manifest:
            for article in iter_articles(
                paths,
                text_field=text_field,
                id_field=id_field,
                max_input_bytes=settings.max_input_bytes,
                stdin=stdin,
            ):
                if article.id in done:
                    result.skipped += 1
                    continue
                if limit is not None and handled >= limit:
                    break
                handled += 1
                if article.error is not None or article.text is None:
                    store.append(make_record(article))
                    result.errors += 1
                    continue
                key = _text_key(article.text)
                first = firsts.get(key)
                if first is not None:
                    first_id, custom_id, outcome = first
                    if custom_id is None:  # the first one ended at once: so does its duplicate
                        ended = outcome or {}
                        store.append(
                            make_record(
                                article,
                                digest=ended.get("digest"),
                                error=ended.get("error"),
                                duplicate_of=first_id,
                            )
                        )
                        result.from_cache += int("digest" in ended)
                        result.errors += int("digest" not in ended)
                    else:
                        manifest.write(_entry(article, custom_id, None, first_id))
                        result.articles += 1
                    continue
                title = _prompt_title(article)
                try:
                    prepared = prepare(
                        summarizer,
                        article.text,
                        article_id=article.id,
                        title=title,
                        refresh=refresh,
                    )
                except KhabarError as exc:
                    if exc.article_id is None:
                        exc.article_id = article.id
                    store.append(make_record(article, error=exc))
                    firsts[key] = (article.id, None, {"error": exc})
                    result.errors += 1
                    continue
                if isinstance(prepared, Digest):
                    store.append(make_record(article, digest=prepared))
                    firsts[key] = (article.id, None, {"digest": prepared})
                    result.from_cache += 1
                    continue
                firsts[key] = (article.id, prepared.key, None)
                if prepared.key not in sent:
                    body = counter.body(prepared.messages)
                    line = request_line(prepared.key, url, body)
                    if not writer.fits(line):
                        error = InvalidRequestError(
                            f"the request is {len(line):,} bytes, more than a whole batch file "
                            f"holds ({limits.max_bytes:,})",
                            article_id=article.id,
                            hint="Lower KHABAR_MAX_ARTICLE_CHARS, or summarize it online.",
                        )
                        store.append(make_record(article, error=error))
                        firsts[key] = (article.id, None, {"error": error})
                        result.errors += 1
                        continue
                    writer.add(line)
                    sent.add(prepared.key)
                    counter.add(estimate, body)
                manifest.write(_entry(article, prepared.key, title, None))
                result.articles += 1
    except BaseException:
        writer.abort()
        raise
    parts = writer.close()
    os.replace(manifest_tmp, job / MANIFEST_NAME)
    estimate.articles = result.articles
    estimate.price(prices)
    state = JobState(
        job_id=uuid.uuid4().hex,
        # Relative, so that the job directory and its output can move to another machine together.
        output=os.path.relpath(result.output, job.absolute()),
        offset=offset,
        model=plan.model,
        provider=plan.provider,
        endpoint=plan.endpoint,
        mode=plan.mode,
        url=url,
        max_requests=limits.max_requests,
        max_bytes=limits.max_bytes,
        articles=result.articles,
        parts=[
            Part(
                name=name[len("requests-") : -len(".jsonl")],
                round=0,
                file=name,
                requests=n,
                bytes=b,
            )
            for name, n, b in parts
        ],
        estimate={
            "prompt_tokens": estimate.prompt_tokens,
            "completion_tokens": estimate.completion_tokens,
            "completion_assumed": ASSUMED_COMPLETION_TOKENS,
            "method": estimate.method,
            "cost": estimate.cost,
            "currency": estimate.currency,
        },
    )
    save_state(job, state)
    result.requests = sum(n for _, n, _ in parts)
    result.files = [job / name for name, _, _ in parts]
    result.estimate = estimate
    return result


def _entry(article: Any, custom_id: str, title: str | None, duplicate_of: str | None) -> bytes:
    """One manifest line: what collect needs to rebuild the article and write its record."""
    entry: dict[str, Any] = {
        "custom_id": custom_id,
        "id": article.id,
        "source": article.source,
        "warnings": list(article.warnings),
        "title": title,
        "text": article.text,
    }
    if article.source_bytes is not None:
        entry["source_b64"] = base64.b64encode(article.source_bytes).decode("ascii")
    if duplicate_of is not None:
        entry["duplicate_of"] = duplicate_of
    return json_line(entry)
