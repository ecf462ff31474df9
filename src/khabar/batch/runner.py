"""The concurrent batch runner: many articles through one ``process`` callable into a JSONL store.

:func:`run_batch` knows nothing about models: it streams Articles from any
iterable, keeps at most ``concurrency`` calls to ``process`` in flight, writes
one record per article as it finishes, and never lets one article's failure
stop the others. :func:`summarize_paths` is the bulk job the CLI runs: it wires
:func:`~khabar.batch.inputs.iter_articles`, a :class:`~khabar.pipeline.Summarizer` (or,
with ``workers`` > 1, a :class:`~khabar.batch.workers.WorkerPool` of processes) and
a :class:`~khabar.batch.store.JsonlStore` into :func:`run_batch`.

Bookkeeping, per article, in input order:

* its id is done in the store (and ``resume``): skipped, not counted against ``limit``;
* it has an input ``error``: written as an error record, ``process`` is not called;
* its text (whitespace collapsed) was seen before: a duplicate; it waits for the
  first one's outcome and gets its own record with ``duplicate_of`` set;
* otherwise ``process`` runs; a :class:`~khabar.errors.KhabarError` becomes an
  error record with its reason, any other exception one with reason ``internal``;
* a record the store cannot serialize (NaN in a digest...) is replaced by an
  error record with reason ``internal``: one article lost to a bug, not the batch.

Reading runs in a daemon thread, so that an input that blocks (stdin nobody
writes to, a dead network mount) never keeps a cancelled run from ending.
:func:`summarize_paths` turns SIGINT and SIGTERM into a clean stop: the calls
in flight are cancelled, every record already written stays, the output is
closed, and ``KeyboardInterrupt`` is raised after a warning that says how much
was written and that a rerun resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from khabar.batch.inputs import Article, iter_articles
from khabar.batch.interrupt import Stop
from khabar.batch.stats import BatchEvent, BatchStats
from khabar.batch.store import JsonlStore, check_output_paths, escape_surrogates, make_record
from khabar.core.digest import Digest
from khabar.errors import InputError, KhabarError

if TYPE_CHECKING:
    from khabar.config import Settings

# BatchEvent and BatchStats live in khabar.batch.stats; imported from here as before.
__all__ = ["BatchEvent", "BatchStats", "run_batch", "summarize_paths"]

logger = logging.getLogger("khabar")

# Articles pulled from the input iterator per hop to the reading thread: enough
# to amortize the hop, few enough that memory stays flat on any input size.
_READ_AHEAD = 16
# Finished outcomes kept for duplicates met later. Older ones are forgotten (a
# later duplicate is then processed again, usually a cache hit) so that memory
# does not grow with the size of the batch.
_REMEMBERED_OUTCOMES = 4096


@dataclass(frozen=True)
class _Outcome:
    digest: Digest | None = None
    error: BaseException | None = None


@dataclass(frozen=True)
class _Job:
    article: Article
    outcome: asyncio.Future[_Outcome]
    duplicate_of: str | None = None


_END = object()


async def run_batch(
    articles: Iterable[Article],
    process: Callable[[Article], Awaitable[Digest]],
    *,
    store: JsonlStore | None = None,
    concurrency: int = 8,
    resume: bool = True,
    limit: int | None = None,
    on_event: Callable[[BatchEvent], None] | None = None,
) -> BatchStats:
    """Run ``process`` over ``articles``, ``concurrency`` at a time, writing a record for each.

    ``articles`` is consumed lazily. With a ``store`` and ``resume``, ids done
    in it are skipped. ``limit`` caps how many articles get a record in this
    run (skipped ones do not count). Cancelling the task cancels the calls in
    flight; every record already written stays a complete line.

    Example::

        >>> async def process(article: Article) -> Digest:         # doctest: +SKIP
        ...     return await summarizer.asummarize(article.text, article_id=article.id)
        >>> with JsonlStore("out.jsonl") as store:                  # doctest: +SKIP
        ...     stats = await run_batch(iter_articles(["articles/"]), process, store=store)
        >>> stats.succeeded, stats.failures_by_reason               # doctest: +SKIP
        (41, {'rate_limit': 1})
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be 0 or more, got {limit}")
    started = time.perf_counter()
    runner = _Runner(process, store, on_event)
    done = store.done_ids() if store is not None and resume else set()
    queue: asyncio.Queue[_Job | None] = asyncio.Queue(maxsize=concurrency)
    workers = [
        asyncio.create_task(runner.work(queue), name=f"khabar-worker-{i}")
        for i in range(concurrency)
    ]
    producer = asyncio.create_task(
        runner.produce(articles, queue, done, limit, concurrency), name="khabar-reader"
    )
    tasks = [producer, *workers]
    try:
        finished, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in finished:
            error = task.exception()
            if error is not None:
                raise error
        # Every first occurrence has an outcome now, so the waiting duplicates finish.
        await asyncio.gather(*runner.waiters)
    finally:
        pending = [t for t in (*tasks, *runner.waiters) if not t.done()]
        for task in pending:
            task.cancel()
        # Wait for them, so nothing touches the store after we return or re-raise.
        await asyncio.gather(*pending, return_exceptions=True)
        runner.stats.wall_s = round(time.perf_counter() - started, 3)
    return runner.stats


