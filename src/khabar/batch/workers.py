"""Several processes for one batch: workers summarize, the parent reads, dedupes and writes.

One process drives at most one core: at high concurrency against a fast
endpoint the client's own CPU (openai's request building, JSON, instructor,
pydantic, grounding: about 12 ms per article) is the limit. A
:class:`WorkerPool` spreads the articles over ``size`` processes, each with its
own event loop, HTTP client and :class:`~khabar.pipeline.Summarizer`.

Only the summarizing moves. The parent keeps everything that makes a batch
safe: it reads the input, skips what the output says is done, matches
duplicates (one call for all copies, whichever worker makes it), and writes
every record through its one :class:`~khabar.batch.store.JsonlStore`, under
its file lock. A worker gets ``(text, id, title)`` and sends back a Digest or
the exception, so the records, resume, the torn-line repair and the exit status
are those of a one-process run.

What crosses between processes:

* a 429 with Retry-After seen by one worker closes the rate gate of all: the
  worker's gate tells the parent its not-before time (wall clock: monotonic
  clocks are not comparable between processes in general), and the parent
  passes it on to every other worker, and to workers started later;
* log records: a worker forwards what passes the parent's levels, and the
  parent's handlers print them (``-v`` shows every worker's calls);
* a crash: when a worker dies (killed, out of memory, a segfault in a native
  library), each article it had in flight gets an error record with reason
  ``worker_crashed`` (a rerun retries it), and a new worker takes its place,
  up to ``3 × size`` times in a run.

Workers are never started with ``fork``: the parent has threads and an event
loop, which ``fork`` copies in whatever state they are. On Linux and macOS
they come from ``forkserver``: a fresh single-threaded interpreter that
imports the pipeline, openai and instructor once (about 1.7 s of CPU) and
forks each worker from there, ready at once; elsewhere from ``spawn``, each
worker importing on its own. A worker gets the parent's environment as it is
when the pool starts (the fork server's own dates from its first use). Workers
are started on the first article that needs one, so a resume with nothing to
do starts none, and they ignore SIGINT: Ctrl-C reaches the whole process group,
and it is the parent that decides to stop (it cancels the run, then tells the
workers to stop, then terminates what is left). A worker whose parent dies
sees its pipe close and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.handlers
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from khabar.errors import KhabarError
from khabar.llm.retry import RateGate

if TYPE_CHECKING:
    from multiprocessing.context import SpawnProcess

    from khabar.config import Settings
    from khabar.core.digest import Digest

__all__ = ["WorkerCrashedError", "WorkerPool"]

logger = logging.getLogger("khabar")

# Loggers whose levels a worker copies from the parent (the CLI's -v / -vv set them).
_LOGGERS = ("", "khabar", "instructor", "openai", "httpx2", "httpcore2")
# How long a worker gets to stop by itself before it is terminated.
_STOP_GRACE_S = 5.0


class WorkerCrashedError(KhabarError):
    """The worker process summarizing this article died before it answered."""

    hint = "Rerun the same command: it resumes and retries this article."

    @property
    def reason(self) -> str:
        return "worker_crashed"


class _ForeignError(Exception):
    """Stands in for an exception that cannot cross a process boundary (its type name is kept)."""


# --- the parent's side -------------------------------------------------------------------


@dataclass(eq=False)
class _Worker:
    """The parent's handle on one worker process."""

    slot: int
    process: SpawnProcess
    jobs: Connection  # parent -> worker
    results: Connection  # worker -> parent
    outstanding: dict[int, asyncio.Future[Digest]] = field(default_factory=dict)
    alive: bool = True
    reader: threading.Thread | None = None

    def send(self, message: tuple[Any, ...]) -> None:
        self.jobs.send(message)


