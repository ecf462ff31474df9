"""The concurrent batch runner: many articles through one ``process`` callable into a JSONL store.

:func:`run_batch` knows nothing about models: it streams Articles from any
iterable, keeps at most ``concurrency`` calls to ``process`` in flight, writes
one record per article as it finishes, and never lets one article's failure
stop the others. :func:`summarize_paths` is the bulk job the CLI runs: it wires
:func:`~khabar.batch.inputs.iter_articles`, a :class:`~khabar.pipeline.Summarizer` and
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
import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from khabar.batch.inputs import Article, iter_articles
from khabar.batch.store import JsonlStore, check_output_paths, escape_surrogates, make_record
from khabar.core.digest import Digest
from khabar.errors import InputError, KhabarError

if TYPE_CHECKING:
    from khabar.config import Settings

__all__ = ["BatchEvent", "BatchStats", "run_batch", "summarize_paths"]

logger = logging.getLogger("khabar")

# Articles pulled from the input iterator per hop to the reading thread: enough
# to amortize the hop, few enough that memory stays flat on any input size.
_READ_AHEAD = 16
# Finished outcomes kept for duplicates met later. Older ones are forgotten (a
# later duplicate is then processed again, usually a cache hit) so that memory
# does not grow with the size of the batch.
_REMEMBERED_OUTCOMES = 4096


@dataclass
class BatchStats:
    """What a batch did. ``succeeded + failed + skipped == total``.

    Example::

        >>> stats = BatchStats(total=3, succeeded=2, failed=1, failures_by_reason={"empty": 1})
        >>> stats.failed, stats.failures_by_reason
        (1, {'empty': 1})
    """

    total: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    from_cache: int = 0
    duplicates: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    transport_retries: int = 0
    wall_s: float = 0.0
    failures_by_reason: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchEvent:
    """Progress of one article, for progress bars.

    ``kind`` is ``started`` (``process`` was called), ``finished`` (its record
    was written; ``status``, ``cache_hit``, ``reason`` and ``duplicate_of`` say
    how) or ``skipped`` (already done in the output).

    Example::

        >>> def on_event(event: BatchEvent) -> None:
        ...     if event.kind == "finished" and event.status == "error":
        ...         print(event.article_id, event.reason)
        >>> on_event(BatchEvent("finished", "a.txt", status="error", reason="empty"))
        a.txt empty
    """

    kind: Literal["started", "finished", "skipped"]
    article_id: str
    status: Literal["ok", "error"] | None = None
    cache_hit: bool = False
    reason: str | None = None
    duplicate_of: str | None = None


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
        iterator = iter(articles)
        written = 0
        while limit is None or written < limit:
            # Reading runs in a thread: HTML extraction and slow disks must not
            # stall the event loop that is driving the requests in flight.
            batch = await _take_in_thread(iterator, _READ_AHEAD)
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
                prov = digest.provenance
                cache_hit = prov.cache_hit
                stats.from_cache += int(cache_hit)
                stats.prompt_tokens += prov.prompt_tokens or 0
                stats.completion_tokens += prov.completion_tokens or 0
                stats.transport_retries += prov.transport_retries
        else:
            stats.failed += 1
            reason = str(record["error"]["reason"])
            stats.failures_by_reason[reason] = stats.failures_by_reason.get(reason, 0) + 1
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


async def _take_in_thread(iterator: Iterator[Article], n: int) -> list[Article]:
    """``_take`` in a daemon thread: unlike asyncio.to_thread's executor, which
    asyncio.run joins on the way out, a read that never returns cannot keep a
    cancelled run (Ctrl-C) from ending."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[list[Article]] = loop.create_future()

    def settle(result: list[Article] | None, error: BaseException | None) -> None:
        if future.done():  # cancelled while the thread was reading
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result or [])

    def read() -> None:
        result: list[Article] | None = None
        error: BaseException | None = None
        try:
            result = _take(iterator, n)
        except BaseException as exc:  # handed to the awaiting task, which re-raises it
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=read, name="khabar-reader", daemon=True).start()
    return await future


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
) -> BatchStats:
    """Summarize every article under ``paths`` into the JSONL ``output`` (``-``: stdout).

    What ``khabar summarize`` runs. A rerun on the same output resumes it.
    ``on_start`` gets ``{"model", "provider", "mode", "endpoint", "warnings",
    "total"}`` once the model is ready (``total`` is ``None``: the input is
    streamed, not counted). Call it from synchronous code; in async code use
    :func:`run_batch` with a :class:`~khabar.pipeline.Summarizer`.

    ``reports`` names the files the caller writes after the batch (a Markdown
    report): they and ``output`` are checked before any model is loaded, and a
    path that cannot be written raises :class:`~khabar.errors.ConfigError`.
    SIGINT or SIGTERM stops the run cleanly (see the module docstring) and
    raises ``KeyboardInterrupt``.

    Example::

        >>> stats = khabar.summarize_paths(["articles/"], output="out.jsonl")  # doctest: +SKIP
        >>> stats.succeeded, stats.failed, stats.from_cache                    # doctest: +SKIP
        (40, 2, 0)
    """
    check_output_paths(output, reports)
    stop = _Stop(on_event)

    async def run() -> BatchStats:
        # The pipeline is imported here: run_batch and the store stay free of the LLM stack.
        from khabar.config import Settings
        from khabar.pipeline import Summarizer

        resolved = settings if settings is not None else Settings()
        # Lock the output first: a second run on it fails before loading any model.
        with stop.installed(), JsonlStore(output) as store:
            async with Summarizer(resolved) as summarizer:
                backend = summarizer.backend
                if on_start is not None:
                    on_start(
                        {
                            "model": backend.model,
                            "provider": backend.provider,
                            "mode": backend.mode,
                            "endpoint": backend.endpoint,
                            "warnings": list(backend.warnings),
                            "total": None,
                        }
                    )

                async def process(article: Article) -> Digest:
                    return await summarizer.asummarize(
                        article.text or "",
                        article_id=article.id,
                        title=_prompt_title(article),
                        refresh=refresh,
                    )

                articles = iter_articles(
                    paths,
                    text_field=text_field,
                    id_field=id_field,
                    max_input_bytes=resolved.max_input_bytes,
                    stdin=stdin,
                )
                try:
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