class _Runner:
    def __init__(
        self,
        process: Callable[[Article], Awaitable[Digest]],
        store: JsonlStore | None,
        on_event: Callable[[BatchEvent], None] | None,
    ) -> None:
        self.process = process
        self.store = store
        self.on_event = on_event
        self.stats = BatchStats()
        self.waiters: set[asyncio.Task[None]] = set()
        # text key -> id of the first article with that text (small; kept for the whole run)
        self.first_ids: dict[bytes, str] = {}
        # text key -> outcome future (pending ones always kept, finished ones LRU-bounded)
        self.outcomes: OrderedDict[bytes, asyncio.Future[_Outcome]] = OrderedDict()

    # --- reading --------------------------------------------------------------------
    async def produce(
        self,
        articles: Iterable[Article],
        queue: asyncio.Queue[_Job | None],
        done: set[str],
        limit: int | None,
        workers: int,
    ) -> None:
        # Reading runs in a thread: HTML extraction and slow disks must not
        # stall the event loop that is driving the requests in flight.
        reader = _Reader(iter(articles), asyncio.get_running_loop())
        written = 0
        try:
            while limit is None or written < limit:
                batch = await reader.take()
                for article in batch:
                    if article.id in done:
                        self.stats.total += 1
                        self.stats.skipped += 1
                        self._emit(BatchEvent("skipped", article.id))
                        continue
                    if limit is not None and written >= limit:
                        break
                    written += 1
                    self.stats.total += 1
                    await self._dispatch(article, queue)
                if len(batch) < _READ_AHEAD:
                    break
        finally:
            reader.stop()
        # Only on a normal end: on an error or a cancel, run_batch cancels the workers.
        for _ in range(workers):
            await queue.put(None)

    async def _dispatch(self, article: Article, queue: asyncio.Queue[_Job | None]) -> None:
        if article.error is not None or article.text is None:
            error = article.error or InputError("the article has no text", article_id=article.id)
            self._write(article, _Outcome(error=error), None, called=False)
            return
        key = _text_key(article.text)
        first = self.first_ids.get(key)
        loop = asyncio.get_running_loop()
        if first is None:
            self.first_ids[key] = article.id
            await queue.put(_Job(article, self._remember(key, loop.create_future())))
            return
        future = self.outcomes.get(key)
        if future is None:
            # Forgotten: process it again (the digest cache usually answers), still a duplicate.
            job = _Job(article, self._remember(key, loop.create_future()), duplicate_of=first)
            await queue.put(job)
        elif future.done():
            self.outcomes.move_to_end(key)
            self._write(article, future.result(), first, called=False)
        else:
            waiter = asyncio.create_task(self._await_first(article, future, first))
            self.waiters.add(waiter)
            waiter.add_done_callback(self._waiter_done)

    def _waiter_done(self, task: asyncio.Task[None]) -> None:
        # Keep failed waiters so that run_batch re-raises what went wrong.
        if not task.cancelled() and task.exception() is None:
            self.waiters.discard(task)

    def _remember(self, key: bytes, future: asyncio.Future[_Outcome]) -> asyncio.Future[_Outcome]:
        self.outcomes[key] = future
        self.outcomes.move_to_end(key)
        if len(self.outcomes) > _REMEMBERED_OUTCOMES:
            for old_key in list(self.outcomes):
                if len(self.outcomes) <= _REMEMBERED_OUTCOMES:
                    break
                if self.outcomes[old_key].done():
                    del self.outcomes[old_key]
        return future

    async def _await_first(
        self, article: Article, future: asyncio.Future[_Outcome], first: str
    ) -> None:
        outcome = await asyncio.shield(future)
        self._write(article, outcome, first, called=False)

    # --- processing ------------------------------------------------------------------
    async def work(self, queue: asyncio.Queue[_Job | None]) -> None:
        while True:
            job = await queue.get()
            if job is None:
                return
            outcome = await self._call(job.article)
            self._write(job.article, outcome, job.duplicate_of, called=True)
            if not job.outcome.done():
                job.outcome.set_result(outcome)

    async def _call(self, article: Article) -> _Outcome:
        self._emit(BatchEvent("started", article.id))
        try:
            digest = await self.process(article)
        except KhabarError as exc:
            if exc.article_id is None:
                exc.article_id = article.id
            logger.info("%s", exc)
            return _Outcome(error=exc)
        except Exception as exc:
            # A bug in process must cost one article, not the batch; the traceback goes to the log.
            logger.exception("%s: internal error while processing", article.id)
            return _Outcome(error=exc)
        if not isinstance(digest, Digest):
            error = TypeError(f"process returned {type(digest).__name__}, not a Digest")
            logger.error("%s: %s", article.id, error)
            return _Outcome(error=error)
        return _Outcome(digest=digest)

    # --- writing ---------------------------------------------------------------------
    def _write(
        self, article: Article, outcome: _Outcome, duplicate_of: str | None, *, called: bool
    ) -> None:
        record = make_record(
            article, digest=outcome.digest, error=outcome.error, duplicate_of=duplicate_of
        )
        if self.store is not None:
            try:
                self.store.append(record)
            except (TypeError, ValueError) as exc:
                # Not JSON (a NaN, an object): a bug upstream; this article gets an
                # error record instead, and the batch goes on.
                logger.error("%s: the record cannot be written as JSON: %s", article.id, exc)
                error = ValueError(f"the record cannot be written as JSON: {exc}")
                record = make_record(article, error=error, duplicate_of=duplicate_of)
                outcome = _Outcome(error=error)
                self.store.append(record)
        stats = self.stats
        digest = outcome.digest if record["status"] == "ok" else None
        cache_hit = False
        reason: str | None = None
        if digest is not None:
            stats.succeeded += 1
            if called:
                cache_hit = digest.provenance.cache_hit
                stats.count_answer(digest.provenance)
        else:
            stats.failed += 1
            reason = str(record["error"]["reason"])
            stats.failures_by_reason[reason] = stats.failures_by_reason.get(reason, 0) + 1
            draft = record.get("draft")
            if called and isinstance(draft, dict) and isinstance(draft.get("provenance"), dict):
                # A rejected digest (unsupported) was paid for all the same.
                stats.count_answer(draft["provenance"])
        if duplicate_of is not None:
            stats.duplicates += 1
        self._emit(
            BatchEvent(
                "finished",
                article.id,
                status=record["status"],
                cache_hit=cache_hit,
                reason=reason,
                duplicate_of=duplicate_of,
            )
        )

    def _emit(self, event: BatchEvent) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception:
            # A broken progress bar must not cost the user their batch.
            logger.exception("the batch progress callback failed")