class WorkerPool:
    """``size`` worker processes, each running a :class:`~khabar.pipeline.Summarizer` on ``settings``.

    :meth:`asummarize` has the Summarizer's signature, so the batch runner uses
    either. Use the pool as an async context manager: leaving it stops the workers.

    Example::

        >>> async with WorkerPool(2, settings) as pool:                    # doctest: +SKIP
        ...     digest = await pool.asummarize(text, article_id="a1")
    """

    def __init__(self, size: int, settings: Settings, *, max_restarts: int | None = None) -> None:
        if size < 1:
            raise ValueError(f"a pool needs at least one worker, got {size}")
        self.size = size
        self.settings = settings
        self.restarts_left = 3 * size if max_restarts is None else max_restarts
        self.crashes = 0
        self._context = _context()
        self._workers: list[_Worker] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next_job = 0
        self._not_before = 0.0  # wall-clock time before which no request may leave
        self._closing = False
        self._levels = {name: logging.getLogger(name).getEffectiveLevel() for name in _LOGGERS}

    async def __aenter__(self) -> WorkerPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers (none before the first article)."""
        return [w.process.pid for w in self._workers if w.alive and w.process.pid is not None]

    async def asummarize(
        self,
        text: str,
        *,
        article_id: str | None = None,
        title: str | None = None,
        refresh: bool = False,
    ) -> Digest:
        """Summarize one article in the least busy worker; see :meth:`Summarizer.asummarize`."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            for slot in range(self.size):
                self._start(slot)
        live = [w for w in self._workers if w.alive]
        if not live:
            raise WorkerCrashedError(
                f"no worker process is left to summarize this article: {self.crashes} crashed",
                article_id=article_id,
            )
        worker = min(live, key=lambda w: len(w.outstanding))
        self._next_job += 1
        job = self._next_job
        future: asyncio.Future[Digest] = self._loop.create_future()
        worker.outstanding[job] = future
        # A worker that is gone: its reader thread reports the exit, which fails
        # this future with the crash like every other article it held.
        with contextlib.suppress(OSError, ValueError):
            worker.send(("job", job, text, article_id, title, refresh))
        try:
            return await future
        finally:
            worker.outstanding.pop(job, None)

    # --- processes -----------------------------------------------------------------
    def _start(self, slot: int) -> None:
        jobs_read, jobs_write = self._context.Pipe(duplex=False)
        results_read, results_write = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=_worker_main,
            args=(self.settings, jobs_read, results_write, self._levels, dict(os.environ)),
            name=f"khabar-worker-{slot}",
            # Terminated when the parent exits; a parent killed outright closes the
            # jobs pipe instead, which ends the worker.
            daemon=True,
        )
        with _sigint_blocked(), _main_module_hidden():
            process.start()
        # The child holds its own copies now; ours would keep the pipes open after it dies.
        jobs_read.close()
        results_write.close()
        worker = _Worker(slot, process, jobs_write, results_read)
        if slot < len(self._workers):
            self._workers[slot] = worker
        else:
            self._workers.append(worker)
        if self._not_before > time.time():
            worker.send(("gate", self._not_before))
        worker.reader = threading.Thread(
            target=self._read, args=(worker,), name=f"khabar-pool-{slot}", daemon=True
        )
        worker.reader.start()

    def _read(self, worker: _Worker) -> None:
        """The reading thread of one worker's results: hands each message to the event loop."""
        assert self._loop is not None
        loop = self._loop
        while True:
            try:
                message = worker.results.recv()
            except (EOFError, OSError):
                break
            if message[0] == "done":
                # Unpickled here, off the event loop; a payload that cannot be read
                # still ends its article (with an error record) instead of hanging it.
                _, job, payload = message
                message = ("done", job, *_unpack(payload))
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
                loop.call_soon_threadsafe(self._on_message, worker, message)
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._on_exit, worker)

    def _on_message(self, worker: _Worker, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "done":
            _, job, digest, error = message
            future = worker.outstanding.get(job)
            if future is None or future.done():
                return  # its article was cancelled meanwhile
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(digest)
        elif kind == "gate":
            self._not_before = max(self._not_before, float(message[1]))
            for other in self._workers:
                if other is not worker and other.alive:
                    with contextlib.suppress(OSError, ValueError):
                        other.send(("gate", self._not_before))
        elif kind == "log":
            record = logging.makeLogRecord(message[1])
            logging.getLogger(record.name).handle(record)

    def _on_exit(self, worker: _Worker) -> None:
        if not worker.alive:
            return
        worker.alive = False
        worker.results.close()
        with contextlib.suppress(OSError):
            worker.jobs.close()
        if self._closing:
            return
        self.crashes += 1
        # The pipe closes a moment before the process can be reaped.
        worker.process.join(1.0)
        code = worker.process.exitcode
        how = (
            f"was killed by {signal.Signals(-code).name}"
            if code is not None and code < 0 and -code in signal.valid_signals()
            else f"exited with status {code}"
            if code is not None
            else "closed its pipe"
        )
        held = [f for f in worker.outstanding.values() if not f.done()]
        logger.error(
            "worker process %d %s; its %d article(s) in flight get error records",
            worker.process.pid,
            how,
            len(held),
        )
        for future in held:
            future.set_exception(
                WorkerCrashedError(f"the worker process summarizing this article {how}")
            )
        if self.restarts_left > 0:
            self.restarts_left -= 1
            self._start(worker.slot)

    async def aclose(self) -> None:
        """Stop every worker: ask, wait a little, then terminate; safe to call twice."""
        self._closing = True
        workers = [w for w in self._workers if w.process.pid is not None]
        for worker in workers:
            with contextlib.suppress(OSError, ValueError):
                worker.send(("stop",))
        deadline = time.monotonic() + _STOP_GRACE_S
        while any(w.process.is_alive() for w in workers) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for worker in workers:
            if worker.process.is_alive():
                worker.process.terminate()
        for worker in workers:
            # join, not is_alive: the process must be reaped, not left a zombie.
            await asyncio.to_thread(worker.process.join, 2.0)
            if worker.process.is_alive():
                worker.process.kill()
                await asyncio.to_thread(worker.process.join, 2.0)
            with contextlib.suppress(OSError):
                worker.jobs.close()
            if worker.reader is not None:
                await asyncio.to_thread(worker.reader.join, 2.0)


# What the fork server imports once, so that each worker forked from it starts ready.
_PRELOAD = ["khabar.batch.workers", "khabar.pipeline", "openai", "openai.resources", "instructor"]


def _context() -> Any:
    """``forkserver`` with khabar's imports preloaded where there is one, else ``spawn``.

    The preload list is the fork server's, shared by the process: set only if
    nobody set one, and only effective if the server is not running yet (then
    workers import what they need themselves, as with ``spawn``).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    from multiprocessing import forkserver

    server = forkserver._forkserver
    # The default list is ["__main__"]: re-running the user's script in the server.
    if getattr(server, "_preload_modules", ["__main__"]) == ["__main__"]:
        context.set_forkserver_preload(_PRELOAD)
    return context


@contextlib.contextmanager
def _main_module_hidden() -> Any:
    """Start a worker without it importing the parent's ``__main__``.

    ``spawn`` re-runs the main script in the child (as ``__mp_main__``) so that
    objects defined there can be unpickled; a script that calls
    ``summarize_paths(..., workers=2)`` without an ``if __name__ == "__main__":``
    guard would then start a batch in every worker. A worker runs khabar's code
    only (its target and arguments are khabar's), so it is given no main module.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


@contextlib.contextmanager
def _sigint_blocked() -> Any:
    """Hold SIGINT back while a worker starts: the new process (and the fork server,
    started by the first worker) inherits the mask, until the worker ignores SIGINT.

    Without this a Ctrl-C during a spawned child's start-up (half a second of
    imports) prints a KeyboardInterrupt traceback from the child.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


# --- the worker's side -------------------------------------------------------------------


def _worker_main(
    settings: Settings,
    jobs: Connection,
    results: Connection,
    levels: dict[str, int],
    environ: dict[str, str],
) -> None:
    """A worker process: summarize what the parent sends until it says stop or goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    # A child of the fork server has the server's environment, as it was when the
    # server started: the parent's, as it is now, is the one that counts.
    os.environ.clear()
    os.environ.update(environ)
    # Read the jobs pipe from the start: the parent sends a worker its first articles
    # at once, and a pipe nobody reads fills (64 kB) and blocks the parent's sends
    # for as long as this process spends importing the pipeline.
    inbox = _Inbox(jobs)
    send_lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        # The event loop, the reading thread and log calls from any thread all send.
        with send_lock:
            results.send(message)

    with contextlib.suppress(BrokenPipeError, EOFError, KeyboardInterrupt):
        asyncio.run(_serve(settings, inbox, send, levels))
    # Everything is closed and sent (the cache, the HTTP client, the last result and
    # log line). Tearing the interpreter down would take most of a second (measured:
    # 0.9 s, the modules and objects openai and instructor leave) for nothing; the
    # parent waits for it when it stops the pool.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class _Inbox:
    """The parent's messages, read by a thread from the start and handed to the event loop once it runs."""

    def __init__(self, jobs: Connection) -> None:
        self._jobs = jobs
        self._lock = threading.Lock()
        self._early: list[tuple[Any, ...]] = []
        self._target: tuple[asyncio.AbstractEventLoop, asyncio.Queue[tuple[Any, ...]]] | None = None
        threading.Thread(target=self._pump, name="khabar-worker-inbox", daemon=True).start()

    def _pump(self) -> None:
        while True:
            try:
                message = self._jobs.recv()
            except (EOFError, OSError):
                message = ("stop",)  # the parent is gone: nobody will read what we make
            with self._lock:
                target = self._target
                if target is None:
                    self._early.append(message)
            if target is not None:
                with contextlib.suppress(RuntimeError):  # the loop is closed
                    target[0].call_soon_threadsafe(target[1].put_nowait, message)
            if message[0] == "stop":
                return

    def attach(self) -> asyncio.Queue[tuple[Any, ...]]:
        """The queue the running event loop reads, with what came before it ran."""
        queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        with self._lock:
            for message in self._early:
                queue.put_nowait(message)
            self._early.clear()
            self._target = (asyncio.get_running_loop(), queue)
        return queue


class _SharedGate(RateGate):
    """A worker's rate gate: closing it tells the parent, which tells the other workers."""

    def __init__(self, send: Callable[[tuple[Any, ...]], None]) -> None:
        super().__init__()
        self._send = send

    def close_for(self, seconds: float) -> None:
        super().close_for(seconds)
        _send_quietly(self._send, ("gate", time.time() + seconds))

    def hold_until(self, wall_time: float) -> None:
        """Another worker's gate: close this one until ``wall_time``, without passing it on."""
        super().close_for(wall_time - time.time())


class _PipeQueue:
    """What :class:`logging.handlers.QueueHandler` puts records into: the pipe to the parent."""

    def __init__(self, send: Callable[[tuple[Any, ...]], None]) -> None:
        self._send = send

    def put_nowait(self, record: logging.LogRecord) -> None:
        # QueueHandler.prepare() has merged the message, its arguments and any
        # traceback into msg, so that the record pickles whatever it held.
        _send_quietly(self._send, ("log", record.__dict__))


def _forward_logs(send: Callable[[tuple[Any, ...]], None], levels: dict[str, int]) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(logging.handlers.QueueHandler(_PipeQueue(send)))  # type: ignore[arg-type]
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def _serve(
    settings: Settings,
    inbox_source: _Inbox,
    send: Callable[[tuple[Any, ...]], None],
    levels: dict[str, int],
) -> None:
    from khabar.pipeline import Summarizer

    inbox = inbox_source.attach()
    async with Summarizer(settings) as summarizer:
        # Worked out before logs are forwarded: the parent has shown its warnings already.
        _ = summarizer.plan
        _forward_logs(send, levels)
        gate = _SharedGate(send)
        # Before the first model call, so the backend (built then) uses this gate.
        summarizer.gate = gate
        tasks: set[asyncio.Task[None]] = set()
        while True:
            message = await inbox.get()
            if message[0] == "job":
                _, job, text, article_id, title, refresh = message
                task = asyncio.create_task(
                    _summarize(summarizer, send, job, text, article_id, title, refresh)
                )
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            elif message[0] == "gate":
                gate.hold_until(float(message[1]))
            elif message[0] == "stop":
                break
        # The parent stops a pool with articles in flight only when the run was
        # cancelled: their calls are dropped, as in one process.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _summarize(
    summarizer: Any,
    send: Callable[[tuple[Any, ...]], None],
    job: int,
    text: str,
    article_id: str | None,
    title: str | None,
    refresh: bool,
) -> None:
    digest: Digest | None = None
    error: BaseException | None = None
    try:
        digest = await summarizer.asummarize(
            text, article_id=article_id, title=title, refresh=refresh
        )
    except Exception as exc:
        if not isinstance(exc, KhabarError):
            # The traceback exists only here; the parent records the type and message.
            logger.exception("%s: internal error in a worker process", article_id)
        error = exc
    _send_quietly(send, ("done", job, _payload(digest, error)))


def _send_quietly(send: Callable[[tuple[Any, ...]], None], message: tuple[Any, ...]) -> None:
    """Send, unless the parent is gone (then nobody is left to tell)."""
    with contextlib.suppress(OSError, ValueError, EOFError):
        send(message)


def _payload(digest: Digest | None, error: BaseException | None) -> bytes:
    """``(digest, error, foreign)`` pickled; ``foreign`` is ``(type name, message)`` of an
    exception that would not survive the trip (one whose ``__init__`` pickle cannot call)."""
    if error is None:
        return pickle.dumps((digest, None, None), protocol=pickle.HIGHEST_PROTOCOL)
    try:
        payload = pickle.dumps((None, error, None), protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(payload)  # what the parent will do; failures are rare, so is this cost
        return payload
    except Exception:
        foreign = (type(error).__name__, str(error))
        return pickle.dumps((None, None, foreign), protocol=pickle.HIGHEST_PROTOCOL)


def _unpack(payload: bytes) -> tuple[Digest | None, BaseException | None]:
    """The parent's side of :func:`_payload`."""
    try:
        digest, error, foreign = pickle.loads(payload)
    except Exception as exc:
        return None, exc
    if foreign is not None:
        name, message = foreign
        # A class of the same name, so that the record's error type says what failed.
        error = type(str(name), (_ForeignError,), {})(message)
    return digest, error
