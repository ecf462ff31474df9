"""What a person sees during a batch: a rich progress bar on a terminal, plain lines otherwise.

Kept apart from the CLI so the CLI only wires options to it, and apart from the
batch runner, which knows nothing about terminals. File names come from
anywhere (zip archives, scrapers): what this module prints of them goes through
:func:`printable`.
"""

from __future__ import annotations

import atexit
import re
import sys
import time
from typing import Any

__all__ = ["BatchConsole", "printable"]

# What a terminal acts on instead of showing: C0/C1 controls (newline, carriage
# return, ESC sequences, tab, which separates the fields of a progress line),
# line and paragraph separators, and the bidi marks, embeddings, overrides and
# isolates that reorder the rest of the line (U+202E shows "txt.exe" as
# "exe.txt"). ZWNJ and ZWJ are spelling in Persian and Arabic, and stay.
_UNPRINTABLE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """``text`` safe to print on one terminal line: controls and direction overrides escaped.

    Example::

        >>> printable("a\\nb\\u202etxt.exe")
        'a\\\\nb\\\\u202etxt.exe'
    """
    return _UNPRINTABLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


class BatchConsole:
    """Progress for ``khabar summarize``; writes to stderr so stdout can carry JSONL."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.tty = sys.stderr.isatty() if enabled is None else enabled
        self.started = time.perf_counter()
        self.done = 0
        self.failed = 0
        self.cached = 0
        self._progress: Any = None
        self._task: Any = None

    def on_start(self, info: dict[str, Any]) -> None:
        """Called once the model is ready: says which model runs, and warns about plumbing models."""
        from rich.console import Console
        from rich.markup import escape

        console = Console(stderr=True)
        # Escaped: a model path may hold "[", which rich would read as markup.
        model, provider, mode = (escape(str(info.get(k))) for k in ("model", "provider", "mode"))
        console.print(f"[bold]khabar[/bold] model: {model} via {provider} ({mode})")
        # The model's warnings (a plumbing model...) were logged when it was loaded.
        if self.tty:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                TextColumn("cache {task.fields[cached]} · failed {task.fields[failed]}"),
                console=console,
                transient=False,
            )
            self._progress.start()
            # A run stopped by Ctrl-C or SIGTERM never reaches finish(): still give
            # the terminal its cursor back and leave the bar on a line of its own.
            atexit.register(self.close)
            self._task = self._progress.add_task(
                "summarizing", total=info.get("total"), rate="", cached=0, failed=0
            )

    def on_event(self, event: Any) -> None:
        if getattr(event, "kind", None) != "finished":
            return
        self.done += 1
        status = getattr(event, "status", "ok")
        if status != "ok":
            self.failed += 1
        if getattr(event, "cache_hit", False):
            self.cached += 1
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        if self._progress is not None:
            self._progress.update(
                self._task,
                advance=1,
                rate=f"{self.done / elapsed:.1f}/s",
                cached=self.cached,
                failed=self.failed,
            )
        else:
            reason = getattr(event, "reason", None)
            tail = f" ({reason})" if reason else ""
            cache = " [cache]" if getattr(event, "cache_hit", False) else ""
            print(
                f"{self.done}\t{status}\t{printable(event.article_id)}{cache}{tail}",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        """Stop the progress bar, if one runs; safe to call more than once."""
        progress, self._progress = self._progress, None
        if progress is not None:
            atexit.unregister(self.close)
            progress.stop()

    def finish(self, stats: Any) -> None:
        from rich.console import Console
        from rich.table import Table

        self.close()
        table = Table(title="khabar summarize")
        for column in (
            "articles",
            "succeeded",
            "failed",
            "skipped (done)",
            "from cache",
            "duplicates",
            "tokens in/out",
            "retries",
            "wall time",
        ):
            table.add_column(column, justify="right")
        table.add_row(
            str(stats.total),
            str(stats.succeeded),
            str(stats.failed),
            str(stats.skipped),
            str(stats.from_cache),
            str(stats.duplicates),
            f"{stats.prompt_tokens}/{stats.completion_tokens}",
            str(stats.transport_retries),
            f"{stats.wall_s:.1f}s",
        )
        # Off a terminal (logs, CI) rich would squeeze the table into 80 columns.
        console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
        console.print(table)
        if stats.failures_by_reason:
            reasons = ", ".join(f"{k}: {v}" for k, v in sorted(stats.failures_by_reason.items()))
            console.print(f"[red]failures by reason[/red]: {reasons}")