class _Reader:
    """The input, read in one daemon thread, ``_READ_AHEAD`` articles a hop, at most two hops ahead.

    One thread for the whole run: a thread started for every hop cost about a
    millisecond each (the new thread has to win the GIL), 60 µs per article,
    more than half of a resume with nothing to do. A daemon thread (unlike
    asyncio.to_thread's executor, which asyncio.run joins on the way out), so
    that a read that never returns (stdin nobody writes to, a dead network
    mount) cannot keep a cancelled run (Ctrl-C) from ending.
    """

    def __init__(self, iterator: Iterator[Article], loop: asyncio.AbstractEventLoop) -> None:
        self._iterator = iterator
        self._loop = loop
        self._hops: asyncio.Queue[list[Article] | BaseException] = asyncio.Queue()
        # Hops read and not yet taken: memory stays flat on any input size.
        self._slots = threading.Semaphore(2)
        self._stopped = False
        threading.Thread(target=self._read, name="khabar-reader", daemon=True).start()

    def _read(self) -> None:
        while True:
            self._slots.acquire()
            if self._stopped:
                return
            try:
                hop: list[Article] | BaseException = _take(self._iterator, _READ_AHEAD)
            except BaseException as exc:  # handed to the awaiting task, which re-raises it
                hop = exc
            try:
                self._loop.call_soon_threadsafe(self._hops.put_nowait, hop)
            except RuntimeError:  # the loop is closed: nobody waits any more
                return
            if not isinstance(hop, list) or len(hop) < _READ_AHEAD:
                return

    async def take(self) -> list[Article]:
        """The next hop; fewer than ``_READ_AHEAD`` articles means the input ended."""
        hop = await self._hops.get()
        self._slots.release()
        if isinstance(hop, BaseException):
            raise hop
        return hop

    def stop(self) -> None:
        """Let the thread end (it does once a read under way returns, if one is)."""
        self._stopped = True
        self._slots.release()