class _Stop:
    """SIGINT and SIGTERM during a run: cancel it once, cleanly; a second signal acts as usual.

    Cancelling the run's task lets every layer close what it holds (calls in
    flight, the HTTP client, the output file) instead of dying mid-write.
    """

    def __init__(self, on_event: Callable[[BatchEvent], None] | None) -> None:
        self.signal: str | None = None
        self.written = 0
        self._on_event = on_event
        self._installed: list[tuple[signal.Signals, Any]] = []

    def on_event(self, event: BatchEvent) -> None:
        if event.kind == "finished":
            self.written += 1
        if self._on_event is not None:
            self._on_event(event)

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        loop, task = asyncio.get_running_loop(), asyncio.current_task()
        if task is not None and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous = signal.getsignal(sig)
                # Leave alone a signal that is ignored (nohup) or that someone else handles.
                if previous in (signal.SIG_IGN, None) or (
                    sig == signal.SIGTERM and previous is not signal.SIG_DFL
                ):
                    continue
                try:
                    loop.add_signal_handler(sig, self._stop, sig, task)
                except (NotImplementedError, RuntimeError, ValueError):  # Windows, no loop support
                    continue
                self._installed.append((sig, previous))
        try:
            yield
        finally:
            self._restore()

    def _stop(self, sig: signal.Signals, task: asyncio.Task[Any]) -> None:
        self.signal = sig.name
        # The next signal is handled as if we were not here: a second Ctrl-C or
        # SIGTERM stops a run whose clean-up hangs.
        self._restore()
        task.cancel()

    def _restore(self) -> None:
        loop = asyncio.get_running_loop()
        for sig, previous in self._installed:
            loop.remove_signal_handler(sig)
            signal.signal(sig, previous)
        self._installed.clear()


def _prompt_title(article: Article) -> str | None:
    """A JSON record's title, for the prompt, unless the text already starts with it."""
    title = article.meta.get("title")
    if not isinstance(title, str) or not title.strip() or article.text is None:
        return None
    # A JSON title may hold lone surrogates ("\ud800"), which no request can encode.
    title = escape_surrogates(title.strip())
    return None if article.text.lstrip().startswith(title) else title
