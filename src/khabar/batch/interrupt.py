"""SIGINT and SIGTERM during a batch: cancel the run once, cleanly; a second signal acts as usual.

Cancelling the run's task lets every layer close what it holds (calls in
flight, the HTTP client, worker processes, the output file) instead of dying
mid-write. :func:`~khabar.batch.runner.summarize_paths` installs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

from khabar.batch.stats import BatchEvent

__all__ = ["Stop"]


class Stop:
    """Turns the first SIGINT or SIGTERM into a cancel of the running task; counts records written."""

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