def _take(iterator: Iterator[Article], n: int) -> list[Article]:
    batch: list[Article] = []
    for article in iterator:
        batch.append(article)
        if len(batch) >= n:
            break
    return batch


def _text_key(text: str) -> bytes:
    """Articles with this key are the same article: identical text up to whitespace."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).digest()


# --- the bulk job ---------------------------------------------------------------------


def summarize_paths(
    paths: Sequence[str | Path],
    *,
    output: str | Path = "-",
    settings: Settings | None = None,
    limit: int | None = None,
    resume: bool = True,
    refresh: bool = False,
    text_field: str = "text",
    id_field: str = "id",
    on_event: Callable[[BatchEvent], None] | None = None,
    on_start: Callable[[dict[str, Any]], None] | None = None,
    stdin: BinaryIO | None = None,
    reports: Sequence[str | Path] = (),
    workers: int = 1,
) -> BatchStats:
    """Summarize every article under ``paths`` into the JSONL ``output`` (``-``: stdout).

    What ``khabar summarize`` runs. A rerun on the same output resumes it.
    ``on_start`` gets ``{"model", "provider", "mode", "endpoint", "warnings",
    "total", "workers"}`` before the first article (``total`` is ``None``: the
    input is streamed, not counted; ``workers``: the processes that will
    summarize). Call it from synchronous code; in async code use
    :func:`run_batch` with a :class:`~khabar.pipeline.Summarizer`.

    ``workers`` > 1 summarizes in that many processes (see
    :mod:`khabar.batch.workers`): this process still reads the input, skips
    what is done, matches duplicates and writes every record, so the output,
    resume and the exit status are those of one process; ``settings.concurrency``
    stays the number of requests in flight in all. The embedded local model
    runs in one process whatever ``workers`` says.

    ``reports`` names the files the caller writes after the batch (a Markdown
    report): they and ``output`` are checked before any model is loaded, and a
    path that cannot be written raises :class:`~khabar.errors.ConfigError`.
    SIGINT or SIGTERM stops the run cleanly (see the module docstring) and
    raises ``KeyboardInterrupt``.

    No client is built and openai is not imported until an article needs the
    model: a resume with nothing left to do and a rerun served from the cache
    start in a fraction of a second.

    Example::

        >>> stats = khabar.summarize_paths(["articles/"], output="out.jsonl")  # doctest: +SKIP
        >>> stats.succeeded, stats.failed, stats.from_cache                    # doctest: +SKIP
        (40, 2, 0)
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    check_output_paths(output, reports)
    stop = Stop(on_event)

    async def run() -> BatchStats:
        # The pipeline is imported here: run_batch and the store stay free of the LLM stack.
        from khabar.config import Settings
        from khabar.pipeline import Summarizer

        resolved = settings if settings is not None else Settings()
        # Lock the output first: a second run on it fails before loading any model.
        with stop.installed(), JsonlStore(output) as store:
            async with Summarizer(resolved) as summarizer:
                # The plan, not the backend: building the client imports openai (a
                # second of CPU) and is left to the first article that needs the model.
                plan = summarizer.plan
                processes = workers
                if workers > 1 and plan.provider == "local":
                    logger.warning(
                        "--workers %d ignored: the embedded model runs in one process "
                        "(it already uses the free cores, and each worker would load a copy)",
                        workers,
                    )
                    processes = 1
                if on_start is not None:
                    on_start(
                        {
                            "model": plan.model,
                            "provider": plan.provider,
                            "mode": plan.mode,
                            "endpoint": plan.endpoint,
                            "warnings": list(plan.warnings),
                            "total": None,
                            "workers": processes,
                        }
                    )
                pool: Any = None
                if processes > 1:
                    from khabar.batch.workers import WorkerPool

                    pool = WorkerPool(processes, resolved)
                target: Any = pool if pool is not None else summarizer

                async def process(article: Article) -> Digest:
                    digest: Digest = await target.asummarize(
                        article.text or "",
                        article_id=article.id,
                        title=_prompt_title(article),
                        refresh=refresh,
                    )
                    return digest

                articles = iter_articles(
                    paths,
                    text_field=text_field,
                    id_field=id_field,
                    max_input_bytes=resolved.max_input_bytes,
                    stdin=stdin,
                )
                try:
                    async with contextlib.AsyncExitStack() as stack:
                        if pool is not None:
                            await stack.enter_async_context(pool)
                        return await run_batch(
                            articles,
                            process,
                            store=store,
                            concurrency=resolved.concurrency,
                            resume=resume,
                            limit=limit,
                            on_event=stop.on_event,
                        )
                finally:
                    # Release the input file a cancelled run may hold open (a no-op
                    # while the reading thread is still inside it).
                    close = getattr(articles, "close", None)
                    if close is not None:
                        with contextlib.suppress(ValueError):
                            close()

    try:
        return asyncio.run(run())
    except (asyncio.CancelledError, KeyboardInterrupt):
        if stop.signal is None:
            raise
        where = "stdout" if str(output) == "-" else str(output)
        records = f"{stop.written} record" + ("" if stop.written == 1 else "s")
        logger.warning(
            "stopped by %s after writing %s to %s, each one complete; "
            "run the same command again to resume from there",
            stop.signal,
            records,
            where,
        )
        raise KeyboardInterrupt(f"stopped by {stop.signal}") from None


def _prompt_title(article: Article) -> str | None:
    """A JSON record's title, for the prompt, unless the text already starts with it."""
    title = article.meta.get("title")
    if not isinstance(title, str) or not title.strip() or article.text is None:
        return None
    # A JSON title may hold lone surrogates ("\ud800"), which no request can encode.
    title = escape_surrogates(title.strip())
    return None if article.text.lstrip().startswith(title) else title
